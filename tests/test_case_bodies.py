"""The web layer's case body lists exactly the fields `casework.service` edits, so the two cannot drift."""

from __future__ import annotations

from casework import service
from web.case_bodies import CaseFields


def test_case_fields_are_the_services_editable_fields() -> None:
    text = {*service.HEADER_FIELDS, *service.TEXT_FIELDS}
    assert set(CaseFields.model_fields) == text | set(service.LIST_FIELDS)
    for name, info in CaseFields.model_fields.items():
        assert info.annotation == (str | None if name in text else list[str] | None), name
