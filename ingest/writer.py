"""Bulk writes with stable IDs, merged with what the index holds, sized by bytes as well as count."""

from __future__ import annotations

import random
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError, helpers
from elasticsearch import ConnectionError as ESConnectionError
from pydantic import ValidationError

from ingest.document import index_document
from ingest.guard import WriteGuard, is_restricted
from ingest.link_state import LinkState, reapply, record_and_state
from ingest.merge import Outcome, merge, source_refs
from mappings.analysis.tokenizer import Tokenizer
from mappings.model import Record, SourceRef


class RetryableBulkError(RuntimeError):
    """Elasticsearch pushed back (429/503) on some items; the whole chunk is retried, idempotently."""


def is_retryable(exc: BaseException) -> bool:
    """A write failure that an Elasticsearch outage explains, so the task may try again later."""
    if isinstance(exc, (ESConnectionError, RetryableBulkError)):
        return True
    if isinstance(exc, ApiError) and exc.meta.status in (429, 502, 503, 504):
        return True
    return isinstance(exc, TransportError)


@dataclass
class WriteResult:
    indexed: int = 0  # written: new records, and records a source changed or joined
    skipped: int = 0  # nothing to write: a repeated or late write
    merged: int = 0  # of the indexed, records that a further source joined
    failed: list[tuple[str, str]] = field(default_factory=list)  # (position, reason)
    # Positions of failures about a 限制 report, with its ID: only those who may see it read the error.
    restricted: dict[str, str] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)  # IDs this write created
    written: list[str] = field(default_factory=list)  # IDs this write created or changed
    # Of `written`, those whose citation links may change. Left out: records this write created that
    # have no references and no match keys. Nothing can cite them (a reference links only to a record
    # sharing one of its keys, citeindex/resolve.py), an ID that did not exist is in nobody's
    # `citations.cites`, and they cite nothing: linking them writes and recounts nothing (CSL records,
    # which carry neither references nor year or DOI, are all such).
    to_link: list[str] = field(default_factory=list)


# How often a record is re-read and re-merged when another writer got there first; the pause
# between rounds grows and is jittered so that writers racing for one record spread out.
CONFLICT_ROUNDS = 12
_CONFLICT_PAUSE = 0.02


def write_records(
    es: Elasticsearch,
    index: str,
    records: Iterable[tuple[str, Record]],
    tokenizer: Tokenizer,
    *,
    max_docs: int = 1000,
    max_bytes: int = 5 * 1024 * 1024,
    refresh: bool = False,
    guard: WriteGuard | None = None,
) -> WriteResult:
    """Index (position, record) pairs, merging each with what the index already holds under its ID.

    Writes are optimistic: a new ID is created only if still absent, and a merged record carries
    the next external version of the one it was merged with. A concurrent writer's change shows
    up as a conflict, and the record is read and merged again, so no source's values are lost.
    `guard` sees every write that would change an existing ID and may refuse it (ingest/guard.py).
    """
    result = WriteResult()
    batch: dict[str, tuple[str, Record]] = {}
    for position, record in records:
        if record.id in batch:
            # The same record twice in one batch (a file that repeats an item): merge them first.
            earlier_position, earlier = batch[record.id]
            combined = merge(earlier, record)
            # Every incoming record is counted once: seen = indexed + skipped + failed.
            if combined.outcome is Outcome.UNCHANGED:
                result.skipped += 1
            else:
                result.indexed += 1
                result.merged += int(combined.outcome is Outcome.MERGED)
            record, position = combined.record, earlier_position
        batch[record.id] = (position, record)
        if len(batch) >= max_docs:
            _write_batch(
                es, index, batch, tokenizer, result, max_docs=max_docs, max_bytes=max_bytes, guard=guard
            )
            batch = {}
    if batch:
        _write_batch(es, index, batch, tokenizer, result, max_docs=max_docs, max_bytes=max_bytes, guard=guard)
    if refresh:
        es.indices.refresh(index=index)
    return result


Existing = tuple[Record | None, int, LinkState]


def _existing(es: Elasticsearch, index: str, ids: list[str]) -> dict[str, Existing]:
    found: dict[str, Existing] = {}
    for doc in es.mget(index=index, ids=ids)["docs"]:
        if not doc.get("found"):
            continue
        state = LinkState()
        try:
            # Citation link state is not the source's content: merged apart, put back after.
            record: Record | None
            record, state = record_and_state(doc["_source"])
        except ValidationError:
            record = None  # written under an older model: the incoming record replaces it
        found[doc["_id"]] = (record, int(doc["_version"]), state)
    return found


