"""parse_reference on English raw strings, read from the worked-example file tests/reference_strings_en.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from mappings.citations.doi import DOI_IN_TEXT, dois_in
from mappings.citations.parse import parse_reference

_CASES: list[dict[str, Any]] = yaml.safe_load(
    Path(__file__).with_name("reference_strings_en.yaml").read_text(encoding="utf-8")
)


@pytest.mark.parametrize("case", _CASES, ids=[f"{i}-{c['layout']}" for i, c in enumerate(_CASES)])
def test_worked_example(case: dict[str, Any]) -> None:
    ref = parse_reference(case["raw"])
    assert ref.raw == case["raw"]
    assert ref.model_dump(exclude_none=True, exclude_defaults=True, exclude={"raw"}) == case["expect"]


def test_dois_in_free_text() -> None:
    # Broken after "10." and after "/" by PDF line breaks; after a break the suffix needs a digit or a dot.
    assert dois_in("Mol. Ecol. 18, 5101-5114. 10. \n1111/j.1365-294X.2009.04419.x)") == [
        "10.1111/j.1365-294x.2009.04419.x"
    ]
    assert dois_in("Nat. Chem. Biol. 5, 459-461. 10.1038/  nchembio.174)") == ["10.1038/nchembio.174"]
    assert dois_in("see 10.1000/ Next words") == []
    assert (
        DOI_IN_TEXT.sub("", "Lancet 349:1124. doi:10.1016/S0140-6736(97)01234-5").strip()
        == "Lancet 349:1124. doi:"
    )
