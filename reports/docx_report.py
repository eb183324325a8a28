"""The 科技查新报告 as a Word document (python-docx), on the page, styles and building blocks of
reports/word.py (A4, MOST margins, 小四 宋体 / Times New Roman).
"""

from __future__ import annotations

import io
from datetime import datetime, time

from docx.document import Document as DocxDocument
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Mm, Pt
from docx.text.paragraph import Paragraph

from reports import content, word
from reports.model import Relevance, ReportData
from reports.printable import printable


def render_docx(report: ReportData) -> bytes:
    """The report as .docx bytes; raises ReportDataError for an issued report whose code is wrong."""
    content.check_issuable(report)
    report = printable(report)
    doc = word.report_document()
    stamp = report.issue_date or report.signing_date or report.completion_date or report.commission_date
    word.set_properties(
        doc,
        title=f"{content.TITLE}：{report.project_name_zh}",
        subject=report.report_no or content.WATERMARK,
        author=report.centre.name,
        keywords="科技查新",
        stamp=datetime.combine(stamp, time()),
    )
    word.header_and_footer(
        doc,
        draft=report.draft,
        centre=report.centre.name,
        title=content.TITLE,
        verify=content.verify_line(report),
        footer=content.footer_text(report),
    )
    _cover(doc, report)
    word.page_break(doc)
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
    return word.report_bytes(doc)


# --- building blocks ----------------------------------------------------------------------------


def _labelled(doc: DocxDocument, label: str, text: str) -> Paragraph:
    """`label：text` with the label in bold, as report templates print 内容简介：… and the like."""
    p = word.styled(doc, "BodyText")
    p.add_run(f"{label}：").bold = True
    p.add_run(text)
    return p


def _text_block(doc: DocxDocument, text: str, draft: bool) -> None:
    for para in content.paragraphs(text, draft=draft):
        word.body(doc, para)


# --- the parts of the report --------------------------------------------------------------------


def _cover(doc: DocxDocument, r: ReportData) -> None:
    for _ in range(3):
        doc.add_paragraph()
    # Centred on the paragraph as well: LibreOffice ignores the alignment of the built-in Title style.
    word.styled(doc, "Title", content.TITLE).alignment = WD_ALIGN_PARAGRAPH.CENTER
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
    word.set_widths(table, (content.COVER_LABEL_CHARS * 14 * 0.3528 + 1, 6, 100))
    if content.verify_line(r):
        doc.add_paragraph()
        qr = doc.add_paragraph()
        qr.alignment = WD_ALIGN_PARAGRAPH.CENTER
        qr.add_run().add_picture(io.BytesIO(content.qr_png(r.verify_url)), width=Mm(28))
        line = doc.add_paragraph()
        line.alignment = WD_ALIGN_PARAGRAPH.CENTER
        line.add_run(content.verify_line(r)).font.size = Pt(9)


def _header_table(doc: DocxDocument, r: ReportData) -> None:
    word.heading(doc, content.HEADER_TABLE_TITLE, level=1)
    rows: list[list[str]] = [
        ["查新项目名称", "中文", r.project_name_zh],
        ["", "英文", content.or_empty(r.project_name_en)],
        ["委托人", "名称", r.client.name],
        *[["", label, value] for label, value in content.party_rows(r.client)],
        ["查新机构", "名称", r.centre.name],
        *[["", label, value] for label, value in content.party_rows(r.centre)],
    ]
    table = word.table(doc, rows, (32, 26, 96), header=False)
    block = len(content.PARTY_ROWS) + 1
    # Merge the block label down its rows, as the printed form does.
    for start, length in ((0, 2), (2, block), (2 + block, block)):
        merged = table.cell(start, 0).merge(table.cell(start + length - 1, 0))
        for paragraph in merged.paragraphs[1:]:
            paragraph._p.getparent().remove(paragraph._p)
        merged.paragraphs[0].runs[0].bold = True


def _section_purpose(doc: DocxDocument, r: ReportData) -> None:
    word.heading(doc, content.SECTION_TITLES[0], level=1)
    word.body(doc, content.purpose_line(r))
    _text_block(doc, r.purpose_text, r.draft)


def _section_technical(doc: DocxDocument, r: ReportData) -> None:
    word.heading(doc, content.SECTION_TITLES[1], level=1)
    _text_block(doc, r.technical_points, r.draft)


def _section_points(doc: DocxDocument, r: ReportData) -> None:
    word.heading(doc, content.SECTION_TITLES[2], level=1)
    word.heading(doc, "（一）查新点", level=2)
    for i, point in enumerate(r.novelty_points, 1):
        word.body(doc, f"{i}. {point.text}")
    word.heading(doc, "（二）查新要求", level=2)
    _text_block(doc, r.requirements, r.draft)
    word.body(doc, content.scope_line(r))


