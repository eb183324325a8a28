"""`chaxin index rebuild`: a new physical index, re-tokenized, swapped in with one alias call."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import redis
from elasticsearch import Elasticsearch

from conf.clients import make_redis
from ingest import index_admin
from ingest.index_admin import (
    IndexAdminError,
    create,
    current_index,
    physical_indices,
    prune,
    rebuild,
    rebuild_lock_key,
    rollback,
)
from ingest.write_lease import held, release, try_acquire
from ingest.writer import write_records
from mappings.analysis.tokenizer import Tokenizer
from mappings.naming import IndexNames, latest_mapping_version
from tests.conftest import make_record, settings_for

TITLES = ["拓扑量子计算芯片的设计", "石墨烯锂电池负极材料", "基于BERT的文本分类"]


@pytest.fixture
def r() -> redis.Redis:
    return make_redis(settings_for("x"))


def _seed(es: Elasticsearch, names: IndexNames, tokenizer: Tokenizer) -> None:
    records = [make_record(f"rb{i}", t, keywords=["测试"]) for i, t in enumerate(TITLES)]
    write_records(es, names.write_alias, [(x.id, x) for x in records], tokenizer, refresh=True)


def _jieba_hits(es: Elasticsearch, names: IndexNames, token: str) -> list[str]:
    resp = es.search(index=names.read_alias, query={"term": {"ix.title": token}})
    return [h["_id"] for h in resp["hits"]["hits"]]


def test_rebuild_applies_a_dictionary_change(
    es: Elasticsearch, index_names: IndexNames, tokenizer: Tokenizer, r: redis.Redis, tmp_path: Path
) -> None:
    _seed(es, index_names, tokenizer)
    old = current_index(es, index_names.read_alias)
    assert _jieba_hits(es, index_names, "拓扑量子计算") == []

    new_dict = tmp_path / "userdict-v2.txt"
    new_dict.write_text("拓扑量子计算 5000 n\n", encoding="utf-8")
    result = rebuild(es, r, index_names, Tokenizer("rjieba", user_dict=new_dict))

    assert result.old_index == old and result.copied == len(TITLES)
    assert current_index(es, index_names.read_alias) == result.new_index
    assert current_index(es, index_names.write_alias) == result.new_index
    assert es.indices.exists(index=old), "the replaced index is kept for rollback"
    assert result.pruned == []
    assert _jieba_hits(es, index_names, "拓扑量子计算") == ["rb0"]
    meta = es.indices.get_mapping(index=result.new_index)[result.new_index]["mappings"]["_meta"]
    assert meta["analysis"].startswith("rjieba:userdict-v2-")
    # Records keep their versions, so an older late write still cannot overwrite them.
    assert es.get(index=index_names.read_alias, id="rb0")["_version"] == 1


def test_failed_rebuild_deletes_the_half_built_index(
    es: Elasticsearch, index_names: IndexNames, tokenizer: Tokenizer, r: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(es, index_names, tokenizer)
    old = current_index(es, index_names.read_alias)
    calls = 0

    def failing(record, tok):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("boom")
        return original(record, tok)

    original = index_admin.index_document
    monkeypatch.setattr(index_admin, "index_document", failing)
    with pytest.raises(RuntimeError, match="boom"):
        rebuild(es, r, index_names, tokenizer)
    assert es.indices.get(index=index_names.pattern).body.keys() == {old}
    assert current_index(es, index_names.read_alias) == old
    assert not r.exists(rebuild_lock_key(index_names)), "the lock is released"


def test_one_rebuild_at_a_time(es: Elasticsearch, index_names: IndexNames, tokenizer: Tokenizer, r: redis.Redis) -> None:
    lock = r.lock(rebuild_lock_key(index_names), timeout=60)
    assert lock.acquire()
    try:
        with pytest.raises(IndexAdminError):
            rebuild(es, r, index_names, tokenizer)
    finally:
        lock.release()


def test_create_is_idempotent_and_refuses_to_clobber(
    es: Elasticsearch, index_names: IndexNames, tokenizer: Tokenizer
) -> None:
    first = current_index(es, index_names.read_alias)
    assert create(es, index_names, tokenizer, if_missing=True) == first
    with pytest.raises(IndexAdminError):
        create(es, index_names, tokenizer, if_missing=False)
    assert index_names.read_alias.startswith(index_names.prefix + "-")
    version = latest_mapping_version("records")
    assert first is not None and first.startswith(f"{index_names.prefix}-records-v{version}-")


def test_previous_index_is_kept_until_prune(
    es: Elasticsearch, index_names: IndexNames, tokenizer: Tokenizer, r: redis.Redis
) -> None:
    _seed(es, index_names, tokenizer)
    first = current_index(es, index_names.read_alias)
    second = rebuild(es, r, index_names, tokenizer).new_index
    third = rebuild(es, r, index_names, tokenizer, keep_previous=1)
    # One older index is kept by default; the one before it goes at the next swap.
    assert third.pruned == [first]
    assert physical_indices(es, index_names) == [second, third.new_index]
    assert prune(es, r, index_names) == [second]
    assert physical_indices(es, index_names) == [third.new_index]
    assert prune(es, r, index_names) == []
    assert es.count(index=index_names.read_alias)["count"] == len(TITLES)


def test_rollback_swaps_back_in_one_call(
    es: Elasticsearch, index_names: IndexNames, tokenizer: Tokenizer, r: redis.Redis, tmp_path: Path
) -> None:
    _seed(es, index_names, tokenizer)
    old = current_index(es, index_names.read_alias)
    new_dict = tmp_path / "userdict-v2.txt"
    new_dict.write_text("拓扑量子计算 5000 n\n", encoding="utf-8")
    new = rebuild(es, r, index_names, Tokenizer("rjieba", user_dict=new_dict)).new_index
    assert _jieba_hits(es, index_names, "拓扑量子计算") == ["rb0"]

    result = rollback(es, r, index_names)
    assert (result.from_index, result.to_index) == (new, old)
    assert current_index(es, index_names.read_alias) == old
    assert current_index(es, index_names.write_alias) == old
    aliases = es.indices.get_alias(index=old)[old]["aliases"]
    assert aliases[index_names.write_alias].get("is_write_index") is True
    assert _jieba_hits(es, index_names, "拓扑量子计算") == [], "queries meet the old analysis again"
    assert es.indices.exists(index=new), "the index rolled back from stays until prune"
    with pytest.raises(IndexAdminError, match="no index older"):
        rollback(es, r, index_names)
    assert prune(es, r, index_names) == [new]


def test_rebuild_waits_for_a_held_write_lease(
    es: Elasticsearch, index_names: IndexNames, tokenizer: Tokenizer, r: redis.Redis
) -> None:
    _seed(es, index_names, tokenizer)
    lease = try_acquire(r, index_names)
    assert lease is not None
    done: list[object] = []
    rebuilding = threading.Thread(target=lambda: done.append(rebuild(es, r, index_names, tokenizer)))
    rebuilding.start()
    try:
        deadline = time.monotonic() + 10
        while not r.exists(rebuild_lock_key(index_names)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert try_acquire(r, index_names) is None, "no new lease while a rebuild waits or runs"
        time.sleep(1.5)
        assert not done and len(physical_indices(es, index_names)) == 1, "nothing copied while a write runs"
    finally:
        assert release(r, index_names, lease)
        rebuilding.join(60)
    assert done and held(r, index_names) == 0
    assert try_acquire(r, index_names) is not None, "leases are granted again after the rebuild"


def test_a_crashed_writers_lease_lapses(
    es: Elasticsearch, index_names: IndexNames, tokenizer: Tokenizer, r: redis.Redis
) -> None:
    _seed(es, index_names, tokenizer)
    lost = try_acquire(r, index_names, ttl_ms=1500)  # never released nor renewed: its task died
    assert lost is not None and held(r, index_names) == 1
    started = time.monotonic()
    rebuild(es, r, index_names, tokenizer)
    assert 1.0 < time.monotonic() - started < 30
    assert not release(r, index_names, lost) and not lost.valid, "the dead holder's lease is known lapsed"
