"""Bulk writes with stable IDs and external versions, sized by bytes as well as count."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from elasticsearch import Elasticsearch, helpers

from ingest.document import index_document
from mappings.analysis.tokenizer import Tokenizer
from mappings.model import Record


class RetryableBulkError(RuntimeError):
    """Elasticsearch pushed back (429/503) on some items; the whole chunk is retried, idempotently."""


@dataclass
class WriteResult:
    indexed: int = 0
    skipped: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (position, reason)


def write_records(
    es: Elasticsearch,
    index: str,
    records: Iterable[tuple[str, Record]],
    tokenizer: Tokenizer,
    *,
    max_docs: int = 1000,
    max_bytes: int = 5 * 1024 * 1024,
    refresh: bool = False,
) -> WriteResult:
    """Index (position, record) pairs; a newer version already in the index makes a write a no-op."""
    positions: dict[str, str] = {}

    def actions() -> Iterable[dict[str, Any]]:
        for position, record in records:
            positions[record.id] = position
            yield {
                "_index": index,
                "_id": record.id,
                "version": record.version,
                # external_gte: re-running the same ingest rewrites, an older write never wins.
                "version_type": "external_gte",
                "_source": index_document(record, tokenizer),
            }

    result = WriteResult()
    retry_reasons: list[str] = []
    for ok, item in helpers.streaming_bulk(
        es,
        actions(),
        chunk_size=max_docs,
        max_chunk_bytes=max_bytes,
        raise_on_error=False,
        raise_on_exception=True,
        max_retries=3,
        initial_backoff=1,
        refresh=refresh,
    ):
        info = item.get("index", {})
        if ok:
            result.indexed += 1
            continue
        status = info.get("status")
        if status == 409:
            result.skipped += 1
        elif status in (429, 503):
            retry_reasons.append(str(info.get("error")))
        else:
            err = info.get("error") or {}
            reason = err.get("reason", str(err)) if isinstance(err, dict) else str(err)
            result.failed.append((positions.get(info.get("_id", ""), "?"), f"索引失败：{reason}"))
    if retry_reasons:
        raise RetryableBulkError(retry_reasons[0])
    return result
