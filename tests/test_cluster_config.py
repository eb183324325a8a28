"""Multi-node configuration: ES_URL lists several nodes, replicas follow the cluster, /healthz shows it."""

from __future__ import annotations

from elasticsearch import Elasticsearch

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
