"""The 收录引证报告 as a Word document, on the 查新 report's page set-up, styles and table helpers.

Same layout as the 查新 report (A4, MOST margins, 小四 宋体 / Times New Roman, Word's own watermark
for a draft, number and code in every footer): both are built from reports/word.py, which
also saves the package with fixed zip timestamps, so one report always gives the same bytes.
"""

from __future__ import annotations

import io
from datetime import date, datetime, time

from docx.document import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Mm, Pt

from reports import citation_content as cc
from reports import content, word
from reports.citation_model import CitationReportData
from reports.printable import printable


def render_citation_docx(report: CitationReportData) -> bytes:
    """The report as .docx bytes; raises ReportDataError for an issued report whose code is wrong."""
    content.check_issuable(report)
    report = printable(report)
    doc = word.report_document()
    word.set_properties(
        doc,
        title=f"{cc.TITLE}：{report.client.name}",
        subject=report.report_number or content.WATERMARK,
        author=report.centre.name,
        keywords="收录引证",
        stamp=datetime.combine(date.fromisoformat(cc.created_date(report)), time()),
        revision=1,
    )
    word.header_and_footer(
        doc,
        draft=report.draft,
        centre=report.centre.name,
        title=cc.TITLE,
        verify=cc.verify_line(report),
        footer=cc.footer_text(report),
    )
    _title(doc, report)
    _header_block(doc, report)
    _certification(doc, report)
    _indexing_table(doc, report)
    _citation_table(doc, report)
    if report.options.include_citing_list:
        _citing_list(doc, report)
    _notes(doc, report)
    _signatures(doc, report)
    return word.report_bytes(doc)


def _title(doc: DocxDocument, r: CitationReportData) -> None:
    word.styled(doc, "Title", cc.TITLE).alignment = WD_ALIGN_PARAGRAPH.CENTER
    number = doc.add_paragraph()
    number.alignment = WD_ALIGN_PARAGRAPH.CENTER
    number.add_run(f"报告编号：{cc.report_number_text(r)}")


def _header_block(doc: DocxDocument, r: CitationReportData) -> None:
    word.heading(doc, cc.HEADER_TITLE, level=1)
    table = word.table(doc, [list(row) for row in cc.header_rows(r)], (38, 116), header=False)
    for row in table.rows:
        row.cells[0].paragraphs[0].runs[0].bold = True


def _certification(doc: DocxDocument, r: CitationReportData) -> None:
    word.heading(doc, cc.CERTIFICATION_TITLE, level=1)
    word.body(doc, r.certification_text())
    if cc.verify_line(r):
        qr = doc.add_paragraph()
        qr.alignment = WD_ALIGN_PARAGRAPH.CENTER
        qr.add_run().add_picture(io.BytesIO(content.qr_png(r.verify_url)), width=Mm(24))
        line = doc.add_paragraph()
        line.alignment = WD_ALIGN_PARAGRAPH.CENTER
        line.add_run(cc.verify_line(r)).font.size = Pt(9)


def _indexing_table(doc: DocxDocument, r: CitationReportData) -> None:
    # The schedules (附表) begin on a page of their own, after the certificate page.
    word.page_break(doc)
    word.heading(doc, cc.INDEXING_TITLE, level=1)
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
        word.body(doc, content.TO_FILL if r.draft else content.EMPTY)
        return
    table = word.table(doc, rows, (11, 77, 20, 28, 18))
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
        word.body(doc, summary)


def _citation_table(doc: DocxDocument, r: CitationReportData) -> None:
    word.heading(doc, cc.CITATION_TITLE, level=1)
    if not r.papers:
        word.body(doc, content.TO_FILL if r.draft else content.EMPTY)
        return
    rows = [list(cc.CITATION_HEADERS)] + [list(row) for row in cc.citation_rows(r)]
    table = word.table(doc, rows, (11, 95, 16, 16, 16))
    for cell in table.rows[-1].cells:
        for run in cell.paragraphs[0].runs:
            run.bold = True
    summary = cc.citing_sources_summary(r)
    if summary:
        word.body(doc, summary)


def _citing_list(doc: DocxDocument, r: CitationReportData) -> None:
    word.heading(doc, cc.CITING_LIST_TITLE, level=1)
    word.body(doc, cc.citing_list_scope(r))
    for block in cc.citing_blocks(r):
        word.heading(doc, block.heading, level=3)
        word.body(doc, block.counts)
        if not block.records:
            word.body(doc, cc.no_citing_text(r, block.paper))
        for i, c in enumerate(block.records, 1):
            ref = word.styled(doc, None)
            ref.paragraph_format.left_indent = Pt(word.BODY_PT * 2.5)
            ref.paragraph_format.first_line_indent = -Pt(word.BODY_PT * 2.5)
            ref.paragraph_format.space_before = Pt(3)
            ref.paragraph_format.keep_together = True
            ref.add_run(f"（{i}）\u2002{c.reference}").font.size = Pt(10.5)
            ref.add_run(f"　{cc.citing_line(c)}").font.size = Pt(10.5)


def _notes(doc: DocxDocument, r: CitationReportData) -> None:
    word.heading(doc, cc.NOTES_TITLE, level=1)
    for i, line in enumerate(cc.notes_lines(r), 1):
        word.body(doc, f"{i}. {line}")


def _signatures(doc: DocxDocument, r: CitationReportData) -> None:
    word.heading(doc, cc.SIGNATURE_TITLE, level=1)
    word.table(doc, [list(row) for row in cc.signature_rows(r)], (36, 52, 24, 42), header=False)
    code = cc.verification_text(r)
    if code:
        word.body(doc, code, indent=False)
