"""Self-citation name matching, read from the worked-example file tests/author_names.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mappings.citations.names import same_author, shares_any_author

_CASES = yaml.safe_load((Path(__file__).with_name("author_names.yaml")).read_text(encoding="utf-8"))


@pytest.mark.parametrize(("a", "b"), _CASES["match"])
def test_same_author(a: str, b: str) -> None:
    assert same_author(a, b)
    assert same_author(b, a)


@pytest.mark.parametrize(("a", "b"), _CASES["no_match"])
def test_not_same_author(a: str, b: str) -> None:
    assert not same_author(a, b)
    assert not same_author(b, a)


def test_shares_any_author() -> None:
    assert shares_any_author(["李四", "Zhang San"], ["王五", "张三"])
    assert not shares_any_author(["李四"], ["王五", "张三"])
