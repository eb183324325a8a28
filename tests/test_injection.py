"""Hostile text in every text parameter: a 200 or a Chinese 400, never a 5xx, and never a 限制 record.

The index holds a 限制 tech report only the platform admin may see; its id, report number and a title
word of its own must not appear in any answer to anyone else, whatever the query tries: Elasticsearch
JSON fragments, query_string syntax, script tags, very long strings, NUL and control characters.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient

from mappings.analysis.tokenizer import Tokenizer
from search.fields import FACETS
from tests.secure_site import SECRET_ID, SECRET_NO, SECRET_TITLE_ONLY, SECRET_WORD, Site, build_site, csrf_for

PAYLOADS = [
    '"}},{"match_all":{}}',
    '{"query":{"match_all":{}}}',
    '"}}]},"post_filter":{"match_all":{}},"x":{"y":[{"z":"',
    "*:*",
    "*",
    "_id:" + SECRET_ID,
    f"tech_report.access_level:restricted OR id:{SECRET_ID}",
    f"TI='{SECRET_WORD}'",
    f"TI='储能' OR ID='{SECRET_ID}'",
    SECRET_ID,
    SECRET_NO,
    SECRET_WORD,
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "a\x00b",
    "\x00",
    "\u202e\ufeff\u200b",
    "' OR 1=1 --",
    "../../etc/passwd",
    "%00%2e%2e",
    "\\",
    "(" * 200,
    "储" * 5000,
    "x" * 70_000,
    "{{7*7}}${7*7}",
    "/.*/",
    "a~100000",
    "#1 OR #2 OR #999999999999999999999",
]
IDS = [f"p{i}" for i in range(len(PAYLOADS))]
ROLES_TO_TRY = ("anonymous", "registered", "analyst")


@pytest.fixture(scope="module")
def site(es: Elasticsearch, tokenizer: Tokenizer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    yield from build_site(es, tokenizer, tmp_path_factory.mktemp("inject"), "inject")


def _sent_values(path: str, kwargs: dict[str, Any]) -> list[str]:
    values = [path]
    for key in ("params", "json", "data"):
        for value in (kwargs.get(key) or {}).values():
            values.extend(value if isinstance(value, list) else [str(value)])
    return [v for v in values if v]


def _assert_safe(resp: Any, what: str, sent: list[str]) -> None:
    assert resp.status_code < 500, f"{what}: {resp.status_code} {resp.text[:300]}"
    # 403: a staff-only route (ingest) refusing a signed-in non-staff user before reading the input.
    assert resp.status_code in (200, 201, 303, 400, 401, 403, 404, 413), f"{what}: {resp.status_code}"
    # The caller's own input may be echoed back in any escaping ("you searched for ...", a sign-in link
    # with ?next=..., the history table), so only the title word no input ever carries is evidence
    # in a page; JSON search answers are checked hit by hit.
    assert SECRET_TITLE_ONLY not in resp.text, f"{what}: leaked the 限制 record"
    if resp.status_code == 200 and resp.headers.get("content-type", "").startswith("application/json"):
        hits = resp.json().get("hits", [])
        assert SECRET_ID not in {h.get("id") for h in hits}, f"{what}: 限制 record among the hits"
    if "text/csv" in resp.headers.get("content-type", "") or "ris" in resp.headers.get("content-type", ""):
        assert SECRET_NO not in resp.text and SECRET_WORD not in resp.text, f"{what}: exported"
    if resp.status_code == 400 and resp.headers.get("content-type", "").startswith("application/json"):
        message = resp.json()["error"]["message"]
        assert any("\u4e00" <= ch <= "\u9fff" for ch in message), message


def _api_calls(payload: str) -> list[tuple[str, str, dict[str, Any]]]:
    facet_params = {f.name: payload for f in FACETS}
    return [
        ("GET", "/api/v1/search", {"params": {"q": payload}}),
        ("GET", "/api/v1/search", {"params": {"q": payload, "mode": "pro"}}),
        ("GET", "/api/v1/search", {"params": {"q": "储能", "sort": payload}}),
        ("GET", "/api/v1/search", {"params": {"q": "储能", "mode": payload}}),
        ("GET", "/api/v1/search", {"params": {"q": "储能", **facet_params}}),
        ("GET", "/api/v1/search", {"params": {"q": "储能", "page": payload, "size": payload}}),
        ("GET", "/api/v1/export", {"params": {"q": payload, "format": "ris"}}),
        ("GET", "/api/v1/export", {"params": {"q": "储能", "format": payload}}),
        ("GET", "/api/v1/export", {"params": {"ids": payload, "format": "ris"}}),
        ("GET", "/api/v1/export", {"params": {"ids": [payload, SECRET_ID], "format": "csv"}}),
        (
            "GET",
            "/api/v1/export",
            {"params": {"q": payload, "mode": "pro", "format": "bibtex", **facet_params}},
        ),
        ("GET", f"/api/v1/records/{payload}", {}),
        ("GET", "/api/v1/records/x", {"params": {"id": payload}}),
        ("PATCH", "/api/v1/history/1", {"json": {"name": payload}}),
        ("POST", "/api/v1/strategies", {"json": {"name": "s", "expression": payload}}),
        ("GET", "/", {"params": {"q": payload}}),
        ("GET", "/", {"params": {"q": "储能", **facet_params}}),
        ("GET", "/advanced", {"params": {"q": payload}}),
        ("GET", f"/records/{payload}", {}),
        ("GET", "/workspace", {"params": {"q": payload}}),
        ("GET", "/workspace/export", {"params": {"ids": payload, "format": payload}}),
        ("GET", "/workspace/export", {"params": {"ids": [payload, SECRET_ID], "format": "ris"}}),
        ("GET", "/api/v1/ingest/jobs/1/errors", {"params": {"limit": payload}}),
        ("POST", "/api/v1/auth/login", {"json": {"username": payload, "password": payload}}),
    ]


def _send(client: TestClient, method: str, path: str, kwargs: dict[str, Any]) -> Any:
    if "\x00" in path:
        return None  # a NUL in the path never gets through an HTTP client or server
    try:
        return client.request(method, path, **kwargs)
    except Exception as exc:
        # The HTTP client itself refuses URLs over 64 kB; a real server would too (414), before the app.
        if type(exc).__name__ == "InvalidURL":
            return None
        raise


@pytest.mark.parametrize("role", ROLES_TO_TRY)
@pytest.mark.parametrize("payload", PAYLOADS, ids=IDS)
def test_hostile_text_everywhere(site: Site, role: str, payload: str) -> None:
    client = site.client(role)
    client.get("/api/v1/search", params={"q": "TI='储能'", "mode": "pro"})  # history #1 exists for PATCH
    for method, path, kwargs in _api_calls(payload):
        resp = _send(client, method, path, kwargs)
        if resp is not None:
            _assert_safe(resp, f"{role} {method} {path[:60]} {str(kwargs)[:120]}", _sent_values(path, kwargs))


@pytest.mark.parametrize("payload", PAYLOADS, ids=IDS)
def test_hostile_text_in_workspace_forms(site: Site, payload: str) -> None:
    client = site.client("platform_admin")
    token = csrf_for(client)
    for path, form in (
        ("/workspace/search", {"q": payload}),
        ("/workspace/strategies", {"name": payload[:150], "expression": payload, "return_to": payload}),
        ("/workspace/history/1/name", {"name": payload, "return_to": payload}),
    ):
        resp = client.post(path, data={**form, "csrf_token": token})
        _assert_safe(resp, f"POST {path} {payload[:40]!r}", list(form.values()))
        if resp.status_code == 303:
            assert resp.headers["location"].startswith("/"), "redirects stay on this site"
            assert not resp.headers["location"].startswith("//")
    for path, params in (
        ("/admin/users", {"q": payload}),
        ("/admin/audit", {"action": payload, "actor": payload}),
    ):
        resp = _send(client, "GET", path, {"params": params})
        if resp is not None:
            _assert_safe(resp, f"GET {path} {payload[:40]!r}", list(params.values()))


def test_the_secret_is_there_for_the_platform_admin(site: Site) -> None:
    """The leak checks above are meaningful: the same queries do find the record for the one who may see it."""
    admin = site.client("platform_admin")
    assert SECRET_ID in admin.get("/api/v1/search", params={"q": SECRET_WORD}).text
    assert SECRET_ID in admin.get("/api/v1/export", params={"ids": SECRET_ID, "format": "csv"}).text
    anon = site.client("anonymous")
    body = anon.get("/api/v1/search", params={"q": SECRET_WORD}).json()
    assert SECRET_ID not in {h["id"] for h in body["hits"]}
    assert anon.get("/api/v1/export", params={"ids": SECRET_ID, "format": "csv"}).text.count(SECRET_ID) == 0


HUGE = str(2**63)  # one past SQLite's INTEGER range: once an OverflowError, a 500


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("POST", f"/api/v1/history/{HUGE}/rerun", None),
        ("PATCH", f"/api/v1/history/{HUGE}", None),
        ("POST", f"/api/v1/strategies/{HUGE}/run", None),
        ("GET", f"/api/v1/ingest/jobs/{HUGE}", None),
        ("GET", f"/api/v1/ingest/jobs/{HUGE}/errors", None),
        ("DELETE", f"/api/v1/auth/tokens/{HUGE}", None),
        ("GET", f"/admin/users/{HUGE}", None),
        ("POST", f"/admin/users/{HUGE}/roles", {"role": "analyst"}),
        ("POST", f"/admin/users/{HUGE}/profile", {"active": "1"}),
        ("POST", f"/admin/users/{HUGE}/password", {"password": "Whatever-pass-1"}),
        ("POST", f"/workspace/history/{HUGE}/rerun", {}),
        ("POST", f"/workspace/history/{HUGE}/name", {"name": "x"}),
        ("POST", f"/workspace/strategies/{HUGE}/run", {}),
        ("POST", "/workspace/strategies", {"name": "x", "from_history": HUGE}),
        ("POST", f"/account/tokens/{HUGE}/revoke", {}),
    ],
)
def test_huge_ids_are_a_400(site: Site, method: str, path: str, data: dict[str, str] | None) -> None:
    client = TestClient(site.app, raise_server_exceptions=False, follow_redirects=False)
    client.headers["Authorization"] = f"Bearer {site.tokens['root']}"
    kwargs: dict[str, Any] = {"json": {"name": "x"}} if method == "PATCH" else {}
    if data is not None:
        kwargs = {"data": {**data, "csrf_token": csrf_for(client)}}
    resp = client.request(method, path, **kwargs)
    assert resp.status_code == 400, resp.text[:300]


def test_strategy_from_a_huge_history_number_is_a_400(site: Site) -> None:
    client = TestClient(site.app, raise_server_exceptions=False)
    resp = client.post("/api/v1/strategies", json={"name": "x", "from_history": int(HUGE)})
    assert resp.status_code == 400


# ---------------------------------------------------------------- `#n` amplification (issue 14, break 3)


def test_history_chains_cannot_amplify_a_query(site: Site) -> None:
    """`#n AND #n ...` through history multiplied a query a hundredfold per level; now the expanded
    query is capped, refused with a positioned Chinese 400, and nothing huge is stored."""
    from search.query.compiler import MAX_EXPANDED_LEAVES

    client = TestClient(site.app, raise_server_exceptions=False)  # anonymous, as the attack was
    wide = " OR ".join(f"TI='储能{i}'" for i in range(60))
    first = client.get("/api/v1/search", params={"q": wide, "mode": "pro"})
    assert first.status_code == 200, first.text
    n = first.json()["history_number"]
    refused = None
    expression = " OR ".join([f"#{n}"] * 100)
    for _ in range(4):
        resp = client.get("/api/v1/search", params={"q": expression, "mode": "pro"})
        if resp.status_code == 400:
            refused = resp
            break
        assert resp.status_code == 200, resp.text
        expression = " OR ".join([f"#{resp.json()['history_number']}"] * 100)
    assert refused is not None, "a chain of #n was never refused"
    error = refused.json()["error"]
    assert "展开后的检索式过大" in error["message"] and str(MAX_EXPANDED_LEAVES) in error["message"]
    assert isinstance(error["position"], int) and expression[error["position"]] == "#"
    entries = client.get("/api/v1/history").json()["entries"]
    assert len(entries) <= 5 and max(len(str(e)) for e in entries) < 100_000


# ---------------------------------------------------------------- numbers out of range (issue 14, break 7)


@pytest.mark.parametrize("year", ["3000000000", "99999999999999999999", "-1", "40000"])
def test_an_impossible_year_is_a_chinese_400(site: Site, year: str) -> None:
    client = TestClient(site.app, raise_server_exceptions=False)
    for params in ({"q": "储能", "year": year}, {"q": "TI='储能'", "mode": "pro", "year": year}):
        resp = client.get("/api/v1/search", params=params)
        assert resp.status_code == 400, resp.text[:300]
        assert "年份" in resp.json()["error"]["message"]


@pytest.mark.parametrize("field", ["analyst_id", "reviewer_id"])
@pytest.mark.parametrize("value", [2**63, 2**64 + 1, 2**31])
def test_a_user_id_beyond_the_database_is_a_chinese_400(site: Site, field: str, value: int) -> None:
    client = TestClient(site.app, raise_server_exceptions=False)
    client.headers["Authorization"] = f"Bearer {site.tokens['root']}"
    body = {"project_name_zh": "项目", "client_name": "委托人", "commission_date": "2026-03-02",
            "purpose": "立项", "scope": "国内", "centre": "A", field: value}  # fmt: skip
    resp = client.post("/api/v1/cases", json=body)
    assert resp.status_code == 400, resp.text[:300]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in resp.json()["error"]["message"])


# ---------------------------------------------------------------- control characters (issue 14, break 4)


def test_control_characters_in_case_fields_never_break_the_report(site: Site) -> None:
    client = TestClient(site.app, raise_server_exceptions=False)
    client.headers["Authorization"] = f"Bearer {site.tokens['ana-a']}"
    body = {"project_name_zh": "项目\x00名称\x0b", "client_name": "委托\x1f人", "commission_date": "2026-03-02",
            "purpose": "立项", "scope": "国内", "technical_points": "要点\x00\x08", "terms_zh": ["石墨烯\x00"]}  # fmt: skip
    created = client.post("/api/v1/cases", json=body)
    assert created.status_code == 201, created.text
    case = created.json()
    assert (case["project_name_zh"], case["client_name"], case["terms_zh"]) == (
        "项目名称",
        "委托人",
        ["石墨烯"],
    )
    patched = client.patch(f"/api/v1/cases/{case['id']}", json={"remarks": "备注\x00"})
    assert patched.status_code == 200 and patched.json()["remarks"] == "备注"
    point = client.post(f"/api/v1/cases/{case['id']}/points", json={"text": "查新点\x1f一"})
    assert point.status_code in (200, 201) and "\x1f" not in point.text
    for kind in ("docx", "pdf"):
        assert client.get(f"/api/v1/cases/{case['id']}/report.{kind}").status_code == 200
