"""Stored citation counts (`citations.cited_by_count`, `cited_by_others`, `cited_by_restricted`).

`cited_by_count` / `cited_by_others` count only citers that every visitor may see (`search_filter`
of the anonymous principal: not 限制; the filter does not depend on the date), so `sort=cited_desc`
and `CF>=10` never reveal a 限制 citer to anyone. `cited_by_restricted` counts the other citers, the
ones only an admin or a grantee may see. Together they let a hit list show counts without a second
request (search/citations.py `stored_counts`): for a principal whose filter is the anonymous one, or
for a record no 限制 record cites, the stored pair is exactly what that principal may see. A single
record, its citing list and the 收录引证 reports are still counted live.

A relink marks the cited records whose counts may have changed in a Redis set (one per index); the
refresh (citeindex/refresh.py) counts them, with the targets of the records it relinks, one
aggregation per batch, and writes each record whose links or counts differ once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Stored:
    """What the refresh stores on a cited record (docs/citations.md §4)."""

    count: int  # citers not 限制
    others: int  # of those, not 自引
    restricted: int  # 限制 citers, seen only by admins and grantees

    def fields(self) -> dict[str, int]:
        return {"cited_by_count": self.count, "cited_by_others": self.others, "cited_by_restricted": self.restricted}


def count_citers(es: Elasticsearch, index: str, ids: list[str]) -> dict[str, Stored]:
    """The stored counts of each ID: one aggregation over all its citers, split by the anonymous filter."""
    def cited(field: str) -> dict[str, Any]:
        return {"terms": {"field": field, "include": ids, "size": len(ids)}}

    visible = search_filter(ANONYMOUS)
    resp = es.search(
        index=index, size=0, query={"bool": {"filter": [{"terms": {"citations.cites": ids}}]}},
        aggs={
            "all": cited("citations.cites"),
            "visible": {"filter": visible if visible is not None else {"match_all": {}},
                        "aggs": {"cited": cited("citations.cites"), "self": cited("citations.cites_self")}},
        },
    )  # fmt: skip
    aggs = resp["aggregations"]

    def buckets(agg: dict[str, Any]) -> dict[str, int]:
        return {b["key"]: int(b["doc_count"]) for b in agg["buckets"]}

    every, shown, own = buckets(aggs["all"]), buckets(aggs["visible"]["cited"]), buckets(aggs["visible"]["self"])
    return {
        i: Stored(shown.get(i, 0), shown.get(i, 0) - own.get(i, 0), every.get(i, 0) - shown.get(i, 0)) for i in ids
    }

