"""`chaxin index rebuild`: a new physical index, re-tokenized, swapped in with one alias call."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
from elasticsearch import Elasticsearch

from conf.clients import make_redis
from ingest import index_admin
from ingest.index_admin import IndexAdminError, create, current_index, rebuild, rebuild_lock_key
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
    assert not es.indices.exists(index=old)
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
