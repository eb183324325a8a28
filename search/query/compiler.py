"""Compile the AST into an Elasticsearch query (plain dicts; never `query_string`).

Rules (domain decision A.2): exact text is a contiguous run on the bigram field; exact KY is
equality with one keyword; exact AU is equality of the name; fuzzy is "all jieba tokens present"
on the jieba field; SU/TKA/FT hold when any member field holds by its own rule. In-value `*+-`
combine whole field tests, so `SU='A'*'B'` means `SU='A' AND SU='B'`.
"""

from __future__ import annotations

import copy
import json
import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any

from mappings.analysis.normalize import fold_name, normalize
from mappings.analysis.tokenizer import Tokenizer
from search.query.ast import (
    Between,
    BoolOp,
    Compare,
    History,
    Leaf,
    MatchMode,
    Proximity,
    Query,
    Term,
    Text,
    Truncation,
    ValueExpr,
    ValueOp,
)
from search.query.errors import QueryCompileError
from search.query.fields import FIELDS_BY_CODE, FieldSpec, Kind, TextIndex
from search.query.values import count_span, is_wildcard, year_span

Q = dict[str, Any]
# The stored, compiled query of history entry n, or None when there is no such entry.
HistoryResolver = Callable[[int], Mapping[str, Any] | None]

# Elasticsearch refuses bool queries nested deeper than indices.query.bool.max_nested_depth
# (20 by default in 7.x; later releases raise it). Refusing here gives a readable message instead.
MAX_BOOL_DEPTH = 20
# What `#n` may expand to. One expression is capped by the parser (2,000 characters, 100 operators:
# at most about 600 leaf queries and 60 KB compiled); `#n` splices in a whole stored query, so
# `#n AND #n AND ...` would multiply it a hundredfold per level of history. The expanded query is
# capped instead, well above any one expression and well under Elasticsearch's clause limit.
MAX_EXPANDED_LEAVES = 2_000
MAX_EXPANDED_BYTES = 512 * 1024

_WORD = re.compile(r"[^\W_]")  # the same "has a letter, digit or CJK" test the tokenizer applies
_CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+")
_STEP = {"AND": "AND", "OR": "OR", "NOT": "NOT", "*": "AND", "+": "OR", "-": "NOT"}


def compile_query(q: Query, *, tokenizer: Tokenizer, history: HistoryResolver | None = None) -> Q:
    """The `query` part of a search body for `q`."""
    compiler = _Compiler(tokenizer, history)
    compiled = compiler.query(q)
    depth = bool_depth(compiled)
    if depth > MAX_BOOL_DEPTH:
        raise QueryCompileError(
            f"检索式的逻辑层次过多（{depth} 层，上限 {MAX_BOOL_DEPTH}），请简化或拆分",
            compiler.first_history,
            [],
        )
    if compiler.first_history is not None:
        _check_expanded(compiled, leaf_count(compiled), compiler.first_history)
    return compiled


def leaf_count(query: Any) -> int:
    """How many non-bool queries a query dict holds (iterative, like bool_depth)."""
    count = 0
    stack: list[Any] = [query]
    while stack:
        node = stack.pop()
        if isinstance(node, Mapping):
            if "bool" in node and isinstance(node["bool"], Mapping):
                stack.extend(node["bool"].values())
            elif node:
                count += 1
        elif isinstance(node, list):
            stack.extend(node)
    return count


def _check_expanded(query: Any, leaves: int, pos: int | None, *, size: int | None = None) -> None:
    if leaves > MAX_EXPANDED_LEAVES:
        raise QueryCompileError(
            f"引用检索历史（#n）展开后的检索式过大（{leaves} 个检索项，上限 {MAX_EXPANDED_LEAVES}），请简化后再组合",
            pos, [],
        )  # fmt: skip
    if size is None:
        size = len(json.dumps(query, ensure_ascii=False).encode("utf-8"))
    if size > MAX_EXPANDED_BYTES:
        raise QueryCompileError(
            f"引用检索历史（#n）展开后的检索式过大（{size // 1024} KB，上限 {MAX_EXPANDED_BYTES // 1024} KB），"
            "请简化后再组合",
            pos, [],
        )  # fmt: skip


