"""The web layer's case body lists exactly the fields `casework.service` edits, so the two cannot drift."""

from __future__ import annotations

import pytest

from casework import service
from web.case_bodies import CaseFields


@pytest.fixture(scope="module", autouse=True)
def services() -> None:
    """Overrides conftest's session fixture that starts Elasticsearch and Redis: nothing here needs them."""


def test_case_fields_are_the_services_editable_fields() -> None:
    text = {*service.HEADER_FIELDS, *service.TEXT_FIELDS}
    assert set(CaseFields.model_fields) == text | set(service.LIST_FIELDS)
    for name, info in CaseFields.model_fields.items():
        assert info.annotation == (str | None if name in text else list[str] | None), name
