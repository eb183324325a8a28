"""The `cssci` ingest format on the real CSSCI download (../shared, test use only) and on cut-down copies.

Counts are those of LY_20230630122752.txt, counted from its raw lines independently of the parser.
Pure Python: no Elasticsearch needed.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.errors import RecordError
from ingest.formats import FILE_FORMATS, cssci
from mappings.citations.parse import parse_cssci_reference
from mappings.model import DocType, Record
from tests.conftest import shared_file

NOW = datetime(2026, 12, 1, tzinfo=UTC)
SEPARATOR = "-" * 71


def real_path() -> Path:
    return shared_file("citations", "cssci_smart_library", "LY_20230630122752.txt")


def real_text() -> str:
    return real_path().read_text(encoding="utf-8")


def parse(text: str) -> list[Record | RecordError]:
    return list(cssci.parse_text(text, now=NOW, version=1))


def parse_bytes(tmp_path: Path, data: bytes) -> list[Record | RecordError]:
    path = tmp_path / "LY_test.txt"
    path.write_bytes(data)
    return list(FILE_FORMATS["cssci"](path, now=NOW, version=1))


def records(out: list[Record | RecordError]) -> list[Record]:
    return [r for r in out if isinstance(r, Record)]


def errors(out: list[Record | RecordError]) -> list[str]:
    return [str(r) for r in out if isinstance(r, RecordError)]


def raw_reference_counts(text: str) -> list[int]:
    """References per block, counted from the lines below each 【参考文献】."""
    counts: list[int] = []
    for block in text.replace("\r\n", "\n").split(SEPARATOR):
        if "【参考文献】" in block:
            counts.append(sum(1 for line in block.split("【参考文献】", 1)[1].split("\n") if line.strip()))
    return counts


SMALL = """南京大学中国社会科学研究评价中心
数字文献处理系统 版本：2.1

