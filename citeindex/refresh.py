"""The citation refresh: the links of arrived records and of their citers, and the stored counts, in
one write per record.

Ingest's link task only notes what arrived (`note_arrivals`): the new records and the records whose
references may cite them (`link.citers_of`: their `ix.ref_keys` meet the arrivals' lookup keys, or
their `citations.cites` names one) go into a Redis set per index. `refresh` then takes what is noted,
with the records whose counts relink marked dirty (counts.py), and

1. resolves every reference of every noted record again (`link.plan_links`) against the index as it
   is: the same function of the references and the records as `link.link_records`, so either order of
   arrival gives the same links;
2. counts the records whose counts may change (the old and new targets of the noted records, and the
   dirty ones), one aggregation per 1,000 IDs, and corrects each count by the link changes of step 1
   that are not written yet: a citer every visitor may see leaves its old targets and joins its new
   ones;
3. writes each record whose links or counts changed once, with the next external version of the
   version it read. A noted record written by anyone else since step 1 goes back in the set, and its
   targets in the dirty set, for the next pass: a late write never overwrites a newer record, and a
   count that assumed a plan nobody wrote is counted again.

So a record is written by ingest and then once per refresh that changes it, where each link task that
touched it and each count refresh wrote it before (about 5.3 writes per record in
bench/citations_ingest.py, now at most 2 when one refresh follows the load). A refresh must run alone
per index (the task holds a lock): two of them would correct the same counts twice.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import redis
from elasticsearch import Elasticsearch, helpers

from citeindex.counts import Stored, count_citers, dirty_key
from citeindex.link import BATCH, Plan, citers_of, linked_references, plan_links, read_documents, with_links
from citeindex.resolve import read_candidates
from ingest.document import index_document
from ingest.writer import CONFLICT_ROUNDS, RetryableBulkError
from mappings.analysis.tokenizer import Tokenizer
from search.policy import search_filter
from search.principal import ANONYMOUS

PASS = 20_000  # noted records taken per pass: their plans (IDs only) are held until written
_COUNT_BATCH = 1000


def noted_key(index: str) -> str:
    return f"chaxin:citations:noted:{index}"


@dataclass
class RefreshResult:
    relinked: int = 0  # noted records whose links were recomputed
    links_changed: int = 0  # of them, records whose links changed
    counted: int = 0  # records whose counts were recomputed
    written: int = 0  # records written (links, counts or both)
    requeued: int = 0  # records put back after a concurrent write


def _ids(raw: Iterable[Any]) -> list[str]:
    return sorted(i.decode() if isinstance(i, bytes) else str(i) for i in raw)


def note_arrivals(es: Elasticsearch, r: redis.Redis, index: str, ids: Iterable[str]) -> int:
    """Note `ids` (just written) and the records that may cite them for the next refresh."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        return 0
    # Citers are found by search: what was just written must be visible to it.
    es.indices.refresh(index=index)
    noted = set(ids)
    for start in range(0, len(ids), BATCH):
        # Citers are found by the arrivals' keys: their references need not be read.
        noted.update(citers_of(es, index, read_candidates(es, index, ids[start : start + BATCH])))
    return int(r.sadd(noted_key(index), *sorted(noted)))


def _visible(es: Elasticsearch, index: str, ids: list[str]) -> set[str]:
    """Of `ids`, the records every visitor may see (the citers the stored counts count)."""
    visible = search_filter(ANONYMOUS)
    if visible is None or not ids:
        return set(ids)
    out: set[str] = set()
    for start in range(0, len(ids), _COUNT_BATCH):
        part = ids[start : start + _COUNT_BATCH]
        resp = es.search(
            index=index, size=len(part), source=False,
            query={"bool": {"filter": [{"ids": {"values": part}}, visible]}},
        )  # fmt: skip
        out.update(h["_id"] for h in resp["hits"]["hits"])
    return out


def _counts(es: Elasticsearch, index: str, ids: list[str], plans: Mapping[str, Plan]) -> dict[str, Stored]:
    """The stored counts of `ids` once the plans are written."""
    total: dict[str, int] = {}
    own: dict[str, int] = {}
    hidden: dict[str, int] = {}
    for start in range(0, len(ids), _COUNT_BATCH):
        for rid, s in count_citers(es, index, ids[start : start + _COUNT_BATCH]).items():
            total[rid], own[rid], hidden[rid] = s.count, s.count - s.others, s.restricted
    # The index still holds each planned citer's old links: take them out, put the new ones in. A
    # citer every visitor may see moves the public pair; a 限制 one moves the restricted count.
    moved = [rid for rid, p in plans.items() if p.cites_changed]
    public = _visible(es, index, moved)
    for rid in moved:
        p = plans[rid]
        moves = (
            ((p.old_cites, set(p.cites), total), (p.old_self, set(p.cites_self), own))
            if rid in public else ((p.old_cites, set(p.cites), hidden),)
        )  # fmt: skip
        for old, new, into in moves:
            for x in old - new:
                if x in into:
                    into[x] -= 1
            for x in new - old:
                if x in into:
                    into[x] += 1
    return {rid: Stored(max(total[rid], 0), max(total[rid] - own[rid], 0), max(hidden[rid], 0)) for rid in ids}


