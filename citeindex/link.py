"""Linking records in both directions of time, written with the ingest writer's versioning.

`plan_links` recomputes the link state of records read from the index, without writing: every
reference is resolved (citeindex/resolve.py) against the index as it is, or, given the arrivals, only
the references of their citers that the arrivals may have changed. The worker's refresh
(citeindex/refresh.py) writes plans together with the counts; `link_records(es, index, ids)` plans
and writes at once (relink, and callers that need the links before they go on):
- outgoing: every reference of each record is resolved;
- incoming: the records already in the index whose references might cite one of them (their
  `ix.ref_keys` meet the record's lookup keys, or their `citations.cites` names it) have those
  references resolved again, against every candidate now in the index. So a newly arrived, equally
  good candidate unlinks a reference (precision first), and the links come out the same whatever the
  order of arrival. Their other references keep their targets: a reference's target depends only on
  the records sharing a key with it, and none of those arrived.

A record's link state is recomputed whole from its references and the index, never patched: linking
twice, re-ingesting, or a relink after the same matcher changes nothing, and a citation is never
counted twice (`citations.cites` holds each cited ID once).

Writes follow ingest/writer.py: read the document and its version, write the next external version,
and on a conflict (an ingest or another link task got there first) read and recompute again, so a late
write never overwrites a newer record. Documents are written whole (the `ix` fields are not in
`_source`, so a partial update would lose them) and only when their link state changed.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from elasticsearch import Elasticsearch, helpers
from pydantic import ValidationError

from citeindex.resolve import Wanted, resolve
from ingest.document import index_document
from ingest.link_state import CITATIONS
from ingest.writer import CONFLICT_ROUNDS, RetryableBulkError
from mappings.analysis.tokenizer import Tokenizer
from mappings.citations.keys import record_keys, record_lookup_keys
from mappings.citations.names import shares_any_author
from mappings.model import Record

BATCH = 500  # records recomputed per round trip
_CITER_PAGE = 1000


@dataclass
class LinkResult:
    examined: int = 0  # records whose links were recomputed
    changed: list[str] = field(default_factory=list)  # records whose link state was written
    dirty: set[str] = field(default_factory=set)  # cited records whose stored counts may be stale
    failed: list[str] = field(default_factory=list)  # records still conflicting after every round

    def add(self, other: LinkResult) -> None:
        self.examined += other.examined
        self.changed += other.changed
        self.dirty |= other.dirty
        self.failed += other.failed


def _unique(ids: Iterable[str | None]) -> list[str]:
    return list(dict.fromkeys(i for i in ids if i))


def citers_of(es: Elasticsearch, index: str, records: Sequence[Record]) -> list[str]:
    """IDs of records whose references may cite one of `records` (the records themselves excluded)."""
    ids = [r.id for r in records]
    keys = sorted({k for r in records for k in record_lookup_keys(r)})
    should: list[dict[str, Any]] = [{"terms": {"citations.cites": ids}}]
    if keys:
        should.append({"terms": {"ix.ref_keys": keys}})
    query = {"bool": {"should": should, "minimum_should_match": 1, "must_not": [{"ids": {"values": ids}}]}}
    found = helpers.scan(es, index=index, query={"query": query, "_source": False}, size=_CITER_PAGE)
    return _unique(hit["_id"] for hit in found)


Document = tuple[Record, dict[str, Any], int]  # the record, its citations block, its version


def read_documents(es: Elasticsearch, index: str, ids: list[str]) -> dict[str, Document]:
    out: dict[str, Document] = {}
    for doc in es.mget(index=index, ids=ids)["docs"]:
        if not doc.get("found"):
            continue
        body = dict(doc["_source"])
        citations = body.pop(CITATIONS, None) or {}
        try:
            record = Record.model_validate(body)  # with its references' linked IDs
        except ValidationError:
            continue  # written under an older model: the next ingest of it replaces it
        out[doc["_id"]] = (record, dict(citations), int(doc["_version"]))
    return out


@lru_cache(maxsize=65536)
def _shares(citing: tuple[str, ...], cited: tuple[str, ...]) -> bool:
    # A record is relinked each time one of the records it cites arrives: the pairs repeat.
    return shares_any_author(citing, cited)


def _is_self(authors: tuple[str, ...], cited: Record) -> bool:
    return bool(authors) and _shares(authors, tuple(a.name for a in cited.authors))


def linked_references(record: Record, targets: Sequence[str | None]) -> Record:
    """`record` with each reference linked to its target (None: unlinked)."""
    refs = [
        r if r.linked_id == t else r.model_copy(update={"linked_id": t})
        for r, t in zip(record.references, targets, strict=True)
    ]
    return record.model_copy(update={"references": refs})


def with_links(old: Mapping[str, Any], cites: Sequence[str], cites_self: Sequence[str]) -> dict[str, Any]:
    """The citations block `old` with these cites and cites_self (the counts kept as they are)."""
    out = {k: v for k, v in old.items() if k not in ("cites", "cites_self")}
    if cites:
        out["cites"] = list(cites)
    if cites_self:
        out["cites_self"] = list(cites_self)
    return out


@dataclass(frozen=True)
class Plan:
    """A record's link state recomputed from the version read, before anything is written."""

    version: int
    targets: tuple[str | None, ...]  # per reference, in order
    cites: tuple[str, ...]  # each cited ID once
    cites_self: tuple[str, ...]
    old_cites: frozenset[str]
    old_self: frozenset[str]
    changed: bool  # whether the references' links or the cites differ from what was read

    @property
    def cites_changed(self) -> bool:
        return set(self.cites) != self.old_cites or set(self.cites_self) != self.old_self


