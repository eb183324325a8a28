"""Schemathesis against the app's own OpenAPI schema, in process over ASGI, on a real small index.

Every operation of /openapi.json gets generated requests, anonymously and as a signed-in analyst:
no answer may be a 5xx, and documented responses must match their schema. The file upload is left
out (it would queue import jobs of random bytes). The analyst may create novelty-search cases from
generated bodies: that is the point, and the database is this test's own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from elasticsearch import Elasticsearch
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from mappings.analysis.tokenizer import Tokenizer
from tests.secure_site import SECRET_TITLE_ONLY, Site, build_site


@pytest.fixture(scope="module")
def site(es: Elasticsearch, tokenizer: Tokenizer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    yield from build_site(es, tokenizer, Path(tmp_path_factory.mktemp("schema")), "schema")


FUZZ = settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
CHECKS = [not_a_server_error, response_schema_conformance]


def _operations(site: Site) -> list[Any]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", site.app)
    schema = schema.exclude(method="POST", path="/api/v1/ingest")
    return [result.ok() for result in schema.get_all_operations()]


# Schemathesis' own pytest integration (`schema.parametrize` over a lazy fixture) trips over pytest 9's
# node internals; driving each operation's Hypothesis strategy directly needs neither.
@pytest.mark.parametrize("role", ["anonymous", "analyst"])
def test_every_operation_against_its_schema(site: Site, role: str) -> None:
    headers = {"Authorization": f"Bearer {site.tokens['ana-a']}"} if role == "analyst" else {}
    operations = _operations(site)
    assert len(operations) >= 15, [op.label for op in operations]
    for operation in operations:

        @FUZZ
        @given(case=operation.as_strategy())
        def run(case: schemathesis.Case) -> None:
            response = case.call(headers=headers)
            case.validate_response(response, checks=CHECKS)
            assert SECRET_TITLE_ONLY not in response.text, "a 限制 record came out"

        run()
