"""The HTTP API against a real index."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient

from ingest.index_admin import create, drop_all
from ingest.writer import write_records
from mappings.analysis.tokenizer import Tokenizer
from mappings.naming import IndexNames
from tests.conftest import make_record, new_prefix, settings_for
from web.app import create_app


@pytest.fixture(scope="module")
def client(es: Elasticsearch, tokenizer: Tokenizer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    from appdb.session import upgrade

    settings = settings_for(new_prefix("api"), f"sqlite:///{tmp_path_factory.mktemp('api') / 'api.sqlite3'}")
    upgrade(settings.effective_database_url)
    names = IndexNames(settings.index_prefix)
    create(es, names, tokenizer)
    records = [
        make_record("a1", "石墨烯锂电池负极材料", keywords=["石墨烯"], year=2019, category="工学",
                    clc=["TM912", "O613.71"], language="zh", venue="电源技术"),
        make_record("a2", "深度学习文本分类", keywords=["深度学习"], year=2020, category="工学",
                    clc=["TP391.1"], language="zh", venue="计算机应用"),
    ]
    write_records(es, names.write_alias, [(r.id, r) for r in records], tokenizer, refresh=True)
    with TestClient(create_app(settings)) as c:
        yield c
    drop_all(es, names)


def test_search_response_shape(client: TestClient) -> None:
    resp = client.get("/api/v1/search", params={"q": "石墨烯", "mode": "simple", "page": 1, "size": 20})
    assert resp.status_code == 200
    body = resp.json()
    assert body["total"] == 1
    hit = body["hits"][0]
    assert {"id", "source_id", "doc_type", "title", "highlight"} <= hit.keys()
    assert hit["id"] == "a1" and "<em>" in hit["highlight"]["title"]
    assert set(body["facets"]) == {
        "doc_type", "year", "category", "discipline", "venue", "clc", "language", "access_level"
    }


def test_facet_filter_parameters(client: TestClient) -> None:
    body = client.get("/api/v1/search", params={"year": "2020"}).json()
    assert [h["id"] for h in body["hits"]] == ["a2"]


def test_record_and_404(client: TestClient) -> None:
    resp = client.get("/api/v1/records/a1")
    assert resp.status_code == 200 and resp.json()["title"] == "石墨烯锂电池负极材料"
    assert "ix" not in resp.json(), "derived search fields stay out of the record"
    missing = client.get("/api/v1/records/nope")
    assert missing.status_code == 404


@pytest.mark.parametrize(
    "params",
    [{"page": "0"}, {"size": "1000"}, {"page": "abc"}, {"mode": "sql"}, {"q": "石" * 600}, {"year": "二〇二〇"}],
)
def test_bad_parameters_get_400_in_chinese(client: TestClient, params: dict[str, str]) -> None:
    resp = client.get("/api/v1/search", params=params)
    assert resp.status_code == 400
    message = resp.json()["error"]["message"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message)


def test_healthz_ok(client: TestClient) -> None:
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.json()["services"] == {"elasticsearch": "ok", "redis": "ok", "database": "ok"}
    assert resp.json()["analysis"]["match"] is True
    cluster = resp.json()["cluster"]
    assert cluster["status"] in ("green", "yellow") and cluster["nodes"] >= 1
    assert ("warning" in cluster) == (cluster["status"] == "yellow")


def test_unknown_paths_get_chinese_errors(client: TestClient) -> None:
    resp = client.get("/api/v1/nothing-here")
    assert resp.status_code == 404 and resp.json()["error"]["message"] == "没有找到该页面或记录"
    page = client.get("/nothing-here", headers={"accept": "text/html"})
    assert page.status_code == 404 and "text/html" in page.headers["content-type"]
    assert client.get("/api/v1/records/nope").json()["error"]["message"] == "没有找到该记录"


def test_pro_mode_search_and_readings(client: TestClient) -> None:
    resp = client.get("/api/v1/search", params={"q": "TI='石墨烯' OR TI='文本' AND PY>=2020", "mode": "pro"})
    assert resp.status_code == 200
    body = resp.json()
    assert body["normalized"] == "(TI='石墨烯' OR TI='文本') AND PY>=2020"
    assert body["cnki"] == "TI='石墨烯' OR TI='文本' AND PY>=2020"
    assert [h["id"] for h in body["hits"]] == ["a2"], "left to right: (石墨烯 OR 文本) AND PY>=2020"
    assert "<em>" in body["hits"][0]["highlight"]["title"]


@pytest.mark.parametrize("q", ["TI='石墨烯", "TI=", "XX='a'", "(TI='a'", "TI='a' AND", "(" * 100 + "TI='a'"])
def test_pro_mode_errors_have_position(client: TestClient, q: str) -> None:
    resp = client.get("/api/v1/search", params={"q": q, "mode": "pro"})
    assert resp.status_code == 400
    error = resp.json()["error"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"])
    assert "position" in error and "expected" in error


def test_history_numbers_and_combines_searches(client: TestClient) -> None:
    client.cookies.clear()
    first = client.get("/api/v1/search", params={"q": "TI='石墨烯'", "mode": "pro"})
    assert first.status_code == 200 and "chaxin_sid" in first.cookies
    assert first.json()["history_number"] == 1
    second = client.get("/api/v1/search", params={"q": "KY='深度学习' OR KY='石墨烯'", "mode": "pro"}).json()
    assert second["history_number"] == 2 and second["total"] == 2
    both = client.get("/api/v1/search", params={"q": "#2 NOT #1", "mode": "pro"}).json()
    assert [h["id"] for h in both["hits"]] == ["a2"] and both["history_number"] == 3
    assert client.get("/api/v1/search", params={"q": "#1 AND #2", "mode": "pro"}).json()["total"] == 1
    unknown = client.get("/api/v1/search", params={"q": "#99", "mode": "pro"})
    assert unknown.status_code == 400 and "#99" in unknown.json()["error"]["message"]

    entries = client.get("/api/v1/history").json()["entries"]
    assert [e["number"] for e in entries] == [1, 2, 3, 4]
    # 系统解读 spells #n out (the expression keeps them), so the entry reads alone.
    assert entries[2]["expression"] == "#2 NOT #1" and entries[2]["total"] == 1
    assert entries[2]["normalized"] == "(KY='深度学习' OR KY='石墨烯') NOT (TI='石墨烯')"
    renamed = client.patch("/api/v1/history/2", json={"name": "关键词对照"}).json()
    assert renamed["name"] == "关键词对照"
    rerun = client.post("/api/v1/history/3/rerun").json()
    assert rerun["history_number"] == 5 and rerun["total"] == 1

    saved = client.post("/api/v1/strategies", json={"name": "石墨烯策略", "from_history": 1})
    assert saved.status_code == 201
    assert client.post("/api/v1/strategies", json={"name": "石墨烯策略", "expression": "TI='x'"}).status_code == 400
    listed = client.get("/api/v1/strategies").json()["strategies"]
    assert [s["name"] for s in listed] == ["石墨烯策略"]
    ran = client.post(f"/api/v1/strategies/{listed[0]['id']}/run").json()
    assert ran["total"] == 1 and ran["history_number"] == 6

    # Another session sees none of it.
    client.cookies.clear()
    assert client.get("/api/v1/history").json()["entries"] == []
    assert client.post(f"/api/v1/strategies/{listed[0]['id']}/run").status_code == 404
    assert client.post("/api/v1/history/1/rerun").status_code == 404


def test_sorting_and_more_facets(client: TestClient) -> None:
    newest = client.get("/api/v1/search", params={"sort": "year_desc"}).json()
    assert [h["id"] for h in newest["hits"]] == ["a2", "a1"]
    oldest = client.get("/api/v1/search", params={"sort": "year_asc"}).json()
    assert [h["id"] for h in oldest["hits"]] == ["a1", "a2"]
    assert client.get("/api/v1/search", params={"sort": "cited"}).status_code == 400
    facets = newest["facets"]
    assert {b["value"]: b["count"] for b in facets["clc"]} == {"T": 2, "O": 1}
    assert facets["language"] == [{"value": "zh", "label": "中文", "count": 2}]
    assert {b["value"] for b in facets["venue"]} == {"电源技术", "计算机应用"}
    only_o = client.get("/api/v1/search", params={"clc": "O", "q": "TI='石墨烯' OR TI='文本'", "mode": "pro"}).json()
    assert [h["id"] for h in only_o["hits"]] == ["a1"]
    assert only_o["normalized"] == "TI='石墨烯' OR TI='文本'", "a facet filter leaves the expression alone"


def test_concurrent_searches_of_one_session_get_distinct_numbers(client: TestClient) -> None:
    from concurrent.futures import ThreadPoolExecutor

    client.cookies.clear()
    client.get("/api/v1/history")  # takes a session cookie
    with ThreadPoolExecutor(16) as pool:
        responses = list(pool.map(lambda i: client.get("/api/v1/search", params={"q": f"TI='石墨烯{i}'", "mode": "pro"}),
                                  range(48)))  # fmt: skip
    assert all(r.status_code == 200 for r in responses)
    numbers = sorted(r.json()["history_number"] for r in responses)
    assert numbers == list(range(1, 49))