def _affected(refs: Sequence[Wanted], arrivals: Arrivals) -> list[bool]:
    """Which references of a citer the arrivals may have changed: those sharing a key with one of
    them, or linked to one. A reference's target depends only on the records sharing its keys, so
    the others resolve as they did."""
    return [
        (w.ref.linked_id is not None and w.ref.linked_id in arrivals.ids)
        or not arrivals.keys.isdisjoint(w.keys)
        for w in refs
    ]


def plan_links(
    es: Elasticsearch,
    index: str,
    current: Mapping[str, Document],
    arrivals: Arrivals | None = None,
) -> dict[str, Plan]:
    """The link state of each record in `current`, resolved against the index as it is now.

    With `arrivals`, of the records that are not arrivals (their citers) only the references the
    arrivals may have changed are resolved again; otherwise every reference of every record is.
    """
    wanted: list[Wanted] = []
    redo: dict[str, list[bool]] = {}
    for rid, (record, _, _) in current.items():
        refs = [Wanted(rid, ref) for ref in record.references]
        citer = arrivals is not None and rid not in arrivals.ids
        redo[rid] = _affected(refs, arrivals) if citer and arrivals else [True] * len(refs)
        wanted += [w for w, again in zip(refs, redo[rid], strict=True) if again]
    resolved = iter(resolve(es, index, wanted))
    plans: dict[str, Plan] = {}
    for rid, (record, citations, version) in current.items():
        found: dict[str, Record] = {}
        targets: list[str | None] = []
        for ref, again in zip(record.references, redo[rid], strict=True):
            if not again:
                targets.append(ref.linked_id)
                continue
            target = next(resolved)
            if target is not None:
                found[target.id] = target
            targets.append(target.id if target else None)
        cites = _unique(targets)
        old_self = frozenset(citations.get("cites_self") or [])
        authors = tuple(a.name for a in record.authors)
        # 自引: the citing and cited records share any author, over both full author lists. A target
        # kept from before (a reference the arrivals cannot have changed) keeps its decision.
        cites_self = [c for c in cites if (_is_self(authors, found[c]) if c in found else c in old_self)]
        old_cites = list(citations.get("cites") or [])
        changed = (
            any(r.linked_id != t for r, t in zip(record.references, targets, strict=True))
            or old_cites != cites
            or list(citations.get("cites_self") or []) != cites_self
        )
        plans[rid] = Plan(
            version, tuple(targets), tuple(cites), tuple(cites_self), frozenset(old_cites), old_self, changed
        )
    return plans