def bool_depth(query: Any) -> int:
    """How deeply `bool` queries nest in a query dict (iterative: stored history may be deep)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(query, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, Mapping):
            for key, child in node.items():
                inner = depth + 1 if key == "bool" else depth
                deepest = max(deepest, inner)
                stack.append((child, inner))
        elif isinstance(node, list):
            stack.extend((child, depth) for child in node)
    return deepest


def _tidy(text: str) -> str:
    """Keyword values: width-folded, whitespace collapsed; no case or script folding (index keeps both)."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def _wildcard_escape(text: str) -> str:
    return text.replace("\\", "\\\\")


class _Chain:
    """Fold a left-to-right chain into flat bool queries: `a AND b AND c` is one `must` list."""

    def __init__(self, first: Q) -> None:
        self.op = ""
        self.clauses: list[Q] = [first]
        self.excluded: list[Q] = []

    def step(self, op: str, right: Q) -> None:
        if op != self.op:
            first = self.result()
            self.op, self.clauses, self.excluded = op, [first], []
        if op == "NOT":
            self.excluded.append(right)
        else:
            self.clauses.append(right)

    def result(self) -> Q:
        if self.op == "AND":
            return {"bool": {"must": self.clauses}}
        if self.op == "OR":
            return {"bool": {"should": self.clauses, "minimum_should_match": 1}}
        if self.op == "NOT":
            return {"bool": {"must": self.clauses, "must_not": self.excluded}}
        return self.clauses[0]


def _any_of(clauses: list[Q]) -> Q:
    return clauses[0] if len(clauses) == 1 else {"bool": {"should": clauses, "minimum_should_match": 1}}


def _count_range(field: str, low: int, high: int | None) -> Q:
    """Counts from `low` to `high` (None: no upper end). A record without a stored count has not been
    cited by anyone visible, so it counts 0: ranges that include 0 take it too."""
    if high is not None and high < low:
        return {"match_none": {}}  # CF<0
    if low == high:
        exact: Q = {"term": {field: low}}
    else:
        exact = {"range": {field: {"gte": low, **({"lte": high} if high is not None else {})}}}
    if low > 0:
        return exact
    return _any_of([exact, {"bool": {"must_not": [{"exists": {"field": field}}]}}])


def _all_of(clauses: list[Q]) -> Q:
    return clauses[0] if len(clauses) == 1 else {"bool": {"must": clauses}}


