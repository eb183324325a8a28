"""Paging by cursor past the 10,000-hit window: a point in time, `search_after` and the id tiebreak.

The large test bulk-loads 50,000 recombined CSL records (bench/corpus.py) that all carry one keyword,
opens a cursor walk over them, and lets a real ingest job write more matching records while the walk
is under way: the walk returns exactly the 50,000 IDs of the oracle, each once, while a new search
finds the job's records too. The small tests cover the cursor's errors.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient

from bench.bulk_load import as_record, bulk_index
from bench.corpus import DEMO_SOURCE, build_pools, load_source, synthesize
from ingest.index_admin import create, drop_all
from ingest.submit import submit
from ingest.writer import write_records
from mappings.analysis.tokenizer import Tokenizer
from mappings.naming import IndexNames
from search.paging import Cursor
from tests.conftest import make_record, new_prefix, settings_for
from tests.own_worker import EnvWorker, own_broker, status_of, wait_for
from web.app import create_app

SMALL = 57
SMALL_TERM = "游标翻页"


def _chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.fixture(scope="module")
def small(es: Elasticsearch, tokenizer: Tokenizer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    from appdb.session import upgrade

    settings = settings_for(new_prefix("cursor"), f"sqlite:///{tmp_path_factory.mktemp('cur') / 'c.sqlite3'}")
    upgrade(settings.effective_database_url)
    names = IndexNames(settings.index_prefix)
    create(es, names, tokenizer)
    records = [
        # Few distinct years: most hits tie on the sort value, so the id tiebreak decides the order.
        make_record(f"c{i:03d}", f"{SMALL_TERM}测试记录第{i}篇", year=2020 + i % 3, keywords=[SMALL_TERM])
        for i in range(SMALL)
    ]
    write_records(es, names.write_alias, [(r.id, r) for r in records], tokenizer, refresh=True)
    with TestClient(create_app(settings)) as client:
        yield client
    drop_all(es, names)


def walk(client: TestClient, params: dict[str, Any], *, during: Any = None) -> tuple[list[str], list[dict[str, Any]]]:
    """Every page of a cursor walk; `during(pages)` runs after each page. Returns the IDs and the pages."""
    cursor = "*"
    ids: list[str] = []
    pages: list[dict[str, Any]] = []
    while cursor is not None:
        resp = client.get("/api/v1/search", params={**params, "cursor": cursor})
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["offset"] == len(ids)
        ids += [h["id"] for h in body["hits"]]
        pages.append(body)
        cursor = body["cursor"]
        if during is not None:
            during(pages)
    return ids, pages


@pytest.mark.parametrize("sort", ["relevance", "year_desc", "year_asc", "cited_desc"])
@pytest.mark.parametrize("mode", ["simple", "pro"])
def test_a_walk_returns_every_hit_once_in_the_order_of_page_mode(small: TestClient, sort: str, mode: str) -> None:
    q = SMALL_TERM if mode == "simple" else f"KY='{SMALL_TERM}'"
    params = {"q": q, "mode": mode, "sort": sort, "size": 10}
    ids, pages = walk(small, params)
    assert len(pages) == 6 and all(p["total"] == SMALL for p in pages)
    assert "facets" in pages[0] and all("facets" not in p for p in pages[1:])
    by_page = small.get("/api/v1/search", params={**params, "size": 100}).json()
    assert ids == [h["id"] for h in by_page["hits"]]
    assert len(set(ids)) == SMALL
    if mode == "pro":
        # One search in the history, not one per page.
        assert pages[0]["history_number"] is not None
        assert all(p["history_number"] is None for p in pages[1:])


def test_a_cursor_continues_only_its_own_search(small: TestClient) -> None:
    first = small.get("/api/v1/search", params={"q": SMALL_TERM, "size": 5, "cursor": "*"}).json()
    cursor = first["cursor"]
    for changed in ({"q": "测试记录"}, {"q": SMALL_TERM, "sort": "year_desc"}, {"q": SMALL_TERM, "year": "2021"}):
        resp = small.get("/api/v1/search", params={**changed, "size": 5, "cursor": cursor})
        assert resp.status_code == 400, resp.text
        message = resp.json()["error"]["message"]
        assert _chinese(message) and "重新检索" in message
    # A different page size is the same search.
    assert small.get("/api/v1/search", params={"q": SMALL_TERM, "size": 7, "cursor": cursor}).status_code == 200


def test_garbage_cursors_are_a_400_in_chinese(small: TestClient) -> None:
    first = small.get("/api/v1/search", params={"q": SMALL_TERM, "size": 5, "cursor": "*"}).json()
    real = Cursor.decode(first["cursor"])
    forged = Cursor(pit="QUJD" + real.pit[4:], after=real.after, offset=real.offset, total=real.total,
                    fingerprint=real.fingerprint).encode()  # fmt: skip
    wrong_types = Cursor(pit=real.pit, after=["x"] * len(real.after), offset=real.offset, total=real.total,
                         fingerprint=real.fingerprint).encode()  # fmt: skip
    for bad in ("abc", "!!!", "e30", forged, wrong_types):
        resp = small.get("/api/v1/search", params={"q": SMALL_TERM, "size": 5, "cursor": bad})
        assert resp.status_code == 400, (bad, resp.text)
        assert _chinese(resp.json()["error"]["message"])
    resp = small.get("/api/v1/search", params={"q": SMALL_TERM, "page": 2, "cursor": first["cursor"]})
    assert resp.status_code == 400 and _chinese(resp.json()["error"]["message"])


def test_an_expired_point_in_time_is_a_410_that_says_search_again(small: TestClient, es: Elasticsearch) -> None:
    first = small.get("/api/v1/search", params={"q": SMALL_TERM, "size": 5, "cursor": "*"}).json()
    es.close_point_in_time(id=Cursor.decode(first["cursor"]).pit)
    resp = small.get("/api/v1/search", params={"q": SMALL_TERM, "size": 5, "cursor": first["cursor"]})
    assert resp.status_code == 410, resp.text
    assert "重新检索" in resp.json()["error"]["message"]


def test_the_last_page_closes_the_walk(small: TestClient) -> None:
    ids, pages = walk(small, {"q": SMALL_TERM, "size": 100})
    assert len(pages) == 1 and pages[0]["cursor"] is None and len(ids) == SMALL
    empty = small.get("/api/v1/search", params={"q": "不存在的检索词汇", "cursor": "*"}).json()
    assert empty["total"] == 0 and empty["cursor"] is None and empty["hits"] == []


# The large walk.

DEEP = 50_000
DEEP_TERM = "深度分页核对"
JOB_RECORDS = 2_000
JOB_CHUNK_LINES = 200


def _bulk_load(es: Elasticsearch, tokenizer: Tokenizer, names: IndexNames) -> set[str]:
    """50,000 recombined CSL records, indexed directly (no worker): the oracle's ID set."""
    pools = build_pools(load_source(DEMO_SOURCE), str(DEMO_SOURCE))
    raws = synthesize(pools, DEEP, seed=15)
    # Few distinct years and keywords shared by all: long runs of ties that only the id tiebreak orders.
    # No abstracts: the walk needs hits, and indexing 50,000 abstracts would double the test's time.
    records = [as_record({**raw, "abstract": None}, extra_keywords=[DEEP_TERM], year=1990 + n % 35)
               for n, raw in enumerate(raws)]  # fmt: skip
    assert bulk_index(es, names.write_alias, records, tokenizer) == DEEP
    return {r.id for r in records}


