"""Exports over HTTP: whole result sets past the 10,000-hit window, in every format, and selections."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient

from conf.settings import Settings
from ingest.index_admin import create, drop_all
from ingest.writer import write_records
from mappings.analysis.tokenizer import Tokenizer
from mappings.model import Author
from mappings.naming import IndexNames
from search.export import FORMATS
from tests.conftest import make_record, new_prefix, settings_for
from web.app import create_app

N = 10_050


@pytest.fixture(scope="module")
def client(
    es: Elasticsearch, tokenizer: Tokenizer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    from appdb.session import upgrade

    settings = settings_for(new_prefix("export"), f"sqlite:///{tmp_path_factory.mktemp('exp') / 'e.sqlite3'}")
    upgrade(settings.effective_database_url)
    names = IndexNames(settings.index_prefix)
    create(es, names, tokenizer)
    records = [
        make_record(
            f"e{i:05d}", f"石墨烯复合材料的制备与表征第{i}篇", year=2000 + i % 25, venue="材料导报", volume=str(i % 40),
            issue=str(i % 12 + 1), pages=f"{i % 90 + 1}-{i % 90 + 9}", keywords=["石墨烯", "复合材料"],
            abstract="采用水热法制备了石墨烯复合材料。",
            authors=[Author(name="张三", order=1), Author(name="李四", order=2)],
        )
        for i in range(N)
    ]  # fmt: skip
    write_records(es, names.write_alias, [(r.id, r) for r in records], tokenizer, refresh=True)
    from appdb import accounts
    from appdb.session import session_factory

    with session_factory(settings.effective_database_url).begin() as session:
        user = accounts.create_user(
            session, username="exporter", password="Export-pass-1", real_name="导出者"
        )
        token = accounts.create_api_token(session, user, "test")[1]
    _SETTINGS["site"] = settings
    # Signed in: a visitor's export is capped (test_anonymous_export_is_capped_in_count_and_rate).
    with TestClient(create_app(settings), headers={"Authorization": f"Bearer {token}"}) as c:
        yield c
    drop_all(es, names)


_SETTINGS: dict[str, Settings] = {}


def test_anonymous_export_is_capped_in_count_and_rate(client: TestClient) -> None:
    """One anonymous request once dumped the whole corpus (issue 14, break 6)."""
    settings = _SETTINGS["site"].model_copy(
        update={"anon_export_max_records": 7, "anon_export_per_minute": 2}
    )
    with TestClient(create_app(settings)) as anonymous:
        params = {"q": "TI='石墨烯'", "mode": "pro", "format": "csv"}
        first = anonymous.get("/api/v1/export", params=params)
        assert first.status_code == 200
        assert len(first.content.decode("utf-8").strip().splitlines()) == 1 + 7  # header and 7 records
        assert anonymous.get("/api/v1/export", params={**params, "limit": 50_000}).status_code == 200
        refused = anonymous.get("/api/v1/export", params=params)
        assert refused.status_code == 429 and "导出过于频繁" in refused.json()["error"]["message"]
    assert client.get("/api/v1/export", params={"q": "TI='石墨烯'", "mode": "pro", "format": "csv",
                                                "limit": 100}).status_code == 200  # fmt: skip


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_every_format_exports_the_whole_result_set(client: TestClient, name: str) -> None:
    resp = client.get("/api/v1/export", params={"q": "TI='石墨烯'", "mode": "pro", "format": name})
    assert resp.status_code == 200, resp.text[:300]
    disposition = resp.headers["content-disposition"]
    assert f'.{FORMATS[name].extension}"; filename*=UTF-8' in disposition
    assert disposition.endswith(f".{FORMATS[name].extension}")
    if name == "xlsx":
        from openpyxl import load_workbook

        sheet = load_workbook(io.BytesIO(resp.content), read_only=True).active
        assert sheet is not None and sum(1 for _ in sheet.iter_rows(values_only=True)) == N + 1
        return
    text = resp.content.decode("utf-8")
    if name == "csv":
        import csv

        rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
        assert len(rows) == N + 1
        return
    assert text.count("石墨烯复合材料的制备与表征") == N


def test_gbt7714_entry_and_selection(client: TestClient) -> None:
    resp = client.get("/api/v1/export", params={"ids": "e00001,e00002", "format": "gbt7714-2015"})
    lines = [line for line in resp.text.splitlines() if line.strip()]
    assert lines == [
        "[1] 张三, 李四. 石墨烯复合材料的制备与表征第1篇[J]. 材料导报, 2001, 1(2): 2-10.",
        "[2] 张三, 李四. 石墨烯复合材料的制备与表征第2篇[J]. 材料导报, 2002, 2(3): 3-11.",
    ]


def test_export_errors(client: TestClient) -> None:
    assert client.get("/api/v1/export", params={"format": "docx"}).status_code == 400
    bad = client.get("/api/v1/export", params={"q": "TI='", "mode": "pro"})
    assert bad.status_code == 400 and "position" in bad.json()["error"]
    over = client.get("/api/v1/export", params={"limit": 100_001})  # past the default cap (CHAXIN_EXPORT_MAX)
    assert over.status_code == 400 and "100,000" in over.json()["error"]["message"]
