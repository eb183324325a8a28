"""The 收录引证报告 as a Word document, on the 查新 report's page set-up, styles and table helpers.

Same layout rules as reports/docx_report.py (A4, MOST margins, 小四 宋体 / Times New Roman, Word's
own watermark for a draft, number and code in every footer); the building blocks are taken from
there rather than repeated. The package is rewritten with fixed zip timestamps, so one report always
gives the same bytes.
"""

from __future__ import annotations

import io
from datetime import date, datetime, time
from xml.sax.saxutils import escape

from docx import Document as new_document
from docx.document import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import parse_xml
from docx.shared import Mm, Pt

from reports import citation_content as cc
from reports import content
from reports.citation_model import CitationReportData
from reports.docx_report import (
    _WATERMARK_XML,
    BODY_PT,
    CJK_FONT,
    _add_field,
    _body,
    _heading,
    _page_break,
    _setup_page,
    _setup_styles,
    _styled,
    _table,
)
from reports.printable import printable
from reports.stable_zip import stable_zip


def render_citation_docx(report: CitationReportData) -> bytes:
    """The report as .docx bytes; raises ReportDataError for an issued report whose code is wrong."""
    cc.check_issuable(report)
    report = printable(report)
    doc = new_document()
    _setup_page(doc)
    _setup_styles(doc)
    _properties(doc, report)
    _header_and_footer(doc, report)
    _title(doc, report)
    _header_block(doc, report)
    _certification(doc, report)
    _indexing_table(doc, report)
    _citation_table(doc, report)
    if report.options.include_citing_list:
        _citing_list(doc, report)
    _notes(doc, report)
    _signatures(doc, report)
    out = io.BytesIO()
    doc.save(out)
    return stable_zip(out.getvalue())


def _properties(doc: DocxDocument, r: CitationReportData) -> None:
    props = doc.core_properties
    props.title = f"{cc.TITLE}：{r.client.name}"
    props.subject = r.report_number or content.WATERMARK
    props.author = r.centre.name
    props.last_modified_by = r.centre.name
    props.keywords = "收录引证"
    props.comments = ""
    props.revision = 1
    stamp = datetime.combine(date.fromisoformat(cc.created_date(r)), time())
    props.created = props.modified = stamp


def _header_and_footer(doc: DocxDocument, r: CitationReportData) -> None:
    section = doc.sections[0]
    header = section.header.paragraphs[0]
    header.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if r.draft:
        header.add_run(f"{content.WATERMARK}　{r.centre.name}　{cc.TITLE}")
        mark = escape(content.WATERMARK, {'"': "&quot;"})
        header._p.append(parse_xml(_WATERMARK_XML.replace("{font}", CJK_FONT).replace("{text}", mark)))
    else:
        header.add_run(f"{r.centre.name}　{cc.TITLE}")
        if cc.verify_line(r):
            header.add_run("\n" + cc.verify_line(r)).font.size = Pt(8)
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.add_run(cc.footer_text(r) + "　第 ")
    _add_field(footer, "PAGE")
    footer.add_run(" 页 共 ")
    _add_field(footer, "NUMPAGES")
    footer.add_run(" 页")


def _title(doc: DocxDocument, r: CitationReportData) -> None:
    _styled(doc, "Title", cc.TITLE).alignment = WD_ALIGN_PARAGRAPH.CENTER
    number = doc.add_paragraph()
    number.alignment = WD_ALIGN_PARAGRAPH.CENTER
    number.add_run(f"报告编号：{cc.report_number_text(r)}")


def _header_block(doc: DocxDocument, r: CitationReportData) -> None:
    _heading(doc, cc.HEADER_TITLE, level=1)
    table = _table(doc, [list(row) for row in cc.header_rows(r)], (38, 116), header=False)
    for row in table.rows:
        row.cells[0].paragraphs[0].runs[0].bold = True


