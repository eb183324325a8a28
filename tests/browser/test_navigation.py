"""The one site header on every page for every role, where staff land after signing in, the phone menu."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest

from tests.browser.conftest import LiveServer, Watched, open_page

pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
from playwright.sync_api import Browser, expect

PASSWORD = "Chaxin-Nav-2026!"
CENTRE = "NAV"
# username -> (roles, professional title, the header links besides 高级检索, landing path after sign-in)
PEOPLE: dict[str, tuple[list[str], str | None, list[str], str]] = {
    "nav-user": (["registered"], None, ["工作台"], "/"),
    "nav-analyst": (["analyst"], None, ["工作台", "查新案件"], "/workspace/cases"),
    "nav-reviewer": (["reviewer"], "研究馆员", ["工作台", "查新案件"], "/workspace/cases?state=in_review"),
    "nav-head": (["centre_admin"], None, ["工作台", "查新案件", "中心", "管理"], "/workspace/centres/NAV"),
    "nav-admin": (["platform_admin"], None, ["工作台", "查新案件", "中心", "管理"], "/admin/users"),
}
ALL_LINKS = ("工作台", "查新案件", "中心", "管理")
# Pages every signed-in user may open, and the public ones.
PUBLIC_PAGES = ("/?q=石墨烯", "/advanced", "/records/b-lithium", "/login", "/register")
SIGNED_IN_PAGES = ("/?q=石墨烯", "/advanced", "/records/b-lithium", "/workspace", "/account")
STAFF_PAGES = {"nav-analyst": ("/workspace/cases",), "nav-reviewer": ("/workspace/cases",),
               "nav-head": ("/workspace/cases", "/workspace/centres/NAV", "/admin/users"),
               "nav-admin": ("/workspace/cases", "/workspace/centres", "/admin/users", "/admin/centres")}  # fmt: skip


@pytest.fixture(scope="module")
def people(live_server: LiveServer) -> dict[str, tuple[list[str], str | None, list[str], str]]:
    from appdb import accounts
    from appdb.session import session_factory

    with session_factory(live_server.database_url).begin() as session:
        try:
            accounts.get_centre(session, CENTRE)
        except accounts.NotFound:
            accounts.create_centre(session, code=CENTRE, name="导航测试查新中心", province_code="52",
                                   institution_no="009", pattern="most")  # fmt: skip
        for name, (roles, title, _, _) in PEOPLE.items():
            try:
                accounts.find_user(session, name)
            except accounts.NotFound:
                staff = roles != ["registered"] and roles != ["platform_admin"]
                accounts.create_user(session, username=name, password=PASSWORD, real_name=f"用户{name}",
                                     centre=CENTRE if staff else None, roles=roles, professional_title=title,
                                     senior_title=title is not None)  # fmt: skip
    return PEOPLE


def _sign_in(w: Watched, live_server: LiveServer, username: str, next_path: str | None = None) -> None:
    query = "?" + urlencode({"next": next_path}) if next_path else ""
    w.page.goto(f"{live_server.url}/login{query}")
    form = w.page.locator("form[action='/login']")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(PASSWORD)
    form.locator("button[type=submit]").click()
    w.page.wait_for_load_state()


def _header_links(w: Watched) -> list[str]:
    return [t.strip() for t in w.page.locator(".site-header .site-menu a").all_inner_texts()]


def _check_header(w: Watched, path: str, *, username: str | None, links: list[str]) -> None:
    header = w.page.locator("header.site-header")
    expect(header).to_have_count(1)
    shown = _header_links(w)
    assert "高级检索" in shown, (path, shown)
    if path == "/":
        expect(header.locator("input[name=q]")).to_have_count(0)
    else:
        expect(header.locator("input[name=q]")).to_have_count(1)
    for link in ALL_LINKS:
        assert (link in shown) == (link in links), (path, link, shown)
    if username is None:
        assert "登录" in shown and "注册" in shown, (path, shown)
    else:
        assert username in shown, (path, shown)
        expect(header.get_by_role("button", name="退出")).to_have_count(1)


def test_the_header_on_every_page_for_the_public(tab: Watched, live_server: LiveServer) -> None:
    for path in ("/", *PUBLIC_PAGES):
        tab.page.goto(live_server.url + path)
        _check_header(tab, path, username=None, links=[])


@pytest.mark.parametrize("username", list(PEOPLE))
def test_the_header_on_every_page_for_each_role(
    browser: Browser, live_server: LiveServer, people: dict[str, tuple[list[str], str | None, list[str], str]],
    username: str,
) -> None:
    _, _, links, landing = people[username]
    w = open_page(browser)
    try:
        _sign_in(w, live_server, username)
        # Staff land where they work; a plain user on the search page.
        assert w.page.url == live_server.url + landing, (username, w.page.url)
        for path in ("/", *SIGNED_IN_PAGES, *STAFF_PAGES.get(username, ())):
            response = w.page.goto(live_server.url + path)
            assert response is not None and response.status == 200, (username, path)
            _check_header(w, path, username=username, links=links)
        w.clean()
    finally:
        w.page.context.close()


def test_next_still_wins_over_the_landing(
    browser: Browser, live_server: LiveServer, people: dict[str, tuple[list[str], str | None, list[str], str]]
) -> None:
    w = open_page(browser)
    try:
        _sign_in(w, live_server, "nav-reviewer", next_path="/advanced")
        assert w.page.url == live_server.url + "/advanced"
        w.page.get_by_role("button", name="退出").click()
        w.page.wait_for_load_state()
        expect(w.page.locator(".site-menu")).to_contain_text("登录")
    finally:
        w.page.context.close()


def test_the_phone_menu_folds_and_opens(
    phone: Watched, live_server: LiveServer, people: dict[str, tuple[list[str], str | None, list[str], str]]
) -> None:
    page = phone.page
    _sign_in(phone, live_server, "nav-analyst")
    page.goto(live_server.url + "/?q=石墨烯")
    menu = page.locator(".site-header .site-menu")
    button = page.locator(".site-header .menu-button")
    expect(button).to_be_visible()
    expect(menu).to_be_hidden()
    expect(page.locator(".site-header input[name=q]")).to_be_visible()
    phone.shot("phone-menu-closed")
    button.click()
    expect(menu).to_be_visible()
    expect(menu.get_by_role("link", name="查新案件")).to_be_visible()
    expect(menu.get_by_role("button", name="退出")).to_be_visible()
    # The open menu fits the screen: nothing sticks out sideways.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, width
    phone.shot("phone-menu-open")
    menu.get_by_role("link", name="查新案件").click()
    page.wait_for_url(re.compile(r"/workspace/cases"))


def test_the_results_page_links_to_advanced_search(tab: Watched, live_server: LiveServer) -> None:
    page = tab.page
    page.goto(live_server.url + "/?q=石墨烯")
    page.locator(".toolbar .to-advanced").click()
    page.wait_for_url(re.compile(r"/advanced\?"))
    expect(page.locator(".adv-row").first.locator(".adv-value")).to_have_value("石墨烯")


def test_desktop_shows_the_links_without_a_menu_button(tab: Watched, live_server: LiveServer) -> None:
    tab.page.goto(live_server.url + "/?q=石墨烯")
    expect(tab.page.locator(".site-header .menu-button")).to_be_hidden()
    expect(tab.page.locator(".site-header .site-menu")).to_be_visible()
