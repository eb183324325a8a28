"""The Word page, styles and building blocks both reports are made of (python-docx).

Layout per the MOST template (domain.md Part B §1.1): A4, margins 28 mm left/right and 30 mm
top/bottom, body 小四 (12 pt) in 宋体 for Chinese and Times New Roman for Latin text. Word picks the
font of each character by script, so both are set on every style we use: `w:eastAsia` for Chinese,
`w:ascii`/`w:hAnsi` for Latin. The theme-font attributes of the built-in heading styles are removed,
because Word lets them win over explicit names. Every report has the same header (centre and title,
or Word's own watermark on a draft) and footer (number, code, page x of y), and is saved with fixed
zip timestamps, so one report always gives the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from docx import Document as new_document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from reports import content
from reports.stable_zip import stable_zip

LATIN_FONT = "Times New Roman"
CJK_FONT = "宋体"
BODY_PT = 12  # 小四
HEADING_PT = 14  # 四号
TITLE_PT = 26  # 一号
INDENT = Pt(BODY_PT * 2)  # Chinese paragraphs open with two full-width characters of indent
BLACK = RGBColor(0, 0, 0)

# Word's own text watermark (Design → Watermark) is this VML shape in the page header: a rotated,
# semi-transparent WordArt text path behind the body. Kept as Word writes it so Word, WPS and
# LibreOffice all show it; only the text and colour differ.
_WATERMARK_XML = """
<w:r xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"
     xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office"
     xmlns:w10="urn:schemas-microsoft-com:office:word">
 <w:rPr><w:noProof/></w:rPr>
 <w:pict>
  <v:shapetype id="_x0000_t136" coordsize="21600,21600" o:spt="136" adj="10800"
      path="m@7,l@8,m@5,21600l@6,21600e">
   <v:formulas>
    <v:f eqn="sum #0 0 10800"/><v:f eqn="prod #0 2 1"/><v:f eqn="sum 21600 0 @1"/>
    <v:f eqn="sum 0 0 @2"/><v:f eqn="sum 21600 0 @3"/><v:f eqn="if @0 @3 0"/>
    <v:f eqn="if @0 21600 @1"/><v:f eqn="if @0 0 @2"/><v:f eqn="if @0 @4 21600"/>
    <v:f eqn="mid @5 @6"/><v:f eqn="mid @8 @5"/><v:f eqn="mid @7 @8"/>
    <v:f eqn="mid @6 @7"/><v:f eqn="sum @6 0 @5"/>
   </v:formulas>
   <v:path textpathok="t" o:connecttype="custom" o:connectlocs="@9,0;@10,10800;@11,21600;@12,10800"
       o:connectangles="270,180,90,0"/>
   <v:textpath on="t" fitshape="t"/>
   <v:handles><v:h position="#0,bottomRight" xrange="6629,14971"/></v:handles>
   <o:lock v:ext="edit" text="t" shapetype="t"/>
  </v:shapetype>
  <v:shape id="PowerPlusWaterMarkObject1" o:spid="_x0000_s2049" type="#_x0000_t136"
      style="position:absolute;margin-left:0;margin-top:0;width:360pt;height:180pt;rotation:315;
             z-index:-251657216;mso-position-horizontal:center;mso-position-horizontal-relative:margin;
             mso-position-vertical:center;mso-position-vertical-relative:margin"
      o:allowincell="f" fillcolor="#c8c8c8" stroked="f">
   <v:fill opacity=".5"/>
   <v:textpath style="font-family:&quot;{font}&quot;;font-size:1pt" string="{text}"/>
   <w10:wrap anchorx="margin" anchory="margin"/>
  </v:shape>
 </w:pict>
</w:r>
"""


def report_document() -> DocxDocument:
    """A new document with the report page and styles set up."""
    doc = new_document()
    _setup_page(doc)
    _setup_styles(doc)
    return doc


def report_bytes(doc: DocxDocument) -> bytes:
    out = io.BytesIO()
    doc.save(out)
    # python-docx stamps each zip member with the clock: without this, the archive's copy of an
    # issued report would differ from the issued file in its timestamps alone.
    return stable_zip(out.getvalue())


def _setup_page(doc: DocxDocument) -> None:
    for section in doc.sections:
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width = Mm(210)
        section.page_height = Mm(297)
        section.left_margin = section.right_margin = Mm(28)
        section.top_margin = section.bottom_margin = Mm(30)
        section.header_distance = section.footer_distance = Mm(15)


def _set_fonts(owner: Any) -> None:
    """Set Latin and East Asian fonts on a style or w:rPrDefault element."""
    if hasattr(owner, "get_or_add_rPr"):
        rpr = owner.get_or_add_rPr()  # python-docx places it correctly among the style's children
    else:
        rpr = owner.find(qn("w:rPr"))
        if rpr is None:
            rpr = OxmlElement("w:rPr")
            owner.append(rpr)
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(attr), LATIN_FONT)
    fonts.set(qn("w:eastAsia"), CJK_FONT)


def _setup_styles(doc: DocxDocument) -> None:
    styles = doc.styles
    # Document defaults too, so runs in any style we did not touch still get 宋体 / Times New Roman.
    defaults = styles.element.find(qn("w:docDefaults"))
    if defaults is not None:
        rpr_default = defaults.find(qn("w:rPrDefault"))
        if rpr_default is not None:
            _set_fonts(rpr_default)

    def style(name: str, size: int, *, bold: bool = False) -> None:
        s = styles[name]
        s.font.size = Pt(size)
        s.font.bold = bold
        s.font.italic = False
        s.font.color.rgb = BLACK
        _set_fonts(s.element)

    style("Normal", BODY_PT)
    style("Body Text", BODY_PT)
    style("Title", TITLE_PT, bold=True)
    style("Heading 1", HEADING_PT, bold=True)
    style("Heading 2", BODY_PT, bold=True)
    style("Heading 3", BODY_PT, bold=True)
    style("Header", 9)
    style("Footer", 9)

    normal = styles["Normal"].paragraph_format
    normal.space_after = Pt(0)
    normal.line_spacing = 1.25
    body = styles["Body Text"].paragraph_format
    body.first_line_indent = INDENT
    body.space_after = Pt(0)
    for name, before in (("Heading 1", 12), ("Heading 2", 6), ("Heading 3", 3)):
        fmt = styles[name].paragraph_format
        fmt.space_before = Pt(before)
        fmt.space_after = Pt(6 if name == "Heading 1" else 3)
        fmt.keep_with_next = True
    title = styles["Title"]
    title.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    # The built-in Title style draws a coloured rule under the text; a report title has none.
    ppr = title.element.pPr
    if ppr is not None:
        border = ppr.find(qn("w:pBdr"))
        if border is not None:
            ppr.remove(border)



def set_properties(
    doc: DocxDocument,
    *,
    title: str,
    subject: str,
    author: str,
    keywords: str,
    stamp: datetime,
    revision: int | None = None,
) -> None:
    """The document properties, dated by the report's own date, never by the clock."""
    props = doc.core_properties
    props.title = title
    props.subject = subject
    props.author = author
    props.last_modified_by = author
    props.keywords = keywords
    props.comments = ""
    if revision is not None:
        props.revision = revision
    props.created = props.modified = stamp


