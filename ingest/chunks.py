"""Split an input file into line ranges that tasks can read on their own."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import IO, cast

from appdb.jobs import ChunkSpec

# A line longer than this is not a record but a broken or hostile file (a gzip bomb decompresses
# to one endless line): it is skipped in pieces and reported, never held in memory whole.
MAX_LINE_BYTES = 16 * 1024 * 1024


def is_gzip(path: Path) -> bool:
    # By content, not name: the raw store keeps files under their hash, without an extension.
    with path.open("rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def _open(path: Path) -> IO[bytes]:
    if is_gzip(path):
        return cast(IO[bytes], gzip.open(path, "rb"))
    return path.open("rb")


def _lines(fh: IO[bytes]) -> Iterator[tuple[bytes, int]]:
    """(line, its length in bytes); an over-long line comes back empty with its true length."""
    while raw := fh.readline(MAX_LINE_BYTES + 1):
        if len(raw) <= MAX_LINE_BYTES or raw.endswith(b"\n"):
            yield raw, len(raw)
            continue
        size = len(raw)
        while (more := fh.readline(MAX_LINE_BYTES)) and not more.endswith(b"\n"):
            size += len(more)
        size += len(more)
        yield b"", size


class ChunkLimitError(ValueError):
    """A file past the per-job limits; the message is shown to the user as is."""


def plan_chunks(
    path: Path, lines_per_chunk: int, *, max_lines: int | None = None, max_bytes: int | None = None
) -> list[ChunkSpec]:
    """Count lines once and note where each chunk starts, so a task seeks instead of re-reading.

    Only lines with content fill a chunk: blank lines are no records and cost no task (a small gzip of
    millions of empty lines once became thousands of tasks). `max_lines` and `max_bytes` bound what
    one job may decompress and read; planning stops as soon as either is passed.
    """
    seekable = not is_gzip(path)
    specs: list[ChunkSpec] = []
    offset = 0
    line_no = 0
    filled = 0  # lines with content in the chunk being planned
    start_line, start_offset = 1, 0
    with _open(path) as fh:
        for raw, size in _lines(fh):
            line_no += 1
            offset += size
            if max_lines is not None and line_no > max_lines:
                raise ChunkLimitError(f"文件超过单个导入任务的行数上限（{max_lines} 行），请拆分后分批导入")
            if max_bytes is not None and offset > max_bytes:
                raise ChunkLimitError(
                    f"文件（解压后）超过单个导入任务的大小上限（{max_bytes} 字节），请拆分后分批导入"
                )
            if raw.strip() or (not raw and size):  # an over-long line is reported, so it counts
                filled += 1
            if filled == lines_per_chunk:
                specs.append(ChunkSpec(len(specs), start_line, line_no, start_offset if seekable else None))
                start_line, start_offset, filled = line_no + 1, offset, 0
    if filled:
        specs.append(ChunkSpec(len(specs), start_line, line_no, start_offset if seekable else None))
    return specs


def read_chunk(path: Path, spec: ChunkSpec) -> Iterator[tuple[int, bytes | None]]:
    """Yield (line number, raw line) for the lines of one chunk; None for a line over MAX_LINE_BYTES."""
    with _open(path) as fh:
        line_no = 1
        if spec.start_offset is not None:
            fh.seek(spec.start_offset)
            line_no = spec.start_line
        for raw, size in _lines(fh):
            if line_no > spec.end_line:
                break
            if line_no >= spec.start_line:
                yield line_no, (raw if raw or not size else None)
            line_no += 1
