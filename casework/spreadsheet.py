"""Plain tables as an .xlsx workbook: a bold header row, then rows; optional notes below the table.

openpyxl's write-only mode keeps memory flat however many rows there are. Text cells are typed as
text, so a project name starting with "=" is never run as a formula (the values came from clients);
dates are real date cells shown as YYYY-MM-DD, so they sort and filter in Excel.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

Cell = str | int | float | date | None
MAX_CELL_CHARS = 32_767  # Excel's limit; longer text makes the file fail to open


@dataclass(frozen=True)
class Sheet:
    title: str
    headers: Sequence[str]
    rows: Iterable[Sequence[Cell]]
    widths: Mapping[str, int] = field(default_factory=dict)  # header -> column width in characters
    notes: Sequence[str] = ()  # one line each, after a blank row below the table
    formats: Mapping[str, str] = field(default_factory=dict)  # header -> Excel number format ("0.0%")


def _cell(ws: Any, value: Cell, *, bold: bool = False, number_format: str | None = None) -> Any:
    if isinstance(value, str):
        value = value[:MAX_CELL_CHARS]
    raw: Any = value  # openpyxl's stubs leave out `date`, which it writes as a date cell
    cell = WriteOnlyCell(ws, value=raw)
    if isinstance(value, str):
        cell.data_type = "s"
    elif isinstance(value, date):
        cell.number_format = "yyyy-mm-dd"
    elif number_format and value is not None:
        cell.number_format = number_format
    if bold:
        cell.font = Font(bold=True)
    return cell


def write_workbook(sheets: Iterable[Sheet], target: IO[bytes]) -> None:
    wb = Workbook(write_only=True)
    for sheet in sheets:
        ws = wb.create_sheet(sheet.title)
        ws.freeze_panes = "A2"
        for i, name in enumerate(sheet.headers, 1):
            ws.column_dimensions[get_column_letter(i)].width = sheet.widths.get(
                name, max(10, 2 * len(name) + 2)
            )
        ws.append([_cell(ws, h, bold=True) for h in sheet.headers])
        column_formats = [sheet.formats.get(name) for name in sheet.headers]
        for row in sheet.rows:
            ws.append([_cell(ws, v, number_format=f) for v, f in zip(row, column_formats + [None] * len(row), strict=False)])
        if sheet.notes:
            ws.append([])
            for line in sheet.notes:
                ws.append([_cell(ws, line)])
    wb.save(target)


def workbook_bytes(sheets: Iterable[Sheet]) -> bytes:
    buf = io.BytesIO()
    write_workbook(sheets, buf)
    return buf.getvalue()
