"""Hostile and broken input, for every whole-file format: a clear error, never a crash or a blow-up.

Each parser gets the same set of bad files; each must answer with RecordErrors in Chinese (and no
exception), without expanding entities, reading local files, or decompressing a bomb into memory.
Pure Python: no Elasticsearch needed. The end-to-end version (a job over a folder of these) is in
test_ingest_pipeline.py.
"""

from __future__ import annotations

import gzip
import resource
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.chunks import MAX_LINE_BYTES, plan_chunks, read_chunk
from ingest.errors import RecordError
from ingest.formats import FILE_FORMATS, parse_file
from mappings.model import Record

NOW = datetime(2026, 11, 1, tzinfo=UTC)
_CJK = range(0x4E00, 0xA000)


BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
        for i in range(1, 10)
    )
    + b"]>\n<article><front><article-meta><title-group><article-title>&lol9;</article-title>"
    + b"</title-group></article-meta></front></article>\n"
)
XXE = (
    b'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    b"<article><front><article-meta><title-group><article-title>&xxe;</article-title>"
    b"</title-group></article-meta></front></article>\n"
)
BAD_FILES: dict[str, Callable[[], bytes]] = {
    "empty": lambda: b"",
    "whitespace": lambda: b"  \n\n",
    "not-well-formed": lambda: b'<?xml version="1.0"?>\n<article><title>unclosed\n',
    "gbk-undeclared": lambda: "TY  - JOUR\nTI  - 石墨烯电池\nER  - \n<标题>石墨烯</标题>\n".encode("gbk"),
    "billion-laughs": lambda: BILLION_LAUGHS,
    "xxe": lambda: XXE,
    "pdf": lambda: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
    "zip": lambda: b"PK\x03\x04" + b"\x00" * 200,
    # 200 MB of one byte, gzipped to about 200 KB: whoever decompresses it whole runs out of memory.
    "gzip-bomb": lambda: gzip.compress(b"<" + b"a" * (200 * 1024 * 1024), compresslevel=9),
}


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bad")
    paths = {}
    for name, make in BAD_FILES.items():
        paths[name] = folder / name
        paths[name].write_bytes(make())
    return paths


@pytest.mark.parametrize("name", sorted(BAD_FILES))
@pytest.mark.parametrize("fmt", sorted(FILE_FORMATS))
def test_every_format_answers_bad_input_with_chinese_errors(
    fmt: str, name: str, bad_files: dict[str, Path]
) -> None:
    before = _peak_mb()
    out = list(parse_file(fmt, bad_files[name], now=NOW, version=1))
    grown = _peak_mb() - before
    errors = [str(e) for e in out if isinstance(e, RecordError)]
    records = [r for r in out if isinstance(r, Record)]
    if name == "gbk-undeclared" and records:
        # CNKI and Wanfang export GBK without saying so: a reader may take it, but decoded right.
        assert all("\ufffd" not in r.title and "石墨烯" in r.title for r in records), records
        return
    assert errors, f"{fmt} accepted {name} silently: {records[:1]}"
    assert all(any(ord(ch) in _CJK for ch in e) for e in errors), errors
    for record in records:  # a lenient reader may keep what it can, but never an expanded entity
        text = record.model_dump_json()
        assert "lollollol" not in text and "root:" not in text
    assert grown < 150, f"{fmt} on {name}: peak RSS grew {grown:.0f} MB"


def test_a_gzip_bomb_of_one_endless_line_is_skipped_in_pieces(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.jsonl.gz"
    bomb.write_bytes(
        gzip.compress(b'{"title": "ok"}\n' + b"x" * (MAX_LINE_BYTES * 3) + b'\n{"title": "after"}\n')
    )
    before = _peak_mb()
    (spec,) = plan_chunks(bomb, 1000)
    lines = list(read_chunk(bomb, spec))
    assert [n for n, _ in lines] == [1, 2, 3]
    assert lines[1][1] is None  # too long: skipped, reported by the task as a job error
    assert lines[2][1] == b'{"title": "after"}\n'
    assert _peak_mb() - before < 3 * MAX_LINE_BYTES / 1024 / 1024 + 40


def test_over_long_fields_are_refused_by_the_model(tmp_path: Path) -> None:
    path = tmp_path / "long.ris"
    path.write_text(
        "TY  - JOUR\nTI  - 正常的题名\nAU  - " + "张" * 5000 + "\nER  - \n\n"
        "TY  - JOUR\nTI  - " + "长" * 6000 + "\nER  - \n\n"
        "TY  - JOUR\nTI  - 第三条记录照常导入\nER  - \n",
        "utf-8",
    )
    out = list(parse_file("ris", path, now=NOW, version=1))
    assert [isinstance(r, Record) for r in out] == [False, False, True]
    assert "第 1 条记录" in str(out[0]) and "name 过长（上限 500 个字符）" in str(out[0])
    assert "第 2 条记录" in str(out[1]) and "title 过长（上限 5000 个字符）" in str(out[1])


def test_a_newline_bomb_costs_no_tasks_and_the_job_limits_hold(tmp_path: Path) -> None:
    """2 million empty lines in a 2 KB gzip once became 2,000 tasks (issue 14, break 5)."""
    from ingest.chunks import ChunkLimitError

    bomb = tmp_path / "newlines.jsonl.gz"
    bomb.write_bytes(gzip.compress(b"\n" * 2_000_000 + b'{"id": "x", "title": "t"}\n' + b"\n" * 1000, 9))
    assert bomb.stat().st_size < 5_000
    (spec,) = plan_chunks(bomb, 1000)
    assert [(n, raw) for n, raw in read_chunk(bomb, spec) if raw and raw.strip()] == [
        (2_000_001, b'{"id": "x", "title": "t"}\n')
    ]
    blank = tmp_path / "blank.jsonl"
    blank.write_bytes(b"\n\n \n")
    assert plan_chunks(blank, 10) == []  # the job says the file is empty
    with pytest.raises(ChunkLimitError, match="行数上限"):
        plan_chunks(bomb, 1000, max_lines=100_000)
    with pytest.raises(ChunkLimitError, match="大小上限"):
        plan_chunks(bomb, 1000, max_bytes=1_000_000)


def test_each_job_gets_its_own_share_of_the_queue() -> None:
    from ingest.submit import fair_priority

    assert [fair_priority(n, 4) for n in (0, 3, 4, 8, 35, 36, 5000)] == [0, 0, 1, 2, 8, 9, 9]
