"""Zotero JSON items, on the Chinese translators' real test cases and on inline cases. Pure Python."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from ingest.errors import RecordError
from ingest.formats import zotero
from mappings.model import DocType, Record
from tests.conftest import shared_file

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def parse(path: Path) -> list[Record | RecordError]:
    return list(zotero.parse_file(path, now=NOW, version=1))


def test_translator_test_cases() -> None:
    out = parse(shared_file("zotero-translators-cn", "test_cases.jsonl"))
    records = [r for r in out if isinstance(r, Record)]
    errors = [str(r) for r in out if isinstance(r, RecordError)]
    assert (len(records), len(errors)) == (392, 47)
    assert all("缺少题名" in e and e.startswith("第 ") for e in errors)
    assert len({r.id for r in records}) == 361
    types = Counter(r.doc_type for r in records)
    assert (types[DocType.journal_article], types[DocType.thesis], types[DocType.patent]) == (102, 45, 26)
    assert (types[DocType.standard], types[DocType.tech_report]) == (31, 1)
    first = next(r for r in records if r.title.startswith("蓝田生物群") and r.source == "zotero:CNKI")
    assert [a.name for a in first.authors][:2] == ["袁训来", "陈哲"]
    assert (first.venue, first.year, first.volume, first.pages, first.source) == (
        "科学通报",
        2012,
        "57",
        "3219-3227",
        "zotero:CNKI",
    )
    assert first.funds[:2] == [
        "国家自然科学基金重点项目(41030209,41130209)",
        "国家杰出青年科学基金(40625006)",
    ]
    report = next(r for r in records if r.doc_type is DocType.tech_report)
    assert report.tech_report is not None and report.tech_report.plan == "国家科技重大专项"
    assert report.keywords[:3] == ["处理器", "层次化", "存储"]  # one tag joined with "；"
    standard = next(r for r in records if r.standard and r.standard.standard_number == "GB/T 7714-2015")
    assert "　" not in standard.title  # ideographic spaces are collapsed


def test_bad_input(tmp_path: Path) -> None:
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"")
    assert [str(e) for e in parse(empty)] == ["文件为空，或不含 Zotero JSON 条目"]
    lines = tmp_path / "items.jsonl"
    lines.write_text(
        '{"itemType": "journalArticle", "title": "好的", "volume": 3, "tags": ["甲", {"tag": "乙"}]}\n'
        "{not json\n"
        '{"title": "无类型"}\n'
        '{"itemType": "book", "title": "作者字段不合格式", "creators": "张三"}\n'
        '{"itemType": "book", "title": ["列表"]}\n',
        "utf-8",
    )
    out = parse(lines)
    good = [r for r in out if isinstance(r, Record)]
    # A field of the wrong shape is left out; the rest of the item still goes in.
    assert [(r.title, r.volume, r.keywords, r.authors) for r in good] == [
        ("好的", "3", ["甲", "乙"], []),
        ("作者字段不合格式", None, [], []),
    ]
    errors = [str(e) for e in out if isinstance(e, RecordError)]
    assert errors[0].startswith("第 2 行：不是合法的 UTF-8 JSON")
    assert errors[1] == "第 3 行：不是 Zotero 条目（缺少 itemType）"
    assert errors[2] == "第 5 行：缺少题名（title）" and len(errors) == 3
    gbk = tmp_path / "gbk.json"
    gbk.write_bytes('[{"itemType": "book", "title": "中文"}]'.encode("gbk"))
    assert "不是合法的 UTF-8 JSON" in str(parse(gbk)[0])