def refresh(es: Elasticsearch, r: redis.Redis, index: str, tokenizer: Tokenizer) -> RefreshResult:
    """Relink every noted record and recount every record that may have changed; see the module text."""
    result = RefreshResult()
    conflicted = 0  # passes in a row that met concurrent writes
    while conflicted < CONFLICT_ROUNDS:
        noted = _ids(r.spop(noted_key(index), PASS) or [])
        dirty = _ids(r.spop(dirty_key(index), PASS) or [])
        if not noted and not dirty:
            return result
        try:
            requeued = _pass(es, r, index, tokenizer, noted, dirty, result)
        except BaseException:
            # Popped before the work: nothing is lost when it fails (a second pass changes nothing).
            if noted:
                r.sadd(noted_key(index), *noted)
            if dirty:
                r.sadd(dirty_key(index), *dirty)
            raise
        conflicted = conflicted + 1 if requeued else 0
        if requeued:
            time.sleep(random.uniform(0, 0.04 * 2 ** min(conflicted, 6)))
    return result


def pending(r: redis.Redis, index: str) -> bool:
    """Whether records wait for a refresh (left by one that met too many concurrent writes)."""
    return bool(r.exists(noted_key(index), dirty_key(index)))


def _pass(
    es: Elasticsearch,
    r: redis.Redis,
    index: str,
    tokenizer: Tokenizer,
    noted: list[str],
    dirty: list[str],
    result: RefreshResult,
) -> int:
    es.indices.refresh(index=index)
    plans: dict[str, Plan] = {}
    for start in range(0, len(noted), BATCH):
        plans |= plan_links(es, index, read_documents(es, index, noted[start : start + BATCH]))
    result.relinked += len(plans)
    # A noted record may have changed its access level: everything it cites, before and after, is recounted.
    counted = set(dirty)
    for p in plans.values():
        counted |= p.old_cites | set(p.cites)
    counts = _counts(es, index, sorted(counted), plans)
    result.counted += len(counts)
    lost_plans: set[str] = set()
    lost_counts: set[str] = set()
    todo = sorted(set(counts) | {rid for rid, p in plans.items() if p.changed})
    for start in range(0, len(todo), BATCH):
        part = todo[start : start + BATCH]
        actions: list[dict[str, Any]] = []
        for rid, (record, citations, version) in read_documents(es, index, part).items():
            plan = plans.get(rid)
            new = dict(citations)
            if plan is not None:
                if version != plan.version:
                    lost_plans.add(rid)  # written since it was planned: planned again
                    continue
                if plan.changed:
                    record = linked_references(record, plan.targets)
                    new = with_links(citations, plan.cites, plan.cites_self)
            if rid in counts:
                wanted = counts[rid].fields()
                # A missing count is 0: records nobody cites carry none.
                if any(citations.get(k, 0) != v for k, v in wanted.items()):
                    new.update(wanted)
            if new == citations and not (plan is not None and plan.changed):
                continue
            actions.append({
                "_index": index, "_id": rid, "version": version + 1, "version_type": "external",
                "_source": index_document(record, tokenizer, new),
            })  # fmt: skip
        retry: list[str] = []
        for ok, item in helpers.streaming_bulk(
            es, actions, chunk_size=BATCH, raise_on_error=False, max_retries=3
        ):
            info = next(iter(item.values()))
            rid = info.get("_id", "")
            if ok:
                result.written += 1
                result.links_changed += int(rid in plans and plans[rid].changed)
            elif info.get("status") == 409:
                (lost_plans if rid in plans else lost_counts).add(rid)
            elif info.get("status") in (429, 503):
                retry.append(str(info.get("error")))
            else:
                raise RuntimeError(f"citation refresh write of {rid} failed: {info.get('error')}")
        if retry:
            raise RetryableBulkError(retry[0])
    # The counts written assumed these plans: their targets are counted again with them.
    for rid in lost_plans:
        lost_counts |= plans[rid].old_cites | set(plans[rid].cites)
    if lost_plans:
        r.sadd(noted_key(index), *sorted(lost_plans))
    if lost_counts:
        r.sadd(dirty_key(index), *sorted(lost_counts))
    result.requeued += len(lost_plans) + len(lost_counts)
    return len(lost_plans) + len(lost_counts)
