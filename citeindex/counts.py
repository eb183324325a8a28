"""Stored citation counts (`citations.cited_by_count`, `cited_by_others`) for sorting and the CF field.

They count only citers that every visitor may see (`search_filter` of the anonymous principal: not
限制; the filter does not depend on the date), so `sort=cited_desc` and `CF>=10` never reveal a 限制
citer to anyone. The counts a user is shown are not these: search/ computes them live per user.

A relink marks the cited records whose counts may have changed in a Redis set (one per index); the
refresh (citeindex/refresh.py) counts them, with the targets of the records it relinks, one
aggregation per batch, and writes each record whose links or counts differ once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import redis
from elasticsearch import Elasticsearch

from search.policy import search_filter
from search.principal import ANONYMOUS


def dirty_key(index: str) -> str:
    return f"chaxin:citations:dirty:{index}"


def mark_dirty(r: redis.Redis, index: str, ids: Iterable[str]) -> int:
    ids = sorted(set(ids))
    return int(r.sadd(dirty_key(index), *ids)) if ids else 0


def count_citers(es: Elasticsearch, index: str, ids: list[str]) -> dict[str, tuple[int, int]]:
    """(cited_by_count, cited_by_others) of each ID, over the citers an anonymous visitor may see."""
    filters: list[dict[str, Any]] = [{"terms": {"citations.cites": ids}}]
    visible = search_filter(ANONYMOUS)
    if visible is not None:
        filters.append(visible)
    resp = es.search(
        index=index, size=0, query={"bool": {"filter": filters}},
        aggs={
            "cited": {"terms": {"field": "citations.cites", "include": ids, "size": len(ids)}},
            "self": {"terms": {"field": "citations.cites_self", "include": ids, "size": len(ids)}},
        },
    )  # fmt: skip
    total = {b["key"]: int(b["doc_count"]) for b in resp["aggregations"]["cited"]["buckets"]}
    own = {b["key"]: int(b["doc_count"]) for b in resp["aggregations"]["self"]["buckets"]}
    return {i: (total.get(i, 0), total.get(i, 0) - own.get(i, 0)) for i in ids}
