"""One row per record, Chinese column headers: CSV for any tool, XLSX for Excel.

CSV starts with a UTF-8 BOM: without it Excel on Chinese Windows reads the file as GBK and shows
mojibake. Values that a spreadsheet would run as a formula (= + - @ at the start) get a leading
apostrophe in CSV (the OWASP advice; the data came from outside). XLSX cells are typed as text
instead, which keeps the value exact.

XLSX uses openpyxl's write-only mode, which spools rows to a temporary file instead of holding cell
objects; the finished zip is written to a spooled temporary file and yielded in chunks, because a
zip's directory comes last and cannot be streamed before the last row is known.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from search.export.fields import (
    RecordDict,
    affiliations,
    authors,
    clean_block,
    corresponding_authors,
    doc_type,
    pages,
    publisher,
    strings,
    text,
    year,
)
from search.export.gbt7714 import format_entry
from search.fields import DOC_TYPE_LABELS

Cell = str | int | None

_ACCESS_LABELS = {"public": "公开", "embargoed": "延期公开", "restricted": "限制"}
XLSX_MAX_CELL = 32_767  # Excel's limit; longer text would make the file fail to open


def _joined(values: list[str]) -> str | None:
    return "; ".join(values) or None


def _year(rec: RecordDict) -> int | None:
    y = year(rec)
    return int(y) if y else None


COLUMNS: list[tuple[str, Callable[[RecordDict], Cell]]] = [
    ("文献类型", lambda r: DOC_TYPE_LABELS.get(doc_type(r), doc_type(r) or None)),
    ("题名", lambda r: text(r, "title")),
    ("英文题名", lambda r: text(r, "title_en")),
    ("作者", lambda r: _joined(authors(r))),
    ("作者单位", lambda r: _joined(affiliations(r))),
    ("通讯作者", lambda r: _joined(corresponding_authors(r))),
    ("来源", lambda r: text(r, "venue")),  # 刊名、会议名或学位授予单位
    ("年", _year),
    ("卷", lambda r: text(r, "volume")),
    ("期", lambda r: text(r, "issue")),
    ("页码", pages),
    ("出版地", lambda r: text(r, "place")),
    ("出版者", publisher),  # 出版社、学位授予单位或报告发布机构
    ("版本", lambda r: text(r, "edition")),
    ("导师", lambda r: text(r, "thesis", "supervisor")),
    ("DOI", lambda r: text(r, "doi")),
    ("关键词", lambda r: _joined(strings(r, "keywords"))),
    ("摘要", lambda r: clean_block(r.get("abstract"))),
    ("中图分类号", lambda r: _joined(strings(r, "clc"))),
    ("学科", lambda r: text(r, "discipline")),
    ("学科门类", lambda r: text(r, "category")),
    ("基金", lambda r: _joined(strings(r, "funds"))),
    ("语种", lambda r: text(r, "language")),
    ("专利公开号", lambda r: text(r, "patent", "publication_number")),
    ("专利申请号", lambda r: text(r, "patent", "application_number")),
    ("专利申请人", lambda r: _joined(strings(r, "patent", "applicants"))),
    ("IPC分类号", lambda r: _joined(strings(r, "patent", "ipc"))),
    ("标准号", lambda r: text(r, "standard", "standard_number")),
    ("标准状态", lambda r: text(r, "standard", "status")),
    ("标准发布日期", lambda r: text(r, "standard", "issue_date")),
    ("标准实施日期", lambda r: text(r, "standard", "implementation_date")),
    ("报告编号", lambda r: text(r, "tech_report", "report_no")),
    ("报告承担单位", lambda r: text(r, "tech_report", "organisation")),
    ("公开范围", lambda r: _ACCESS_LABELS.get(text(r, "tech_report", "access_level") or "")),
    ("延期公开至", lambda r: text(r, "tech_report", "embargo_until")),
    ("参考文献（GB/T 7714-2025）", lambda r: format_entry(r, edition="2025")),
    ("记录ID", lambda r: text(r, "id")),
]
HEADERS = [name for name, _ in COLUMNS]


def row(rec: RecordDict) -> list[Cell]:
    return [get(rec) for _, get in COLUMNS]


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_CSV_CHUNK = 64 * 1024


def _csv_safe(value: Cell) -> Cell:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def write_csv(records: Iterable[RecordDict]) -> Iterator[str]:
    """The BOM and header first, then rows in chunks of about 64 KB."""
    buf = io.StringIO()
    out = csv.writer(buf)  # RFC 4180: quoted where needed, CRLF line ends
    out.writerow(HEADERS)
    yield "\ufeff" + buf.getvalue()
    buf.seek(0)
    buf.truncate()
    for rec in records:
        out.writerow([_csv_safe(v) for v in row(rec)])
        if buf.tell() >= _CSV_CHUNK:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    if buf.tell():
        yield buf.getvalue()


def _xlsx_cell(ws: Any, value: Cell, *, bold: bool = False) -> Any:
    if isinstance(value, str):
        value = value[:XLSX_MAX_CELL]
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # never a formula, even when the text starts with "="
    if bold:
        cell.font = Font(bold=True)
    return cell


_WIDTHS = {"题名": 50, "英文题名": 40, "作者": 24, "作者单位": 40, "来源": 24, "关键词": 30, "摘要": 60,
           "参考文献（GB/T 7714-2025）": 60}  # fmt: skip


def write_xlsx(records: Iterable[RecordDict], *, chunk_size: int = 256 * 1024) -> Iterator[bytes]:
    """An .xlsx workbook with one sheet "文献"; bytes in chunks once the workbook is complete."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("文献")
    ws.freeze_panes = "A2"
    for i, name in enumerate(HEADERS, 1):
        ws.column_dimensions[get_column_letter(i)].width = _WIDTHS.get(name, 14)
    ws.append([_xlsx_cell(ws, h, bold=True) for h in HEADERS])
    for rec in records:
        ws.append([_xlsx_cell(ws, v) for v in row(rec)])
    with tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024) as tmp:
        wb.save(tmp)
        tmp.seek(0)
        while chunk := tmp.read(chunk_size):
            yield chunk
