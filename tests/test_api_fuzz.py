"""Over HTTP, against the real index: no pro-mode expression, however malformed, gets a 5xx.

The same generators as the parser's own property tests (tests/test_query_language.py), but every
example goes through the API into Elasticsearch, so compiler output the engine rejects shows up too.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.index_admin import create, drop_all
from ingest.writer import write_records
from mappings.analysis.tokenizer import Tokenizer
from mappings.naming import IndexNames
from tests.conftest import make_record, new_prefix, settings_for
from tests.test_query_language import _all_inputs
from web.app import create_app


@pytest.fixture(scope="module")
def client(
    es: Elasticsearch, tokenizer: Tokenizer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    from appdb.session import upgrade

    app_settings = settings_for(
        new_prefix("fuzz"), f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'f.sqlite3'}"
    )
    upgrade(app_settings.effective_database_url)
    names = IndexNames(app_settings.index_prefix)
    create(es, names, tokenizer)
    records = [
        make_record(
            "f1", "石墨烯锂电池负极材料", keywords=["石墨烯"], abstract="氧化石墨烯 graphene anode", year=2019
        ),
        make_record("f2", "Deep learning for text classification", keywords=["BERT"], year=2021),
    ]
    write_records(es, names.write_alias, [(r.id, r) for r in records], tokenizer, refresh=True)
    with TestClient(create_app(app_settings)) as c:
        # History entries #1..#3 exist, so `#n` references resolve as well as fail.
        for q in ("TI='石墨烯'", "KY='BERT'", "PY>=2020"):
            assert c.get("/api/v1/search", params={"q": q, "mode": "pro"}).status_code == 200
        yield c
    drop_all(es, names)


@settings(
    max_examples=2000,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(text=st.one_of(*_all_inputs()))
def test_any_expression_over_http_is_200_or_400_with_a_position(client: TestClient, text: str) -> None:
    resp = client.get("/api/v1/search", params={"q": text, "mode": "pro", "size": 5})
    assert resp.status_code in (200, 400), (text, resp.status_code, resp.text[:300])
    body = resp.json()
    if resp.status_code == 400:
        error = body["error"]
        assert error["message"] and any("\u4e00" <= ch <= "\u9fff" for ch in error["message"]), error
        if "position" in error and error["position"] is not None:
            assert 0 <= error["position"] <= len(text)
    else:
        assert isinstance(body["total"], int) and "normalized" in body
