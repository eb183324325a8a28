"""The one place where clients for Elasticsearch and Redis are built."""

from __future__ import annotations

import redis
from elasticsearch import Elasticsearch
from elasticsearch.serializer import OrjsonSerializer

from conf.settings import Settings


def make_es(settings: Settings) -> Elasticsearch:
    # Retries cover a node that restarts under us; the API maps the final failure to 503.
    return Elasticsearch(
        settings.effective_es_url,
        request_timeout=settings.es_request_timeout,
        retry_on_timeout=True,
        max_retries=2,
        # Bulk bodies are most of what ingest serialises; orjson does it several times faster.
        serializer=OrjsonSerializer(),
    )


def make_redis(settings: Settings) -> redis.Redis:
    return redis.Redis.from_url(settings.effective_redis_url, socket_connect_timeout=2, socket_timeout=5)
