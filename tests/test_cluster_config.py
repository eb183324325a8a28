"""Multi-node configuration: ES_URL lists several nodes, replicas follow the cluster, /healthz shows it."""

from __future__ import annotations

from pathlib import Path

from elasticsearch import Elasticsearch

from chaxin.cluster import Cluster
from conf.clients import make_es
from conf.settings import Settings
from ingest.index_admin import current_index, default_replicas
from mappings.naming import IndexNames


def test_es_url_lists_several_nodes_for_round_robin() -> None:
    settings = Settings(ES_URL="http://127.0.0.1:9400, http://127.0.0.1:9401,http://127.0.0.1:9402")
    assert settings.es_urls == ["http://127.0.0.1:9400", "http://127.0.0.1:9401", "http://127.0.0.1:9402"]
    client = make_es(settings)
    assert len(client.transport.node_pool.all()) == 3


def test_replicas_follow_the_data_node_count(es: Elasticsearch) -> None:
    data_nodes = int(es.cluster.health()["number_of_data_nodes"])
    assert default_replicas(es, None) == (1 if data_nodes > 1 else 0)
    assert default_replicas(es, 2) == 2


def test_new_index_gets_the_default_replicas(es: Elasticsearch, index_names: IndexNames) -> None:
    name = current_index(es, index_names.read_alias)
    assert name is not None
    got = es.indices.get_settings(index=name)[name]["settings"]["index"]["number_of_replicas"]
    assert int(got) == default_replicas(es, None)


def test_es_nodes_lists_every_local_node() -> None:
    settings = Settings(CHAXIN_ES_NODES=3, CHAXIN_ES_PORT=9200, ES_URL="")
    assert settings.es_urls == ["http://127.0.0.1:9200", "http://127.0.0.1:9201", "http://127.0.0.1:9202"]
    assert Settings(CHAXIN_ES_NODES=3, ES_URL="http://es:9200").es_urls == ["http://es:9200"]


def test_cluster_layout_ports_folders_and_discovery() -> None:
    c = Cluster(Path("/d"), Path("/b"), nodes=3, http_base=9410)
    assert c.es_url == "http://127.0.0.1:9410,http://127.0.0.1:9411,http://127.0.0.1:9412"
    assert [c.transport_port(i) for i in range(3)] == [9510, 9511, 9512]
    assert c.node_dir(1) == Path("/b/node-9411") and c.pidfile(1) == Path("/b/node-9411/es.pid")
    opts = dict(arg.split("=", 1) for arg in c.node_options(2) if arg != "-E")
    assert opts["node.name"] == "node-2" and opts["cluster.name"] == "chaxin-cluster-9410"
    assert opts["http.port"] == "9412" and opts["transport.port"] == "9512"
    assert opts["discovery.seed_hosts"] == "127.0.0.1:9510,127.0.0.1:9511,127.0.0.1:9512"
    assert opts["cluster.initial_master_nodes"] == "node-0,node-1,node-2"
