"""附表一 and 附表二 of a 收录引证报告 as an .xlsx workbook, for the centre's own records.

One sheet per table with the same rows as the report, plus a sheet with the header block and the
certification paragraph, so the workbook says which report it belongs to. 附表一 repeats the paper's
number and reference on each of its database lines, so the sheet filters by database. Every text
cell is typed as text: a reference beginning with "=" is never run as a formula. Document dates and
zip timestamps are fixed by the content, so the same report gives the same bytes.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from datetime import date, datetime, time

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from reports import citation_content as cc
from reports.citation_model import CitationReportData
from reports.printable import printable
from reports.stable_zip import stable_zip

_MAX_CELL_CHARS = 32_767  # Excel's limit; longer text makes the file fail to open
_BOLD = Font(bold=True)
_WRAP = Alignment(wrap_text=True, vertical="top")


def _append(ws: Worksheet, values: Sequence[str | int], *, bold: bool = False) -> None:
    ws.append([v[:_MAX_CELL_CHARS] if isinstance(v, str) else v for v in values])
    for cell in ws[ws.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"  # never a formula, whatever the text starts with
            cell.alignment = _WRAP
        if bold:
            cell.font = _BOLD


def _widths(ws: Worksheet, widths: Sequence[int]) -> None:
    for i, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = width


def render_citation_xlsx(report: CitationReportData) -> bytes:
    cc.check_issuable(report)
    r = printable(report)
    wb = Workbook()
    info = wb.active
    assert info is not None  # a new workbook has its one sheet
    info.title = "报告信息"
    _widths(info, (20, 100))
    for label, value in cc.header_rows(r):
        _append(info, (label, value))
    _append(info, (cc.CERTIFICATION_TITLE, r.certification_text()))
    if cc.verification_text(r):
        _append(info, ("验证码", cc.verification_text(r).removeprefix("验证码：")))

    indexing = wb.create_sheet("附表一 收录")
    _widths(indexing, (6, 80, 14, 26, 14))
    _append(indexing, cc.INDEXING_HEADERS, bold=True)
    for p in r.papers:
        for line in cc.indexing_rows(r, p):
            _append(indexing, (p.seq, p.reference, line.database, line.accession, line.doc_type))
    indexing.freeze_panes = "A2"

    citations = wb.create_sheet("附表二 引证")
    _widths(citations, (6, 80, 10, 10, 10))
    _append(citations, cc.CITATION_HEADERS, bold=True)
    for seq, reference, total, own, others in cc.citation_rows(r)[:-1]:
        _append(citations, (int(seq), reference, int(total), int(own), int(others)))
    _append(citations, ("", cc.TOTAL_LABEL, r.total_citations, r.self_total, r.others_total), bold=True)
    citations.freeze_panes = "A2"

    stamp = datetime.combine(date.fromisoformat(cc.created_date(r)), time())
    wb.properties.creator = r.centre.name
    wb.properties.title = f"{cc.TITLE}：{r.client.name}"
    wb.properties.created = stamp
    wb.properties.modified = stamp
    buf = io.BytesIO()
    # ExcelWriter rather than Workbook.save, which stamps the current time as the modified date.
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()
    return stable_zip(buf.getvalue())