def _add_field(paragraph: Paragraph, instruction: str) -> None:
    """A Word field (PAGE, NUMPAGES) that the reader's application fills in when it lays out pages."""
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), instruction)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)



def header_and_footer(
    doc: DocxDocument, *, draft: bool, centre: str, title: str, verify: str, footer: str
) -> None:
    """Centre and title at the top of every page (after 草稿 and under Word's watermark on a draft, over
    the verification line `verify`, if any, on an issued report); `footer` and 第 x 页 共 y 页 below."""
    section = doc.sections[0]
    header = section.header.paragraphs[0]
    header.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if draft:
        header.add_run(f"{content.WATERMARK}　{centre}　{title}")
        mark = escape(content.WATERMARK, {'"': "&quot;"})
        header._p.append(parse_xml(_WATERMARK_XML.replace("{font}", CJK_FONT).replace("{text}", mark)))
    else:
        header.add_run(f"{centre}　{title}")
        if verify:
            header.add_run("\n" + verify).font.size = Pt(8)
    bottom = section.footer.paragraphs[0]
    bottom.alignment = WD_ALIGN_PARAGRAPH.CENTER
    bottom.add_run(footer + "　第 ")
    _add_field(bottom, "PAGE")
    bottom.add_run(" 页 共 ")
    _add_field(bottom, "NUMPAGES")
    bottom.add_run(" 页")


def page_break(doc: DocxDocument) -> None:
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


def styled(doc: DocxDocument, style_id: str | None, text: str = "") -> Paragraph:
    """A paragraph in a built-in style, named by its style ID.

    python-docx resolves a style *name* by scanning every style of the document for each paragraph,
    which made a 100-reference report take most of a second; the ID needs no lookup.
    """
    paragraph = doc.add_paragraph(text)
    if style_id is not None:
        paragraph._p.style = style_id
    return paragraph


def heading(doc: DocxDocument, text: str, level: int) -> Paragraph:
    return styled(doc, f"Heading{level}", text)


def body(doc: DocxDocument, text: str, *, indent: bool = True) -> Paragraph:
    return styled(doc, "BodyText" if indent else None, text)


def _fill_cell(cell: _Cell, text: str, *, bold: bool = False) -> None:
    lines = text.split("\n")
    paragraph = cell.paragraphs[0]
    paragraph.add_run(lines[0]).bold = bold
    for line in lines[1:]:
        cell.add_paragraph().add_run(line).bold = bold


def set_widths(table: Table, millimetres: Sequence[float]) -> None:
    """Fixed column widths (the text width is 154 mm).

    Word reads the cell widths, LibreOffice and WPS the table grid; both are set, and autofit is
    off so neither re-balances the columns by content.
    """
    table.autofit = False
    for column, mm in zip(table.columns, millimetres, strict=True):
        column.width = Mm(mm)
    for row in table.rows:
        for cell, mm in zip(row.cells, millimetres, strict=True):
            cell.width = Mm(mm)


def table(
    doc: DocxDocument, rows: Sequence[Sequence[str]], widths: Sequence[float], *, header: bool = True
) -> Table:
    grid: Table = doc.add_table(rows=len(rows), cols=len(rows[0]))
    grid.style = doc.styles["Table Grid"]
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    # Row by row: table.cell(i, j) rebuilds the whole cell grid on every call.
    for i, (row, values) in enumerate(zip(grid.rows, rows, strict=True)):
        for cell, value in zip(row.cells, values, strict=True):
            _fill_cell(cell, value, bold=header and i == 0)
    if header:
        # Repeat the column titles on every page a long table spans.
        tr_pr = grid.rows[0]._tr.get_or_add_trPr()
        repeat = OxmlElement("w:tblHeader")
        repeat.set(qn("w:val"), "true")
        tr_pr.append(repeat)
    set_widths(grid, widths)
    return grid