def _ref_key(ref: SourceRef) -> tuple[str, str, int, str | None, str | None]:
    return ref.source, ref.source_id, ref.version, ref.raw_sha256, ref.position


def _written_by(existing: Record, incoming: Record) -> bool:
    """Whether the index already lists this very source entry: same line of the same raw file, same version.

    Versions are fixed per job, so only an earlier attempt of the same job's task matches.
    """
    mine = {_ref_key(r) for r in source_refs(incoming)}
    return any(_ref_key(r) in mine for r in source_refs(existing))


def _write_batch(
    es: Elasticsearch,
    index: str,
    batch: dict[str, tuple[str, Record]],
    tokenizer: Tokenizer,
    result: WriteResult,
    *,
    max_docs: int,
    max_bytes: int,
    guard: WriteGuard | None = None,
) -> None:
    pending = dict(batch)
    for round_no in range(CONFLICT_ROUNDS):
        if round_no:
            time.sleep(random.uniform(0, _CONFLICT_PAUSE * 2 ** min(round_no, 6)))
        existing = _existing(es, index, list(pending))
        actions: list[dict[str, Any]] = []
        outcomes: dict[str, Outcome] = {}
        inert: set[str] = set()  # new records that cannot link (WriteResult.to_link)
        for rid, (_, record) in pending.items():
            old, es_version, state = existing.get(rid, (None, 0, LinkState()))
            merged = merge(old, record)
            if merged.outcome is Outcome.UNCHANGED:
                if old is not None and _written_by(old, record):
                    result.indexed += 1  # an earlier attempt of this write got it in, then died or failed
                    result.written.append(rid)  # and perhaps died before queueing its linking
                    result.to_link.append(rid)
                else:
                    result.skipped += 1
                continue
            refusal = guard(old, rid in existing, merged.record) if guard else None
            if refusal is not None:
                position = pending[rid][0]
                result.failed.append((position, refusal))
                if is_restricted(old) or is_restricted(record) or (old is None and rid in existing):
                    result.restricted[position] = rid
                continue
            outcomes[rid] = merged.outcome
            doc = index_document(reapply(merged.record, state), tokenizer, state.citations)
            action: dict[str, Any] = {"_index": index, "_id": rid, "_source": doc}
            if rid in existing:
                action.update(version=es_version + 1, version_type="external")
            else:
                action["_op_type"] = "create"  # so the ID did not exist when this write succeeds
                if not merged.record.references and "match_keys" not in doc["ix"]:
                    inert.add(rid)
            actions.append(action)
        conflicts = _bulk(
            es, actions, pending, outcomes, inert, result, max_docs=max_docs, max_bytes=max_bytes
        )
        pending = {rid: pending[rid] for rid in conflicts}
        # A conflict means the ID exists now: the next round sees it, and the guard with it.
        if not pending:
            return
    for rid, (position, record) in pending.items():
        result.failed.append((position, "索引失败：同一记录被并发写入，多次重试后仍冲突"))
        if is_restricted(record):
            result.restricted[position] = rid


def _bulk(
    es: Elasticsearch,
    actions: list[dict[str, Any]],
    pending: dict[str, tuple[str, Record]],
    outcomes: dict[str, Outcome],
    inert: set[str],
    result: WriteResult,
    *,
    max_docs: int,
    max_bytes: int,
) -> list[str]:
    """Send the actions; returns the IDs that met a concurrent write and must be merged again."""
    conflicts: list[str] = []
    retry_reasons: list[str] = []
    for ok, item in helpers.streaming_bulk(
        es,
        actions,
        chunk_size=max_docs,
        max_chunk_bytes=max_bytes,
        raise_on_error=False,
        raise_on_exception=True,
        max_retries=3,
        initial_backoff=1,
    ):
        info = next(iter(item.values()))
        rid = info.get("_id", "")
        if ok:
            result.indexed += 1
            result.written.append(rid)
            if rid not in inert:
                result.to_link.append(rid)
            if outcomes.get(rid) is Outcome.NEW:
                result.created.append(rid)
            if outcomes.get(rid) is Outcome.MERGED:
                result.merged += 1
            continue
        status = info.get("status")
        if status == 409:
            conflicts.append(rid)
        elif status in (429, 503):
            retry_reasons.append(str(info.get("error")))
        else:
            err = info.get("error") or {}
            reason = err.get("reason", str(err)) if isinstance(err, dict) else str(err)
            position = pending[rid][0] if rid in pending else "?"
            result.failed.append((position, f"索引失败：{reason}"))
            if rid in pending and is_restricted(pending[rid][1]):
                result.restricted[position] = rid
    if retry_reasons:
        raise RetryableBulkError(retry_reasons[0])
    return conflicts
