"""The search side of the citation index on a real index: live per-user counts, citing lists,
sort=cited_desc, the CF field, and what the API and pages show of them (tests/citation_docs.py).

The access case of issue 11: a 限制 tech report citing a public paper adds nothing to that paper's
count or citing list for an anonymous visitor, while the platform admin sees it; and sorting by
citations reads only citers every visitor may see.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient

from citeindex.counts import Stored, count_citers
from ingest.index_admin import create, drop_all
from mappings.analysis.tokenizer import Tokenizer
from mappings.naming import IndexNames
from search import citations
from search.errors import BadQuery
from search.principal import ANONYMOUS, Principal, Role
from search.query import compile_query, parse
from search.service import SearchService
from tests.citation_docs import (
    CITED,
    LONELY,
    OTHER,
    SECRET,
    SECRET2,
    SECRET_TITLE,
    SELF,
    SHADOW,
    TOPIC,
    write_network,
)
from tests.conftest import new_prefix, seed_people, settings_for
from web.app import create_app

ADMIN = Principal(user_id=1, username="root", roles=frozenset({Role.platform_admin}), owner="user:1")
ANALYST = Principal(user_id=3, username="ana", roles=frozenset({Role.analyst}), centre="C01", owner="user:3")
GRANTEE = Principal(user_id=4, username="g", roles=frozenset({Role.registered}), granted=frozenset({SECRET}),
                    owner="user:4")  # fmt: skip


@pytest.fixture(scope="module")
def names(es: Elasticsearch, tokenizer: Tokenizer) -> Iterator[IndexNames]:
    names = IndexNames(new_prefix("cites"))
    create(es, names, tokenizer)
    write_network(es, names.write_alias, tokenizer)
    yield names
    drop_all(es, names)


@pytest.fixture(scope="module")
def service(es: Elasticsearch, names: IndexNames, tokenizer: Tokenizer) -> SearchService:
    return SearchService(es, names, tokenizer)


# ---------------------------------------------------------------- counts: the access case


def test_anonymous_count_leaves_out_the_restricted_citer(service: SearchService) -> None:
    counts = service.citation_counts([CITED, SHADOW, LONELY], ANONYMOUS)
    assert counts[CITED] == citations.Counts(cited_by_count=2, cited_by_others=1)  # other + self(自引)
    assert counts[SHADOW] == citations.Counts(0, 0), "cited by 限制 reports only"
    assert counts[LONELY] == citations.ZERO


@pytest.mark.parametrize(("who", "cited", "shadow"), [
    (ANALYST, (2, 1), (0, 0)),  # staff see embargoed reports, not 限制 ones
    (GRANTEE, (3, 2), (1, 1)),  # granted the one report
    (ADMIN, (3, 2), (3, 3)),
])  # fmt: skip
def test_counts_follow_who_asks(
    service: SearchService, who: Principal, cited: tuple[int, int], shadow: tuple[int, int]
) -> None:
    counts = service.citation_counts([CITED, SHADOW], who)
    assert counts[CITED] == citations.Counts(*cited)
    assert counts[SHADOW] == citations.Counts(*shadow)


def _spy(service: SearchService, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    real = service._search

    def spy(body: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        sent.append(body)
        return real(body, **kwargs)

    monkeypatch.setattr(service, "_search", spy)
    return sent


@pytest.mark.parametrize("who", [ANONYMOUS, ANALYST])
def test_hit_counts_come_with_the_hits_for_the_anonymous_filter(
    service: SearchService, monkeypatch: pytest.MonkeyPatch, who: Principal
) -> None:
    sent = _spy(service, monkeypatch)
    result = service.simple(TOPIC, size=20, principal=who)
    assert result["total"] == 5  # the five public papers; the 限制 reports stay out
    assert len(sent) == 1, "the stored counts are exact for this filter: no second request"
    counts = {h["id"]: (h["cited_by_count"], h["cited_by_others"]) for h in result["hits"]}
    # CITED's 限制 citer (stored apart, cited_by_restricted 1) adds nothing; SHADOW's three add nothing.
    assert counts == {CITED: (2, 1), SHADOW: (0, 0), OTHER: (0, 0), SELF: (0, 0), LONELY: (0, 0)}


@pytest.mark.parametrize(("who", "shadow"), [(ADMIN, (3, 3)), (GRANTEE, (1, 1))])
def test_only_hits_with_restricted_citers_are_counted_live_for_a_wider_filter(
    service: SearchService, monkeypatch: pytest.MonkeyPatch, who: Principal, shadow: tuple[int, int]
) -> None:
    sent = _spy(service, monkeypatch)
    result = service.simple(TOPIC, size=20, principal=who)
    assert len(sent) == 2, "the search, then one request for the hits with 限制 citers only"
    assert sent[1]["query"]["bool"]["filter"][0] == {"terms": {citations.CITES: [CITED, SHADOW]}}
    counts = {h["id"]: (h["cited_by_count"], h["cited_by_others"]) for h in result["hits"]}
    # The 限制 citer SECRET counts for both; SECRET-2 and -3 for the admin only.
    public = {CITED: (3, 2), SHADOW: shadow, OTHER: (0, 0), SELF: (0, 0), LONELY: (0, 0)}
    assert {k: v for k, v in counts.items() if k in public} == public


def test_stored_counts_rule() -> None:
    clean = {"citations": {"cited_by_count": 4, "cited_by_others": 3, "cited_by_restricted": 0}}
    hidden = {"citations": {"cited_by_count": 4, "cited_by_others": 3, "cited_by_restricted": 2}}
    assert citations.stored_counts(clean, as_anonymous=False) == citations.Counts(4, 3)
    assert citations.stored_counts(hidden, as_anonymous=True) == citations.Counts(4, 3)
    assert citations.stored_counts(hidden, as_anonymous=False) is None
    assert citations.stored_counts({}, as_anonymous=False) == citations.ZERO, "nobody cites it: no counts stored"
    assert citations.sees_as_anonymous(ANONYMOUS) and citations.sees_as_anonymous(ANALYST)
    assert not citations.sees_as_anonymous(ADMIN) and not citations.sees_as_anonymous(GRANTEE)


def test_the_refresh_stores_what_the_hits_read(es: Elasticsearch, names: IndexNames) -> None:
    # The network's stored state is the refresh's own aggregation over its citers, both ways.
    counts = count_citers(es, names.read_alias, [CITED, SHADOW, LONELY])
    assert counts == {CITED: Stored(2, 1, 1), SHADOW: Stored(0, 0, 3), LONELY: Stored(0, 0, 0)}


def test_counts_body_is_exact_per_id() -> None:
    body = citations.counts_body(["b", "a", "b"], ANONYMOUS)
    terms = body["aggs"]["cites"]["terms"]
    assert terms["include"] == ["a", "b"] and terms["size"] == 2 and terms["shard_size"] == 2
    assert body["size"] == 0
    assert citations.counts_body(["a"], ADMIN)["query"] == {"bool": {"filter": [{"terms": {citations.CITES: ["a"]}}]}}


# ---------------------------------------------------------------- citing lists


def _listed(found: dict[str, Any] | None) -> list[tuple[str, bool]]:
    assert found is not None
    return [(h["id"], h["self_citation"]) for h in found["hits"]]


def test_citing_list_anonymous_and_admin(service: SearchService) -> None:
    anonymous = service.citing(CITED)
    assert _listed(anonymous) == [(SELF, True), (OTHER, False)]  # newest first
    assert anonymous is not None and anonymous["total"] == 2
    assert SECRET_TITLE not in repr(anonymous)
    admin = service.citing(CITED, principal=ADMIN)
    assert _listed(admin) == [(SECRET, False), (SELF, True), (OTHER, False)]
    assert admin is not None and admin["total"] == 3


def test_citing_list_pages_and_limits(service: SearchService) -> None:
    pages = [_listed(service.citing(CITED, page=p, size=1, principal=ADMIN)) for p in (1, 2, 3, 4)]
    assert pages == [[(SECRET, False)], [(SELF, True)], [(OTHER, False)], []]
    assert service.citing(SHADOW) is not None and _listed(service.citing(SHADOW)) == []
    with pytest.raises(BadQuery):
        service.citing(CITED, page=0)
    with pytest.raises(BadQuery):
        service.citing(CITED, page=200, size=100)


def test_citing_list_of_a_record_one_may_not_see_is_none(service: SearchService) -> None:
    assert service.citing(SECRET) is None
    assert service.citing("no-such-record") is None
    assert service.citing(SECRET, principal=ADMIN) is not None


# ---------------------------------------------------------------- hits, records, sorting, CF


def test_hits_carry_live_counts(service: SearchService) -> None:
    anonymous = {h["id"]: (h["cited_by_count"], h["cited_by_others"]) for h in service.simple(TOPIC)["hits"]}
    assert anonymous[CITED] == (2, 1) and anonymous[SHADOW] == (0, 0) and anonymous[LONELY] == (0, 0)
    admin = {h["id"]: h["cited_by_count"] for h in service.simple(TOPIC, principal=ADMIN)["hits"]}
    assert admin[CITED] == 3 and admin[SHADOW] == 3
    pro, _ = service.pro(f"KY='{TOPIC}'", principal=ADMIN)
    assert {h["id"]: h["cited_by_count"] for h in pro["hits"]}[SHADOW] == 3


def test_sort_by_citations_reads_only_visible_citers(service: SearchService) -> None:
    # SHADOW has three citers, all 限制: for sorting it counts 0 for everyone, so it cannot rise
    # above CITED and give away that hidden reports cite it, not even for the admin.
    for who in (ANONYMOUS, ADMIN):
        order = [h["id"] for h in service.simple(TOPIC, sort="cited_desc", principal=who)["hits"]]
        assert order[0] == CITED
        assert order.index(SHADOW) > order.index(CITED)
    anonymous = service.simple(TOPIC, sort="cited_desc")["hits"]
    # Ties (0) keep the usual order: score, then id.
    zeros = [h for h in anonymous if h["id"] != CITED]
    assert [(-(h["score"] or 0), h["id"]) for h in zeros] == sorted((-(h["score"] or 0), h["id"]) for h in zeros)
    walked = [r["id"] for r in service.iter_records(service.query_for(TOPIC), sort="cited_desc")]
    assert walked == [h["id"] for h in anonymous]
    assert all("citations" not in r for r in service.iter_records(service.query_for(TOPIC)))


def _pro_ids(service: SearchService, expression: str, who: Principal = ANONYMOUS) -> set[str]:
    result, _ = service.pro(expression, principal=who, size=50)
    return {h["id"] for h in result["hits"]}


def test_cf_field_filters_on_the_stored_count(service: SearchService) -> None:
    assert _pro_ids(service, f"KY='{TOPIC}' AND CF>=2") == {CITED}
    assert _pro_ids(service, f"KY='{TOPIC}' AND CF=0") == {OTHER, SELF, SHADOW, LONELY}  # no count = 0
    assert _pro_ids(service, f"KY='{TOPIC}' AND CF<5") == {CITED, OTHER, SELF, SHADOW, LONELY}
    assert _pro_ids(service, f"KY='{TOPIC}' AND CF BETWEEN ('1','2')") == {CITED}
    assert _pro_ids(service, f"KY='{TOPIC}' AND CF>2") == set()
    # The admin's live count of SHADOW is 3; CF reads what every visitor may know, so no hint either.
    assert _pro_ids(service, "CF>=1", ADMIN) == {CITED}
    assert _pro_ids(service, f"KY='{TOPIC}' NOT CF=0", ADMIN) == {CITED}
    result, _ = service.pro("cf>=2")
    assert result["cnki"] == "CF>=2"


def test_cf_compiles_to_the_stored_count(tokenizer: Tokenizer) -> None:
    field = citations.STORED_COUNT
    missing = {"bool": {"must_not": [{"exists": {"field": field}}]}}
    assert compile_query(parse("CF>=10"), tokenizer=tokenizer) == {"range": {field: {"gte": 10}}}
    assert compile_query(parse("CF>10"), tokenizer=tokenizer) == {"range": {field: {"gte": 11}}}
    assert compile_query(parse("CF=0"), tokenizer=tokenizer) == {
        "bool": {"should": [{"term": {field: 0}}, missing], "minimum_should_match": 1}
    }
    assert compile_query(parse("CF<5"), tokenizer=tokenizer) == {
        "bool": {"should": [{"range": {field: {"gte": 0, "lte": 4}}}, missing], "minimum_should_match": 1}
    }
    assert compile_query(parse("CF<0"), tokenizer=tokenizer) == {"match_none": {}}
    assert compile_query(parse("CF='5-20'"), tokenizer=tokenizer) == {"range": {field: {"gte": 5, "lte": 20}}}


def test_record_counts_and_links_for_the_caller(service: SearchService) -> None:
    anonymous = service.get_record(OTHER)
    assert anonymous is not None
    assert (anonymous["cited_by_count"], anonymous["cited_by_others"]) == (0, 0)
    assert "citations" not in anonymous, "link state (which may name 限制 records) stays inside"
    # The link to the 限制 report is withheld; the reference itself stays, unlinked.
    assert [r["linked_id"] for r in anonymous["references"]] == [CITED, None, None]
    admin = service.get_record(OTHER, principal=ADMIN)
    assert admin is not None and [r["linked_id"] for r in admin["references"]] == [CITED, SECRET, None]
    cited = service.get_record(CITED)
    assert cited is not None and (cited["cited_by_count"], cited["cited_by_others"]) == (2, 1)
    cited_admin = service.get_record(CITED, principal=ADMIN)
    assert cited_admin is not None and (cited_admin["cited_by_count"], cited_admin["cited_by_others"]) == (3, 2)


# ---------------------------------------------------------------- API and pages


@pytest.fixture(scope="module")
def site(
    es: Elasticsearch, names: IndexNames, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    from appdb.session import session_factory, upgrade

    url = f"sqlite:///{tmp_path_factory.mktemp('cites') / 'cites.sqlite3'}"
    settings = settings_for(names.prefix, url)
    upgrade(url)
    with session_factory(url).begin() as session:
        _, tokens = seed_people(session, [("root", None, ["platform_admin"], None)], "Chaxin-Test-2026!")
    headers = {"admin": {"Authorization": f"Bearer {tokens['root']}"}, "anonymous": {}}
    with TestClient(create_app(settings)) as client:
        yield client, {k: v.get("Authorization", "") for k, v in headers.items()}


def _get(site: tuple[TestClient, dict[str, str]], path: str, who: str = "anonymous", **params: Any) -> Any:
    client, auth = site
    headers = {"Authorization": auth[who]} if auth[who] else {}
    return client.get(path, params=params, headers=headers)


def test_api_record_shape(site: tuple[TestClient, dict[str, str]]) -> None:
    body = _get(site, f"/api/v1/records/{OTHER}").json()
    assert body["cited_by_count"] == 0 and body["cited_by_others"] == 0
    assert [r["linked_id"] for r in body["references"]] == [CITED, None, None]
    assert "citations" not in body and SECRET not in _get(site, f"/api/v1/records/{OTHER}").text
    admin = _get(site, f"/api/v1/records/{OTHER}", "admin").json()
    assert [r["linked_id"] for r in admin["references"]] == [CITED, SECRET, None]
    cited = _get(site, f"/api/v1/records/{CITED}").json()
    assert (cited["cited_by_count"], cited["cited_by_others"]) == (2, 1)


def test_api_citations_shape_and_access(site: tuple[TestClient, dict[str, str]]) -> None:
    resp = _get(site, f"/api/v1/records/{CITED}/citations", page=1, size=10)
    assert resp.status_code == 200
    body = resp.json()
    assert {k: body[k] for k in ("id", "total", "page", "size")} == {"id": CITED, "total": 2, "page": 1, "size": 10}
    assert [(h["id"], h["self_citation"]) for h in body["hits"]] == [(SELF, True), (OTHER, False)]
    assert {"title", "authors", "year", "visibility"} <= body["hits"][0].keys()
    assert SECRET_TITLE not in resp.text
    admin = _get(site, f"/api/v1/records/{CITED}/citations", "admin").json()
    assert [h["id"] for h in admin["hits"]] == [SECRET, SELF, OTHER]
    assert _get(site, f"/api/v1/records/{SECRET}/citations").status_code == 404
    assert _get(site, "/api/v1/records/no-such/citations").status_code == 404
    assert _get(site, f"/api/v1/records/{SHADOW}/citations", "admin").json()["total"] == 3


@pytest.mark.parametrize("params", [{"page": "0"}, {"size": "0"}, {"size": "101"}, {"page": "x"},
                                    {"page": "101", "size": "100"}])  # fmt: skip
def test_api_citations_bad_paging_is_400_in_chinese(
    site: tuple[TestClient, dict[str, str]], params: dict[str, str]
) -> None:
    resp = _get(site, f"/api/v1/records/{CITED}/citations", **params)
    assert resp.status_code == 400
    assert re.search(r"[\u4e00-\u9fff]", resp.json()["error"]["message"])


def test_api_search_sort_and_counts(site: tuple[TestClient, dict[str, str]]) -> None:
    body = _get(site, "/api/v1/search", q=TOPIC, sort="cited_desc").json()
    assert body["hits"][0]["id"] == CITED and body["hits"][0]["cited_by_count"] == 2
    assert all({"cited_by_count", "cited_by_others"} <= h.keys() for h in body["hits"])
    bad = _get(site, "/api/v1/search", q=TOPIC, sort="cited")
    assert bad.status_code == 400 and re.search(r"[\u4e00-\u9fff]", bad.json()["error"]["message"])
    pro = _get(site, "/api/v1/search", "admin", q="CF>=2", mode="pro").json()
    assert [h["id"] for h in pro["hits"]] == [CITED] and pro["cnki"] == "CF>=2"
    wrong = _get(site, "/api/v1/search", "admin", q="CF>=abc", mode="pro")
    assert wrong.status_code == 400 and wrong.json()["error"]["position"] == 4
    assert _get(site, "/api/v1/export", q=TOPIC, sort="cited_desc", format="ris").status_code == 200


def test_pages_show_counts_references_and_citing(site: tuple[TestClient, dict[str, str]]) -> None:
    results = _get(site, "/", q=TOPIC, sort="cited_desc").text
    assert "被引 2 次" in results and "被引频次" in results
    page = _get(site, f"/records/{CITED}").text
    assert "被引 2 次" in page and "他引 1 次" in page and "引证文献（2）" in page
    assert f'href="/records/{SELF}"' in page and "自引" in page and "他引" in page
    assert SECRET_TITLE not in page
    admin = _get(site, f"/records/{CITED}", "admin").text
    assert "被引 3 次" in admin and SECRET_TITLE in admin
    citer = _get(site, f"/records/{OTHER}").text
    assert f'class="ref-link" href="/records/{CITED}"' in citer
    assert f"/records/{SECRET}" not in citer, "no link to a 限制 record for the anonymous visitor"
    assert "暂无引证文献" in citer
    assert _get(site, f"/records/{CITED}", cp="abc").status_code == 400


def test_record_page_citing_list_pages(site: tuple[TestClient, dict[str, str]]) -> None:
    import web.pages

    saved = web.pages.CITING_PAGE_SIZE
    web.pages.CITING_PAGE_SIZE = 1
    try:
        first = _get(site, f"/records/{CITED}", "admin").text
        assert "第 1 / 3 页" in first and f'href="/records/{CITED}?cp=2#citing"' in first
        second = _get(site, f"/records/{CITED}", "admin", cp=2).text
        assert "第 2 / 3 页" in second and f'href="/records/{SELF}"' in second and 'start="2"' in second
    finally:
        web.pages.CITING_PAGE_SIZE = saved


def test_secret2_is_never_listed_anonymously(site: tuple[TestClient, dict[str, str]]) -> None:
    body = _get(site, f"/api/v1/records/{SHADOW}/citations").json()
    assert body["total"] == 0 and SECRET2 not in repr(body)