def _section_strategy(doc: DocxDocument, r: ReportData) -> None:
    word.heading(doc, content.SECTION_TITLES[3], level=1)
    word.heading(doc, "（一）检索的数据库及年限", level=2)
    if r.databases:
        word.table(
            doc,
            [["序号", "数据库（文献集合）", "检索年限"]]
            + [[str(i), db.name, db.years] for i, db in enumerate(r.databases, 1)],
            (14, 104, 36),
        )
    else:
        word.body(doc, content.TO_FILL if r.draft else content.EMPTY)
    word.heading(doc, "（二）检索词", level=2)
    _labelled(doc, "中文检索词", "；".join(r.terms_zh) or content.EMPTY)
    _labelled(doc, "英文检索词", "; ".join(r.terms_en) or content.EMPTY)
    word.heading(doc, "（三）检索式", level=2)
    if r.strategies:
        rows = [["序号", "数据库", "检索式", "命中数", "检索时间"]]
        for i, s in enumerate(r.strategies, 1):
            expression = f"{s.expression}\nCNKI：{s.cnki_expression}" if s.cnki_expression else s.expression
            rows.append([str(i), s.database, expression, str(s.hits), content.strategy_date(s)])
        word.table(doc, rows, (11, 27, 80, 14, 22))
    else:
        word.body(doc, content.TO_FILL if r.draft else content.EMPTY)


def _section_results(doc: DocxDocument, r: ReportData) -> None:
    word.heading(doc, content.SECTION_TITLES[4], level=1)
    for para in content.summary_paragraphs(r):
        word.body(doc, para)
    for block in content.result_blocks(r):
        word.heading(doc, block.heading, level=2)
        for group in block.groups:
            word.heading(doc, group.heading, level=3)
            if not group.documents:
                word.body(doc, "未检出此类文献。")
            for d in group.documents:
                ref = word.styled(doc, None)
                ref.paragraph_format.left_indent = Pt(word.BODY_PT * 2.5)
                ref.paragraph_format.first_line_indent = -Pt(word.BODY_PT * 2.5)
                ref.paragraph_format.space_before = Pt(4)
                ref.add_run(f"[{d.seq}]\u2002{d.reference}")
                if d.database:
                    _labelled(doc, "来源数据库", d.database)
                _labelled(doc, "相关查新点", content.points_label(r, d))
                _labelled(doc, "内容简介", d.description.strip() or content.TO_FILL)
                if block.relevance is Relevance.close:
                    _labelled(doc, "原文摘录", d.excerpt.strip() or content.TO_FILL)


def _section_conclusion(doc: DocxDocument, r: ReportData) -> None:
    word.heading(doc, content.SECTION_TITLES[5], level=1)
    by_point = {c.point_id: c for c in r.point_conclusions}
    for i, point in enumerate(r.novelty_points, 1):
        word.heading(doc, f"查新点{i}：{point.text}", level=3)
        found = by_point.get(point.id)
        filler = content.TO_FILL if r.draft else content.EMPTY
        _labelled(doc, "对比分析", (found.comparison.strip() if found else "") or filler)
        _labelled(doc, "查新结论", (found.conclusion.strip() if found else "") or filler)
    for line in content.scope_statements(r):
        word.body(doc, line)
    word.heading(doc, "综合结论", level=3)
    _text_block(doc, r.overall_conclusion, r.draft)


def _section_declarations(doc: DocxDocument, r: ReportData) -> None:
    word.heading(doc, content.SECTION_TITLES[6], level=1)
    for i, clause in enumerate(r.declarations, 1):
        word.body(doc, f"（{i}）{clause}")
    word.body(doc, f"查新员、审核员签字见文末“{content.SIGNATURE_TITLE}”。")


def _section_attachments(doc: DocxDocument, r: ReportData) -> None:
    word.heading(doc, content.SECTION_TITLES[7], level=1)
    if not r.attachments:
        word.body(doc, content.EMPTY)
    for i, item in enumerate(r.attachments, 1):
        word.body(doc, f"{i}. {item}")


def _section_remarks(doc: DocxDocument, r: ReportData) -> None:
    word.heading(doc, content.SECTION_TITLES[8], level=1)
    for para in content.paragraphs(r.remarks, draft=False):
        word.body(doc, para)


def _signatures(doc: DocxDocument, r: ReportData) -> None:
    word.heading(doc, content.SIGNATURE_TITLE, level=1)
    rows = [
        ["查新员（签字）", r.analyst.name, "职称", r.analyst.title],
        ["审核员（签字）", r.reviewer.name, "职称", r.reviewer.title],
        ["查新机构（科技查新专用章）", r.centre.name, "查新完成日期", content.fmt_date(r.completion_date)],
        ["签字日期", content.fmt_date(r.signing_date), "签发日期", content.fmt_date(r.issue_date)],
    ]
    word.table(doc, rows, (36, 42, 30, 46), header=False)
