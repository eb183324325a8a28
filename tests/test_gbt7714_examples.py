"""The worked GB/T 7714 examples in gbt7714_examples.yaml, for both editions. Pure Python."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from mappings.model import Author, Record
from search.export.gbt7714 import EDITIONS, format_entry

EXAMPLES_PATH = Path(__file__).with_name("gbt7714_examples.yaml")
EXAMPLES: list[dict[str, Any]] = yaml.safe_load(EXAMPLES_PATH.read_text(encoding="utf-8"))
TYPES = ("journal", "thesis", "book", "chapter", "conference", "patent", "standard", "report", "newspaper",
         "electronic")  # fmt: skip
NOW = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture(scope="module", autouse=True)
def services() -> None:
    """Overrides conftest's session fixture that starts Elasticsearch and Redis: nothing here needs them."""


def _record(n: int, fields: dict[str, Any]) -> dict[str, Any]:
    """The example's fields through the model, dumped as the index stores them."""
    data = dict(fields)
    data["authors"] = [Author(name=name, order=i) for i, name in enumerate(data.get("authors", []), 1)]
    rec = Record(id=f"example-{n}", source="test", source_id=f"e{n}", ingested_at=NOW, version=1, **data)
    return rec.model_dump(mode="json")


def _id(example: dict[str, Any]) -> str:
    return f"{example['type']}-{example['lang']}-{str(example['record']['title'])[:12]}"


def test_every_type_has_two_examples_in_chinese_and_english() -> None:
    counts = Counter(e["type"] for e in EXAMPLES)
    assert set(counts) == set(TYPES)
    assert min(counts.values()) >= 2
    for kind in TYPES:
        assert {e["lang"] for e in EXAMPLES if e["type"] == kind} == {"zh", "en"}, kind
    for e in EXAMPLES:
        assert set(e["expected"]) == set(EDITIONS), _id(e)
        assert e.get("quotes") or e.get("note"), f"{_id(e)}: neither a quote of the standard nor a note"
        assert set(e.get("quotes", {})) <= set(EDITIONS), _id(e)


@pytest.mark.parametrize("edition", EDITIONS)
@pytest.mark.parametrize("n", range(len(EXAMPLES)), ids=[_id(e) for e in EXAMPLES])
def test_worked_example(n: int, edition: str) -> None:
    example = EXAMPLES[n]
    assert format_entry(_record(n, example["record"]), edition=edition) == example["expected"][edition]  # type: ignore[arg-type]
