"""One parser module per source format, and the registry `chaxin ingest --format` reads."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from functools import partial
from pathlib import Path

from ingest.errors import RecordError
from ingest.formats import csl, cssci, gbstd, jats, marc, oai, st36, tagged, techreport, tei, uspto, zotero
from mappings.model import Record

LineParser = Callable[..., Record]
FileParser = Callable[..., Iterator[Record | RecordError]]

# Line formats are split into line ranges, so one large file spreads over many tasks.
LINE_FORMATS: dict[str, LineParser] = {"csl": csl.parse_line}

# File formats make one task per file; a directory is walked and every file in it is tried.
FILE_FORMATS: dict[str, FileParser] = {
    "jats": jats.parse_file,
    "tei": tei.parse_file,
    "marc": marc.parse_file,
    "oai": oai.parse_file,
    "uspto": uspto.parse_file,
    "st36": st36.parse_file,
    "gbstd": gbstd.parse_file,
    "techreport": techreport.parse_file,
    "ris": partial(tagged.parse_file, fmt="ris"),
    "endnote": partial(tagged.parse_file, fmt="endnote"),
    "refworks": partial(tagged.parse_file, fmt="refworks"),
    "noteexpress": partial(tagged.parse_file, fmt="noteexpress"),
    "wos": partial(tagged.parse_file, fmt="wos"),
    "zotero": zotero.parse_file,
    "cssci": cssci.parse_file,
}

FORMATS = (*LINE_FORMATS, *FILE_FORMATS)


# Formats whose files name companion files (a tech report's PDF) by a path relative to themselves.
COMPANION_FORMATS = {"techreport"}


def parse_file(
    fmt: str, path: Path, *, now: datetime, version: int, origin_dir: Path | None = None
) -> Iterator[Record | RecordError]:
    """Parse one file. `origin_dir` is the folder it was submitted from: the raw store keeps the file
    under its hash, away from the companion files it names."""
    if fmt in COMPANION_FORMATS:
        return FILE_FORMATS[fmt](path, now=now, version=version, fulltext_dir=origin_dir)
    return FILE_FORMATS[fmt](path, now=now, version=version)
