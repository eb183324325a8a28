"""Sign-up, sign-in, sessions, CSRF, redirects, API tokens, rate limits and admin pages over HTTP.

A real app with its own SQLite file and a real Redis (the test database, keys under the app's own
prefix); no search index is needed for these routes.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.testclient import TestClient
from pytest import TempPathFactory
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from appdb import accounts
from appdb.models import ApiToken, AuditEvent, User
from appdb.session import session_factory, upgrade
from conf.settings import Settings
from search.principal import Principal
from tests.conftest import new_prefix, settings_for
from web.app import create_app
from web.auth import safe_next
from web.identity import COOKIE, current_principal, record_audit
from web.ratelimit import rate_limit_anonymous_search

pytestmark = pytest.mark.usefixtures("services")

PASSWORD = "Test-pass-1"
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


@dataclass
class Site:
    app: FastAPI
    settings: Settings
    db: sessionmaker[Session]
    ids: dict[str, int]  # username -> user id

    def client(self) -> TestClient:
        return TestClient(self.app, follow_redirects=False)


def _seed(db: sessionmaker[Session]) -> dict[str, int]:
    with db.begin() as s:
        for code, pattern, inst in (("A", "most", "001"), ("B", "moe", "36002")):
            accounts.create_centre(s, code=code, name=f"分中心{code}", province_code="52", institution_no=inst,
                                   pattern=pattern)  # fmt: skip
        people: list[tuple[str, str | None, list[str]]] = [
            ("reg", None, []),
            ("ana-a", "A", ["analyst"]),
            ("rev-a", "A", ["reviewer"]),
            ("cadm-a", "A", ["centre_admin"]),
            ("ana-b", "B", ["analyst"]),
            ("root", None, ["platform_admin"]),
        ]
        ids = {}
        for name, centre, roles in people:
            user = accounts.create_user(s, username=name, password=PASSWORD, real_name=name, organisation="测试单位",
                                        email=f"{name}@example.cn", centre=centre, roles=roles)  # fmt: skip
            ids[name] = user.id
        accounts.set_title(accounts.get_user(s, ids["rev-a"]), "研究馆员", True)
        accounts.grant_record(s, accounts.get_user(s, ids["reg"]), "tr-restricted-1")
    return ids


def _site(tmp: TempPathFactory, **overrides: Any) -> Site:
    base = settings_for(new_prefix("auth"), f"sqlite:///{tmp.mktemp('auth') / 'auth.sqlite3'}")
    settings = base.model_copy(update=overrides)
    upgrade(settings.effective_database_url)
    db = session_factory(settings.effective_database_url)
    app = create_app(settings)

    @app.get("/_test/whoami")
    def whoami(p: Annotated[Principal, Depends(current_principal)]) -> dict[str, Any]:
        return {"user_id": p.user_id, "roles": sorted(p.roles), "centre": p.centre, "granted": sorted(p.granted),
                "owner": p.owner, "staff": p.staff}  # fmt: skip

    @app.get("/_test/export")
    def export(request: Request) -> dict[str, bool]:
        record_audit(request, "export", {"format": "bibtex", "count": 2})
        return {"ok": True}

    @app.get("/_test/search", dependencies=[Depends(rate_limit_anonymous_search)])
    def search() -> dict[str, bool]:
        return {"ok": True}

    return Site(app, settings, db, _seed(db))


@pytest.fixture(scope="module")
def site(tmp_path_factory: TempPathFactory) -> Site:
    return _site(tmp_path_factory, login_max_failures=3, login_max_per_ip=10_000, anon_search_per_minute=5)


def _csrf(client: TestClient, path: str = "/login") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    found = CSRF.search(page.text)
    assert found, "the form carries a CSRF token"
    return found.group(1)


def _form_login(client: TestClient, username: str, password: str = PASSWORD, next: str = "/") -> Any:
    token = _csrf(client)
    return client.post(
        "/login", data={"username": username, "password": password, "next": next, "csrf_token": token}
    )


def _api_login(client: TestClient, username: str, password: str = PASSWORD) -> Any:
    return client.post("/api/v1/auth/login", json={"username": username, "password": password})


def _me(client: TestClient) -> dict[str, Any]:
    body: dict[str, Any] = client.get("/_test/whoami").json()
    return body


def _audit(site: Site, action: str) -> list[dict[str, Any]]:
    with site.db() as s:
        rows = s.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()
        return [{"actor": r.actor, "detail": json.loads(r.detail), "ip": r.ip} for r in rows]


# ---------------------------------------------------------------- registration, login, logout


def test_register_page_signs_the_new_user_in(site: Site) -> None:
    client = site.client()
    token = _csrf(client, "/register")
    form = {"username": "wang.fang", "password": "Reg-pass-12", "password2": "Reg-pass-12", "real_name": "王芳",
            "organisation": "贵州大学", "phone": "13800138000", "email": "", "csrf_token": token}  # fmt: skip
    resp = client.post("/register", data=form)
    assert resp.status_code == 303 and resp.headers["location"] == "/account"
    me = _me(client)
    assert me["roles"] == ["registered"] and me["owner"] == f"user:{me['user_id']}"
    account = client.get("/account")
    assert account.status_code == 200 and "王芳" in account.text and "贵州大学" in account.text
    assert [e["detail"]["username"] for e in _audit(site, "register")] == ["wang.fang"]

    again = site.client()
    form["csrf_token"] = _csrf(again, "/register")
    dup = again.post("/register", data={**form, "username": "WANG.FANG"})
    assert dup.status_code == 409 and "已被使用" in dup.text
    form["csrf_token"] = _csrf(again, "/register")
    no_contact = again.post("/register", data={**form, "username": "li.si", "phone": ""})
    assert no_contact.status_code == 400 and "手机号码或电子邮箱" in no_contact.text
    assert "王芳" in no_contact.text, "the form keeps what was typed"
    mismatch = again.post("/register", data={**form, "username": "li.si", "password2": "other-123", "csrf_token":
                                             _csrf(again, "/register")})  # fmt: skip
    assert mismatch.status_code == 400 and "不一致" in mismatch.text


def test_register_api(site: Site) -> None:
    client = site.client()
    body = {"username": "api.user", "password": "Api-pass-12", "real_name": "赵六", "organisation": "某所",
            "email": "zl@example.cn"}  # fmt: skip
    made = client.post("/api/v1/auth/register", json=body)
    assert made.status_code == 201 and made.json()["user"]["roles"] == ["registered"]
    assert client.post("/api/v1/auth/register", json=body).status_code == 409
    bad = client.post("/api/v1/auth/register", json={**body, "username": "api.user2", "real_name": ""})
    assert bad.status_code == 400 and "真实姓名" in bad.json()["error"]["message"]


def test_login_and_logout(site: Site) -> None:
    client = site.client()
    assert _me(client)["user_id"] is None
    resp = _form_login(client, "ana-a", next="/account")
    assert resp.status_code == 303 and resp.headers["location"] == "/account"
    assert _me(client)["user_id"] == site.ids["ana-a"]
    page = client.get("/account")
    assert "ana-a" in page.text and "退出" in page.text and "查新员" in page.text
    signed_in_cookie = client.cookies[COOKIE]

    no_token = client.post("/logout")
    assert no_token.status_code == 403, "sign-out needs the CSRF token too"
    out = client.post("/logout", data={"csrf_token": _csrf(client, "/logout")})
    assert out.status_code == 303 and out.headers["location"] == "/"
    assert _me(client)["user_id"] is None
    assert client.cookies[COOKIE] != signed_in_cookie

    replay = site.client()
    replay.cookies.set(COOKIE, signed_in_cookie, domain="testserver.local")
    assert _me(replay)["user_id"] is None, "the old session cookie is dead after logout"
    assert any(e["actor"] == f"user:{site.ids['ana-a']}" for e in _audit(site, "logout"))


def test_wrong_password(site: Site) -> None:
    client = site.client()
    resp = _form_login(client, "rev-a", "Wrong-pass-9")
    assert resp.status_code == 401 and "用户名或密码错误" in resp.text
    assert _me(client)["user_id"] is None
    unknown = _api_login(client, "no-such-user")
    assert unknown.status_code == 401 and unknown.json()["error"]["message"] == "用户名或密码错误。"
    failures = [e["detail"]["username"] for e in _audit(site, "login.failure")]
    assert "rev-a" in failures and "no-such-user" in failures
    assert _api_login(client, "rev-a").status_code == 200
    assert any(e["actor"] == f"user:{site.ids['rev-a']}" for e in _audit(site, "login.success"))


def test_repeated_failures_lock_the_username_out(site: Site) -> None:
    client = site.client()
    with site.db.begin() as s:
        accounts.create_user(s, username="victim", password=PASSWORD)
    for _ in range(3):
        assert _api_login(client, "victim", "Wrong-pass-9").status_code == 401
    locked = _api_login(client, "victim")
    assert locked.status_code == 429, "even the right password is refused inside the window"
    assert "分钟后再试" in locked.json()["error"]["message"] and int(locked.headers["Retry-After"]) > 0
    page = _form_login(site.client(), "victim")
    assert page.status_code == 429 and "过于频繁" in page.text
    assert _api_login(client, "reg").status_code == 200, "other usernames are unaffected"
    assert [e["detail"]["username"] for e in _audit(site, "login.blocked")][-2:] == ["victim", "victim"]


def test_per_address_login_limit(tmp_path_factory: TempPathFactory) -> None:
    small = _site(tmp_path_factory, login_max_failures=100, login_max_per_ip=3)
    client = small.client()
    for name in ("a1", "a2", "a3"):
        assert _api_login(client, name, "Wrong-pass-9").status_code == 401
    assert _api_login(client, "reg").status_code == 429


# ---------------------------------------------------------------- session fixation, CSRF, redirects


def test_login_rotates_the_session_id(site: Site) -> None:
    planted = secrets.token_hex(16)
    victim = site.client()
    victim.cookies.set(COOKIE, planted, domain="testserver.local")
    assert _me(victim)["owner"] == f"anon:{planted}", "the planted cookie is accepted while anonymous"
    resp = _form_login(victim, "reg")
    assert resp.status_code == 303
    assert f"{COOKIE}=" in resp.headers["set-cookie"] and planted not in resp.headers["set-cookie"]
    assert (
        "httponly" in resp.headers["set-cookie"].lower()
        and "samesite=lax" in resp.headers["set-cookie"].lower()
    )
    assert victim.cookies[COOKIE] != planted
    assert _me(victim)["user_id"] == site.ids["reg"]

    attacker = site.client()
    attacker.cookies.set(COOKIE, planted, domain="testserver.local")
    assert _me(attacker)["user_id"] is None, "knowing the pre-login cookie gives the attacker nothing"


def test_forms_reject_missing_or_foreign_csrf_tokens(site: Site) -> None:
    client = site.client()
    no_token = client.post("/login", data={"username": "reg", "password": PASSWORD})
    assert no_token.status_code == 403 and "表单已失效" in no_token.json()["error"]["message"]
    other = site.client()
    foreign = _csrf(other)
    _csrf(client)  # this browser has a session of its own
    stolen = client.post("/login", data={"username": "reg", "password": PASSWORD, "csrf_token": foreign})
    assert stolen.status_code == 403
    assert _me(client)["user_id"] is None

    assert _form_login(client, "root").status_code == 303
    before = _csrf(client, "/admin/centres")
    attack = client.post("/admin/centres", data={"code": "EVIL", "name": "x", "province_code": "52",
                                                 "institution_no": "001", "pattern": "most"})  # fmt: skip
    assert attack.status_code == 403
    html = client.post(
        "/admin/centres", data={"code": "EVIL", "csrf_token": "0" * 64}, headers={"accept": "text/html"}
    )
    assert html.status_code == 403 and "表单已失效" in html.text and "<html" in html.text
    with site.db() as s, pytest.raises(accounts.NotFound):
        accounts.get_centre(s, "EVIL")
    assert _csrf(client, "/admin/centres") == before, "the token is stable within a session"


def test_csrf_token_changes_with_login(site: Site) -> None:
    client = site.client()
    anonymous = _csrf(client)
    assert _form_login(client, "reg").status_code == 303
    assert _csrf(client, "/account") != anonymous
    stale = client.post("/logout", data={"csrf_token": anonymous})
    assert stale.status_code == 403


@pytest.mark.parametrize(
    "target",
    ["//evil.example/x", "https://evil.example/", "/\\evil.example", "\\\\evil.example", "javascript:alert(1)",
     "http:/evil.example", "/\t/evil.example", "evil.example", ""],
)  # fmt: skip
def test_login_redirects_only_to_local_paths(site: Site, target: str) -> None:
    resp = _form_login(site.client(), "reg", next=target)
    assert resp.status_code == 303
    assert resp.headers["location"] == "/"


def test_login_keeps_a_local_next_and_login_page_redirects_when_signed_in(site: Site) -> None:
    client = site.client()
    resp = _form_login(client, "reg", next="/records/abc?x=1&y=%E7%9F%B3")
    assert resp.headers["location"] == "/records/abc?x=1&y=%E7%9F%B3"
    again = client.get("/login", params={"next": "//evil.example"})
    assert again.status_code == 303 and again.headers["location"] == "/"
    assert safe_next("https://evil.example") == "/" and safe_next("/ok") == "/ok"


# ---------------------------------------------------------------- API tokens


def test_api_token_authenticates_without_cookies(site: Site) -> None:
    browser = site.client()
    assert _api_login(browser, "ana-a").status_code == 200
    made = browser.post("/api/v1/auth/tokens", json={"name": "检索脚本", "expires_days": 30})
    assert made.status_code == 201
    raw = made.json()["token"]
    with site.db() as s:
        stored = s.scalars(select(ApiToken.token_hash)).all()
        assert raw not in stored and all(raw not in h for h in stored)

    api = site.client()
    me = api.get("/_test/whoami", headers={"Authorization": f"Bearer {raw}"}).json()
    assert (
        me["user_id"] == site.ids["ana-a"]
        and me["centre"] == "A"
        and me["owner"] == f"user:{site.ids['ana-a']}"
    )
    listed = api.get("/api/v1/auth/tokens", headers={"Authorization": f"Bearer {raw}"}).json()["tokens"]
    assert [t["name"] for t in listed] == ["检索脚本"] and "token" not in listed[0]

    bad = api.get("/_test/whoami", headers={"Authorization": "Bearer chx_nope"})
    assert bad.status_code == 401 and "令牌" in bad.json()["error"]["message"]
    assert bad.headers["www-authenticate"].startswith("Bearer")

    token_id = made.json()["id"]
    assert (
        api.delete(f"/api/v1/auth/tokens/{token_id}", headers={"Authorization": f"Bearer {raw}"}).status_code
        == 204
    )
    assert api.get("/_test/whoami", headers={"Authorization": f"Bearer {raw}"}).status_code == 401
    assert site.client().post("/api/v1/auth/tokens", json={"name": "x"}).status_code == 401


def test_account_page_creates_and_revokes_tokens(site: Site) -> None:
    client = site.client()
    assert _form_login(client, "rev-a").status_code == 303
    page = client.post(
        "/account/tokens", data={"name": "网页令牌", "days": "", "csrf_token": _csrf(client, "/account")}
    )
    assert page.status_code == 200
    raw = re.search(r'<code class="token">(chx_[^<]+)</code>', page.text)
    assert raw, page.text
    assert (
        site.client().get("/_test/whoami", headers={"Authorization": f"Bearer {raw.group(1)}"}).status_code
        == 200
    )
    assert "审核员" in page.text and "研究馆员（高级职称）" in page.text
    bad_days = client.post(
        "/account/tokens", data={"name": "x", "days": "-3", "csrf_token": _csrf(client, "/account")}
    )
    assert bad_days.status_code == 400 and "有效期" in bad_days.text


def test_json_login_refuses_form_encoded_bodies(site: Site) -> None:
    # A cross-site page can post text/plain or form bodies without a preflight; the JSON API takes neither.
    client = site.client()
    body = json.dumps({"username": "reg", "password": PASSWORD})
    sneaky = client.post("/api/v1/auth/login", content=body, headers={"content-type": "text/plain"})
    assert sneaky.status_code == 400
    assert _me(client)["user_id"] is None


# ---------------------------------------------------------------- principals and roles


@pytest.mark.parametrize(
    ("username", "roles", "centre", "granted"),
    [
        ("reg", ["registered"], None, ["tr-restricted-1"]),
        ("ana-a", ["analyst", "registered"], "A", []),
        ("rev-a", ["registered", "reviewer"], "A", []),
        ("cadm-a", ["centre_admin", "registered"], "A", []),
        ("ana-b", ["analyst", "registered"], "B", []),
        ("root", ["platform_admin", "registered"], None, []),
    ],
)
def test_current_principal_for_each_role(
    site: Site, username: str, roles: list[str], centre: str | None, granted: list[str]
) -> None:
    client = site.client()
    assert _api_login(client, username).status_code == 200
    me = _me(client)
    assert me == {"user_id": site.ids[username], "roles": roles, "centre": centre, "granted": granted,
                  "owner": f"user:{site.ids[username]}", "staff": username != "reg"}  # fmt: skip
    assert client.get("/api/v1/auth/me").json()["roles"] == roles


def test_anonymous_principal_owns_its_session(site: Site) -> None:
    client = site.client()
    first = _me(client)
    assert first["user_id"] is None and first["roles"] == [] and not first["staff"]
    assert first["owner"] == f"anon:{client.cookies[COOKIE]}"
    assert _me(client)["owner"] == first["owner"], "the same browser keeps its owner key"


def test_disabled_user_loses_the_session(site: Site) -> None:
    with site.db.begin() as s:
        accounts.create_user(s, username="leaver", password=PASSWORD)
    client = site.client()
    assert _api_login(client, "leaver").status_code == 200
    with site.db.begin() as s:
        accounts.set_active(s, accounts.find_user(s, "leaver"), False)
    assert _me(client)["user_id"] is None
    assert _api_login(client, "leaver").status_code == 401


def test_password_change_keeps_this_browser_and_ends_the_others(site: Site) -> None:
    with site.db.begin() as s:
        accounts.create_user(s, username="mover", password=PASSWORD)
    here, there = site.client(), site.client()
    assert _api_login(here, "mover").status_code == 200 and _api_login(there, "mover").status_code == 200
    token = _csrf(here, "/account/password")
    wrong = here.post("/account/password", data={"old_password": "nope-nope-1", "new_password": "New-pass-22",
                                                 "new_password2": "New-pass-22", "csrf_token": token})  # fmt: skip
    assert wrong.status_code == 400 and "原密码不正确" in wrong.text
    done = here.post("/account/password", data={"old_password": PASSWORD, "new_password": "New-pass-22",
                                                "new_password2": "New-pass-22", "csrf_token": token})  # fmt: skip
    assert done.status_code == 200 and "密码已修改" in done.text
    assert _me(here)["user_id"] is not None
    assert _me(there)["user_id"] is None
    assert _api_login(site.client(), "mover", "New-pass-22").status_code == 200


def test_exports_are_audited_with_the_actor(site: Site) -> None:
    anonymous, signed_in = site.client(), site.client()
    assert anonymous.get("/_test/export").status_code == 200
    assert _api_login(signed_in, "ana-b").status_code == 200
    assert signed_in.get("/_test/export").status_code == 200
    events = _audit(site, "export")[-2:]
    assert [e["actor"] for e in events] == [f"anon:{anonymous.cookies[COOKIE]}", f"user:{site.ids['ana-b']}"]
    assert events[0]["detail"] == {"format": "bibtex", "count": 2} and events[0]["ip"] == "testclient"


# ---------------------------------------------------------------- anonymous search rate limit


def test_anonymous_search_is_rate_limited_per_address(site: Site) -> None:
    anonymous = site.client()
    codes = [anonymous.get("/_test/search").status_code for _ in range(6)]
    assert codes == [200] * 5 + [429]
    refused = anonymous.get("/_test/search")
    assert "检索过于频繁" in refused.json()["error"]["message"] and int(refused.headers["retry-after"]) >= 1
    signed_in = site.client()
    assert _api_login(signed_in, "reg").status_code == 200
    assert all(signed_in.get("/_test/search").status_code == 200 for _ in range(8))


# ---------------------------------------------------------------- admin pages


def _admin(site: Site, username: str) -> TestClient:
    client = site.client()
    assert _form_login(client, username).status_code == 303
    return client


def test_admin_pages_need_an_admin(site: Site) -> None:
    anonymous = site.client().get("/admin/users")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith(
        "/login?next=%2Fadmin%2Fusers"
    )
    for name in ("reg", "ana-a"):
        assert _admin(site, name).get("/admin/users").status_code == 403
    centre_admin = _admin(site, "cadm-a")
    assert centre_admin.get("/admin/users").status_code == 200
    for path in ("/admin/centres", "/admin/grants", "/admin/audit"):
        assert centre_admin.get(path).status_code == 403, path
    root = _admin(site, "root")
    for path in (
        "/admin/users",
        "/admin/centres",
        "/admin/grants",
        "/admin/audit",
        f"/admin/users/{site.ids['ana-b']}",
    ):
        assert root.get(path).status_code == 200, path


def test_platform_admin_creates_a_centre_and_staff(site: Site) -> None:
    root = _admin(site, "root")
    token = _csrf(root, "/admin/centres")
    bad = root.post("/admin/centres", data={"code": "C", "name": "分中心C", "province_code": "52",
                                            "institution_no": "12", "pattern": "most", "csrf_token": token})  # fmt: skip
    assert bad.status_code == 400 and "机构编号" in bad.text
    made = root.post("/admin/centres", data={"code": "C", "name": "分中心C", "province_code": "52",
                                             "institution_no": "12345", "pattern": "moe", "csrf_token": token})  # fmt: skip
    assert made.status_code == 303
    assert "分中心C" in root.get("/admin/centres").text
    user = root.post("/admin/users", data={"username": "ana-c", "password": PASSWORD, "role": "analyst",
                                           "centre": "C", "csrf_token": token})  # fmt: skip
    assert user.status_code == 303
    page = root.get(user.headers["location"])
    assert page.status_code == 200 and "ana-c" in page.text
    with site.db() as s:
        ident = accounts.identity_for(s, accounts.find_user(s, "ana-c").id)
        assert ident is not None and ident.roles == {"registered", "analyst"} and ident.centre == "C"
        assert accounts.get_centre(s, "C").numbering_pattern == "moe"
    assert any(e["detail"]["code"] == "C" for e in _audit(site, "centre.create"))
    assert any(e["detail"]["username"] == "ana-c" for e in _audit(site, "user.create"))


def test_role_and_record_grants_from_the_admin_pages(site: Site) -> None:
    root = _admin(site, "root")
    token = _csrf(root, "/admin/grants")
    reg_id = site.ids["reg"]
    needs_centre = root.post(f"/admin/users/{reg_id}/roles", data={"role": "reviewer", "csrf_token": token})
    assert needs_centre.status_code == 400 and "必须隶属于一个分中心" in needs_centre.text
    granted = root.post("/admin/grants", data={"username": "ana-b", "record_id": "tr-restricted-2",
                                               "expires": "2999-01-01", "csrf_token": token})  # fmt: skip
    assert granted.status_code == 303
    bad_date = root.post("/admin/grants", data={"username": "ana-b", "record_id": "x", "expires": "明天",
                                                "csrf_token": token})  # fmt: skip
    assert bad_date.status_code == 400 and "YYYY-MM-DD" in bad_date.text
    viewer = site.client()
    assert _api_login(viewer, "ana-b").status_code == 200
    assert _me(viewer)["granted"] == ["tr-restricted-2"]
    grants_page = root.get("/admin/grants").text
    assert "tr-restricted-2" in grants_page and "tr-restricted-1" in grants_page
    root.post(
        "/admin/grants/revoke",
        data={"username": "ana-b", "record_id": "tr-restricted-2", "csrf_token": token},
    )
    assert _me(viewer)["granted"] == [], "grants are read on every request, so a revocation is immediate"
    actions = [(e["detail"]["record_id"]) for e in _audit(site, "record.grant")]
    assert "tr-restricted-2" in actions and _audit(site, "record.revoke")


def test_centre_admin_manages_only_their_own_centre(site: Site) -> None:
    with site.db.begin() as s:
        accounts.create_user(s, username="newbie", password=PASSWORD)
        newbie = accounts.find_user(s, "newbie").id
    cadm = _admin(site, "cadm-a")
    token = _csrf(cadm, "/admin/users")
    listing = cadm.get("/admin/users").text
    assert "ana-a" in listing and "ana-b" not in listing, "the user list stays inside the centre"

    assert cadm.get(f"/admin/users/{site.ids['ana-b']}").status_code == 403
    assert cadm.post(f"/admin/users/{site.ids['ana-b']}/roles",
                     data={"role": "reviewer", "csrf_token": token}).status_code == 403  # fmt: skip
    assert cadm.post(f"/admin/users/{site.ids['root']}/password",
                     data={"password": "Hijack-pass-1", "csrf_token": token}).status_code == 403  # fmt: skip
    assert cadm.post(f"/admin/users/{site.ids['ana-a']}/roles",
                     data={"role": "centre_admin", "csrf_token": token}).status_code == 403  # fmt: skip
    assert cadm.post(f"/admin/users/{site.ids['ana-a']}/roles",
                     data={"role": "platform_admin", "csrf_token": token}).status_code == 403  # fmt: skip

    # Taking a registered user without a centre in: they become a reviewer of centre A.
    adopted = cadm.post(f"/admin/users/{newbie}/roles", data={"role": "reviewer", "csrf_token": token})
    assert adopted.status_code == 303
    with site.db() as s:
        ident = accounts.identity_for(s, newbie)
    assert ident is not None and ident.centre == "A" and ident.roles == {"registered", "reviewer"}
    moved = cadm.post(
        f"/admin/users/{newbie}/profile", data={"centre": "B", "active": "1", "csrf_token": token}
    )
    assert moved.status_code == 403
    titled = cadm.post(f"/admin/users/{newbie}/profile", data={"centre": "A", "professional_title": "副研究馆员",
                                                                "senior_title": "1", "active": "1", "csrf_token": token})  # fmt: skip
    assert titled.status_code == 303
    with site.db() as s:
        user = s.get(User, newbie)
        assert user is not None and user.senior_title and user.professional_title == "副研究馆员"
    made = cadm.post("/admin/users", data={"username": "ana-a2", "password": PASSWORD, "role": "analyst",
                                           "centre": "B", "csrf_token": token})  # fmt: skip
    assert made.status_code == 303
    with site.db() as s:
        ident = accounts.identity_for(s, accounts.find_user(s, "ana-a2").id)
    assert ident is not None and ident.centre == "A", "a centre admin creates users in their own centre only"
    grants = [e["detail"] for e in _audit(site, "role.grant")]
    assert {"user_id": newbie, "role": "reviewer"} in grants


def test_header_shows_sign_in_state(site: Site) -> None:
    client = site.client()
    page = client.get("/register")
    assert 'href="/login?next=/register"' in page.text and "注册" in page.text
    assert _form_login(client, "root").status_code == 303
    page = client.get("/account")
    assert 'href="/admin"' in page.text and 'action="/logout"' in page.text


# ---------------------------------------------------------------- per-account cap, forwarded headers (issue 14)


def test_an_account_has_a_failure_cap_of_its_own_across_addresses(tmp_path_factory: TempPathFactory) -> None:
    from web.ratelimit import Limits

    small = _site(tmp_path_factory, login_max_failures=100, login_max_per_ip=10_000, login_max_per_account=4)
    limits = Limits(small.settings)
    for i in range(4):  # four addresses, one failure each: under every per-address limit
        assert limits.login_allowed("Victim2", f"10.0.0.{i}").allowed
        limits.login_failed("Victim2", f"10.0.0.{i}")
    assert not limits.login_allowed("victim2", "10.9.9.9").allowed, "a fifth address is refused too"
    assert limits.login_allowed("someone-else", "10.9.9.9").allowed


def test_uvicorn_trusts_forwarded_headers_only_from_configured_proxies() -> None:
    from chaxin.cli import uvicorn_proxy_args

    none = settings_for("x")
    assert none.trusted_proxies == ""
    assert uvicorn_proxy_args(none) == ["--no-proxy-headers", "--forwarded-allow-ips", ""]
    some = none.model_copy(update={"trusted_proxies": " 10.0.0.5, 172.16.0.0/12 "})
    assert uvicorn_proxy_args(some) == ["--proxy-headers", "--forwarded-allow-ips", "10.0.0.5,172.16.0.0/12"]


def test_a_password_change_revokes_the_accounts_api_tokens(site: Site) -> None:
    with site.db.begin() as s:
        user = accounts.create_user(s, username="token-owner", password=PASSWORD)
        first = accounts.create_api_token(s, user, "脚本一")[1]
        second = accounts.create_api_token(s, user, "脚本二")[1]
    client = site.client()
    for token in (first, second):
        assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    changed = client.post("/api/v1/auth/password", json={"old_password": PASSWORD, "new_password": "Newer-pass-2026"},
                          headers={"Authorization": f"Bearer {first}"})  # fmt: skip
    assert changed.status_code == 204, changed.text
    for token in (first, second):
        assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
