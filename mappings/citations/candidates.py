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
`second_query` is the matcher's second search for strings the first left unresolved: volume and
first page ranked by the string's own words, and the raw words when no title was parsed.
`decide` then scores every hit with `score.score` and refuses ambiguity (`score.best_match`).
"""

from __future__ import annotations

import re
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
_MIN_RAW_LETTERS = 20  # a raw string with fewer letters is not searched by its words
_LETTERS = re.compile(r"[A-Za-z]")
_DIGITS = re.compile(r"\d+")
_HAN = re.compile(r"[\u3400-\u9fff]")


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
            also.append(_page_query(page))
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


def second_query(ref: Reference, size: int = 10) -> dict[str, Any] | None:
    """A second search for a string `candidate_query` found nothing fitting for; None when it has
    nothing more to ask with.

    It asks for what a garbled string still holds: records of its volume and first page, ranked by
    the string's own words (whatever the parse made of them), the year and the venue; and, when no
    title was parsed at all, the string's words as a title. Run second and only for the unresolved
    (under a tenth of the glutton strings), it costs little, and its hits join the first search's
    before the decision, so ambiguity is judged over both."""
    should: list[dict[str, Any]] = []
    raw_words = _raw_words(ref)
    if clause := _volume_page_clause(ref, raw_words or (fold(ref.title) if ref.title else "")):
        should.append(clause)
    if not ref.title and raw_words:
        should.append({"match": {"ix.title_cjk": {"query": raw_words, "minimum_should_match": "50%"}}})
    if not should:
        return None
    return {
        "size": size,
        "query": {"bool": {"should": should, "minimum_should_match": 1}},
        "_source": SOURCE_FIELDS,
    }


def _page_query(page: str) -> dict[str, Any]:
    # "148" or "148-151", never "1480".
    return {"bool": {"should": [{"term": {"pages": page}}, {"prefix": {"pages": f"{page}-"}}]}}


def _raw_words(ref: Reference) -> str:
    """The raw string's words, digits left out (the title field rarely holds them); "" for Chinese
    strings, which have their own parsers, and for strings too short to search by."""
    if ref.raw and len(_LETTERS.findall(ref.raw)) >= _MIN_RAW_LETTERS and not _HAN.search(ref.raw):
        return _DIGITS.sub(" ", fold(ref.raw))[:_MAX_TITLE_QUERY]
    return ""


def _volume_page_clause(ref: Reference, words: str) -> dict[str, Any] | None:
    """Records of the same volume and first page, for a string whose title is garbled or cut.

    Volume and first page alone are common across journals (volume 12, page 1), so the clause also
    needs a word of the string (whatever the parse made of it), the year (±1) or the exact venue, and
    ranks by how many of them agree; the decision (`score`) then asks for the title in the string."""
    page = first_page(ref.pages)
    if not (ref.volume and page):
        return None
    page_q = _page_query(page)
    also: list[dict[str, Any]] = []
    if words:
        also.append({"match": {"ix.title_cjk": {"query": words}}})
    if ref.year:
        also.append({"range": {"year": {"gte": ref.year - 1, "lte": ref.year + 1}}})
    if ref.venue:
        also.append({"term": {"venue": ref.venue}})
    if not also:
        return {"bool": {"filter": [{"term": {"volume": ref.volume}}, page_q], "boost": 3.0}}
    return {
        "bool": {
            "filter": [{"term": {"volume": ref.volume}}, page_q],
            "should": also,
            "minimum_should_match": 1,
            "boost": 3.0,
        }
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
    if not (ref.doi or ref.title or (ref.authors and ref.volume and ref.pages) or _raw_words(ref)):
        return Match(None, 0.0, "nothing to match on")
    return best_match(ref, hits)
