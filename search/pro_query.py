"""Build the Elasticsearch request for a professional (pro mode) expression."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mappings.analysis.tokenizer import Tokenizer
from search.fields import HIGHLIGHT_FIELDS
from search.query import HistoryResolver, cnki, compile_query, normalized, parse
from search.query.highlight_terms import highlight_terms
from search.simple_query import request_body


@dataclass(frozen=True)
class ProRequest:
    body: dict[str, Any]
    normalized: str
    cnki: str


def build_pro(
    q: str,
    *,
    tokenizer: Tokenizer,
    page: int = 1,
    size: int = 20,
    filters: Mapping[str, Sequence[str]] | None = None,
    history: HistoryResolver | None = None,
    sort: str = "relevance",
) -> ProRequest:
    """Parse, compile and wrap an analyst's expression; QueryError (a BadQuery) on anything unreadable."""
    ast = parse(q)
    body = request_body(compile_query(ast, tokenizer=tokenizer, history=history), page=page, size=size,
                        filters=filters, sort=sort)  # fmt: skip
    body["highlight"] = _highlight(highlight_terms(ast, tokenizer))
    return ProRequest(body=body, normalized=normalized(ast), cnki=cnki(ast))


def published_by(year: int) -> dict[str, Any]:
    """Documents published in or before `year`, and those whose year is unknown.

    A novelty search looks for what was public before the commission; a record without a year
    cannot be dated either way, so it stays in front of the analyst rather than silently vanishing."""
    return {
        "bool": {
            "should": [
                {"range": {"year": {"lte": year}}},
                {"bool": {"must_not": [{"exists": {"field": "year"}}]}},
            ],
            "minimum_should_match": 1,
        }
    }


def _highlight(terms: dict[str, list[str]]) -> dict[str, Any]:
    """Highlights on the bigram fields (they map back onto the display text), asked for with the
    phrases the expression searched each member for: exact and fuzzy matches both light up."""
    fields: dict[str, Any] = {}
    for display, field in HIGHLIGHT_FIELDS.items():
        spec: dict[str, Any] = (
            {"fragment_size": 160, "number_of_fragments": 3}
            if display == "abstract"
            else {"number_of_fragments": 0}
        )
        phrases = terms.get(display)
        if phrases:
            spec["highlight_query"] = {"bool": {"should": [{"match_phrase": {field: p}} for p in phrases]}}
        fields[field] = spec
    return {"pre_tags": ["\ue000"], "post_tags": ["\ue001"], "require_field_match": True, "fields": fields}
