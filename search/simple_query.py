"""Build the Elasticsearch request for a simple (free-text) search."""

from __future__ import annotations

import re
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


# A term holding a symbol that the bigram fields' standard tokenizer drops (c++, c#, .net, °c) is
# matched on the jieba fields alone, where jieba keeps the symbol inside the token ("c++", "c#"):
# on the bigram fields "c++", "c#" and "4°c" would all be the bare letter "c".
_SYMBOL = re.compile(r"[+#°&@]|\.(?=[a-z])")
# A Latin word alone is whole on the jieba fields; on the bigram fields "c" would also be C++ and C#.
_LATIN = re.compile(r"[a-z0-9.]+")


# Punctuation that separates words (after NFKC): a term ends there as at a space. Not + # . ° which
# belong to tokens such as c++, c#, .net and °c, nor a hyphen inside Latin text (l-g, bcl-2), which
# jieba keeps in one token.
_SEPARATORS = re.compile(r"[\s,，。、:：;；!！?？\"'“”‘’()（）\[\]【】{}<>《》〈〉/\\|~～—–·•]+|(?<![a-z0-9])-+|-+(?![a-z0-9])")


def terms(text: str) -> list[str]:
    """The terms of normalised query text, split at spaces and separating punctuation: each must match whole."""
    return [t for t in _SEPARATORS.split(text) if t]


_CJK_RUN = re.compile(r"[\u3400-\u9fff]{3,}")
# Scores: a whole-term match always outranks a variant (see _term_query), whatever BM25 says.
EXACT_BOOST = 10.0
VARIANT_SCORE = 0.1


def _variant(term: str, tokens: list[str]) -> list[dict[str, Any]]:
    """Near-misses that keep every part of the term in order: its jieba tokens a few words apart
    (问题的研究 for 问题研究) and, for a Chinese run, its characters with up to two between
    (锂离子电池 for 锂电池). Never one part alone."""
    out: list[dict[str, Any]] = []
    if len(tokens) > 1:
        out.append({"multi_match": {"query": " ".join(tokens), "fields": list(JIEBA_FIELDS), "type": "phrase",
                                    "slop": 3}})  # fmt: skip
    if _CJK_RUN.fullmatch(term):
        for field in BIGRAM_FIELDS:
            name = field.split("^")[0]
            # The index keeps unigrams beside the bigrams of these fields: one span per character.
            spans = [{"span_term": {name: ch}} for ch in term]
            out.append({"span_near": {"clauses": spans, "slop": 2, "in_order": True}})
    return out


# A Latin piece glued to the Chinese run at a term's edge may be a word cut in two, as in a title run
# copied from the middle of a title (iRNA抑制HL from "siRNA抑制HL-60"): it must end (lead) or begin
# (tail) a word of the record, beside the whole Chinese core.
_EDGES = re.compile(r"^(?P<lead>[a-z0-9]*)(?P<core>[\u3400-\u9fff].*?[\u3400-\u9fff]|[\u3400-\u9fff])(?P<tail>[a-z0-9]*)$")
_JIEBA_NAMES = tuple(f.split("^")[0] for f in JIEBA_FIELDS)
# A Latin word long enough that its cut-off piece still says something (never a lone letter: "c").
_CUT_WORD = re.compile(r"[a-z0-9]{2,}")


_CJK_THEN_LATIN = re.compile(r"[\u3400-\u9fff](?=[a-z0-9])")


def _bigram_phrase(run: str, *, breaks: int = 0) -> dict[str, Any]:
    """`run` as a contiguous phrase of the bigram fields.

    Where a Chinese run meets Latin text (对NB4) the index holds one unigram more than a query cuts
    (the index keeps unigrams, queries only bigrams), a position the phrase must be allowed to skip."""
    query: dict[str, Any] = {"query": run, "fields": list(BIGRAM_FIELDS), "type": "phrase"}
    gaps = len(_CJK_THEN_LATIN.findall(run)) + breaks
    if gaps:
        query["slop"] = gaps
    return {"multi_match": query}