def _job_corpus(path: Path) -> None:
    # Records the job adds that match the walk's query and fall among its hits in every order.
    lines = [
        f'{{"id": "job-{i}", "title": "{DEEP_TERM}期间写入的记录第{i}篇", "keywords": ["{DEEP_TERM}"], '
        f'"issued": {{"date-parts": [[{1990 + i % 35}]]}}}}'
        for i in range(JOB_RECORDS)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize("sort", ["relevance"])
def test_a_50000_hit_walk_during_an_ingest_job_matches_the_oracle(
    es: Elasticsearch, tokenizer: Tokenizer, tmp_path: Path, sort: str
) -> None:
    corpus = tmp_path / "during.jsonl"
    _job_corpus(corpus)
    chunks = JOB_RECORDS // JOB_CHUNK_LINES
    hold = tmp_path / "hold"
    hold.mkdir()
    for n in range(chunks):
        (hold / f"hold-{n}").touch()  # nothing is written before the walk opens its point in time
    with own_broker(es, tmp_path, "deep", ingest_chunk_lines=JOB_CHUNK_LINES, citation_linking=False) as settings:
        names = IndexNames(settings.index_prefix)
        create(es, names, tokenizer)
        oracle = _bulk_load(es, tokenizer, names)
        worker = EnvWorker(settings, tmp_path / "worker.log", {"CHAXIN_INGEST_TEST_HOLD": str(hold),
                                                                "CHAXIN_CITATION_LINKING": "false"})  # fmt: skip
        client = TestClient(create_app(settings))
        try:
            worker.start()
            job_id, queued = submit(settings, "csl", corpus)
            assert queued == chunks
            during: dict[str, Any] = {}

            def ingest_midway(pages: list[dict[str, Any]]) -> None:
                if len(pages) == 1:
                    for n in range(chunks):
                        (hold / f"hold-{n}").unlink()  # the walk has its point in time: write now
                elif len(pages) == 250:
                    # Halfway: the job has written everything, and a new search sees it.
                    during["status"] = wait_for(settings, job_id, done=chunks, timeout=180)
                    es.indices.refresh(index=names.read_alias)
                    during["fresh_total"] = client.get("/api/v1/search", params={"q": DEEP_TERM, "size": 1}).json()["total"]

            started = time.monotonic()
            ids, pages = walk(client, {"q": DEEP_TERM, "sort": sort, "size": 100}, during=ingest_midway)
            elapsed = time.monotonic() - started
        finally:
            client.close()
            worker.stop()

        status = during["status"]
        assert status.chunks_done == chunks and status.indexed == JOB_RECORDS, f"{status}\n{worker.log_tail()}"
        assert during["fresh_total"] == DEEP + JOB_RECORDS, "the job's records were searchable during the walk"
        assert pages[0]["total"] == DEEP and all(p["total"] == DEEP for p in pages)
        assert len(ids) == DEEP, f"{len(ids)} hits in {len(pages)} pages ({elapsed:.0f} s)"
        assert len(set(ids)) == len(ids), "a hit came twice"
        assert set(ids) == oracle, f"missing {len(oracle - set(ids))}, extra {len(set(ids) - oracle)}"
        assert status_of(settings, job_id).state == "done"
