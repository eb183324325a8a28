"""The record page's 引用 box: the reference in both GB/T 7714 editions, ready to copy, and the
reference-manager downloads (RIS, EndNote) of the record alone. search.export formats it all."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from search.export.gbt7714 import EDITIONS, format_entry

DOWNLOADS = (("ris", "RIS"), ("endnote", "EndNote"))
# The downloaded file is named after the record's title (查新平台-<title>-<date>.ris), shortened.
TITLE_IN_NAME = 30


def cite_view(record: dict[str, Any], record_id: str) -> dict[str, Any]:
    title = str(record.get("title") or "")[:TITLE_IN_NAME]
    return {
        "entries": [
            {"edition": e, "label": f"GB/T 7714—{e}", "text": format_entry(record, edition=e)} for e in EDITIONS
        ],
        "downloads": [
            {"label": label, "url": "/api/v1/export?" + urlencode({"format": fmt, "ids": record_id, "q": title})}
            for fmt, label in DOWNLOADS
        ],
    }
