"""Export formats: pure writers from record dicts (the index `_source`) to bytes, and their registry.

A web route picks `FORMATS[name]`, sets `media_type` and a filename with `extension`, and streams
`fmt.write(records)`; every writer is a generator, so a 50,000-record export never sits in memory
as one string (XLSX excepted: see tabular.py). Writers do not filter: the caller passes only the
records the user may see (no 限制 report for an ordinary user, and a 延期公开 report before its
date without its abstract: domain brief Part A §5), since a writer cannot know who is asking.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial

from search.export.fields import RecordDict
from search.export.gbt7714 import write_chaxin, write_gbt7714
from search.export.tabular import write_csv, write_xlsx
from search.export.tagged import write_bibtex, write_endnote, write_noteexpress, write_refworks, write_ris

TextWriter = Callable[[Iterable[RecordDict]], Iterator[str]]
ByteWriter = Callable[[Iterable[RecordDict]], Iterator[bytes]]


# Bytes per piece a streamed export hands to the server. A piece per entry (tens of bytes) cost a
# hop to the thread pool and a send per entry, most of a 10,000-record export's time (bench/query.py).
CHUNK_BYTES = 64 * 1024


def _utf8(writer: TextWriter) -> ByteWriter:
    def write(records: Iterable[RecordDict]) -> Iterator[bytes]:
        pending: list[bytes] = []
        size = 0
        for text in writer(records):
            data = text.encode("utf-8")
            pending.append(data)
            size += len(data)
            if size >= CHUNK_BYTES:
                yield b"".join(pending)
                pending, size = [], 0
        if pending:
            yield b"".join(pending)

    return write


@dataclass(frozen=True)
class ExportFormat:
    name: str
    label: str  # what the analyst sees in the export menu
    media_type: str
    extension: str  # without the dot
    write: ByteWriter


_TEXT = "text/plain; charset=utf-8"

FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat("gbt7714-2025", "GB/T 7714-2025 参考文献", _TEXT, "txt",
                     _utf8(partial(write_gbt7714, edition="2025"))),
        ExportFormat("gbt7714-2015", "GB/T 7714-2015 参考文献", _TEXT, "txt",
                     _utf8(partial(write_gbt7714, edition="2015"))),
        ExportFormat("chaxin", "查新（引文格式，含摘要）", _TEXT, "txt", _utf8(write_chaxin)),
        ExportFormat("ris", "RIS", "application/x-research-info-systems; charset=utf-8", "ris",
                     _utf8(write_ris)),
        ExportFormat("bibtex", "BibTeX", "application/x-bibtex; charset=utf-8", "bib", _utf8(write_bibtex)),
        ExportFormat("endnote", "EndNote", "application/x-endnote-refer; charset=utf-8", "enw",
                     _utf8(write_endnote)),
        ExportFormat("refworks", "RefWorks", _TEXT, "txt", _utf8(write_refworks)),
        ExportFormat("noteexpress", "NoteExpress", _TEXT, "txt", _utf8(write_noteexpress)),
        ExportFormat("csv", "CSV（Excel 可直接打开）", "text/csv; charset=utf-8", "csv", _utf8(write_csv)),
        ExportFormat("xlsx", "Excel（.xlsx）",
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx", write_xlsx),
    )
}  # fmt: skip
DEFAULT_FORMAT = "gbt7714-2025"

__all__ = ["CHUNK_BYTES", "DEFAULT_FORMAT", "FORMATS", "ExportFormat", "RecordDict"]