def _certification(doc: DocxDocument, r: CitationReportData) -> None:
    _heading(doc, cc.CERTIFICATION_TITLE, level=1)
    _body(doc, r.certification_text())
    if cc.verify_line(r):
        qr = doc.add_paragraph()
        qr.alignment = WD_ALIGN_PARAGRAPH.CENTER
        qr.add_run().add_picture(io.BytesIO(content.qr_png(r.verify_url)), width=Mm(24))
        line = doc.add_paragraph()
        line.alignment = WD_ALIGN_PARAGRAPH.CENTER
        line.add_run(cc.verify_line(r)).font.size = Pt(9)


def _indexing_table(doc: DocxDocument, r: CitationReportData) -> None:
    # The schedules (附表) begin on a page of their own, after the certificate page.
    _page_break(doc)
    _heading(doc, cc.INDEXING_TITLE, level=1)
    rows: list[list[str]] = [list(cc.INDEXING_HEADERS)]
    spans: list[tuple[int, int]] = []  # (first row, row count) of each paper, for merging
    for p in r.papers:
        lines = cc.indexing_rows(r, p)
        spans.append((len(rows), len(lines)))
        for i, line in enumerate(lines):
            first = i == 0
            rows.append([str(p.seq) if first else "", p.reference if first else "", line.database,
                         line.accession, line.doc_type])  # fmt: skip
    if not r.papers:
        _body(doc, content.TO_FILL if r.draft else content.EMPTY)
        return
    table = _table(doc, rows, (11, 77, 20, 28, 18))
    table_rows = table.rows
    # A paper held by several databases: its number and reference span its lines, one row per paper.
    for start, count in spans:
        if count == 1:
            continue
        for col in (0, 1):
            merged = table_rows[start].cells[col].merge(table_rows[start + count - 1].cells[col])
            for paragraph in merged.paragraphs[1:]:
                if not paragraph.text:
                    paragraph._p.getparent().remove(paragraph._p)
    summary = cc.indexing_summary(r)
    if summary:
        _body(doc, summary)


def _citation_table(doc: DocxDocument, r: CitationReportData) -> None:
    _heading(doc, cc.CITATION_TITLE, level=1)
    if not r.papers:
        _body(doc, content.TO_FILL if r.draft else content.EMPTY)
        return
    rows = [list(cc.CITATION_HEADERS)] + [list(row) for row in cc.citation_rows(r)]
    table = _table(doc, rows, (11, 95, 16, 16, 16))
    for cell in table.rows[-1].cells:
        for run in cell.paragraphs[0].runs:
            run.bold = True
    summary = cc.citing_sources_summary(r)
    if summary:
        _body(doc, summary)


def _citing_list(doc: DocxDocument, r: CitationReportData) -> None:
    _heading(doc, cc.CITING_LIST_TITLE, level=1)
    _body(doc, cc.citing_list_scope(r))
    for block in cc.citing_blocks(r):
        _heading(doc, block.heading, level=3)
        _body(doc, block.counts)
        if not block.records:
            _body(doc, cc.no_citing_text(r, block.paper))
        for i, c in enumerate(block.records, 1):
            ref = _styled(doc, None)
            ref.paragraph_format.left_indent = Pt(BODY_PT * 2.5)
            ref.paragraph_format.first_line_indent = -Pt(BODY_PT * 2.5)
            ref.paragraph_format.space_before = Pt(3)
            ref.paragraph_format.keep_together = True
            ref.add_run(f"（{i}）\u2002{c.reference}").font.size = Pt(10.5)
            ref.add_run(f"　{cc.citing_line(c)}").font.size = Pt(10.5)


def _notes(doc: DocxDocument, r: CitationReportData) -> None:
    _heading(doc, cc.NOTES_TITLE, level=1)
    for i, line in enumerate(cc.notes_lines(r), 1):
        _body(doc, f"{i}. {line}")


def _signatures(doc: DocxDocument, r: CitationReportData) -> None:
    _heading(doc, cc.SIGNATURE_TITLE, level=1)
    _table(doc, [list(row) for row in cc.signature_rows(r)], (36, 52, 24, 42), header=False)
    code = cc.verification_text(r)
    if code:
        _body(doc, code, indent=False)
