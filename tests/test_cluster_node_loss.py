"""Node loss on a real 3-node cluster of our own (never the shared node): searches keep answering.

The cluster runs on CHAXIN_TEST_CLUSTER_PORT..+2 (default 9410) with 512 MB heaps and is stopped at the end.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from chaxin.cluster import Cluster, kill_node, start, start_node, stop, wait_for
from chaxin.services import ServiceError
from conf.clients import make_es
from conf.settings import REPO_ROOT, Settings
from ingest.index_admin import create, drop_all
from ingest.writer import write_records
from mappings.analysis.tokenizer import Tokenizer
from mappings.naming import IndexNames
from tests.conftest import make_record

pytestmark = pytest.mark.cluster

RECORDS = 2000
# After the SIGKILL, queries may fail for at most this long while the transport marks the node dead.
FAILOVER_WINDOW = 5.0


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    port = int(os.environ.get("CHAXIN_TEST_CLUSTER_PORT", "9410"))
    # Under the repo, not /tmp: the distribution is unpacked once and kept; node data is wiped first.
    base = Path(os.environ.get("CHAXIN_TEST_CLUSTER_DIR", "") or REPO_ROOT / ".services" / "cluster").resolve()
    c = Cluster(base, 3, port)
    for i in range(3):
        shutil.rmtree(c.node_dir(i), ignore_errors=True)
    try:
        start(c)
    except ServiceError as exc:
        # Seen once in a merged checkout: Maven's unpack into .services/cluster left no distribution.
        # Said loudly as a skip rather than hidden; the cause is open in issue 15.
        stop(c)
        pytest.skip(f"3-node cluster could not start: {str(exc)[:300]}")
    try:
        yield c
    finally:
        stop(c)


@pytest.fixture(scope="module")
def ces(cluster: Cluster) -> Elasticsearch:
    return make_es(Settings(ES_URL=cluster.es_url))


@pytest.fixture
def names(ces: Elasticsearch, tokenizer: Tokenizer) -> Iterator[IndexNames]:
    names = IndexNames("nodeloss")
    create(ces, names, tokenizer)
    yield names
    drop_all(ces, names)


def _total(es: Elasticsearch, names: IndexNames) -> int:
    resp = es.search(index=names.read_alias, query={"match_all": {}}, track_total_hits=True, size=0)
    return int(resp["hits"]["total"]["value"])


def test_sigkill_one_node_while_8_clients_search(
    cluster: Cluster, ces: Elasticsearch, names: IndexNames, tokenizer: Tokenizer
) -> None:
    records = [make_record(f"n{i}", f"石墨烯负极材料研究{i}") for i in range(RECORDS)]
    write_records(ces, names.write_alias, [(r.id, r) for r in records], tokenizer, refresh=True)
    index = next(iter(ces.indices.get_alias(name=names.read_alias)))
    assert ces.indices.get_settings(index=index)[index]["settings"]["index"]["number_of_replicas"] == "1"
    ces.cluster.health(index=names.read_alias, wait_for_status="green", timeout="60s")
    before = _total(ces, names)
    assert before == RECORDS

    killed_at = time.monotonic()
    kill_node(cluster, 1)
    late_failures: list[str] = []

    def client(_: int) -> int:
        es = make_es(Settings(ES_URL=cluster.es_url))
        answered = 0
        while time.monotonic() - killed_at < 15:
            try:
                assert _total(es, names) == before
                answered += 1
            except Exception as exc:  # noqa: BLE001 - counted, then judged against the window
                if time.monotonic() - killed_at > FAILOVER_WINDOW:
                    late_failures.append(f"{type(exc).__name__}: {exc}")
        return answered

    with ThreadPoolExecutor(8) as pool:
        answered = list(pool.map(client, range(8)))
    assert not late_failures, late_failures[:3]
    assert all(n > 0 for n in answered)

    start_node(cluster, 1)
    wait_for(cluster, "green", 3, 240)
    assert _total(ces, names) == before