def _round(
    es: Elasticsearch,
    index: str,
    ids: list[str],
    tokenizer: Tokenizer,
    arrivals: Arrivals,
    result: LinkResult,
    *,
    partial: bool,
    read: Mapping[str, Document] | None = None,
) -> list[str]:
    """Recompute and write the links of `ids`; returns the IDs that met a concurrent write.

    With `partial`, the citers of the arrivals have only the references the arrivals may have
    changed resolved again (plan_links). `read` holds documents already read (a write since shows
    up as a conflict; the next round reads).
    """
    known = read or {}
    current = {rid: known[rid] for rid in ids if rid in known}
    if len(current) < len(ids):
        current |= read_documents(es, index, [rid for rid in ids if rid not in known])
    plans = plan_links(es, index, current, arrivals if partial else None)
    actions: list[dict[str, Any]] = []
    dirty: dict[str, frozenset[str]] = {}
    for rid, plan in plans.items():
        record, citations, version = current[rid]
        new_cites = set(plan.cites)
        # A record that just arrived may have changed its access level: all it cites is recounted.
        dirty[rid] = plan.old_cites | new_cites if rid in arrivals.ids else plan.old_cites ^ new_cites
        if not plan.changed:
            continue
        doc = index_document(
            linked_references(record, plan.targets),
            tokenizer,
            with_links(citations, plan.cites, plan.cites_self),
        )
        actions.append(
            {"_index": index, "_id": rid, "version": version + 1, "version_type": "external", "_source": doc}
        )
    conflicts: list[str] = []
    retry: list[str] = []
    unchanged = set(current) - {a["_id"] for a in actions}
    for ok, item in helpers.streaming_bulk(
        es, actions, chunk_size=BATCH, raise_on_error=False, max_retries=3
    ):
        info = next(iter(item.values()))
        rid = info.get("_id", "")
        if ok:
            result.changed.append(rid)
            result.dirty |= dirty.get(rid, frozenset())
        elif info.get("status") == 409:
            conflicts.append(rid)
        elif info.get("status") in (429, 503):
            retry.append(str(info.get("error")))
        else:
            raise RuntimeError(f"link write of {rid} failed: {info.get('error')}")
    for rid in unchanged:
        result.dirty |= dirty.get(rid, frozenset())
    if retry:
        raise RetryableBulkError(retry[0])
    return conflicts


@dataclass(frozen=True)
class Arrivals:
    """Records just written, whose citers are being relinked: their IDs and their match keys."""

    ids: frozenset[str]
    keys: frozenset[str]


def link_records(
    es: Elasticsearch, index: str, ids: Sequence[str], tokenizer: Tokenizer, *, incoming: bool = True
) -> LinkResult:
    """Recompute the links of `ids` (and, with `incoming`, of the records that may cite them)."""
    result = LinkResult()
    ids = _unique(ids)
    if not ids:
        return result
    # Candidates and citers are found by search: what was just written must be visible to it.
    es.indices.refresh(index=index)
    arrivals = Arrivals(frozenset(ids), frozenset())
    todo = list(ids)
    read: dict[str, Document] = {}
    if incoming:
        # The citers of the whole call at once: one citing several of `ids` is written once.
        keys: set[str] = set()
        citers: list[str] = []
        for start in range(0, len(ids), BATCH):
            docs = read_documents(es, index, ids[start : start + BATCH])
            read.update(docs)
            arrived = [rec for rec, _, _ in docs.values()]
            keys.update(k for r in arrived for k in record_keys(r))
            citers += citers_of(es, index, arrived)
        todo += [c for c in _unique(citers) if c not in arrivals.ids]
        arrivals = Arrivals(arrivals.ids, frozenset(keys))
    for start in range(0, len(todo), BATCH):
        _link_batch(es, index, todo[start : start + BATCH], tokenizer, arrivals, result, read)
    return result


def _link_batch(
    es: Elasticsearch,
    index: str,
    ids: list[str],
    tokenizer: Tokenizer,
    arrivals: Arrivals,
    result: LinkResult,
    read: Mapping[str, Document],
) -> None:
    pending = ids
    result.examined += len(ids)
    for round_no in range(CONFLICT_ROUNDS):
        if round_no:
            time.sleep(random.uniform(0, 0.04 * 2 ** min(round_no, 6)))
        # A record that met a concurrent write may have new references: those rounds redo it whole.
        first = not round_no
        pending = _round(
            es, index, pending, tokenizer, arrivals, result, partial=first, read=read if first else None
        )
        if not pending:
            return
    result.failed += pending
