"""Who may call what: one table of (method, route) x role -> status for every route of the app.

Each role is a real user in a real SQLite database, signed in with a real bearer token (API tokens are
honoured on pages too). Form POSTs carry a valid CSRF token, so a 403 here is the authorisation
decision, never the CSRF guard. Requests that would change state are chosen so they change nothing
the other rows depend on: invalid input behind the gate (400 means "let through"), no-op revokes, or
a throwaway target user.

A test asserts the table names every route the app has, so a new route cannot ship unclassified.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient

from mappings.analysis.tokenizer import Tokenizer
from tests.secure_site import PUBLIC_ID, ROLES, SECRET_ID, Site, build_site, csrf_for, walk_routes

# Routes the table deliberately leaves out: framework documentation, static files, and the
# novelty-search cases another change is adding (covered by its own tests).
EXCLUDED_PREFIXES = ("/static", "/openapi.json", "/docs", "/redoc", "/api/v1/cases", "/verify", "/api/v1/centres", "/workspace/centres")  # fmt: skip

#            anonymous registered analyst reviewer centre_admin platform_admin
ALL_200 = (200, 200, 200, 200, 200, 200)
ADMIN_ANY = (303, 403, 403, 403, 200, 200)  # admin pages: centre admins and the platform admin
ADMIN_PLATFORM = (303, 403, 403, 403, 403, 200)  # centres, report grants, audit: platform admin only
SIGNED_IN = (401, 200, 200, 200, 200, 200)
CASE_404 = (303, 403, 404, 404, 404, 404)  # case pages for a case that does not exist

# (method, route template, concrete path, request kwargs, statuses by role).
# In paths, {name} is replaced by that user's id. "form" bodies get the CSRF token added.
Row = tuple[str, str, str, dict[str, Any], tuple[int, ...]]
TABLE: list[Row] = [
    # ---- public search API
    ("GET", "/api/v1/search", "/api/v1/search", {"params": {"q": "储能"}}, ALL_200),
    ("GET", "/api/v1/records/{record_id}", f"/api/v1/records/{PUBLIC_ID}", {}, ALL_200),
    ("GET", "/api/v1/records/{record_id}/citations", f"/api/v1/records/{PUBLIC_ID}/citations", {}, ALL_200),
    ("GET", "/api/v1/export", "/api/v1/export", {"params": {"q": "储能", "format": "ris"}}, ALL_200),
    ("GET", "/healthz", "/healthz", {}, ALL_200),
    ("POST", "/api/v1/references/match", "/api/v1/references/match", {"json": {"references": ["x"]}}, ALL_200),
    # ---- history and strategies: everyone has their own (anonymous ones hang on the session cookie)
    ("GET", "/api/v1/history", "/api/v1/history", {}, ALL_200),
    ("POST", "/api/v1/history/{number}/rerun", "/api/v1/history/9999/rerun", {}, (404,) * 6),
    ("PATCH", "/api/v1/history/{number}", "/api/v1/history/9999", {"json": {"name": "x"}}, (404,) * 6),
    ("DELETE", "/api/v1/history/{number}", "/api/v1/history/9999", {}, (404,) * 6),
    ("DELETE", "/api/v1/history", "/api/v1/history", {}, ALL_200),  # each caller clears only their own
    ("GET", "/api/v1/strategies", "/api/v1/strategies", {}, ALL_200),
    ("POST", "/api/v1/strategies", "/api/v1/strategies", {"json": {"name": "x"}}, (400,) * 6),
    ("POST", "/api/v1/strategies/{strategy_id}/run", "/api/v1/strategies/999999/run", {}, (404,) * 6),
    # ---- ingest: staff only (imports change what everyone searches; job errors quote raw source text)
    ("GET", "/api/v1/ingest/jobs/{job_id}", "/api/v1/ingest/jobs/999999", {}, (401, 403, 404, 404, 404, 404)),
    ("GET", "/api/v1/ingest/jobs/{job_id}/errors", "/api/v1/ingest/jobs/999999/errors", {},
     (401, 403, 404, 404, 404, 404)),
    ("POST", "/api/v1/ingest", "/api/v1/ingest",
     {"data": {"format": "no-such-format"}, "files": {"file": ("x.txt", b"x")}}, (401, 403, 400, 400, 400, 400)),
    # Permission to lower access levels: platform admins only (they then hear the file is empty).
    ("POST", "/api/v1/ingest", "/api/v1/ingest",
     {"data": {"format": "ris", "lower_access": "true"}, "files": {"file": ("x.ris", b"")}},
     (401, 403, 403, 403, 403, 400)),
    # ---- accounts API
    ("POST", "/api/v1/auth/register", "/api/v1/auth/register", {"json": {}}, (400,) * 6),
    ("POST", "/api/v1/auth/login", "/api/v1/auth/login", {"json": {"username": "nobody", "password": "x"}},
     (401,) * 6),
    ("POST", "/api/v1/auth/logout", "/api/v1/auth/logout", {}, (204,) * 6),
    ("GET", "/api/v1/auth/me", "/api/v1/auth/me", {}, ALL_200),
    ("POST", "/api/v1/auth/password", "/api/v1/auth/password",
     {"json": {"old_password": "wrong-one", "new_password": "Another-pass-2"}}, (401, 400, 400, 400, 400, 400)),
    ("GET", "/api/v1/auth/tokens", "/api/v1/auth/tokens", {}, SIGNED_IN),
    ("POST", "/api/v1/auth/tokens", "/api/v1/auth/tokens", {"json": {"name": "matrix"}},
     (401, 201, 201, 201, 201, 201)),
    ("DELETE", "/api/v1/auth/tokens/{token_id}", "/api/v1/auth/tokens/999999", {}, (401, 404, 404, 404, 404, 404)),
    # ---- sign-in pages
    ("GET", "/login", "/login", {}, (200, 303, 303, 303, 303, 303)),  # signed in: on to the site
    ("POST", "/login", "/login", {"form": {"username": "nobody", "password": "x"}}, (401,) * 6),
    ("GET", "/register", "/register", {}, ALL_200),
    ("POST", "/register", "/register", {"form": {"username": ""}}, (400,) * 6),
    ("GET", "/logout", "/logout", {}, ALL_200),
    ("POST", "/logout", "/logout", {"form": {}}, (303,) * 6),
    ("GET", "/account", "/account", {}, (303, 200, 200, 200, 200, 200)),
    ("POST", "/account/tokens", "/account/tokens", {"form": {"name": ""}}, (303, 400, 400, 400, 400, 400)),
    # Revoking a token one does not own is a quiet no-op back to the account page.
    ("POST", "/account/tokens/{token_id}/revoke", "/account/tokens/999999/revoke", {"form": {}}, (303,) * 6),
    ("GET", "/account/password", "/account/password", {}, (303, 200, 200, 200, 200, 200)),
    ("POST", "/account/password", "/account/password",
     {"form": {"old_password": "wrong-one", "new_password": "Another-pass-2"}}, (303, 400, 400, 400, 400, 400)),
    # ---- admin
    ("GET", "/admin", "/admin", {}, (303, 403, 403, 403, 303, 303)),
    ("GET", "/admin/users", "/admin/users", {}, ADMIN_ANY),
    ("POST", "/admin/users", "/admin/users", {"form": {"username": ""}}, (303, 403, 403, 403, 400, 400)),
    ("GET", "/admin/users/{user_id}", "/admin/users/{tgt}", {}, ADMIN_ANY),
    ("POST", "/admin/users/{user_id}/roles", "/admin/users/{tgt}/roles",
     {"form": {"role": "analyst", "action": "revoke"}}, (303, 403, 403, 403, 303, 303)),
    ("POST", "/admin/users/{user_id}/profile", "/admin/users/{tgt}/profile",
     {"form": {"centre": "", "active": "1"}}, (303, 403, 403, 403, 303, 303)),
    ("POST", "/admin/users/{user_id}/password", "/admin/users/{tgt}/password", {"form": {"password": ""}},
     (303, 403, 403, 403, 400, 400)),
    ("GET", "/admin/centres", "/admin/centres", {}, ADMIN_PLATFORM),
    ("POST", "/admin/centres", "/admin/centres", {"form": {"code": ""}}, (303, 403, 403, 403, 403, 400)),
    ("POST", "/admin/centres/{code}", "/admin/centres/NOPE", {"form": {"name": "x"}}, (303, 403, 403, 403, 403, 404)),
    ("GET", "/admin/grants", "/admin/grants", {}, ADMIN_PLATFORM),
    ("POST", "/admin/grants", "/admin/grants", {"form": {"username": ""}}, (303, 403, 403, 403, 403, 400)),
    ("POST", "/admin/grants/revoke", "/admin/grants/revoke", {"form": {"username": ""}},
     (303, 403, 403, 403, 403, 400)),
    ("GET", "/admin/audit", "/admin/audit", {}, ADMIN_PLATFORM),
    # ---- portal pages
    ("GET", "/", "/", {}, ALL_200),
    ("GET", "/records/{record_id:path}", f"/records/{PUBLIC_ID}", {}, ALL_200),
    ("GET", "/advanced", "/advanced", {}, ALL_200),
    # ---- analyst workspace
    ("GET", "/workspace", "/workspace", {}, ALL_200),
    ("POST", "/workspace/search", "/workspace/search", {"form": {"q": ""}}, (400,) * 6),
    ("POST", "/workspace/history/{number}/rerun", "/workspace/history/9999/rerun", {"form": {}}, (404,) * 6),
    ("POST", "/workspace/history/{number}/name", "/workspace/history/9999/name", {"form": {"name": "x"}},
     (404,) * 6),
    ("POST", "/workspace/history/{number}/delete", "/workspace/history/9999/delete", {"form": {}}, (404,) * 6),
    ("POST", "/workspace/history/clear", "/workspace/history/clear", {"form": {}}, (303,) * 6),
    ("POST", "/workspace/strategies", "/workspace/strategies", {"form": {"name": "x"}}, (400,) * 6),
    ("POST", "/workspace/strategies/{strategy_id}/run", "/workspace/strategies/999999/run", {"form": {}},
     (404,) * 6),
    ("GET", "/workspace/references", "/workspace/references", {}, ALL_200),
    ("POST", "/workspace/references", "/workspace/references", {"form": {"text": ""}}, (400,) * 6),
    ("GET", "/workspace/export", "/workspace/export", {"params": {"ids": PUBLIC_ID, "format": "ris"}}, (303,) * 6),
    # ---- export jobs: signed-in users, each their own (another user's job is a 404)
    ("GET", "/api/v1/exports", "/api/v1/exports", {}, SIGNED_IN),
    ("POST", "/api/v1/exports", "/api/v1/exports", {"json": {"format": "no-such-format"}}, (401,) + (400,) * 5),
    ("GET", "/api/v1/exports/{job_id}", "/api/v1/exports/999999", {}, (401,) + (404,) * 5),
    ("GET", "/api/v1/exports/{job_id}/file", "/api/v1/exports/999999/file", {}, (401,) + (404,) * 5),
    ("POST", "/workspace/export-jobs", "/workspace/export-jobs", {"form": {"format": "no-such-format"}},
     (303,) + (400,) * 5),
    ("GET", "/workspace/export-jobs/{job_id}", "/workspace/export-jobs/999999", {}, (303,) + (404,) * 5),
    # ---- case pages: staff only; an unknown (or another centre's) case is 404 for every staff role
    ("GET", "/workspace/cases", "/workspace/cases", {}, (303, 403, 200, 200, 200, 200)),
    ("GET", "/workspace/cases/new", "/workspace/cases/new", {}, (303, 403, 200, 403, 200, 200)),
    ("POST", "/workspace/cases", "/workspace/cases", {"form": {"project_name_zh": ""}},
     (303, 403, 400, 403, 400, 400)),
    ("GET", "/workspace/cases/{case_id}", "/workspace/cases/999999", {}, CASE_404),
    ("GET", "/workspace/cases/{case_id}/report", "/workspace/cases/999999/report", {}, CASE_404),
    ("POST", "/workspace/cases/{case_id}/edit", "/workspace/cases/999999/edit", {"form": {"client_name": "x"}},
     CASE_404),
    ("POST", "/workspace/cases/{case_id}/points", "/workspace/cases/999999/points", {"form": {"text": "x"}},
     CASE_404),
    ("POST", "/workspace/cases/{case_id}/points/{label}", "/workspace/cases/999999/points/NP-1",
     {"form": {"text": "x"}}, CASE_404),
    ("POST", "/workspace/cases/{case_id}/search", "/workspace/cases/999999/search", {"form": {"q": "TI='x'"}},
     CASE_404),
    ("POST", "/workspace/cases/{case_id}/strategies/{strategy_id}", "/workspace/cases/999999/strategies/1",
     {"form": {"in_report": "1"}}, CASE_404),
    ("POST", "/workspace/cases/documents", "/workspace/cases/documents",
     {"form": {"case_id": "999999", "record_id": PUBLIC_ID}}, CASE_404),
    ("POST", "/workspace/cases/{case_id}/documents", "/workspace/cases/999999/documents",
     {"form": {"record_id": PUBLIC_ID}}, CASE_404),
    ("POST", "/workspace/cases/{case_id}/documents/{doc_id}", "/workspace/cases/999999/documents/1",
     {"form": {"relevance": "一般相关"}}, CASE_404),
    ("POST", "/workspace/cases/{case_id}/documents/{doc_id}/remove", "/workspace/cases/999999/documents/1/remove",
     {"form": {}}, CASE_404),
    ("POST", "/workspace/cases/{case_id}/transitions", "/workspace/cases/999999/transitions",
     {"form": {"action": "issue"}}, CASE_404),
    ("POST", "/workspace/cases/{case_id}/external", "/workspace/cases/999999/external",
     {"form": {"database": "CNKI 中国知网"}}, CASE_404),
    ("POST", "/workspace/cases/{case_id}/manual-document", "/workspace/cases/999999/manual-document",
     {"form": {"title": "x"}}, CASE_404),
    ("POST", "/workspace/cases/{case_id}/import-documents", "/workspace/cases/999999/import-documents",
     {"form": {"database": "CNKI 中国知网"}}, CASE_404),
]  # fmt: skip


@pytest.fixture(scope="module")
def site(es: Elasticsearch, tokenizer: Tokenizer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    yield from build_site(es, tokenizer, tmp_path_factory.mktemp("authz"), "authz")


def app_routes(site: Site) -> set[tuple[str, str]]:
    return {(m, p) for m, p in walk_routes(site.app.routes) if not p.startswith(EXCLUDED_PREFIXES)}


def test_every_route_is_in_the_table(site: Site) -> None:
    listed = {(method, template) for method, template, *_ in TABLE}
    # A route may have several rows, one per request that reaches a different check (lower_access).
    assert len({(m, t, u, repr(req)) for m, t, u, req, _ in TABLE}) == len(TABLE), "each row appears once"
    routes = app_routes(site)
    assert routes - listed == set(), "routes missing from the authorisation table"
    assert listed - routes == set(), "table rows for routes the app no longer has"


def _send(client: TestClient, method: str, path: str, kwargs: dict[str, Any]) -> Any:
    kwargs = dict(kwargs)
    if "form" in kwargs:
        kwargs["data"] = {**kwargs.pop("form"), "csrf_token": csrf_for(client)}
    return client.request(method, path, **kwargs)


CASES = [
    pytest.param(method, path, kwargs, role, statuses[i], id=f"{method} {template} as {role}")
    for method, template, path, kwargs, statuses in TABLE
    for i, role in enumerate(ROLES)
]


@pytest.mark.parametrize(("method", "path", "kwargs", "role", "expected"), CASES)
def test_authorisation(
    site: Site, method: str, path: str, kwargs: dict[str, Any], role: str, expected: int
) -> None:
    client = site.client(role)
    resp = _send(client, method, path.format(**site.ids), kwargs)
    assert resp.status_code == expected, resp.text[:300]
    if expected == 303 and role == "anonymous" and path.startswith(("/admin", "/account")):
        assert resp.headers["location"].startswith("/login?next="), "anonymous is sent to sign in"


# ---------------------------------------------------------------- centre isolation


@pytest.mark.parametrize(
    ("method", "path", "form"),
    [
        ("GET", "/admin/users/{ana-b}", None),
        ("GET", "/admin/users/{reg-b}", None),
        ("POST", "/admin/users/{ana-b}/roles", {"role": "reviewer", "action": "grant"}),
        ("POST", "/admin/users/{ana-b}/roles", {"role": "analyst", "action": "revoke"}),
        ("POST", "/admin/users/{reg-b}/profile", {"centre": "A", "active": "1"}),
        ("POST", "/admin/users/{ana-b}/password", {"password": "Taken-over-9"}),
        ("GET", "/admin/users/{cadm-b}", None),
        ("GET", "/admin/users/{root}", None),
    ],
)
def test_centre_admin_cannot_reach_another_centre(
    site: Site, method: str, path: str, form: dict[str, str] | None
) -> None:
    client = site.client("centre_admin")  # cadm-a, of centre A
    kwargs: dict[str, Any] = {"form": form} if form is not None else {}
    resp = _send(client, method, path.format(**site.ids), kwargs)
    assert resp.status_code == 403, resp.text[:300]


def test_centre_admin_lists_only_their_centre(site: Site) -> None:
    def link(name: str) -> str:
        return f'href="/admin/users/{site.ids[name]}"'

    page = site.client("centre_admin").get("/admin/users").text
    assert link("ana-a") in page and link("rev-a") in page
    for other in ("ana-b", "reg-b", "cadm-b"):
        assert link(other) not in page, f"{other} belongs to centre B"
    other_admin = TestClient(site.app, follow_redirects=False)
    other_admin.headers["Authorization"] = f"Bearer {site.tokens['cadm-b']}"
    page_b = other_admin.get("/admin/users").text
    assert link("ana-b") in page_b and link("ana-a") not in page_b
    # Searching by name does not widen the list either.
    assert link("ana-b") not in site.client("centre_admin").get("/admin/users", params={"q": "ana-b"}).text


def test_centre_admin_cannot_create_privileged_users(site: Site) -> None:
    client = site.client("centre_admin")
    for role in ("centre_admin", "platform_admin"):
        form = {"username": f"evil-{role}", "password": "Evil-pass-12", "real_name": "x", "organisation": "y",
                "role": role, "centre": "B"}  # fmt: skip
        assert _send(client, "POST", "/admin/users", {"form": form}).status_code == 403


# ---------------------------------------------------------------- history and strategies are private


def test_history_and_strategies_of_one_user_are_invisible_to_another(site: Site) -> None:
    alice, bob = TestClient(site.app), TestClient(site.app)
    alice.headers["Authorization"] = f"Bearer {site.tokens['ana-a']}"
    bob.headers["Authorization"] = f"Bearer {site.tokens['ana-b']}"
    marker = "TI='石墨烯私密检索式'"
    number = alice.get("/api/v1/search", params={"q": marker, "mode": "pro"}).json()["history_number"]
    saved = alice.post("/api/v1/strategies", json={"name": "爱丽丝的策略", "expression": marker})
    assert saved.status_code == 201, saved.text
    strategy_id = saved.json()["id"]

    assert "石墨烯私密检索式" not in bob.get("/api/v1/history").text
    assert "爱丽丝的策略" not in bob.get("/api/v1/strategies").text
    assert bob.post(f"/api/v1/strategies/{strategy_id}/run").status_code == 404
    assert bob.post(f"/api/v1/history/{number}/rerun").status_code == 404
    assert bob.patch(f"/api/v1/history/{number}", json={"name": "stolen"}).status_code == 404
    assert bob.delete(f"/api/v1/history/{number}").status_code == 404
    assert bob.delete("/api/v1/history").status_code == 200  # clears Bob's own, not Alice's
    # An anonymous browser has its own, empty, history.
    anon = TestClient(site.app)
    assert "石墨烯私密检索式" not in anon.get("/api/v1/history").text
    assert "石墨烯私密检索式" not in anon.get("/workspace").text
    assert anon.post(f"/api/v1/strategies/{strategy_id}/run").status_code == 404
    # Alice still has both.
    assert "石墨烯私密检索式" in alice.get("/api/v1/history").text
    assert "爱丽丝的策略" in alice.get("/api/v1/strategies").text


def test_restricted_record_only_for_platform_admin(site: Site) -> None:
    for role in ROLES:
        for path in (f"/api/v1/records/{SECRET_ID}", f"/api/v1/records/{SECRET_ID}/citations"):
            resp = site.client(role).get(path)
            assert resp.status_code == (200 if role == "platform_admin" else 404), (role, path)


@pytest.mark.parametrize("role", ["anonymous", "registered"])
def test_ingest_is_not_open_to_the_public(site: Site, role: str) -> None:
    client = site.client(role)
    assert client.get("/api/v1/ingest/jobs/1").status_code in (401, 403)
    upload = client.post("/api/v1/ingest", data={"format": "ris"}, files={"file": ("x.ris", b"")})
    assert upload.status_code in (401, 403)
