"""Stored citation counts (`citations.cited_by_count`, `cited_by_others`) for sorting and the CF field.

They count only citers that every visitor may see (`search_filter` of the anonymous principal: not
限制; the filter does not depend on the date), so `sort=cited_desc` and `CF>=10` never reveal a 限制
citer to anyone. The counts a user is shown are not these: search/ computes them live per user.

Linking marks the cited records whose counts may have changed in a Redis set (one per index); the
refresh task takes them in batches, counts each batch with one aggregation, and writes the records
whose counts differ, with the same versioned read-modify-write as linking.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import redis
from elasticsearch import Elasticsearch, helpers

from citeindex.link import read_documents
from ingest.document import index_document
from ingest.writer import CONFLICT_ROUNDS
from mappings.analysis.tokenizer import Tokenizer
from search.policy import search_filter
from search.principal import ANONYMOUS

BATCH = 1000


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


def _write_counts(
    es: Elasticsearch, index: str, ids: list[str], tokenizer: Tokenizer
) -> tuple[int, list[str]]:
    counts = count_citers(es, index, ids)
    written = 0
    pending = ids
    for _ in range(CONFLICT_ROUNDS):
        actions = []
        for rid, (record, citations, version) in read_documents(es, index, pending).items():
            count, others = counts[rid]
            if (citations.get("cited_by_count", 0), citations.get("cited_by_others", 0)) == (count, others):
                continue
            new = {**citations, "cited_by_count": count, "cited_by_others": others}
            actions.append({
                "_index": index, "_id": rid, "version": version + 1, "version_type": "external",
                "_source": index_document(record, tokenizer, new),
            })  # fmt: skip
        conflicts = []
        for ok, item in helpers.streaming_bulk(es, actions, raise_on_error=False, max_retries=3):
            info = next(iter(item.values()))
            if ok:
                written += 1
            elif info.get("status") == 409:
                conflicts.append(info["_id"])
            else:
                raise RuntimeError(f"count write of {info.get('_id')} failed: {info.get('error')}")
        if not conflicts:
            return written, []
        pending = conflicts
    return written, pending


def refresh_counts(es: Elasticsearch, r: redis.Redis, index: str, tokenizer: Tokenizer) -> int:
    """Recount every record marked dirty for `index`; returns how many records were written."""
    key = dirty_key(index)
    es.indices.refresh(index=index)
    written = 0
    while True:
        # Popped before counting: a record marked again meanwhile is counted again by the next run.
        ids = sorted(i.decode() if isinstance(i, bytes) else str(i) for i in (r.spop(key, BATCH) or []))
        if not ids:
            return written
        try:
            done, left = _write_counts(es, index, ids, tokenizer)
        except BaseException:
            r.sadd(key, *ids)
            raise
        written += done
        if left:
            r.sadd(key, *left)
            return written