def _cut_edges(term: str) -> dict[str, Any] | None:
    m = _EDGES.match(term)
    if m is None or not (m["lead"] or m["tail"]) or _SYMBOL.search(m["core"]):
        return None
    must: list[dict[str, Any]] = [_bigram_phrase(m["core"])]
    for pattern in (f"*{m['lead']}" if m["lead"] else "", f"{m['tail']}*" if m["tail"] else ""):
        if pattern:
            must.append({"bool": {"should": [{"wildcard": {f: {"value": pattern}}} for f in _JIEBA_NAMES]}})
    return {"bool": {"must": must}}


def _term_query(term: str, tokenizer: Tokenizer, *, edge: str = "") -> dict[str, Any] | None:
    """One term, whole: its jieba tokens as a phrase, or its contiguous bigram run; then variants
    (_variant) below every whole match; never one fragment such as 石墨 of 石墨烯.

    `edge` ("lead" or "tail") marks the first or last term of a query of several: a Latin word there
    may have been cut when the query was copied from a title (Levenberg-Marquardt as "arquard 改进"),
    so it may also end ("lead") or begin ("tail") a word of the record, as a variant.

    None when the term has no token (punctuation only): it narrows nothing."""
    tokens = tokenizer.tokens(term)
    if not tokens:
        return None
    exact: list[dict[str, Any]] = [
        {"multi_match": {"query": " ".join(tokens), "fields": list(JIEBA_FIELDS), "type": "phrase"}},
    ]
    if not _SYMBOL.search(term) and not _LATIN.fullmatch(term):
        # The run as a phrase of bigrams finds the term where jieba cut the document differently
        # (石墨烯 inside 氧化石墨烯), and a title run that starts or ends mid-word.
        exact.append(_bigram_phrase(term))
    edges = _cut_edges(term)
    if edges is not None:
        exact.append(edges)
    variants = _variant(term, tokens)
    if edge and _CUT_WORD.fullmatch(term):
        pattern = f"*{term}" if edge == "lead" else f"{term}*"
        variants.append({"bool": {"should": [{"wildcard": {f: {"value": pattern}}} for f in _JIEBA_NAMES]}})
    should: list[dict[str, Any]] = [
        {"bool": {"should": exact, "boost": EXACT_BOOST}},
        *({"constant_score": {"filter": v, "boost": VARIANT_SCORE}} for v in variants),
    ]
    return {"bool": {"should": should, "minimum_should_match": 1}}


def term_query(text: str, tokenizer: Tokenizer) -> dict[str, Any] | None:
    """Every term of normalised `text` whole (see _term_query); None when nothing narrows."""
    parts = terms(text)
    edges = ["lead", *[""] * (len(parts) - 2), "tail"] if len(parts) > 1 else [""] * len(parts)
    must = [c for t, e in zip(parts, edges, strict=True) if (c := _term_query(t, tokenizer, edge=e)) is not None]
    if not must:
        return None
    return must[0] if len(must) == 1 else {"bool": {"must": must}}


def _text_query(q: str, tokenizer: Tokenizer) -> tuple[dict[str, Any], list[str]]:
    text = normalize(q)
    tokens = tokenizer.tokens(text)
    required = term_query(text, tokenizer)
    if required is None:
        return {"match_all": {}}, []
    should: list[dict[str, Any]] = []
    parts = terms(text)
    if len(parts) > 1 and not _SYMBOL.search(text):
        # The whole query as one run (a title copied with its spaces and punctuation) ranks first;
        # each break between terms may hold the unigram the index keeps there.
        phrase = _bigram_phrase(text, breaks=len(parts) - 1)
        phrase["multi_match"]["boost"] = EXACT_BOOST
        should.append(phrase)
    return {"bool": {"must": [required], "should": should}}, tokens


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
