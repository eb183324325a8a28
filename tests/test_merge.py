"""Records of one ID from several sources: the richer value of each field, every source listed.

The pure merge rules first, then the writer on a real index: duplicates across sources, the same
file twice, a late write, and concurrent writers that must not lose each other's sources.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from elasticsearch import Elasticsearch

from ingest.index_admin import create, drop_all
from ingest.merge import Outcome, merge
from ingest.writer import write_records
from mappings.analysis.tokenizer import Tokenizer
from mappings.model import Record, SourceRef
from mappings.naming import IndexNames
from tests.conftest import make_record, new_prefix


def from_source(source: str, version: int, **fields: object) -> Record:
    base: dict[str, object] = {
        "title": "石墨烯电池",
        "source": source,
        "source_id": f"{source}-1",
        "version": version,
    }
    base.update(fields)
    title = str(base.pop("title"))
    record = make_record("same", title, **base)
    ref = SourceRef(source=source, source_id=f"{source}-1", version=version, raw_sha256="ab" * 32)
    return record.model_copy(update={"sources": [ref]})


def test_richer_values_win_and_sources_accumulate() -> None:
    cnki = from_source("cnki", 10, abstract="短摘要", keywords=["石墨烯"], year=2020)
    wanfang = from_source(
        "wanfang", 20, abstract="更长的一段摘要文字", keywords=["石墨烯", "电池"], venue="电源技术"
    )
    result = merge(cnki, wanfang)
    assert result.outcome is Outcome.MERGED
    merged = result.record
    assert merged.abstract == "更长的一段摘要文字"
    assert merged.keywords == ["石墨烯", "电池"]
    assert (merged.venue, merged.year) == ("电源技术", 2020)
    assert [s.source for s in merged.sources] == ["cnki", "wanfang"]
    assert (merged.source, merged.version) == ("cnki", 20)


def test_nested_blocks_merge_field_by_field() -> None:
    a = from_source("a", 1, doc_type="patent", patent={"publication_number": "CN1A", "ipc": ["H01M"]})
    b = from_source(
        "b", 2, doc_type="patent", patent={"application_number": "CN2019", "ipc": ["H01M", "C01B"]}
    )
    patent = merge(a, b).record.patent
    assert patent is not None
    assert (patent.publication_number, patent.application_number, patent.ipc) == (
        "CN1A",
        "CN2019",
        ["H01M", "C01B"],
    )


def test_repeated_and_late_writes_change_nothing() -> None:
    first = from_source("cnki", 10, abstract="摘要")
    assert merge(first, from_source("cnki", 10, abstract="摘要")).outcome is Outcome.UNCHANGED
    assert merge(first, from_source("cnki", 5, abstract="旧的摘要更长一些")).outcome is Outcome.UNCHANGED
    # The same content re-read later (a new version) is still no change.
    assert merge(first, from_source("cnki", 11, abstract="摘要")).outcome is Outcome.UNCHANGED


def test_two_files_of_one_delivery_with_one_id_merge() -> None:
    first = from_source("jats", 10, abstract="短摘要")
    other_file = SourceRef(
        source="jats", source_id="jats-1", version=10, raw_sha256="cd" * 32, position="第 1 项"
    )
    second = from_source("jats", 10, abstract="更长更完整的摘要", year=2021).model_copy(
        update={"sources": [other_file]}
    )
    result = merge(first, second)
    assert result.outcome is Outcome.UPDATED
    assert (result.record.abstract, result.record.year) == ("更长更完整的摘要", 2021)


def test_a_single_source_correcting_itself_replaces_its_values() -> None:
    first = from_source("cnki", 10, abstract="一段很长很长的错误摘要", keywords=["错词", "石墨烯"])
    fixed = merge(first, from_source("cnki", 11, abstract="正确摘要", keywords=["石墨烯"]))
    assert fixed.outcome is Outcome.UPDATED
    assert (fixed.record.abstract, fixed.record.keywords) == ("正确摘要", ["石墨烯"])
    assert [s.version for s in fixed.record.sources] == [11]


def test_records_from_before_sources_existed_count_their_own_source() -> None:
    legacy = make_record("same", "石墨烯电池", source="csl", source_id="x", version=3)
    assert merge(legacy, from_source("cnki", 9)).record.sources[0] == SourceRef(
        source="csl", source_id="x", version=3
    )


# --- on a real index ---------------------------------------------------------------------------


@pytest.fixture
def names(es: Elasticsearch, tokenizer: Tokenizer) -> Iterator[IndexNames]:
    names = IndexNames(new_prefix("merge"))
    create(es, names, tokenizer)
    yield names
    drop_all(es, names)


def stored(es: Elasticsearch, names: IndexNames) -> Record:
    return Record.model_validate(es.get(index=names.read_alias, id="same")["_source"])


def test_writer_merges_sources_and_counts_them(
    es: Elasticsearch, names: IndexNames, tokenizer: Tokenizer
) -> None:
    one = write_records(
        es, names.write_alias, [("1", from_source("cnki", 10, year=2020))], tokenizer, refresh=True
    )
    assert (one.indexed, one.merged) == (1, 0)
    two = write_records(
        es, names.write_alias, [("1", from_source("wanfang", 20, venue="电源技术"))], tokenizer
    )
    assert (two.indexed, two.merged, two.skipped) == (1, 1, 0)
    again = write_records(
        es, names.write_alias, [("1", from_source("wanfang", 21, venue="电源技术"))], tokenizer
    )
    assert (again.indexed, again.skipped) == (0, 1)
    record = stored(es, names)
    assert {s.source for s in record.sources} == {"cnki", "wanfang"}
    assert (record.year, record.venue) == (2020, "电源技术")


def test_duplicates_in_one_batch_become_one_record(
    es: Elasticsearch, names: IndexNames, tokenizer: Tokenizer
) -> None:
    batch = [("第 1 项", from_source("a", 1, year=2019)), ("第 2 项", from_source("b", 2, abstract="摘要"))]
    result = write_records(es, names.write_alias, batch, tokenizer, refresh=True)
    assert (result.indexed, result.merged) == (2, 1) and not result.failed  # each incoming record counts once
    record = stored(es, names)
    assert (record.year, record.abstract, len(record.sources)) == (2019, "摘要", 2)


def test_concurrent_writers_lose_no_source(
    es: Elasticsearch, names: IndexNames, tokenizer: Tokenizer
) -> None:
    sources = [f"s{i}" for i in range(12)]

    def write(source: str) -> None:
        result = write_records(es, names.write_alias, [("1", from_source(source, 100))], tokenizer)
        assert not result.failed, result.failed

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(write, sources))
    assert sorted(s.source for s in stored(es, names).sources) == sorted(sources)
