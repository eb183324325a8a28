"""Elasticsearch stopped and started again: clear failures, nothing half-written, recovery without restarts.

Runs last (file name), since it stops the shared local node.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from appdb.models import IngestJob
from appdb.session import session_factory
from chaxin.services import es_start, es_stop
from conf.settings import Settings
from ingest.index_admin import create, drop_all
from ingest.submit import SubmitError, submit
from ingest.writer import write_records
from mappings.analysis.tokenizer import Tokenizer
from mappings.naming import IndexNames
from tests.conftest import DEMO, launcher_node, make_record, new_prefix, settings_for
from web.app import create_app

pytestmark = pytest.mark.stops_services


@pytest.fixture
def local_node() -> Settings:
    return launcher_node(Settings())


@pytest.fixture
def client(es: Elasticsearch, tokenizer: Tokenizer, local_node: Settings, tmp_path) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    from appdb.session import upgrade

    settings = settings_for(new_prefix("outage"), f"sqlite:///{tmp_path / 'outage.sqlite3'}")
    upgrade(settings.effective_database_url)  # pages ask the session table who is signed in
    names = IndexNames(settings.index_prefix)
    create(es, names, tokenizer)
    write_records(es, names.write_alias, [("o1", make_record("o1", "石墨烯锂电池"))], tokenizer, refresh=True)
    with TestClient(create_app(settings)) as c:
        c.settings = settings  # type: ignore[attr-defined]
        yield c
    es_start(local_node)
    drop_all(es, names)


def test_outage_gives_503_and_recovers(client: TestClient, local_node: Settings) -> None:
    settings: Settings = client.settings  # type: ignore[attr-defined]
    assert client.get("/api/v1/search", params={"q": "石墨烯"}).json()["total"] == 1

    es_stop(local_node)
    resp = client.get("/api/v1/search", params={"q": "石墨烯"})
    assert resp.status_code == 503
    assert "检索服务暂时不可用" in resp.json()["error"]["message"]
    assert client.get("/api/v1/records/o1").status_code == 503
    health = client.get("/healthz")
    assert health.status_code == 503 and health.json()["down"] == ["elasticsearch"]
    page = client.get("/", params={"q": "石墨烯"}, headers={"accept": "text/html"})
    assert page.status_code == 503 and "不可用" in page.text

    from appdb.session import upgrade

    upgrade(settings.effective_database_url)
    with pytest.raises(SubmitError, match="无法连接 Elasticsearch"):
        submit(settings, "csl", DEMO)
    with session_factory(settings.effective_database_url)() as session:
        assert session.scalar(select(func.count()).select_from(IngestJob)) == 0, "no half-made job"

    es_start(local_node)
    resp = client.get("/api/v1/search", params={"q": "石墨烯"})
    assert resp.status_code == 200 and resp.json()["total"] == 1
    assert client.get("/healthz").status_code == 200
