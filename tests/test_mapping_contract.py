"""The pydantic record model and the mapping file describe the same fields."""

from __future__ import annotations

import json
import types
import typing
from typing import Any

from pydantic import BaseModel

from mappings.model import Record
from mappings.naming import MAPPINGS_DIR, latest_mapping_version, load_mapping

# Not part of the ingested record: search fields derived at index time (ix), and the citation
# index's link state (citations), which linking writes onto the index document.
DERIVED = {"ix", "citations"}


def _model_type(annotation: Any) -> Any:
    """Unwrap Optional[...] and list[...] down to the element type."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _model_type(args[0])
    if origin is list:
        return _model_type(typing.get_args(annotation)[0])
    return annotation


def _compare(model: type[BaseModel], props: dict[str, Any], path: str) -> list[str]:
    problems: list[str] = []
    fields = model.model_fields
    for name in fields.keys() - props.keys():
        problems.append(f"{path}{name}: in the model, missing from the mapping")
    for name in props.keys() - fields.keys() - (DERIVED if not path else set()):
        problems.append(f"{path}{name}: in the mapping, missing from the model")
    for name, field in fields.items():
        inner = _model_type(field.annotation)
        spec = props.get(name, {})
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            if spec.get("enabled") is False:
                continue  # kept in _source only, by design (references)
            if "properties" not in spec:
                problems.append(f"{path}{name}: a nested model needs an object mapping")
                continue
            problems += _compare(inner, spec["properties"], f"{path}{name}.")
        elif "properties" in spec:
            problems.append(f"{path}{name}: a scalar in the model, an object in the mapping")
    return problems


def test_model_and_mapping_agree_field_for_field() -> None:
    props = load_mapping("records")["mappings"]["properties"]
    assert _compare(Record, props, "") == []


def test_mapping_is_versioned_and_strict() -> None:
    version = latest_mapping_version("records")
    raw = json.loads((MAPPINGS_DIR / "records" / f"record-v{version}.json").read_text(encoding="utf-8"))
    assert raw["mappings"]["_meta"]["mapping_version"] == version
    assert raw["mappings"]["dynamic"] == "strict"
    assert raw["mappings"]["_source"]["excludes"] == ["ix"]