class _Compiler:
    def __init__(self, tokenizer: Tokenizer, history: HistoryResolver | None) -> None:
        self.tokenizer = tokenizer
        self.history = history
        self.first_history: int | None = None  # where the first `#n` stands, for errors about expansion
        self.expanded_leaves = 0
        self.expanded_bytes = 0

    def query(self, q: Query) -> Q:
        # Walk the left spine iteratively; only parenthesised right operands recurse (depth capped).
        steps: list[tuple[str, Query]] = []
        while isinstance(q, BoolOp):
            steps.append((q.op, q.right))
            q = q.left
        chain = _Chain(self.operand(q))
        for op, right in reversed(steps):
            chain.step(_STEP[op], self.query(right))
        return chain.result()

    def operand(self, q: Query) -> Q:
        if isinstance(q, Term):
            spec = FIELDS_BY_CODE[q.field]
            return self.value(q.value, lambda leaf: self.leaf(spec, q.mode, leaf))
        if isinstance(q, Compare):
            spec = FIELDS_BY_CODE[q.field]
            bound = {">": "gt", ">=": "gte", "<": "lt", "<=": "lte"}[q.op]
            if spec.kind is Kind.COUNT:
                low = {">": q.value + 1, ">=": q.value}.get(q.op, 0)
                high = {"<": q.value - 1, "<=": q.value}.get(q.op)
                return _count_range(spec.es_fields[0], low, high)
            return {"range": {spec.es_fields[0]: {bound: q.value}}}
        if isinstance(q, Between):
            spec = FIELDS_BY_CODE[q.field]
            if spec.kind is Kind.COUNT:
                return _count_range(spec.es_fields[0], q.low, q.high)
            return {"range": {spec.es_fields[0]: {"gte": q.low, "lte": q.high}}}
        assert isinstance(q, History)
        return self.resolve(q)

    def resolve(self, h: History) -> Q:
        if self.history is None:
            raise QueryCompileError("此处无法引用检索历史（#n）", h.pos, [])
        try:
            stored = self.history(h.number)
        except LookupError:
            stored = None
        if stored is None:
            raise QueryCompileError(f"检索历史中没有 #{h.number}", h.pos, [])
        if self.first_history is None:
            self.first_history = h.pos
        # Counted before copying: a chain of `#n` stops at the first one that goes past the cap.
        self.expanded_leaves += leaf_count(stored)
        self.expanded_bytes += len(json.dumps(stored, ensure_ascii=False).encode("utf-8"))
        if self.expanded_leaves > MAX_EXPANDED_LEAVES or self.expanded_bytes > MAX_EXPANDED_BYTES:
            _check_expanded(stored, self.expanded_leaves, h.pos, size=self.expanded_bytes)
        # A copy, so later edits to this query never reach the stored history entry.
        return copy.deepcopy(dict(stored))

    def value(self, v: ValueExpr, leaf: Callable[[Leaf], Q]) -> Q:
        steps: list[tuple[str, ValueExpr]] = []
        while isinstance(v, ValueOp):
            steps.append((v.op, v.right))
            v = v.left
        chain = _Chain(leaf(v))
        for op, right in reversed(steps):
            chain.step(_STEP[op], self.value(right, leaf))
        return chain.result()

    def leaf(self, spec: FieldSpec, mode: MatchMode, leaf: Leaf) -> Q:
        if spec.kind is Kind.TEXT:
            clauses = [c for m in spec.members if (c := self.member(m, mode, leaf)) is not None]
            if not clauses:
                raise QueryCompileError(f"{spec.code}（{spec.label}）不支持这种检索", leaf.pos)
            return _any_of(clauses)
        if isinstance(leaf, Proximity):  # the parser lets proximity through on text fields only
            raise QueryCompileError(f"{spec.code}（{spec.label}）不支持位置检索", leaf.pos)
        if spec.kind is Kind.YEAR:
            low, high = year_span(leaf.text, leaf.pos)
            field = spec.es_fields[0]
            return {"term": {field: low}} if low == high else {"range": {field: {"gte": low, "lte": high}}}
        if spec.kind is Kind.COUNT:
            low, high = count_span(leaf.text, leaf.pos)
            return _count_range(spec.es_fields[0], low, high)
        if spec.kind is Kind.AFFILIATION:
            return self.affiliation(spec, mode, leaf)
        return self.keyword(spec, mode, leaf)

    def keyword(self, spec: FieldSpec, mode: MatchMode, leaf: Text | Truncation) -> Q:
        field = spec.es_fields[0]
        value = fold_name(leaf.text) if spec.names else _tidy(leaf.text)
        if spec.names and not value.strip("*?"):
            raise QueryCompileError("检索值中没有可检索的姓名", leaf.pos)
        extra: dict[str, Any] = {"case_insensitive": True} if spec.case_insensitive else {}
        if isinstance(leaf, Truncation):
            return {"wildcard": {field: {"value": _wildcard_escape(value), **extra}}}
        if spec.kind is Kind.PREFIX:
            return {"prefix": {field: {"value": value, **extra}}}
        if mode == "%":
            # Keyword fields have no tokens: fuzzy means "contains", as in CNKI's 模糊 for names.
            escaped = re.sub(r"([*?\\])", r"\\\1", value)
            return {"wildcard": {field: {"value": f"*{escaped}*", **extra}}}
        if spec.strip:
            value = re.sub(f"^(?:{spec.strip})", "", value, flags=re.IGNORECASE)
        if spec.lowercase:
            value = value.lower()
        if spec.values:
            mapped = spec.values.get(value) or spec.values.get(value.lower())
            if mapped is None and spec.closed:
                allowed = "、".join(spec.values)
                raise QueryCompileError(f"{spec.label}不能是 '{value}'（可用：{allowed}）", leaf.pos)
            value = mapped or value
        return {"term": {field: {"value": value, **extra}} if extra else {field: value}}

    def affiliation(self, spec: FieldSpec, mode: MatchMode, leaf: Text | Truncation) -> Q:
        text_field, kw_field = spec.es_fields
        # The standard analyzer indexes each CJK character, so a phrase is a contiguous run and
        # a single character works. authors is not nested: `%` tokens may come from two affiliations.
        folded = normalize(leaf.text)
        if not _WORD.search(folded):
            raise QueryCompileError("检索值中没有可检索的文字", leaf.pos)
        if mode == "=":
            # The raw keyword catches a stored affiliation that folding (traditional to simplified) would miss.
            return _any_of([{"match_phrase": {text_field: folded}}, {"term": {kw_field: _tidy(leaf.text)}}])
        return _all_of([{"match_phrase": {text_field: t}} for t in self.tokenizer.tokens(folded)])

    def member(self, m: TextIndex, mode: MatchMode, leaf: Leaf) -> Q | None:
        if isinstance(leaf, Proximity):
            return self.proximity(m, leaf) if m.proximity else None
        folded = normalize(leaf.text)
        if isinstance(leaf, Truncation):
            return self.truncation(m, mode, folded, leaf.pos)
        if not _WORD.search(folded):
            raise QueryCompileError("检索值中没有可检索的文字", leaf.pos)
        if mode == "=":
            if m.equal:
                return {"term": {m.equal: folded}}
            assert m.phrase
            # The *_cjk fields index unigrams beside bigrams (mapping v2), so one character, or a
            # character next to Latin text, lines up exactly with the query's bigram cut.
            return {"match_phrase": {m.phrase: folded}}
        return {"match": {m.jieba: {"query": " ".join(self.tokenizer.tokens(folded)), "operator": "and"}}}

    def spans(self, field: str, text: str, pos: int) -> Q:
        tokens = self.tokenizer.tokens(normalize(text))
        if not tokens:
            raise QueryCompileError(f"位置检索的词 '{text}' 中没有可检索的文字", pos)
        terms: list[Q] = [{"span_term": {field: t}} for t in tokens]
        if len(terms) == 1:
            return terms[0]
        return {"span_near": {"clauses": terms, "slop": 0, "in_order": True}}

    def proximity(self, m: TextIndex, p: Proximity) -> Q:
        clauses = [self.spans(m.jieba, p.left, p.pos), self.spans(m.jieba, p.right, p.pos)]
        return {"span_near": {"clauses": clauses, "slop": p.distance, "in_order": p.ordered}}

    def truncation(self, m: TextIndex, mode: MatchMode, folded: str, pos: int) -> Q:
        pattern_of = {w: _wildcard_escape(w) for w in folded.split() if any(map(is_wildcard, w))}
        if mode == "=" and m.equal:
            return {"wildcard": {m.equal: {"value": _wildcard_escape(folded)}}}
        if mode == "=":
            # Exact: the words in order, each wildcard word one jieba token, no gap between them.
            spans: list[Q] = []
            for word in folded.split():
                if word in pattern_of:
                    spans.append(
                        {"span_multi": {"match": {"wildcard": {m.jieba: {"value": pattern_of[word]}}}}}
                    )
                else:
                    spans.extend({"span_term": {m.jieba: t}} for t in self.tokenizer.tokens(word))
            if len(spans) == 1:
                return {"wildcard": {m.jieba: {"value": next(iter(pattern_of.values()))}}}
            return {"span_near": {"clauses": spans, "slop": 0, "in_order": True}}
        plain = " ".join(w for w in folded.split() if w not in pattern_of)
        clauses: list[Q] = [{"wildcard": {m.jieba: {"value": p}}} for p in pattern_of.values()]
        tokens = self.tokenizer.tokens(plain) if plain else []
        if tokens:
            clauses.insert(0, {"match": {m.jieba: {"query": " ".join(tokens), "operator": "and"}}})
        return _all_of(clauses)
