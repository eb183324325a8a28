"""The public portal in a real browser: simple search, the advanced search form, narrow screens."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import LiveServer, Watched, open_page

pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
from playwright.sync_api import Browser, expect


def _count(w: Watched) -> str:
    return w.page.locator(".result-count").first.inner_text()


def test_anonymous_search(tab: Watched, live_server: LiveServer) -> None:
    page = tab.page
    page.goto(live_server.url + "/")
    expect(page.locator("h1, .hero-title").first).to_be_visible()
    tab.shot("home")
    page.locator("input[name=q]").first.fill("石墨烯")
    page.locator("input[name=q]").first.press("Enter")
    page.wait_for_url(re.compile(r"/\?q="))
    assert _count(tab).startswith("共找到 24 条结果")
    expect(page.locator(".hit")).to_have_count(20)
    expect(page.locator(".hit-title em").first).to_have_text("石墨烯")
    tab.shot("results")

    page.locator(".facet-doc_type .facet-item", has_text="学位论文").first.click()
    assert _count(tab).startswith("共找到 6 条结果")
    expect(page.locator(".chip")).to_have_count(1)

    page.locator(".hit-title a").first.click()
    page.wait_for_url(re.compile(r"/records/"))
    expect(page.locator(".record-title")).to_contain_text("石墨烯")
    tab.shot("record")


def _fill_row(
    w: Watched, n: int, field: str, value: str, match: str = "fuzzy", op: str | None = None
) -> None:
    row = w.page.locator(".adv-row").nth(n - 1)
    if op:
        row.locator("select.adv-op").select_option(op)
    row.locator("select.adv-field").select_option(field)
    row.locator(".adv-match").select_option(match)
    row.locator(".adv-value").fill(value)


def test_advanced_search_builds_the_expression(tab: Watched, live_server: LiveServer) -> None:
    page = tab.page
    page.goto(live_server.url + "/advanced")
    expect(page.locator(".adv-row")).to_have_count(3)
    # JavaScript adds a row in place, numbered for the server.
    page.locator(".adv-add").click()
    expect(page.locator(".adv-row")).to_have_count(4)
    assert page.locator(".adv-row").nth(3).locator(".adv-value").get_attribute("name") == "v4"
    page.locator(".adv-row").nth(3).locator(".adv-remove").click()
    expect(page.locator(".adv-row")).to_have_count(3)
    tab.shot("advanced-form")

    _fill_row(tab, 1, "TI", "石墨烯")
    _fill_row(tab, 2, "KY", "导热薄膜", match="exact", op="AND")
    # An exact-only field forces the exact match.
    page.locator(".adv-row").nth(2).locator("select.adv-field").select_option("DOI")
    expect(page.locator(".adv-row").nth(2).locator(".adv-match")).to_have_value("exact")
    page.locator("#adv-y1").fill("2015")
    page.locator("#adv-y2").fill("2023")
    page.locator("input[name=dt][value=journal_article]").check()
    page.locator(".adv-submit").click()
    page.wait_for_url(re.compile(r"/advanced\?"))

    expected = "TI%'石墨烯' AND KY='导热薄膜' AND PY BETWEEN ('2015','2023') AND DT='期刊论文'"
    expect(page.locator("#adv-expression")).to_have_text(expected)
    assert _count(tab).startswith("共找到 4 条结果")
    # The form comes back as it was submitted.
    expect(page.locator(".adv-row").nth(1).locator(".adv-value")).to_have_value("导热薄膜")
    expect(page.locator("input[name=dt][value=journal_article]")).to_be_checked()
    tab.shot("advanced-results")

    # A facet narrows the results; the expression stays as built.
    page.locator(".facet-venue .facet-item").first.click()
    expect(page.locator("#adv-expression")).to_have_text(expected)
    expect(page.locator(".chip")).to_have_count(1)

    # The expression opens in the workspace and enters the history there.
    page.locator(".open-in-workspace").click()
    page.wait_for_url(re.compile(r"/workspace\?"))
    expect(page.locator("#ws-q")).to_have_value(expected)
    expect(page.locator(".history-row")).to_have_count(1)


def test_advanced_search_without_javascript(browser: Browser, live_server: LiveServer) -> None:
    context = browser.new_context(java_script_enabled=False, locale="zh-CN")
    try:
        page = context.new_page()
        page.goto(live_server.url + "/advanced")
        page.locator("input[name=v1]").fill("石墨烯")
        # Without JavaScript "增加一行" asks the server for the form again, one row longer, values kept.
        page.locator(".adv-add").click()
        expect(page.locator(".adv-row")).to_have_count(4)
        expect(page.locator("input[name=v1]")).to_have_value("石墨烯")
        page.locator("select[name=f4]").select_option("AU")
        page.locator("select[name=m4]").select_option("exact")
        page.locator("input[name=v4]").fill("张伟")
        page.locator(".adv-submit").click()
        expect(page.locator("#adv-expression")).to_have_text("SU%'石墨烯' AND AU='张伟'")
        assert page.locator(".result-count").inner_text().startswith("共找到 8 条结果")
    finally:
        context.close()


def test_narrow_screen_has_no_horizontal_scroll(phone: Watched, live_server: LiveServer) -> None:
    page = phone.page
    pages = {
        "phone-home": "/",
        "phone-results": "/?q=石墨烯",
        "phone-record": "/records/b-graphene-01",
        "phone-advanced": "/advanced?v1=石墨烯&f2=KY&m2=exact&v2=导热薄膜&y1=2015&y2=2023&dt=journal_article",
    }
    for name, path in pages.items():
        page.goto(live_server.url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{path} is {width}px wide at a 375px viewport"
        phone.shot(name)
        phone.shot(name + "-top", full_page=False)

    # The workspace with history, a syntax error and results.
    page.goto(live_server.url + "/workspace")
    for expression in ("TI='石墨烯'", "KY='超级电容器'", "#1 AND #2"):
        page.locator("#ws-q").fill(expression)
        page.locator(".ws-submit").click()
        page.wait_for_url(re.compile(r"/workspace\?q="))
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    phone.shot("phone-workspace")
    page.locator("#ws-q").fill("TI='石墨烯' AND (KY='电池' OR")
    page.locator(".ws-submit").click()
    expect(page.locator(".expr-caret")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    phone.shot("phone-workspace-error")


def test_pages_render_without_errors_at_tablet_width(browser: Browser, live_server: LiveServer) -> None:
    watched = open_page(browser, width=800, height=1000)
    try:
        for path in ("/", "/?q=石墨烯", "/advanced", "/workspace", "/records/b-lithium"):
            watched.page.goto(live_server.url + path)
            assert watched.page.evaluate("document.documentElement.scrollWidth") <= 800, path
        watched.clean()
    finally:
        watched.page.context.close()
