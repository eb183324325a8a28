"""Node loss on a real 3-node cluster of our own (never the shared node): nothing is lost, searches keep answering.

The cluster runs on CHAXIN_TEST_CLUSTER_PORT..+2 (default 9410, transport 9510..9512) with 256 MB heaps,
from the same distribution the single node runs, and is stopped at the end. Indices here have 3 primary
shards and 1 replica, so every node holds shard copies and a killed node always takes primaries with it.

Corpus sizes are the smallest that still show the property, to keep CI short: the ingest test writes the
2,000-line demo corpus in 40 chunks of 50 lines and bulk requests of 10 documents (so the kill lands
among many in-flight writes); the search test holds 2,000 small records.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import redis
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient

from appdb.jobs import job_errors
from appdb.session import session_factory, upgrade
from chaxin.cluster import Cluster
from chaxin.services import (
    cluster_kill_node,
    cluster_start,
    cluster_start_node,
    cluster_stop,
    cluster_wait,
    local_cluster,
)
from conf.clients import make_es
from conf.settings import Settings
from ingest.index_admin import create, current_index, drop_all
from ingest.submit import submit
from ingest.writer import write_records
from mappings.analysis.tokenizer import Tokenizer
from mappings.naming import IndexNames
from tests.conftest import DEMO, make_record, new_prefix, settings_for
from tests.own_worker import EnvWorker, expected_ids, indexed_ids, status_of, wait_for
from web.app import create_app

pytestmark = [pytest.mark.cluster, pytest.mark.worker, pytest.mark.usefixtures("services")]

NODES = 3
SHARDS = 3
RECORDS = 2000
CHUNK_LINES = 50  # the 2,000-line demo corpus becomes 40 tasks
BULK_DOCS = 10  # several bulk requests per chunk, so the kill cuts chunks' writes in two
# Neither the developer's 0, the suite's 15, nor the crash and outage tests' 14 and 13.
CLUSTER_REDIS_DB = int(os.environ.get("CHAXIN_TEST_CLUSTER_REDIS_DB", "12"))
# After the SIGKILL, searches may fail for at most this long while the cluster notices the node is gone
# and promotes replicas; after it, every search must answer with the same total.
FAILOVER_WINDOW = 5.0
SEARCH_FOR = 15.0  # seconds the 8 clients search after the kill
REJOIN_TIMEOUT = 240.0  # restart to green: replicas recover from the primaries that took over


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    port = int(os.environ.get("CHAXIN_TEST_CLUSTER_PORT", "9410"))
    ports = [port + i + transport for i in range(NODES) for transport in (0, 100)]
    assert not any(9200 <= p <= 9399 for p in ports), "the test cluster keeps off the shared nodes' ports"
    c = local_cluster(Settings(), nodes=NODES, http_base=port, heap="256m")
    cluster_stop(c)  # a cluster a crashed run left behind
    for i in range(NODES):
        shutil.rmtree(c.node_dir(i), ignore_errors=True)
    try:
        cluster_start(c)
        yield c
    finally:
        cluster_stop(c)


@pytest.fixture(scope="module")
def ces(cluster: Cluster) -> Elasticsearch:
    return make_es(Settings(ES_URL=cluster.es_url))


def _total(es: Elasticsearch, alias: str) -> int:
    resp = es.search(index=alias, query={"match_all": {}}, track_total_hits=True, size=0)
    return int(resp["hits"]["total"]["value"])


def _primary_nodes(es: Elasticsearch, index: str) -> dict[str, int]:
    """Node name → primaries of `index` it holds."""
    held: dict[str, int] = {}
    for row in es.cat.shards(index=index, format="json", h="prirep,node"):
        if row["prirep"] == "p" and row.get("node"):
            held[row["node"]] = held.get(row["node"], 0) + 1
    return held


def _busiest_node(cluster: Cluster, es: Elasticsearch, index: str) -> int:
    """The node holding the most primaries: killing it forces the most replica promotions."""
    held = _primary_nodes(es, index)
    return max(range(cluster.nodes), key=lambda i: held.get(cluster.node_name(i), 0))


def _copies_agree(es: Elasticsearch, index: str) -> dict[str, set[int]]:
    """Per shard, the document counts of its copies: one count each when primary and replica agree."""
    # The balancer may start moving a copy after the health call that waited for no relocations
    # (seen on a loaded machine): read the counts only once every copy is STARTED.
    deadline = time.monotonic() + REJOIN_TIMEOUT
    while True:
        es.options(ignore_status=408).cluster.health(
            index=index, wait_for_status="green", wait_for_no_initializing_shards=True,
            wait_for_no_relocating_shards=True, timeout="30s",
        )  # fmt: skip
        es.indices.refresh(index=index)
        rows = es.cat.shards(index=index, format="json", h="shard,prirep,state,docs")
        if all(row["state"] == "STARTED" for row in rows):
            break
        assert time.monotonic() < deadline, f"copies still moving after {REJOIN_TIMEOUT}s: {rows}"
        time.sleep(1)
    counts: dict[str, set[int]] = {}
    for row in rows:
        counts.setdefault(row["shard"], set()).add(int(row["docs"]))
    return counts


def _restart_and_wait_green(cluster: Cluster, es: Elasticsearch, i: int) -> float:
    started = time.monotonic()
    cluster_start_node(cluster, i)
    cluster_wait(cluster, "green", cluster.nodes, REJOIN_TIMEOUT)
    # Green alone still lets the balancer move copies onto the returned node; wait until it is done.
    es.cluster.health(
        wait_for_status="green", wait_for_no_initializing_shards=True, wait_for_no_relocating_shards=True,
        timeout="120s",
    )  # fmt: skip
    return time.monotonic() - started


@pytest.fixture
def job_settings(cluster: Cluster, tmp_path: Path) -> Iterator[Settings]:
    base = settings_for(new_prefix("nodeloss"), f"sqlite:///{tmp_path / 'jobs.sqlite3'}")
    redis_url = base.effective_redis_url.rsplit("/", 1)[0] + f"/{CLUSTER_REDIS_DB}"
    settings = base.model_copy(
        update={"es_url": cluster.es_url, "redis_url": redis_url, "ingest_chunk_lines": CHUNK_LINES,
                "index_shards": SHARDS}
    )  # fmt: skip
    upgrade(settings.effective_database_url)
    broker = redis.Redis.from_url(redis_url)
    broker.flushdb()
    yield settings
    broker.flushdb()
    broker.close()
    drop_all(make_es(settings), IndexNames(settings.index_prefix))


def test_sigkill_one_node_mid_csl_ingest_job(
    cluster: Cluster, ces: Elasticsearch, job_settings: Settings, tmp_path: Path
) -> None:
    settings = job_settings
    expected = expected_ids(DEMO)
    worker = EnvWorker(settings, tmp_path / "worker.log", {"CHAXIN_BULK_MAX_DOCS": str(BULK_DOCS)})
    victim = -1
    try:
        worker.start()
        job_id, chunks = submit(settings, "csl", DEMO)
        assert chunks == len(expected) // CHUNK_LINES
        names = IndexNames(settings.index_prefix)
        index = current_index(ces, names.write_alias)
        assert index is not None
        got = ces.indices.get_settings(index=index)[index]["settings"]["index"]
        assert (got["number_of_shards"], got["number_of_replicas"]) == (str(SHARDS), "1")

        at = wait_for(settings, job_id, done=4, timeout=120)
        victim = _busiest_node(cluster, ces, index)
        cluster_kill_node(cluster, victim, signal.SIGKILL)
        assert at.chunks_done < chunks, f"the job ended before the node was killed: {at}"
        killed = status_of(settings, job_id)

        status = wait_for(settings, job_id, done=chunks, timeout=240)
        assert status.state == "done" and status.chunks_done == chunks, f"{status}\n{worker.log_tail()}"
        # Counted before the restart: what the two surviving nodes hold is already complete.
        ids = indexed_ids(ces, settings)
        rejoined = _restart_and_wait_green(cluster, ces, victim)
    finally:
        worker.stop()
        if victim >= 0:
            cluster_start_node(cluster, victim)  # a no-op once the test restarted it

    print(f"\nnode-{victim} killed at {killed.chunks_done}/{chunks} chunks; back to green in {rejoined:.1f}s")
    with session_factory(settings.effective_database_url)() as session:
        assert job_errors(session, job_id) == []
    assert len(ids) == len(set(ids)) == len(expected), "each record exactly once"
    assert set(ids) == expected
    assert (status.seen, status.failed) == (len(expected), 0), status
    assert (status.indexed, status.skipped, status.merged) == (len(expected), 0, 0), status
    # No acknowledged write lost on any copy: every shard's replica, rebuilt from the primary that
    # took over, holds what that primary holds, and all of it adds up to the corpus.
    agree = _copies_agree(ces, index)
    assert all(len(c) == 1 for c in agree.values()), agree
    assert sum(next(iter(c)) for c in agree.values()) == len(expected)
    assert sorted(indexed_ids(ces, settings)) == sorted(ids)


def _healthz(app: TestClient) -> tuple[int, dict[str, Any]]:
    resp = app.get("/healthz")
    return resp.status_code, resp.json()


def test_sigkill_one_node_while_8_clients_search(
    cluster: Cluster, ces: Elasticsearch, tokenizer: Tokenizer, tmp_path: Path
) -> None:
    settings = settings_for(new_prefix("nodeloss"), f"sqlite:///{tmp_path / 'api.sqlite3'}").model_copy(
        update={"es_url": cluster.es_url}
    )
    upgrade(settings.effective_database_url)
    names = IndexNames(settings.index_prefix)
    create(ces, names, tokenizer, shards=SHARDS)
    # A second index with no replica, held on one node only: losing that node turns the cluster red.
    lonely = f"{settings.index_prefix}-lonely"
    victim = -1
    try:
        records = [make_record(f"n{i}", f"石墨烯负极材料研究{i}") for i in range(RECORDS)]
        write_records(ces, names.write_alias, [(r.id, r) for r in records], tokenizer, refresh=True)
        index = current_index(ces, names.read_alias)
        assert index is not None
        ces.cluster.health(index=index, wait_for_status="green", timeout="60s")
        assert ces.indices.get_settings(index=index)[index]["settings"]["index"]["number_of_replicas"] == "1"
        before = _total(ces, names.read_alias)
        assert before == RECORDS
        victim = _busiest_node(cluster, ces, index)
        ces.indices.create(index=lonely, settings={
            "index": {"number_of_shards": 1, "number_of_replicas": 0,
                      "routing.allocation.require._name": cluster.node_name(victim)},
        })  # fmt: skip
        ces.cluster.health(wait_for_status="green", timeout="60s")

        with TestClient(create_app(settings)) as app:
            code, body = _healthz(app)
            assert code == 200 and body["cluster"]["status"] == "green" and body["cluster"]["nodes"] == NODES

            killed_at = time.monotonic()
            cluster_kill_node(cluster, victim, signal.SIGKILL)
            late: list[str] = []

            def client(_: int) -> int:
                es = make_es(Settings(ES_URL=cluster.es_url))
                answered = 0
                while time.monotonic() - killed_at < SEARCH_FOR:
                    try:
                        got = _total(es, names.read_alias)
                        if got != before:
                            raise AssertionError(f"total {got} != {before}")
                        answered += 1
                    except Exception as exc:  # noqa: BLE001 - counted, then judged against the window
                        if time.monotonic() - killed_at > FAILOVER_WINDOW:
                            late.append(f"{type(exc).__name__}: {exc}")
                return answered

            with ThreadPoolExecutor(8) as pool:
                answered = list(pool.map(client, range(8)))
            assert not late, late[:3]
            assert all(n > 0 for n in answered), answered

            # The lonely index lost its only copy: red, a 503 that names the missing primary.
            code, body = _healthz(app)
            assert code == 503 and body["cluster"]["status"] == "red", body
            assert f"{lonely}[0]" in body["services"]["elasticsearch"], body
            ces.indices.delete(index=lonely)
            # Every primary answers again, only replicas are missing: yellow, a warning and a 200.
            code, body = _healthz(app)
            assert code == 200 and body["cluster"]["status"] == "yellow", body
            assert body["cluster"]["nodes"] == NODES - 1 and "replica" in body["cluster"]["warning"], body

            rejoined = _restart_and_wait_green(cluster, ces, victim)
            code, body = _healthz(app)
            assert code == 200 and body["cluster"]["status"] == "green" and body["cluster"]["nodes"] == NODES
        print(f"\nnode-{victim} killed; searches answered {sum(answered)} times; green again in {rejoined:.1f}s")
        assert _total(ces, names.read_alias) == before
    finally:
        if victim >= 0:
            cluster_start_node(cluster, victim)
        ces.indices.delete(index=lonely, ignore_unavailable=True)
        drop_all(ces, names)
