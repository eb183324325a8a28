"""Web of Science "Tab delimited file" exports: a header row of field tags (`PT AU … UT`), one record per
line, no quoting. The values are split into the per-line lists the plain-text layout gives (`AU`, `CR` …
one value per line there, `; `-joined here), so tagged.py builds both layouts with the same code.

`; ` (semicolon and space) separates list items; a bare `;` stays, as SICI DOIs contain one
(`10.1002/(SICI)1097-4571(199009)41:6<391::AID-ASI1>3.0.CO;2-9`). `C1` entries are split outside the
`[authors]` brackets, which hold `; ` themselves.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

LIST_TAGS = frozenset(["AU", "AF", "BA", "BF", "BE", "CA", "CR", "EM", "RI", "OI", "C3"])
_C1_ITEM = re.compile(r";\s+(?=\[)")


@dataclass(frozen=True)
class Row:
    start_line: int
    fields: dict[str, list[str]]
    error: str | None = None  # set when the row does not have the header's columns


def is_tab_layout(text: str) -> bool:
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    return first.startswith("PT\t") and "\tUT" in first


def _values(tag: str, value: str) -> list[str]:
    value = value.strip()
    if not value:
        return []
    if tag in LIST_TAGS:
        return [v.strip() for v in value.split("; ") if v.strip()]
    if tag == "C1":
        return [v.strip() for v in _C1_ITEM.split(value) if v.strip()]
    return [value]


def read(text: str) -> Iterator[Row]:
    """One Row per non-empty record line; a row with the wrong number of columns carries an error."""
    lines = text.lstrip("\ufeff").split("\n")
    header = [t.strip() for t in lines[0].split("\t")]
    while header and not header[-1]:
        header.pop()
    for lineno, line in enumerate(lines[1:], 2):
        if not line.strip():
            continue
        cells = line.rstrip("\r").split("\t")
        while len(cells) > len(header) and not cells[-1].strip():
            cells.pop()
        if len(cells) != len(header):
            error = f"记录不完整：有 {len(cells)} 列，表头有 {len(header)} 列（文件可能被截断或损坏），未入库"
            yield Row(lineno, {}, error)
            continue
        yield Row(lineno, {tag: _values(tag, cell) for tag, cell in zip(header, cells, strict=True) if tag})
