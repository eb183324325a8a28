"""Citation counts and citing lists as one principal may see them (issue 11, docs/citations.md).

A count is a disclosure: a 限制 report citing a public paper must add nothing to what an anonymous
visitor reads. What a principal may see is the citing records `search.policy.search_filter` lets
through: the records that are not 限制, plus the principal's granted ones, or everything for a
platform admin. It does not depend on the date.

- The hits of a search read the counts stored on each hit (`stored_counts`): the refresh
  (citeindex/counts.py) stores the citers that are not 限制 (`cited_by_count`, `cited_by_others`)
  and the 限制 ones (`cited_by_restricted`). For a principal whose filter is the anonymous one, and
  for any hit no 限制 record cites, the stored pair is exactly what that principal may see, so the
  hits come with their counts in the one search request. Only the hits with 限制 citers, shown to a
  principal who may see more than the anonymous filter, are counted live (`counts_body`, for those
  hits only). Stored counts follow linking after the count refresh (seconds, docs/citations.md §4).
- One record (its page, `GET /records/{id}`), its citing list and the 收录引证 reports are counted
  live, never from stored counts: one record is one cheap request, and a certified figure must not
  wait on a refresh.
- Live counts for the ids on one page take ONE request: the filter above AND
  `terms citations.cites: ids`, with `terms` aggregations on `citations.cites` and
  `citations.cites_self` restricted (`include`) to those ids. 他引 = all − 自引. Only the citers of the
  shown ids are touched, so the cost follows the page, not the index;
- the citing list of one record is the same filter with `term citations.cites: id`, a page of it,
  each citer marked 自引 when the cited id is in its `citations.cites_self` (a named query, so the
  possibly long `cites_self` arrays never leave Elasticsearch).

The stored `citations.cited_by_count` (citers every visitor may see) is also what ordering and the
`CF` field read (search.fields.SORTS, search.query), where a per-user figure cannot be indexed.

The bodies and the readers of their answers are pure; `SearchService` sends them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from search.policy import search_filter
from search.principal import ANONYMOUS, Principal

CITES = "citations.cites"
CITES_SELF = "citations.cites_self"
STORED_COUNT = "citations.cited_by_count"
STORED_OTHERS = "citations.cited_by_others"
STORED_RESTRICTED = "citations.cited_by_restricted"
# What a hit's `_source` brings along for `stored_counts` (never `cites`, which may name 限制 records).
STORED_FIELDS = (STORED_COUNT, STORED_OTHERS, STORED_RESTRICTED)
COUNTS_FILTER_PATH = "aggregations.*.buckets.key,aggregations.*.buckets.doc_count"
# Named query that marks a citer whose citation of the listed record is a 自引.
SELF_QUERY = "self_citation"
# Citing lists are read by page and size like hit lists, within Elasticsearch's usual window.
MAX_CITING_WINDOW = 10_000
MAX_CITING_SIZE = 100
# The order of a citing list: newest first, undated last, then by id so pages never overlap.
CITING_SORT: list[dict[str, Any]] = [{"year": {"order": "desc", "missing": "_last"}}, {"id": "asc"}]


@dataclass(frozen=True)
class Counts:
    """Citers of one record that one principal may see: all of them, and those not 自引."""

    cited_by_count: int = 0
    cited_by_others: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"cited_by_count": self.cited_by_count, "cited_by_others": self.cited_by_others}


ZERO = Counts()


def sees_as_anonymous(principal: Principal) -> bool:
    """Whether `principal` may see exactly the citers an anonymous visitor may see: the set the stored
    counts were counted over. Every other principal's filter widens the anonymous one (grants, admin)."""
    return search_filter(principal) == search_filter(ANONYMOUS)


def stored_counts(source: Mapping[str, Any], *, as_anonymous: bool) -> Counts | None:
    """The counts a hit's `_source` (`STORED_FIELDS`) holds, when they are exactly what the principal
    may see; None when they are not (限制 citers, and a principal who may see beyond the anonymous
    filter), and the hit is counted live. `as_anonymous` is `sees_as_anonymous(principal)`.

    A missing count is 0: the refresh writes counts only on records somebody cites. (An index copied
    from mapping v6, before `cited_by_restricted`, needs `chaxin citations relink` once: docs/citations.md §4.)
    """
    stored = source.get("citations")
    block = stored if isinstance(stored, Mapping) else {}
    if not as_anonymous and int(block.get("cited_by_restricted") or 0) > 0:
        return None
    count = int(block.get("cited_by_count") or 0)
    return Counts(count, min(int(block.get("cited_by_others") or 0), count))


def _visible(principal: Principal, clauses: list[dict[str, Any]]) -> dict[str, Any]:
    keep = search_filter(principal)
    return {"bool": {"filter": [*clauses, *([keep] if keep is not None else [])]}}


def counts_body(ids: Sequence[str], principal: Principal) -> dict[str, Any]:
    """The one request that counts, for each of `ids`, the citers `principal` may see."""
    wanted = sorted(set(ids))
    # `include` names the exact ids, so every shard returns all of them: the counts are exact
    # (no top-N truncation), however many other records the citers also cite.
    def agg(field: str) -> dict[str, Any]:
        return {"terms": {"field": field, "include": wanted, "size": len(wanted), "shard_size": len(wanted)}}

    return {
        "size": 0,
        "track_total_hits": False,
        # size 0 and no `now`: the shard request cache keeps the answer until the next refresh.
        "query": _visible(principal, [{"terms": {CITES: wanted}}]),
        "aggs": {"cites": agg(CITES), "self": agg(CITES_SELF)},
    }


def read_counts(resp: Mapping[str, Any], ids: Iterable[str]) -> dict[str, Counts]:
    """Counts per id from the answer to `counts_body` (ids nobody cites count zero)."""
    aggs = resp.get("aggregations") or {}

    def buckets(name: str) -> dict[str, int]:
        return {str(b["key"]): int(b["doc_count"]) for b in (aggs.get(name) or {}).get("buckets", [])}

    total, own = buckets("cites"), buckets("self")
    out = {}
    for rid in ids:
        count = total.get(rid, 0)
        out[rid] = Counts(count, count - min(own.get(rid, 0), count))
    return out


def citing_body(
    record_id: str, principal: Principal, *, page: int, size: int, source: Sequence[str]
) -> dict[str, Any]:
    """A page of the records citing `record_id` that `principal` may see, newest first."""
    query = _visible(principal, [{"term": {CITES: record_id}}])
    # A should clause beside filters matches optionally; its name on a hit says 自引.
    query["bool"]["should"] = [{"term": {CITES_SELF: {"value": record_id, "_name": SELF_QUERY}}}]
    return {
        "query": query,
        "from": (page - 1) * size,
        "size": size,
        "sort": CITING_SORT,
        "track_total_hits": True,
        "_source": list(source),
    }


def is_self_citation(hit: Mapping[str, Any]) -> bool:
    return SELF_QUERY in (hit.get("matched_queries") or ())


def visible_ids_body(ids: Sequence[str], principal: Principal) -> dict[str, Any]:
    """Which of `ids` exist for `principal`: a reference links only to a record its reader may see."""
    wanted = sorted(set(ids))
    return {
        "size": len(wanted),
        "track_total_hits": False,
        "_source": False,
        "query": _visible(principal, [{"ids": {"values": wanted}}]),
    }
