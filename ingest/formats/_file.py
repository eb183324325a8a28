"""Reading a whole source file into memory, for the formats that parse one file as one document."""

from __future__ import annotations

from pathlib import Path

from ingest.errors import RecordError

_BLANK = b"\xef\xbb\xbf \t\r\n"  # white space, and a UTF-8 byte order mark before nothing


def read_limited(path: Path, limit: int) -> bytes:
    """The file's bytes, or a RecordError for a file over `limit` bytes or with nothing in it.

    The size is checked before reading, so a file too large to hold is never held.
    """
    size = path.stat().st_size
    if size > limit:
        raise RecordError(f"文件过大（{size} 字节，上限 {limit}）")
    data = path.read_bytes()
    if not data.strip(_BLANK):
        raise RecordError("文件为空")
    return data
