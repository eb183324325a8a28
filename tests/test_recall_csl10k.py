"""Recall on the real CSL 10k corpus: keyword pairs and title runs find their paper near the top."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from elasticsearch import Elasticsearch

from ingest.formats.csl import parse_line
from ingest.index_admin import create, drop_all
from ingest.writer import write_records
from mappings.analysis.tokenizer import Tokenizer
from mappings.model import Record
from mappings.naming import IndexNames
from search.service import SearchService
from tests.conftest import new_prefix, shared_file

SAMPLE = 1000


@pytest.fixture(scope="module")
def corpus(es: Elasticsearch, tokenizer: Tokenizer) -> Iterator[tuple[SearchService, list[Record]]]:
    path = shared_file("csl", "csl_10k.jsonl")
    now = datetime.now(UTC)
    records = [parse_line(line, now=now, version=1) for line in path.read_text(encoding="utf-8").splitlines()]
    names = IndexNames(new_prefix("recall"))
    create(es, names, tokenizer)
    write_records(es, names.write_alias, [(r.id, r) for r in records], tokenizer, refresh=True)
    yield SearchService(es, names, tokenizer), records
    drop_all(es, names)


def _rank(service: SearchService, q: str, rid: str, size: int) -> int | None:
    ids = [h["id"] for h in service.simple(q, size=size)["hits"]]
    return ids.index(rid) if rid in ids else None


def test_corpus_is_complete(corpus: tuple[SearchService, list[Record]]) -> None:
    service, records = corpus
    assert len(records) == 10_000
    assert service.simple("")["total"] == len({r.id for r in records})


def test_two_keywords_find_the_paper_in_top_10(corpus: tuple[SearchService, list[Record]]) -> None:
    service, records = corpus
    rng = random.Random(2026)
    candidates = [r for r in records if len(r.keywords) >= 2]
    sample = rng.sample(candidates, min(SAMPLE, len(candidates)))
    misses = []
    for rec in sample:
        k1, k2 = rng.sample(rec.keywords, 2)
        if _rank(service, f"{k1} {k2}", rec.id, 10) is None:
            misses.append((k1, k2, rec.title))
    rate = 1 - len(misses) / len(sample)
    print(f"\nkeyword pairs: {rate:.1%} of {len(sample)} in top 10; misses e.g. {misses[:5]}")
    assert rate >= 0.90


def test_title_run_finds_the_paper_in_top_3(corpus: tuple[SearchService, list[Record]]) -> None:
    service, records = corpus
    rng = random.Random(7714)
    sample = rng.sample([r for r in records if len(r.title) >= 6], SAMPLE)
    misses = []
    for rec in sample:
        n = rng.randint(6, min(10, len(rec.title)))
        start = rng.randint(0, len(rec.title) - n)
        run = rec.title[start : start + n]
        if _rank(service, run, rec.id, 3) is None:
            misses.append((run, rec.title))
    rate = 1 - len(misses) / len(sample)
    print(f"\ntitle runs: {rate:.1%} of {len(sample)} in top 3; misses e.g. {misses[:5]}")
    assert rate >= 0.95
