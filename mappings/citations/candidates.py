"""Candidate records for one reference: an Elasticsearch body to find them, and the decision.

Pure (no client): ingest-side linking (citeindex/) and search-side matching both run the body and
hand the hits back. This is the minimal version citation linking needs; the matcher's owner tunes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mappings.citations.keys import reference_keys
from mappings.citations.score import Match, best_match
from mappings.model import Record, Reference

# What scoring reads of a candidate, plus what a Record needs to validate.
CANDIDATE_SOURCE = [
    "id", "source", "source_id", "doc_type", "title", "authors", "venue", "year", "volume", "issue",
    "pages", "doi", "ingested_at", "version", "tech_report",
]  # fmt: skip


def candidate_query(ref: Reference, size: int = 10) -> dict[str, Any]:
    keys = reference_keys(ref)
    query: dict[str, Any] = {"terms": {"ix.match_keys": keys}} if keys else {"match_none": {}}
    return {"query": query, "size": size, "_source": CANDIDATE_SOURCE, "sort": [{"id": "asc"}]}


def decide(ref: Reference, hits: Sequence[Record]) -> Match:
    return best_match(ref, hits)
