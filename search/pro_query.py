"""Build the Elasticsearch request for a professional (pro mode) expression."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mappings.analysis.tokenizer import Tokenizer
from search.fields import HIGHLIGHT_FIELDS
from search.query import HistoryResolver, cnki, compile_query, normalized, parse
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
    # Exact (phrase) matches light up on the bigram fields, which map back onto the display text.
    body["highlight"] = {
        "pre_tags": ["\ue000"],
        "post_tags": ["\ue001"],
        "require_field_match": True,
        "fields": {
            field: ({"fragment_size": 160, "number_of_fragments": 3} if display == "abstract"
                    else {"number_of_fragments": 0})
            for display, field in HIGHLIGHT_FIELDS.items()
        },
    }  # fmt: skip
    return ProRequest(body=body, normalized=normalized(ast), cnki=cnki(ast))
