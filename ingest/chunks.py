"""Split an input file into line ranges that tasks can read on their own."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import IO, cast

from appdb.jobs import ChunkSpec


def _open(path: Path) -> IO[bytes]:
    if path.suffix == ".gz":
        return cast(IO[bytes], gzip.open(path, "rb"))
    return path.open("rb")


def plan_chunks(path: Path, lines_per_chunk: int) -> list[ChunkSpec]:
    """Count lines once and note where each chunk starts, so a task seeks instead of re-reading."""
    seekable = path.suffix != ".gz"
    specs: list[ChunkSpec] = []
    offset = 0
    line_no = 0
    start_line, start_offset = 1, 0
    with _open(path) as fh:
        for raw in fh:
            line_no += 1
            if line_no - start_line + 1 == lines_per_chunk:
                specs.append(ChunkSpec(len(specs), start_line, line_no, start_offset if seekable else None))
                start_line, start_offset = line_no + 1, offset + len(raw)
            offset += len(raw)
    if line_no >= start_line:
        specs.append(ChunkSpec(len(specs), start_line, line_no, start_offset if seekable else None))
    return specs


def read_chunk(path: Path, spec: ChunkSpec) -> Iterator[tuple[int, bytes]]:
    """Yield (line number, raw line) for the lines of one chunk."""
    with _open(path) as fh:
        line_no = 1
        if spec.start_offset is not None:
            fh.seek(spec.start_offset)
            line_no = spec.start_line
        for raw in fh:
            if line_no > spec.end_line:
                break
            if line_no >= spec.start_line:
                yield line_no, raw
            line_no += 1
