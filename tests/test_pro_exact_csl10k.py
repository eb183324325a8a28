"""Exact-mode expressions return exactly the records a brute-force substring check finds (csl_10k)."""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from elasticsearch import Elasticsearch, helpers

from ingest.formats.csl import parse_line
from ingest.index_admin import create, drop_all
from ingest.writer import write_records
from mappings.analysis.normalize import normalize
from mappings.analysis.tokenizer import Tokenizer
from mappings.model import Record
from mappings.naming import IndexNames
from search.query import compile_query, parse
from search.query.ast import BoolOp, Query, Term, Text, ValueExpr, ValueOp
from tests.conftest import new_prefix, shared_file

HAN_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")


@pytest.fixture(scope="module")
def corpus(es: Elasticsearch, tokenizer: Tokenizer) -> Iterator[tuple[IndexNames, list[Record]]]:
    path = shared_file("csl", "csl_10k.jsonl")
    now = datetime.now(UTC)
    records = [parse_line(line, now=now, version=1) for line in path.read_text(encoding="utf-8").splitlines()]
    # Identical titles share an ID (issue 3's identity rule); keep the record the index keeps.
    unique = list({r.id: r for r in records}.values())
    names = IndexNames(new_prefix("proexact"))
    create(es, names, tokenizer)
    write_records(es, names.write_alias, [(r.id, r) for r in unique], tokenizer, refresh=True)
    yield names, unique
    drop_all(es, names)


# ------------------------------------------------------------------ brute force, straight from the AST

def _text_pred(field: str, value: str) -> Callable[[Record], bool]:
    v = normalize(value)

    def title(r: Record) -> bool:
        return v in normalize(r.title)

    def abstract(r: Record) -> bool:
        return v in normalize(r.abstract or "")

    def keyword(r: Record) -> bool:
        return any(v == normalize(k) for k in r.keywords)

    members = {"TI": [title], "AB": [abstract], "KY": [keyword], "TKA": [title, keyword, abstract],
               "SU": [title, keyword, abstract]}[field]  # fmt: skip
    return lambda r: any(m(r) for m in members)


def _value(field: str, v: ValueExpr, r: Record) -> bool:
    if isinstance(v, Text):
        return _text_pred(field, v.text)(r)
    assert isinstance(v, ValueOp)
    left, right = _value(field, v.left, r), _value(field, v.right, r)
    return {"*": left and right, "+": left or right, "-": left and not right}[v.op]


def brute(q: Query, r: Record) -> bool:
    if isinstance(q, Term):
        assert q.mode == "="
        return _value(q.field, q.value, r)
    assert isinstance(q, BoolOp)
    left, right = brute(q.left, r), brute(q.right, r)
    return {"AND": left and right, "OR": left or right, "NOT": left and not right}[q.op]


# ------------------------------------------------------------------ expressions


def _expressions(records: list[Record], n: int) -> list[str]:
    rng = random.Random(20261126)
    full = [r for r in records if r.abstract and r.keywords]

    def run() -> str:
        rec = rng.choice(full)
        text = rng.choice([rec.title, rec.abstract or rec.title])
        runs = HAN_RUN.findall(text) or ["研究"]
        chunk = rng.choice(runs)
        size = min(len(chunk), rng.choice([2, 2, 3, 4]))
        start = rng.randint(0, len(chunk) - size)
        return chunk[start : start + size]

    def kw() -> str:
        return rng.choice(rng.choice(full).keywords)

    templates: list[Callable[[], str]] = [
        lambda: f"TI='{run()}'",
        lambda: f"AB='{run()}' AND TI='{run()}'",
        lambda: f"TI='{run()}' OR KY='{kw()}'",
        lambda: f"SU='{run()}' NOT TI='{run()}'",
        lambda: f"TKA='{run()}'*'{run()}'",
        lambda: f"SU=('{run()}'+'{run()}')-'{run()}'",
        lambda: f"(TI='{run()}' OR AB='{run()}') AND SU='{run()}'",
        lambda: f"KY='{kw()}' OR KY='{kw()}' AND TKA='{run()}'",
        lambda: f"((TI='{run()}'+'{run()}') AND (AB='{run()}' OR KY='{kw()}')) NOT TI='{run()}'",
        lambda: f"TKA='{run()}' NOT (AB='{run()}' OR (TI='{run()}'*'{run()}'))",
        lambda: f"AB='{run()}'-'{run()}' OR TI='{run()}'",
        lambda: f"SU='{kw()}'",
    ]
    return [templates[i % len(templates)]() for i in range(n)]


def test_exact_expressions_equal_brute_force(
    corpus: tuple[IndexNames, list[Record]], es: Elasticsearch, tokenizer: Tokenizer
) -> None:
    names, records = corpus
    expressions = _expressions(records, 48)
    nonempty = 0
    for expr in expressions:
        ast = parse(expr)
        query = compile_query(ast, tokenizer=tokenizer)
        found = {h["_id"] for h in helpers.scan(es, index=names.read_alias, query={"query": query}, _source=False)}
        expected = {r.id for r in records if brute(ast, r)}
        assert found == expected, f"{expr}: ES-only {sorted(found - expected)[:5]}, brute-only {sorted(expected - found)[:5]}"
        nonempty += bool(expected)
    assert nonempty >= len(expressions) // 2, "the expressions should mostly find something"
