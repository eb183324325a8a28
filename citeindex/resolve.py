"""Resolving references to records: at most one record per reference, the same in any order of arrival.

A reference's candidates are the records that share a blocking key with it (mappings/citations/keys.py),
never more: a record that arrives after its citers finds them only by those keys (`ix.ref_keys`), so a
link found any other way could form in one order of arrival and not in the other. Within that set the
answer is a function of the reference and the records alone: DOI first, else `candidates.decide`
(ambiguity leaves the reference unlinked). The citing record is never its own candidate.

Cost: one query per batch of references finds every record sharing any of their keys (most references
of a fresh corpus share none and cost nothing more); only a reference whose key is crowded, with more
records than `candidate_query` returns, has a query of its own, ranked by `candidate_query`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from elasticsearch import Elasticsearch
from pydantic import ValidationError

from ingest.link_state import record_and_state
from mappings.citations.candidates import candidate_query, decide
from mappings.citations.doi import normalize_doi
from mappings.citations.keys import record_keys, reference_keys
from mappings.model import Record, Reference

CANDIDATES = 10  # candidate_query's size: a crowded key is ranked, not read whole
_BATCH_KEYS = 4000  # keys per lookup query (Elasticsearch's terms limit is 65,536)
_LOOKUP_SIZE = 5000  # hits read per lookup query; past it the batch's references are asked one by one
CANDIDATE_FIELDS = [
    "id", "source", "source_id", "doc_type", "title", "authors", "venue", "year", "volume", "issue",
    "pages", "doi", "ingested_at", "version",
]  # fmt: skip


@dataclass(frozen=True)
class Wanted:
    """One reference to resolve, and the record citing it (never its own candidate)."""

    citing_id: str
    ref: Reference

    @cached_property
    def keys(self) -> frozenset[str]:
        return frozenset(reference_keys(self.ref))


def _record(source: dict[str, Any]) -> Record | None:
    try:
        return record_and_state(source)[0]
    except ValidationError:
        return None


def read_candidates(es: Elasticsearch, index: str, ids: Sequence[str]) -> list[Record]:
    """`ids` as candidates are read: the fields a reference is matched on, without the references."""
    resp = es.mget(index=index, ids=list(ids), source_includes=CANDIDATE_FIELDS)
    found = (_record(d["_source"]) for d in resp["docs"] if d.get("found"))
    return [r for r in found if r is not None]


def _lookup(es: Elasticsearch, index: str, keys: list[str]) -> tuple[list[Record], bool]:
    """Every record holding any of `keys`, and whether that is all of them."""
    resp = es.search(
        index=index, query={"terms": {"ix.match_keys": keys}}, size=_LOOKUP_SIZE, source_includes=CANDIDATE_FIELDS,
        track_total_hits=_LOOKUP_SIZE + 1, sort=[{"id": "asc"}],
    )  # fmt: skip
    hits = resp["hits"]["hits"]
    records = [r for r in (_record(h["_source"]) for h in hits) if r is not None]
    return records, int(resp["hits"]["total"]["value"]) <= len(hits)


def _batches(wanted: Sequence[Wanted]) -> Iterable[list[int]]:
    batch: list[int] = []
    keys = 0
    for i, w in enumerate(wanted):
        n = len(w.keys)
        if batch and keys + n > _BATCH_KEYS:
            yield batch
            batch, keys = [], 0
        batch.append(i)
        keys += n
    if batch:
        yield batch


def _decide(w: Wanted, candidates: Iterable[tuple[Record, frozenset[str]]]) -> Record | None:
    sharing = {c.id: c for c, keys in candidates if c.id != w.citing_id and w.keys & keys}
    if not sharing:
        return None
    doi = normalize_doi(w.ref.doi) if w.ref.doi else None
    if doi:
        same = [c for c in sharing.values() if c.doi and normalize_doi(c.doi) == doi]
        if len(same) == 1:
            return same[0]
    ordered = [sharing[k] for k in sorted(sharing)]
    match = decide(w.ref, ordered)
    return sharing.get(match.record_id) if match.record_id else None


def resolve(es: Elasticsearch, index: str, wanted: Sequence[Wanted]) -> list[Record | None]:
    """The record each reference cites, or None; the index must be refreshed first."""
    out: list[Record | None] = [None] * len(wanted)
    crowded: list[int] = []
    for batch in _batches(wanted):
        keys = sorted({k for i in batch for k in wanted[i].keys})
        if not keys:
            continue
        found, complete = _lookup(es, index, keys)
        by_key: dict[str, list[tuple[Record, frozenset[str]]]] = {}
        for rec in found:
            rec_keys = frozenset(record_keys(rec))
            for k in rec_keys:
                by_key.setdefault(k, []).append((rec, rec_keys))
        for i in batch:
            pool = {r.id: (r, ks) for k in wanted[i].keys for r, ks in by_key.get(k, [])}
            pool.pop(wanted[i].citing_id, None)
            if not complete or len(pool) > CANDIDATES:
                if pool or not complete:
                    crowded.append(i)
                continue
            out[i] = _decide(wanted[i], pool.values())
    for start in range(0, len(crowded), 200):
        part = crowded[start : start + 200]
        searches: list[dict[str, Any]] = []
        for i in part:
            searches += [{"index": index}, candidate_query(wanted[i].ref, size=CANDIDATES)]
        for i, resp in zip(part, es.msearch(searches=searches)["responses"], strict=True):
            if "error" in resp:
                raise RuntimeError(f"candidate query failed: {resp['error']}")
            hits = [r for r in (_record(h["_source"]) for h in resp["hits"]["hits"]) if r is not None]
            out[i] = _decide(wanted[i], [(r, frozenset(record_keys(r))) for r in hits])
    return out
