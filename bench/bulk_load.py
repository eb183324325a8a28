"""Index recombined CSL records straight into Elasticsearch, without the ingest pipeline.

For benchmarks and tests that need a large corpus quickly: each record goes through the same
`ingest.document.index_document` (the `ix.*` fields) as an ingested one, but no worker, merge or
job is involved. Not a replacement for ingest: nothing is kept in the raw store.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from elasticsearch import Elasticsearch, helpers

from ingest.document import index_document
from mappings.analysis.tokenizer import Tokenizer
from mappings.model import DocType, Record

INGESTED_AT = datetime(2026, 11, 1, tzinfo=UTC)


def as_record(raw: dict[str, Any], *, extra_keywords: Sequence[str] = (), year: int | None = None) -> Record:
    """A synthesized row (bench/corpus.py) as the canonical record, its generator ID as the record ID."""
    return Record.model_validate({
        "id": raw["id"], "source": "bench", "source_id": raw["id"], "doc_type": DocType.journal_article,
        "title": raw["title"], "abstract": raw.get("abstract") or None,
        "keywords": [*raw.get("keywords", []), *extra_keywords], "category": raw.get("category"),
        "discipline": raw.get("discipline"), "year": year, "ingested_at": INGESTED_AT, "version": 1,
    })  # fmt: skip


def bulk_index(es: Elasticsearch, index: str, records: Sequence[Record], tokenizer: Tokenizer) -> int:
    """Index `records` under their IDs and refresh; returns how many were written (all, or it raises)."""

    def actions() -> Iterator[dict[str, Any]]:
        for record in records:
            yield {"_index": index, "_id": record.id, "_source": index_document(record, tokenizer)}

    ok, errors = helpers.bulk(es.options(request_timeout=300), actions(), chunk_size=2000, raise_on_error=False)
    if errors:
        raise RuntimeError(f"{len(errors)} records were not indexed, e.g. {errors[0]}")
    es.indices.refresh(index=index)
    return int(ok)
