"""Signing in through the browser, and a 限制 report that an anonymous visitor never sees but an admin does.

These need the accounts layer (web/auth.py); they skip until it exists. The login form is the one the
accounts work defines: POST /login with `username`, `password` and the hidden `csrf_token`.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.browser.conftest import (
    ADMIN_PASSWORD,
    ADMIN_USER,
    RESTRICTED_ID,
    RESTRICTED_TITLE,
    LiveServer,
    Watched,
    open_page,
)
from web import __file__ as web_init

pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
from playwright.sync_api import Browser, expect

if not (Path(web_init).parent / "auth.py").exists():
    pytest.skip("accounts (web/auth.py) not built yet", allow_module_level=True)


@pytest.fixture(scope="module")
def admin(live_server: LiveServer) -> str:
    """A platform administrator in the test server's database."""
    from appdb import accounts
    from appdb.session import session_factory

    with session_factory(live_server.database_url).begin() as session:
        try:
            accounts.find_user(session, ADMIN_USER)
        except accounts.NotFound:
            accounts.create_user(
                session,
                username=ADMIN_USER,
                password=ADMIN_PASSWORD,
                real_name="浏览器测试管理员",
                roles=["platform_admin"],
            )
    return ADMIN_USER


def _login(w: Watched, live_server: LiveServer, username: str, password: str, next_path: str = "/") -> None:
    page = w.page
    page.goto(f"{live_server.url}/login?{urlencode({'next': next_path})}")
    form = page.locator("form[action='/login']")
    assert form.locator("input[name=csrf_token]").get_attribute("value"), (
        "the login form carries a CSRF token"
    )
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(password)
    form.locator("button[type=submit]").click()


def test_login(tab: Watched, live_server: LiveServer, admin: str) -> None:
    page = tab.page
    _login(tab, live_server, admin, "wrong-password-123!")
    expect(page.locator(".form-error")).to_be_visible()
    tab.shot("login-failed")

    _login(tab, live_server, admin, ADMIN_PASSWORD, next_path="/workspace")
    page.wait_for_url(re.compile(r"/workspace$"))
    expect(page.locator(".site-menu")).to_contain_text(admin)
    tab.shot("workspace-signed-in")


def test_restricted_report_hidden_from_anonymous_but_shown_to_admin(
    browser: Browser, live_server: LiveServer, admin: str
) -> None:
    anonymous = open_page(browser)
    signed_in = open_page(browser)
    try:
        page = anonymous.page
        page.goto(live_server.url + "/?q=固态电池")
        assert page.locator(".result-count").first.inner_text().startswith("共找到 0 条结果")
        expect(page.get_by_text(RESTRICTED_TITLE)).to_have_count(0)
        response = page.goto(f"{live_server.url}/records/{RESTRICTED_ID}")
        assert response is not None and response.status == 404
        expect(page.get_by_text(RESTRICTED_TITLE)).to_have_count(0)
        # Nor through a pro-mode expression in the workspace, nor its facets.
        page.goto(live_server.url + "/workspace")
        page.locator("#ws-q").fill("RN='2023YFB-R-001' OR KY='固态电池'")
        page.locator(".ws-submit").click()
        assert page.locator(".result-count").inner_text().startswith("共找到 0 条结果")
        anonymous.shot("restricted-anonymous")
        anonymous.clean()

        _login(signed_in, live_server, admin, ADMIN_PASSWORD, next_path="/?q=固态电池")
        page = signed_in.page
        page.wait_for_url(re.compile(r"/\?q="))
        expect(page.locator(".hit-title").first).to_contain_text(RESTRICTED_TITLE)
        page.goto(f"{live_server.url}/records/{RESTRICTED_ID}")
        expect(page.locator(".record-title")).to_contain_text(RESTRICTED_TITLE)
        signed_in.shot("restricted-admin")
        signed_in.clean()
    finally:
        anonymous.page.context.close()
        signed_in.page.context.close()
