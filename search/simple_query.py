"""Build the Elasticsearch request for a simple (free-text) search."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mappings.analysis.normalize import normalize
from mappings.analysis.tokenizer import Tokenizer
from search.errors import BadQuery
from search.fields import BIGRAM_FIELDS, FACETS, FACETS_BY_NAME, HIGHLIGHT_FIELDS, JIEBA_FIELDS, SORTS

MAX_QUERY_CHARS = 500
MAX_PAGE_SIZE = 100
MAX_WINDOW = 10_000
MAX_YEAR = 9999


def _filters(filters: Mapping[str, Sequence[str]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for name, values in filters.items():
        facet = FACETS_BY_NAME.get(name)
        if facet is None:
            raise BadQuery(f"未知的筛选项：{name}")
        vals: list[Any] = [v for v in values if v != ""]
        if not vals:
            continue
        if facet.numeric:
            try:
                vals = [int(v) for v in vals]
            except ValueError:
                raise BadQuery(f"筛选项 {facet.label} 的值应为数字") from None
            # The index keeps years as `short`: a value it cannot hold is the user's mistake, not an outage.
            if any(not 0 <= v <= MAX_YEAR for v in vals):
                raise BadQuery(f"筛选项 {facet.label} 的值应为 0 至 {MAX_YEAR} 之间的整数") from None
        out.append({"terms": {facet.field: vals}})
    return out


def _text_query(q: str, tokenizer: Tokenizer) -> tuple[dict[str, Any], list[str]]:
    text = normalize(q)
    tokens = tokenizer.tokens(text)
    if not tokens:
        return {"match_all": {}}, []
    joined = " ".join(tokens)
    should: list[dict[str, Any]] = [
        # Most query tokens must appear; short queries need all of them.
        {"multi_match": {"query": joined, "fields": list(JIEBA_FIELDS), "type": "cross_fields",
                         "operator": "or", "minimum_should_match": "3<75%"}},
        # The whole query as a contiguous run (bigram phrase) is the strongest evidence.
        {"multi_match": {"query": text, "fields": list(BIGRAM_FIELDS), "type": "phrase", "boost": 2.0}},
        # Bigram recall for words jieba segmented differently in the document.
        {"multi_match": {"query": text, "fields": list(BIGRAM_FIELDS), "type": "best_fields",
                         "minimum_should_match": "75%", "boost": 0.5}},
    ]  # fmt: skip
    return {"bool": {"should": should, "minimum_should_match": 1}}, tokens


def _highlight(tokens: list[str], text: str) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for display, field in HIGHLIGHT_FIELDS.items():
        # Highlight each query token as a phrase on the bigram field: exact runs and scattered
        # (fuzzy) matches both light up, on text that maps back onto what the user sees.
        phrases = [{"match_phrase": {field: t}} for t in tokens] + [{"match_phrase": {field: text}}]
        spec: dict[str, Any] = {"highlight_query": {"bool": {"should": phrases}}}
        if display == "abstract":
            spec.update(fragment_size=160, number_of_fragments=3)
        else:
            spec.update(number_of_fragments=0)
        fields[field] = spec
    return {"pre_tags": ["\ue000"], "post_tags": ["\ue001"], "fields": fields, "require_field_match": True}


def check_paging(page: int, size: int) -> None:
    if page < 1:
        raise BadQuery("页码应从 1 开始")
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise BadQuery(f"每页条数应在 1 到 {MAX_PAGE_SIZE} 之间")
    if page * size > MAX_WINDOW:
        raise BadQuery(f"只能浏览前 {MAX_WINDOW} 条结果，请缩小检索范围")


def request_body(
    query: dict[str, Any],
    *,
    page: int,
    size: int,
    filters: Mapping[str, Sequence[str]] | None,
    sort: str = "relevance",
) -> dict[str, Any]:
    """Paging, sorting, facet filters and facet aggregations around a query; the total is always exact."""
    check_paging(page, size)
    if sort not in SORTS:
        raise BadQuery(f"未知的排序方式：{sort}（可用：{'、'.join(SORTS)}）")
    filter_clauses = _filters(filters or {})
    if filter_clauses:
        # Filters narrow the hits and the facet counts alike, so every number on the page agrees.
        query = {"bool": {"must": [query], "filter": filter_clauses}}
    return {
        "query": query,
        "from": (page - 1) * size,
        "size": size,
        "track_total_hits": True,
        "sort": SORTS[sort],
        "aggs": {
            f.name: {"terms": {"field": f.field, "size": f.size, **({"order": {"_key": "desc"}} if f.numeric else {})}}
            for f in FACETS
        },
    }


def build_simple(
    q: str,
    *,
    tokenizer: Tokenizer,
    page: int = 1,
    size: int = 20,
    filters: Mapping[str, Sequence[str]] | None = None,
    sort: str = "relevance",
) -> dict[str, Any]:
    """The search body: query, filters, facets, highlights, exact total."""
    if len(q) > MAX_QUERY_CHARS:
        raise BadQuery(f"检索词过长（{len(q)} 字），上限 {MAX_QUERY_CHARS} 字")
    query, tokens = _text_query(q, tokenizer)
    body = request_body(query, page=page, size=size, filters=filters, sort=sort)
    if tokens:
        body["highlight"] = _highlight(tokens, normalize(q))
    return body
