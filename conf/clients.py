"""The one place where clients for Elasticsearch and Redis are built."""

from __future__ import annotations

from functools import lru_cache

import redis
from elasticsearch import Elasticsearch
from elasticsearch.serializer import OrjsonSerializer

from conf.settings import Settings, get_settings


def make_es(settings: Settings) -> Elasticsearch:
    # Retries cover a node that restarts or dies under us: the transport marks it dead and tries the
    # next listed node (round-robin); 429 and 5xx from an overloaded or recovering node are retried too.
    # The API maps the final failure to 503.
    return Elasticsearch(
        settings.es_urls,
        request_timeout=settings.es_request_timeout,
        retry_on_timeout=True,
        retry_on_status=(429, 502, 503, 504),
        max_retries=3,
        # Room for every request an API process runs at once (anyio's thread pool holds 40): with the
        # default 10, requests past the tenth queued for a connection (bench/query.py at 16 clients).
        connections_per_node=40,
        # Bulk bodies are most of what ingest serialises; orjson does it several times faster.
        serializer=OrjsonSerializer(),
    )


def make_redis(settings: Settings) -> redis.Redis:
    return redis.Redis.from_url(settings.effective_redis_url, socket_connect_timeout=2, socket_timeout=5)


# A worker process's clients: one of each per process, from the settings of its environment, built
# on first use (after Celery has forked the process).
@lru_cache(maxsize=1)
def worker_es() -> Elasticsearch:
    return make_es(get_settings())


@lru_cache(maxsize=1)
def worker_redis() -> redis.Redis:
    return make_redis(get_settings())