【来源篇名】智慧图书馆的服务模式
【英文篇名】Service Models of Smart Libraries
【来源作者】张三/李四
【基    金】国家社会科学基金项目(20BTQ001)
【期    刊】图书馆论坛
【第一机构】武汉大学
【机构名称】[张三]武汉大学.信息管理学院/[李四]北京大学.信息管理系
【第一作者】张三
【中图类号】G250.76
【年代卷期】2021,41(3):12-20,35
【关 键 词】智慧图书馆/服务模式
【基金类别】
【参考文献】
1.王世伟.论智慧图书馆的三大特点.中国图书馆学报.2012.(6)
2..【阿里云智慧文旅峰会预告】江西省图书馆＋阿里云:智慧图书馆.2021
3.金元浦.中国文化概论.北京:首都师范大学出版社
-----------------------------------------------------------------------
【来源篇名】图书馆与元宇宙
【英文篇名】
【来源作者】王五
【基    金】
【期    刊】图书情报工作
【第一机构】南京大学
【机构名称】[王五]南京大学.信息管理学院
【第一作者】王五
【中图类号】G250
【年代卷期】2022,(4):1-9
【关 键 词】元宇宙
【基金类别】
【参考文献】
-----------------------------------------------------------------------
"""


# --- the real file ------------------------------------------------------------------------------------


@pytest.mark.shared
def test_real_file_every_record_and_reference() -> None:
    text = real_text()
    out = list(FILE_FORMATS["cssci"](real_path(), now=NOW, version=1))
    assert errors(out) == []
    recs = records(out)
    assert len(recs) == 318 == text.count("【来源篇名】")
    assert len({r.id for r in recs}) == 318
    refs = [ref for r in recs for ref in r.references]
    assert len(refs) == 7020
    assert sum(1 for ref in refs if re.search(r"[\u3400-\u9fff]", ref.raw or "")) == 5618
    # Per record, in file order, the parser keeps exactly the lines below 【参考文献】.
    per_record = [len(r.references) for r in recs]
    assert per_record == raw_reference_counts(text)
    assert per_record.count(0) == 1 and max(per_record) == 98 and per_record[:3] == [29, 64, 20]
    assert all(ref.raw for ref in refs)  # raw kept always
    assert all(r.source == "cssci" and r.doc_type is DocType.journal_article for r in recs)


@pytest.mark.shared
def test_real_file_record_fields() -> None:
    recs = records(parse(real_text()))
    first = recs[0]
    assert (first.title, first.venue, first.year, first.volume, first.issue, first.pages) == (
        "近十年我国智慧图书馆研究态势",
        "图书馆论坛",
        2022,
        "42",
        "1",
        "69-79",
    )
    assert [a.name for a in first.authors] == ["谭春辉", "周一夫"]
    assert first.authors[0].affiliation == "华中师范大学信息管理学院"
    assert first.keywords == ["智慧图书馆", "演化分析", "关联分析", "研究态势", "研究主题"]
    assert first.clc == ["G250.76"] and first.title_en and first.title_en.startswith("Analysis of Researches")
    assert first.source_id == first.id  # this client writes no CSSCI ID: the record ID stands in
    # The counts SOURCE.md gives for the file.
    years = Counter(r.year for r in recs)
    assert years == {2011: 2, 2012: 5, 2013: 10, 2014: 14, 2015: 17, 2016: 14, 2017: 27, 2018: 36,
                     2019: 31, 2020: 43, 2021: 65, 2022: 54}  # fmt: skip
    assert Counter(min(len(r.authors), 5) for r in recs) == {1: 108, 2: 112, 3: 60, 4: 32, 5: 6}
    assert Counter(r.venue for r in recs).most_common(1) == [("图书馆学研究", 72)]
    assert all(r.volume or r.issue for r in recs) and all(r.pages for r in recs)
    assert sum(1 for r in recs if r.volume) == 159
    assert (
        sum(1 for r in recs for a in r.authors if a.affiliation) == sum(len(r.authors) for r in recs) == 676
    )
    assert sum(1 for r in recs if r.funds) == 191


@pytest.mark.shared
def test_same_title_pair_stays_two_records() -> None:
    recs = records(parse(real_text()))
    pair = [r for r in recs if r.title == "融合与重构：智慧图书馆发展新形态"]
    assert sorted((r.year, r.authors[0].name, r.venue) for r in pair) == [
        (2018, "夏立新", "中国图书馆学报"),
        (2020, "郑卫光", "图书馆杂志"),
    ]
    assert pair[0].id != pair[1].id


@pytest.mark.shared
def test_real_references_parsed_field_coverage() -> None:
    refs = [ref for r in records(parse(real_text())) for ref in r.references]
    have = Counter(f for ref in refs for f in ("authors", "title", "venue", "year", "volume", "issue")
                   if getattr(ref, f))  # fmt: skip
    # Measured on this file; 559 references have no author, 845 no year (books, web pages, notes).
    assert have["title"] >= 7001 and have["year"] >= 6524 and have["authors"] >= 6448, have
    assert have["venue"] >= 5798 and have["issue"] >= 5061 and have["volume"] >= 1587, have
    assert Counter(ref.type_code for ref in refs if ref.type_code) == {
        "M": 285,
        "N": 103,
        "D": 88,
        "S": 9,
        "P": 5,
    }
    assert sum(1 for ref in refs if ref.language == "zh") >= 5613
    # Nothing is linked by a parser, and no CSSCI reference carries a DOI.
    assert not any(ref.linked_id or ref.doi for ref in refs)


@pytest.mark.shared
def test_parsed_reference_titles_find_the_papers_of_the_set() -> None:
    """The naive exact-title baseline of SOURCE.md, on the parsed titles: a check of the title field, not
    linking (which also weighs author, year and venue). SOURCE.md's own script counts 1,134 references to
    207 papers; a plain split of the raw lines on "." with this normalisation also gives 1,136 / 208."""
    recs = records(parse(real_text()))

    def norm(s: str | None) -> str:
        return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", s or "")).lower()

    by_title: dict[str, set[str]] = {}
    for r in recs:
        by_title.setdefault(norm(r.title), set()).add(r.id)
    hits = [
        (r.id, by_title[norm(ref.title)]) for r in recs for ref in r.references if norm(ref.title) in by_title
    ]
    hits = [(rid, ids) for rid, ids in hits if ids - {rid}]
    assert len(hits) == 1136 and len(set().union(*(ids for _, ids in hits))) == 208


@pytest.mark.shared
def test_gb18030_file_without_declaration(tmp_path: Path) -> None:
    data = real_path().read_bytes()
    gb = data.decode("utf-8").encode("gb18030")
    assert gb != data
    with pytest.raises(UnicodeDecodeError):
        gb.decode("utf-8")
    utf8_records = records(parse_bytes(tmp_path, data))
    gb_records = records(parse_bytes(tmp_path, gb))
    assert len(gb_records) == 318
    assert [r.model_dump(exclude={"ingested_at"}) for r in gb_records] == [
        r.model_dump(exclude={"ingested_at"}) for r in utf8_records
    ]


@pytest.mark.shared
def test_truncated_download_reports_the_cut_record(tmp_path: Path) -> None:
    text = real_text().replace("\r\n", "\n")
    last = text.rindex("【来源篇名】")
    cut = text[: text.index("【年代卷期】", last)]  # the download stops inside the last block
    line = text[:last].count("\n") + 1
    out = parse_bytes(tmp_path, cut.encode("utf-8"))
    assert len(records(out)) == 317
    assert errors(out) == [
        f"第 318 条记录（第 {line} 行）：记录不完整，在【参考文献】之前中断（文件可能被截断），未入库"
    ]


# --- small inline files -------------------------------------------------------------------------------


def test_small_file_fields_and_references() -> None:
    out = parse(SMALL)
    assert errors(out) == []
    first, second = records(out)
    assert [a.name for a in first.authors] == ["张三", "李四"]
    assert [a.affiliation for a in first.authors] == ["武汉大学信息管理学院", "北京大学信息管理系"]
    assert (first.year, first.volume, first.issue, first.pages) == (2021, "41", "3", "12-20,35")
    assert first.funds == ["国家社会科学基金项目（20BTQ001）"]
    # A bracketed 【…】 inside a reference is no field label; the reference stays whole.
    assert [r.raw for r in first.references] == [
        "1.王世伟.论智慧图书馆的三大特点.中国图书馆学报.2012.(6)",
        "2..【阿里云智慧文旅峰会预告】江西省图书馆＋阿里云:智慧图书馆.2021",
        "3.金元浦.中国文化概论.北京:首都师范大学出版社",
    ]
    book = first.references[2]
    assert (book.authors, book.title, book.venue, book.type_code) == (
        ["金元浦"],
        "中国文化概论",
        "首都师范大学出版社",
        "M",
    )
    assert (second.volume, second.issue, second.title_en, second.references) == (None, "4", None, [])


def test_missing_title_is_an_error_and_the_rest_goes_in() -> None:
    text = SMALL.replace("【来源篇名】智慧图书馆的服务模式", "【来源篇名】")
    out = parse(text)
    assert [r.title for r in records(out)] == ["图书馆与元宇宙"]
    assert errors(out) == ["第 1 条记录（第 4 行）：缺少题名（【来源篇名】为空）"]


def test_records_without_separator_line_and_crlf() -> None:
    text = SMALL.replace(SEPARATOR + "\n【来源篇名】图书馆", "【来源篇名】图书馆").replace("\n", "\r\n")
    assert [r.title for r in records(parse(text))] == ["智慧图书馆的服务模式", "图书馆与元宇宙"]


def test_cssci_id_becomes_source_id() -> None:
    text = SMALL.replace("【英文篇名】Service", "【CSSCI ID】2021010203\n【英文篇名】Service")
    first = records(parse(text))[0]
    assert first.source_id == "2021010203" and first.id != first.source_id


def test_encodings(tmp_path: Path) -> None:
    gb = records(parse_bytes(tmp_path, SMALL.encode("gb18030")))
    bom = records(parse_bytes(tmp_path, b"\xef\xbb\xbf" + SMALL.encode("utf-8")))
    assert [r.title for r in gb] == [r.title for r in bom] == ["智慧图书馆的服务模式", "图书馆与元宇宙"]
    bad = parse_bytes(tmp_path, "【来源篇名】题名".encode() + b"\xa1\xff")  # neither UTF-8 nor GB18030
    assert errors(bad) == ["无法识别文件编码：既不是 UTF-8，也不是 GB18030（第 24 字节起无法解码）"]


def test_not_a_cssci_file() -> None:
    out = parse("TY  - JOUR\nTI  - x\nER  -\n")
    assert len(out) == 1 and isinstance(out[0], RecordError)
    assert str(out[0]).startswith("CSSCI 文件中没有找到任何记录")


def test_reference_lines_are_read_as_cssci() -> None:
    ref = parse_cssci_reference(
        "1.Aittola,M..Smart Library: Location-Aware Mobile Library Service.International Symposium on Human Computer Interaction with Mobile Devices and Services.2003.(5)"
    )
    assert (ref.authors, ref.year, ref.issue) == (["Aittola,M"], 2003, "5")
    assert ref.title == "Smart Library: Location-Aware Mobile Library Service"
    assert ref.venue and ref.venue.startswith("International Symposium")
    for noise in ("4...2017", "22..", "5.北京市第一中级人民法院民事判决书(2011)一中民初字第1321号"):
        assert parse_cssci_reference(noise).model_dump(exclude_defaults=True) == {"raw": noise}
