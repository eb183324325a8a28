"""Candidate records for one reference: the Elasticsearch body that finds them, and the decision.

Pure (no client, no index name), so ingest-side linking and search-side matching run the same
retrieval and the same scoring; the caller adds its own filters (the access policy on the search
side) and runs the body, alone or in an msearch.

Retrieval casts wide and the decision is strict. The body asks, in one bool `should`:
- the blocking keys (`ix.match_keys` against `keys.reference_keys`: DOI, title fingerprint + year,
  surname + year + first page), and the DOI field itself for records indexed before match keys;
- the title as words against `ix.title_cjk`, which Elasticsearch analyses with the index's own
  analyzer at both ends (standard tokenizer, CJK bigrams), so no Python tokenizer has to agree with
  the index; half the words must match, which a title cut or garbled by PDF extraction still meets;
- for a reference without title (WoS `CR`, "Cramer RD (2003) J Med Chem 46:374-389"): volume
  together with the first page or the venue.
`decide` then scores every hit with `score.score` and refuses ambiguity (`score.best_match`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from mappings.analysis.normalize import fold
from mappings.citations.doi import normalize_doi
from mappings.citations.keys import first_page, reference_keys
from mappings.citations.score import Match, best_match
from mappings.model import Record, Reference

# What `decide` reads of a hit: enough to build a Record, nothing heavy (no abstract, full text,
# reference list).
SOURCE_FIELDS = [
    "id", "source", "source_id", "doc_type", "title", "title_en", "authors", "venue", "year", "volume",
    "issue", "pages", "doi", "ingested_at", "version",
]  # fmt: skip
_MAX_TITLE_QUERY = 300  # characters of a title sent as words; the rest adds cost, not recall


def candidate_query(ref: Reference, size: int = 10) -> dict[str, Any]:
    """An ES search body whose hits include the record `ref` cites, if the index holds it."""
    should: list[dict[str, Any]] = []
    keys = reference_keys(ref)
    if keys:
        should.append({"terms": {"ix.match_keys": keys, "boost": 5.0}})
    doi = normalize_doi(ref.doi) if ref.doi else None
    if doi:
        should.append({"term": {"doi": {"value": doi, "boost": 10.0}}})
    if ref.title:
        words = fold(ref.title)[:_MAX_TITLE_QUERY]
        should.append({"match": {"ix.title_cjk": {"query": words, "minimum_should_match": "50%"}}})
    elif ref.volume and (ref.pages or ref.venue):
        also: list[dict[str, Any]] = []
        page = first_page(ref.pages)
        if page:
            also.append({"prefix": {"pages": page}})
        if ref.venue:
            also.append({"term": {"venue": ref.venue}})
        should.append({"bool": {"filter": [{"term": {"volume": ref.volume}}], "should": also,
                                "minimum_should_match": 1}})  # fmt: skip
    if not should:
        return {"size": 0, "query": {"match_none": {}}}
    return {
        "size": size,
        "query": {"bool": {"should": should, "minimum_should_match": 1}},
        "_source": SOURCE_FIELDS,
    }


def hit_record(hit: Mapping[str, Any]) -> Record | None:
    """The Record of one search hit read with `candidate_query`'s body; None if it does not validate."""
    src = hit.get("_source") or {}
    try:
        return Record.model_validate(
            {k: v for k, v in src.items() if k in SOURCE_FIELDS} | {"id": hit["_id"]}
        )
    except ValidationError:
        return None


def decide(ref: Reference, hits: Sequence[Record]) -> Match:
    """The record `ref` cites among `hits`, or none: too little evidence or two equal fits."""
    if not (ref.doi or ref.title or (ref.authors and ref.volume and ref.pages)):
        return Match(None, 0.0, "nothing to match on")
    return best_match(ref, hits)
