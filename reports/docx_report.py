"""The 科技查新报告 as a Word document (python-docx).

Layout per the MOST template (domain.md Part B §1.1): A4, margins 28 mm left/right and 30 mm
top/bottom, body 小四 (12 pt) in 宋体 for Chinese and Times New Roman for Latin text. Word picks the
font of each character by script, so both are set on every style we use: `w:eastAsia` for Chinese,
`w:ascii`/`w:hAnsi` for Latin. The theme-font attributes of the built-in heading styles are removed,
because Word lets them win over explicit names.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime, time
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
from reports.model import Relevance, ReportData
from reports.printable import printable
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


def render_docx(report: ReportData) -> bytes:
    """The report as .docx bytes; raises ReportDataError for an issued report whose code is wrong."""
    content.check_issuable(report)
    report = printable(report)
    doc = new_document()
    _setup_page(doc)
    _setup_styles(doc)
    _setup_properties(doc, report)
    _header_and_footer(doc, report)
    _cover(doc, report)
    _page_break(doc)
    _header_table(doc, report)
    _section_purpose(doc, report)
    _section_technical(doc, report)
    _section_points(doc, report)
    _section_strategy(doc, report)
    _section_results(doc, report)
    _section_conclusion(doc, report)
    _section_declarations(doc, report)
    _section_attachments(doc, report)
    _section_remarks(doc, report)
    _signatures(doc, report)
    out = io.BytesIO()
    doc.save(out)
    # python-docx stamps each zip member with the clock: without this, the archive's copy of an
    # issued report would differ from the issued file in its timestamps alone.
    return stable_zip(out.getvalue())


# --- set-up -------------------------------------------------------------------------------------


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


def _setup_properties(doc: DocxDocument, r: ReportData) -> None:
    props = doc.core_properties
    props.title = f"{content.TITLE}：{r.project_name_zh}"
    props.subject = r.report_no or content.WATERMARK
    props.author = r.centre.name
    props.last_modified_by = r.centre.name
    props.keywords = "科技查新"
    props.comments = ""
    stamp = r.issue_date or r.signing_date or r.completion_date or r.commission_date
    props.created = props.modified = datetime.combine(stamp, time())


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


def _header_and_footer(doc: DocxDocument, r: ReportData) -> None:
    section = doc.sections[0]
    header = section.header.paragraphs[0]
    header.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if r.draft:
        header.add_run(f"{content.WATERMARK}　{r.centre.name}　{content.TITLE}")
        mark = escape(content.WATERMARK, {'"': "&quot;"})
        header._p.append(parse_xml(_WATERMARK_XML.replace("{font}", CJK_FONT).replace("{text}", mark)))
    else:
        header.add_run(f"{r.centre.name}　{content.TITLE}")
        if content.verify_line(r):
            header.add_run("\n" + content.verify_line(r)).font.size = Pt(8)
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.add_run(content.footer_text(r) + "　第 ")
    _add_field(footer, "PAGE")
    footer.add_run(" 页 共 ")
    _add_field(footer, "NUMPAGES")
    footer.add_run(" 页")


# --- building blocks ----------------------------------------------------------------------------


def _page_break(doc: DocxDocument) -> None:
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


def _styled(doc: DocxDocument, style_id: str | None, text: str = "") -> Paragraph:
    """A paragraph in a built-in style, named by its style ID.

    python-docx resolves a style *name* by scanning every style of the document for each paragraph,
    which made a 100-reference report take most of a second; the ID needs no lookup.
    """
    paragraph = doc.add_paragraph(text)
    if style_id is not None:
        paragraph._p.style = style_id
    return paragraph


def _heading(doc: DocxDocument, text: str, level: int) -> Paragraph:
    return _styled(doc, f"Heading{level}", text)


def _body(doc: DocxDocument, text: str, *, indent: bool = True) -> Paragraph:
    return _styled(doc, "BodyText" if indent else None, text)


def _labelled(doc: DocxDocument, label: str, text: str) -> Paragraph:
    """`label：text` with the label in bold, as report templates print 内容简介：… and the like."""
    p = _styled(doc, "BodyText")
    p.add_run(f"{label}：").bold = True
    p.add_run(text)
    return p


def _text_block(doc: DocxDocument, text: str, draft: bool) -> None:
    for para in content.paragraphs(text, draft=draft):
        _body(doc, para)


def _cell_text(cell: _Cell, text: str, *, bold: bool = False) -> None:
    lines = text.split("\n")
    paragraph = cell.paragraphs[0]
    paragraph.add_run(lines[0]).bold = bold
    for line in lines[1:]:
        cell.add_paragraph().add_run(line).bold = bold


def _widths(table: Table, millimetres: Sequence[float]) -> None:
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


def _table(
    doc: DocxDocument, rows: Sequence[Sequence[str]], widths: Sequence[float], *, header: bool = True
) -> Table:
    table: Table = doc.add_table(rows=len(rows), cols=len(rows[0]))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    # Row by row: table.cell(i, j) rebuilds the whole cell grid on every call.
    for i, (row, values) in enumerate(zip(table.rows, rows, strict=True)):
        for cell, value in zip(row.cells, values, strict=True):
            _cell_text(cell, value, bold=header and i == 0)
    if header:
        # Repeat the column titles on every page a long table spans.
        tr_pr = table.rows[0]._tr.get_or_add_trPr()
        repeat = OxmlElement("w:tblHeader")
        repeat.set(qn("w:val"), "true")
        tr_pr.append(repeat)
    _widths(table, widths)
    return table


# --- the parts of the report --------------------------------------------------------------------


def _cover(doc: DocxDocument, r: ReportData) -> None:
    for _ in range(3):
        doc.add_paragraph()
    # Centred on the paragraph as well: LibreOffice ignores the alignment of the built-in Title style.
    _styled(doc, "Title", content.TITLE).alignment = WD_ALIGN_PARAGRAPH.CENTER
    for _ in range(3):
        doc.add_paragraph()
    table = doc.add_table(rows=0, cols=3)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for label, value in content.cover_rows(r):
        cells = table.add_row().cells
        cells[0].paragraphs[0].add_run(label).bold = True
        # Distributed: every label spreads over the one column width, as the printed form's do.
        cells[0].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.DISTRIBUTE
        cells[1].paragraphs[0].add_run("：").bold = True
        cells[2].paragraphs[0].add_run(value)
    _widths(table, (content.COVER_LABEL_CHARS * 14 * 0.3528 + 1, 6, 100))
    if content.verify_line(r):
        doc.add_paragraph()
        qr = doc.add_paragraph()
        qr.alignment = WD_ALIGN_PARAGRAPH.CENTER
        qr.add_run().add_picture(io.BytesIO(content.qr_png(r.verify_url)), width=Mm(28))
        line = doc.add_paragraph()
        line.alignment = WD_ALIGN_PARAGRAPH.CENTER
        line.add_run(content.verify_line(r)).font.size = Pt(9)


def _header_table(doc: DocxDocument, r: ReportData) -> None:
    _heading(doc, content.HEADER_TABLE_TITLE, level=1)
    rows: list[list[str]] = [
        ["查新项目名称", "中文", r.project_name_zh],
        ["", "英文", content.or_empty(r.project_name_en)],
        ["委托人", "名称", r.client.name],
        *[["", label, value] for label, value in content.party_rows(r.client)],
        ["查新机构", "名称", r.centre.name],
        *[["", label, value] for label, value in content.party_rows(r.centre)],
    ]
    table = _table(doc, rows, (32, 26, 96), header=False)
    block = len(content.PARTY_ROWS) + 1
    # Merge the block label down its rows, as the printed form does.
    for start, length in ((0, 2), (2, block), (2 + block, block)):
        merged = table.cell(start, 0).merge(table.cell(start + length - 1, 0))
        for paragraph in merged.paragraphs[1:]:
            paragraph._p.getparent().remove(paragraph._p)
        merged.paragraphs[0].runs[0].bold = True


def _section_purpose(doc: DocxDocument, r: ReportData) -> None:
    _heading(doc, content.SECTION_TITLES[0], level=1)
    _body(doc, content.purpose_line(r))
    _text_block(doc, r.purpose_text, r.draft)


def _section_technical(doc: DocxDocument, r: ReportData) -> None:
    _heading(doc, content.SECTION_TITLES[1], level=1)
    _text_block(doc, r.technical_points, r.draft)


def _section_points(doc: DocxDocument, r: ReportData) -> None:
    _heading(doc, content.SECTION_TITLES[2], level=1)
    _heading(doc, "（一）查新点", level=2)
    for i, point in enumerate(r.novelty_points, 1):
        _body(doc, f"{i}. {point.text}")
    _heading(doc, "（二）查新要求", level=2)
    _text_block(doc, r.requirements, r.draft)
    _body(doc, content.scope_line(r))


def _section_strategy(doc: DocxDocument, r: ReportData) -> None:
    _heading(doc, content.SECTION_TITLES[3], level=1)
    _heading(doc, "（一）检索的数据库及年限", level=2)
    if r.databases:
        _table(
            doc,
            [["序号", "数据库（文献集合）", "检索年限"]]
            + [[str(i), db.name, db.years] for i, db in enumerate(r.databases, 1)],
            (14, 104, 36),
        )
    else:
        _body(doc, content.TO_FILL if r.draft else content.EMPTY)
    _heading(doc, "（二）检索词", level=2)
    _labelled(doc, "中文检索词", "；".join(r.terms_zh) or content.EMPTY)
    _labelled(doc, "英文检索词", "; ".join(r.terms_en) or content.EMPTY)
    _heading(doc, "（三）检索式", level=2)
    if r.strategies:
        rows = [["序号", "数据库", "检索式", "命中数", "检索时间"]]
        for i, s in enumerate(r.strategies, 1):
            expression = f"{s.expression}\nCNKI：{s.cnki_expression}" if s.cnki_expression else s.expression
            rows.append([str(i), s.database, expression, str(s.hits), content.strategy_date(s)])
        _table(doc, rows, (11, 27, 80, 14, 22))
    else:
        _body(doc, content.TO_FILL if r.draft else content.EMPTY)


def _section_results(doc: DocxDocument, r: ReportData) -> None:
    _heading(doc, content.SECTION_TITLES[4], level=1)
    for para in content.summary_paragraphs(r):
        _body(doc, para)
    for block in content.result_blocks(r):
        _heading(doc, block.heading, level=2)
        for group in block.groups:
            _heading(doc, group.heading, level=3)
            if not group.documents:
                _body(doc, "未检出此类文献。")
            for d in group.documents:
                ref = _styled(doc, None)
                ref.paragraph_format.left_indent = Pt(BODY_PT * 2.5)
                ref.paragraph_format.first_line_indent = -Pt(BODY_PT * 2.5)
                ref.paragraph_format.space_before = Pt(4)
                ref.add_run(f"[{d.seq}]\u2002{d.reference}")
                if d.database:
                    _labelled(doc, "来源数据库", d.database)
                _labelled(doc, "相关查新点", content.points_label(r, d))
                _labelled(doc, "内容简介", d.description.strip() or content.TO_FILL)
                if block.relevance is Relevance.close:
                    _labelled(doc, "原文摘录", d.excerpt.strip() or content.TO_FILL)


def _section_conclusion(doc: DocxDocument, r: ReportData) -> None:
    _heading(doc, content.SECTION_TITLES[5], level=1)
    by_point = {c.point_id: c for c in r.point_conclusions}
    for i, point in enumerate(r.novelty_points, 1):
        _heading(doc, f"查新点{i}：{point.text}", level=3)
        found = by_point.get(point.id)
        filler = content.TO_FILL if r.draft else content.EMPTY
        _labelled(doc, "对比分析", (found.comparison.strip() if found else "") or filler)
        _labelled(doc, "查新结论", (found.conclusion.strip() if found else "") or filler)
    for line in content.scope_statements(r):
        _body(doc, line)
    _heading(doc, "综合结论", level=3)
    _text_block(doc, r.overall_conclusion, r.draft)


def _section_declarations(doc: DocxDocument, r: ReportData) -> None:
    _heading(doc, content.SECTION_TITLES[6], level=1)
    for i, clause in enumerate(r.declarations, 1):
        _body(doc, f"（{i}）{clause}")
    _body(doc, f"查新员、审核员签字见文末“{content.SIGNATURE_TITLE}”。")


def _section_attachments(doc: DocxDocument, r: ReportData) -> None:
    _heading(doc, content.SECTION_TITLES[7], level=1)
    if not r.attachments:
        _body(doc, content.EMPTY)
    for i, item in enumerate(r.attachments, 1):
        _body(doc, f"{i}. {item}")


def _section_remarks(doc: DocxDocument, r: ReportData) -> None:
    _heading(doc, content.SECTION_TITLES[8], level=1)
    for para in content.paragraphs(r.remarks, draft=False):
        _body(doc, para)


def _signatures(doc: DocxDocument, r: ReportData) -> None:
    _heading(doc, content.SIGNATURE_TITLE, level=1)
    rows = [
        ["查新员（签字）", r.analyst.name, "职称", r.analyst.title],
        ["审核员（签字）", r.reviewer.name, "职称", r.reviewer.title],
        ["查新机构（科技查新专用章）", r.centre.name, "查新完成日期", content.fmt_date(r.completion_date)],
        ["签字日期", content.fmt_date(r.signing_date), "签发日期", content.fmt_date(r.issue_date)],
    ]
    _table(doc, rows, (36, 42, 30, 46), header=False)
