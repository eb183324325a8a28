"""The access policy over HTTP: search API, search page, record page and API, exports, per principal.

The principal is swapped in through FastAPI's dependency override of `asking` (web.identity), the one
dependency every route takes its identity from; the table of what each principal sees is the one in
test_access_policy.py.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from html import unescape

import pytest
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient

from ingest.index_admin import create, drop_all
from ingest.writer import write_records
from mappings.analysis.tokenizer import Tokenizer
from mappings.naming import IndexNames
from search.principal import Principal
from tests.conftest import new_prefix, settings_for
from tests.test_access_policy import (
    ABS,
    CORPUS,
    EXPECTED,
    FULL,
    LEVEL_TODAY,
    META,
    NONE,
    PRINCIPALS,
    TITLE_TERM,
    TITLES,
    corpus,
    visible,
)
from web.app import create_app
from web.identity import asking

MATRIX = [(rid, who) for rid in EXPECTED for who in PRINCIPALS]


class Acting:
    """Who the app believes is asking; tests set `who` before each request."""

    who: Principal = PRINCIPALS["anonymous"]

    def __call__(self) -> Principal:
        return self.who


@pytest.fixture(scope="module")
def acting() -> Acting:
    return Acting()


@pytest.fixture(scope="module")
def client(
    es: Elasticsearch, tokenizer: Tokenizer, tmp_path_factory: pytest.TempPathFactory, acting: Acting
) -> Iterator[TestClient]:
    from appdb.session import upgrade

    settings = settings_for(new_prefix("access"), f"sqlite:///{tmp_path_factory.mktemp('acc') / 'a.sqlite3'}")
    upgrade(settings.effective_database_url)
    names = IndexNames(settings.index_prefix)
    create(es, names, tokenizer)
    write_records(es, names.write_alias, [(r.id, r) for r in corpus()], tokenizer, refresh=True)
    app = create_app(settings)
    app.dependency_overrides[asking] = acting
    with TestClient(app) as c:
        yield c
    drop_all(es, names)


def _as(acting: Acting, who: str) -> None:
    acting.who = PRINCIPALS[who]


def _chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.mark.parametrize("who", PRINCIPALS)
def test_search_api(client: TestClient, acting: Acting, who: str) -> None:
    _as(acting, who)
    for params in (
        {"q": TITLE_TERM},
        {"q": f"TI='{TITLE_TERM}'", "mode": "pro"},
        {"access_level": "restricted"},
    ):
        body = client.get("/api/v1/search", params=params).json()
        expected = visible(who) if "q" in params else visible(who) & {"res", "res-granted"}
        assert {h["id"] for h in body["hits"]} == expected and body["total"] == len(expected)
        counted = sum(b["count"] for b in body["facets"]["doc_type"])
        assert counted == len(expected)
        for hit in body["hits"]:
            assert ("abstract" in hit) is (EXPECTED[hit["id"]][who] >= ABS)
    hidden = client.get("/api/v1/search", params={"q": "AB='锂枝晶'", "mode": "pro"}).json()
    assert hidden["total"] == (1 if EXPECTED["emb-future"][who] >= ABS else 0)


@pytest.mark.parametrize("who", PRINCIPALS)
def test_every_cursor_page_is_policed(client: TestClient, acting: Acting, who: str) -> None:
    _as(acting, who)
    ids: list[str] = []
    cursor: str | None = "*"
    while cursor is not None:
        body = client.get("/api/v1/search", params={"q": TITLE_TERM, "size": 1, "cursor": cursor}).json()
        assert body["total"] == len(visible(who))
        for hit in body["hits"]:
            assert ("abstract" in hit) is (EXPECTED[hit["id"]][who] >= ABS)
        ids += [h["id"] for h in body["hits"]]
        cursor = body["cursor"]
    assert sorted(ids) == sorted(visible(who))


def test_a_cursor_does_not_carry_access_to_someone_who_sees_less(client: TestClient, acting: Acting) -> None:
    _as(acting, "admin")
    cursor = client.get("/api/v1/search", params={"q": TITLE_TERM, "size": 1, "cursor": "*"}).json()["cursor"]
    _as(acting, "anonymous")
    resp = client.get("/api/v1/search", params={"q": TITLE_TERM, "size": 1, "cursor": cursor})
    assert resp.status_code == 400 and _chinese(resp.json()["error"]["message"])


@pytest.mark.parametrize(("rid", "who"), MATRIX)
def test_record_api(client: TestClient, acting: Acting, rid: str, who: str) -> None:
    _as(acting, who)
    seen = EXPECTED[rid][who]
    resp = client.get(f"/api/v1/records/{rid}")
    if seen is NONE:
        assert resp.status_code == 404 and resp.json()["error"]["message"] == "没有找到该记录"
        return
    body = resp.json()
    assert resp.status_code == 200 and body["title"] == TITLES[rid]
    assert ("abstract" in body) is (seen >= ABS) and ("full_text" in body) is (seen >= FULL)
    assert body["access"]["visibility"] == seen.label
    notice = body["access"]["notice"]
    assert (notice is not None and _chinese(notice)) is (seen < FULL)


@pytest.mark.parametrize(("rid", "who"), MATRIX)
def test_record_page(client: TestClient, acting: Acting, rid: str, who: str) -> None:
    _as(acting, who)
    seen = EXPECTED[rid][who]
    resp = client.get(f"/records/{rid}")
    if seen is NONE:
        assert resp.status_code == 404 and "没有找到该文献记录" in resp.text
        assert TITLES[rid] not in resp.text
        return
    text = unescape(resp.text)
    assert resp.status_code == 200 and TITLES[rid] in text
    assert (CORPUS[rid][2] in text) is (seen >= ABS)
    assert CORPUS[rid][3] not in text, "the page does not print full text"
    if CORPUS[rid][1]:
        label = {"public": "公开", "embargoed": "延期公开", "restricted": "限制"}[LEVEL_TODAY[rid]]
        assert f'class="access access-{LEVEL_TODAY[rid]}">{label}<' in resp.text
    if seen is META:
        assert "该报告延期公开至 2099-12-31，目前仅公开题录信息" in text
    if seen is ABS:
        assert "全文仅对登录用户开放" in text


@pytest.mark.parametrize("who", PRINCIPALS)
def test_search_page(client: TestClient, acting: Acting, who: str) -> None:
    _as(acting, who)
    resp = client.get("/", params={"q": TITLE_TERM})
    text = unescape(re.sub(r"<[^>]+>", "", resp.text))
    assert resp.status_code == 200
    for rid, title in TITLES.items():
        assert (title in text) is (EXPECTED[rid][who] >= META), rid
        assert (CORPUS[rid][2] in text) is (EXPECTED[rid][who] >= ABS), rid


# Formats and whether they write abstracts.
EXPORTS = {"ris": True, "csv": True, "chaxin": True, "gbt7714-2025": False}


@pytest.mark.parametrize("fmt", EXPORTS)
@pytest.mark.parametrize("who", PRINCIPALS)
def test_exports(client: TestClient, acting: Acting, who: str, fmt: str) -> None:
    _as(acting, who)
    for params in ({"q": TITLE_TERM}, {"ids": ",".join(CORPUS)}, {"q": f"TI='{TITLE_TERM}'", "mode": "pro"}):
        resp = client.get("/api/v1/export", params={**params, "format": fmt})
        assert resp.status_code == 200, resp.text[:300]
        text = resp.content.decode("utf-8")
        for rid, title in TITLES.items():
            seen = EXPECTED[rid][who]
            assert (title in text) is (seen >= META), (rid, params)
            assert (CORPUS[rid][2] in text) is (EXPORTS[fmt] and seen >= ABS), (rid, params)
            assert CORPUS[rid][3] not in text
        if fmt == "csv":
            rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
            assert len(rows) == len(visible(who))


def test_history_belongs_to_the_principal(client: TestClient, acting: Acting) -> None:
    _as(acting, "analyst")
    first = client.get("/api/v1/search", params={"q": "AB='锂枝晶' AND PY=2021", "mode": "pro"}).json()
    assert first["total"] == 1
    number = first["history_number"]
    # History is keyed by Principal.owner: the visitor does not see the analyst's entry.
    _as(acting, "anonymous")
    assert "AB='锂枝晶' AND PY=2021" not in [
        e["expression"] for e in client.get("/api/v1/history").json()["entries"]
    ]
    _as(acting, "analyst")
    entries = client.get("/api/v1/history").json()["entries"]
    assert entries[-1]["expression"] == "AB='锂枝晶' AND PY=2021"
    combined = client.get("/api/v1/search", params={"q": f"#{number} OR TI='热管理'", "mode": "pro"}).json()
    assert {h["id"] for h in combined["hits"]} == {"emb-future", "art"}
