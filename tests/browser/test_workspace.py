"""The analyst workspace in a real browser: #n combination, syntax errors, history, strategies, exports."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta, timezone

import pytest

from tests.browser.conftest import LiveServer, Watched

pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
from playwright.sync_api import expect


def _search(w: Watched, expression: str) -> None:
    w.page.locator("#ws-q").fill(expression)
    w.page.locator(".ws-submit").click()
    w.page.wait_for_url(re.compile(r"/workspace\?q="))


def _count(w: Watched) -> str:
    return w.page.locator(".result-count").inner_text()


def test_analyst_combines_history_entries(tab: Watched, live_server: LiveServer) -> None:
    page = tab.page
    page.goto(live_server.url + "/workspace")
    expect(page.locator(".empty-note").first).to_be_visible()
    tab.shot("workspace-empty")

    _search(tab, "TI='石墨烯'")
    assert _count(tab).startswith("共找到 24 条结果")
    _search(tab, "KY='超级电容器'")
    assert _count(tab).startswith("共找到 4 条结果")

    # "插入" puts #n into the query box; the analyst types the rest.
    page.locator("#ws-q").fill("")
    page.locator("#h1 .insert-ref").click()
    page.locator("#ws-q").press("End")
    page.keyboard.type("AND ")
    page.locator("#h2 .insert-ref").click()
    expect(page.locator("#ws-q")).to_have_value(re.compile(r"^#1 AND #2\s*$"))
    page.locator(".ws-submit").click()
    page.wait_for_url(re.compile(r"/workspace\?q=%231"))

    assert _count(tab).startswith("共找到 4 条结果")
    expect(page.locator(".reading .hist-no")).to_have_text("#3")
    expect(page.locator(".normalized")).to_have_text("#1 AND #2")
    rows = page.locator(".history-row")
    expect(rows).to_have_count(3)
    # Newest first, each with its expression and hit count.
    expect(rows.nth(0).locator(".hist-expr")).to_have_text("#1 AND #2")
    expect(rows.nth(0).locator(".hist-total")).to_have_text("4")
    expect(rows.nth(2).locator(".hist-total")).to_have_text("24")
    tab.shot("workspace-combined")

    # Paging and facets never add history entries; the expression is never rewritten.
    page.goto(live_server.url + "/workspace?q=" + "TI%3D%27%E7%9F%B3%E5%A2%A8%E7%83%AF%27&h=1")
    page.locator(".pager a[rel=next]").click()
    expect(page.locator(".hit")).to_have_count(4)
    page.locator(".facet-doc_type .facet-item", has_text="学位论文").first.click()
    assert _count(tab).startswith("共找到 6 条结果")
    expect(page.locator("#ws-q")).to_have_value("TI='石墨烯'")
    expect(page.locator(".history-row")).to_have_count(3)

    # Rename #1, save #3 as a strategy, run it: the run is #4.
    row1 = page.locator("#h1")
    row1.locator(".hist-more summary").click()
    row1.locator(".rename-form input[name=name]").fill("石墨烯篇名")
    row1.locator(".rename-form button").click()
    expect(page.locator("#h1 .hist-name")).to_have_text("石墨烯篇名")
    row3 = page.locator("#h3")
    row3.locator(".hist-more summary").click()
    row3.locator(".strategy-form input[name=name]").fill("石墨烯超级电容器")
    row3.locator(".strategy-form button").click()
    expect(page.locator(".strategy-name")).to_have_text("石墨烯超级电容器")
    page.locator(".run-strategy").click()
    page.wait_for_url(re.compile(r"h=4"))
    assert _count(tab).startswith("共找到 4 条结果")
    expect(page.locator(".history-row")).to_have_count(4)

    # Re-run #2 from the table: it becomes #5.
    page.locator("#h2 .rerun").click()
    page.wait_for_url(re.compile(r"h=5"))
    expect(page.locator("#ws-q")).to_have_value("KY='超级电容器'")


def test_syntax_error_is_shown_at_its_position(tab: Watched, live_server: LiveServer) -> None:
    page = tab.page
    page.goto(live_server.url + "/workspace")
    expression = "TI='石墨烯' AND KY='电池' OR"
    page.locator("#ws-q").fill(expression)
    page.locator(".ws-submit").click()
    expect(page.locator(".expr-error")).to_be_visible()
    expect(page.locator(".expr-error-message")).to_contain_text("OR 后缺少检索项")
    caret = page.locator(".expr-caret")
    assert caret.get_attribute("data-position") == str(len(expression))
    # The box keeps the expression for fixing, and nothing entered the history.
    expect(page.locator("#ws-q")).to_have_value(expression)
    expect(page.locator(".history-row")).to_have_count(0)
    tab.shot("workspace-error")

    unknown_field = "TI='石墨烯' AND XX='电池'"
    page.locator("#ws-q").fill(unknown_field)
    page.locator(".ws-submit").click()
    assert page.locator(".expr-caret").get_attribute("data-position") == str(unknown_field.index("XX"))
    expect(page.locator(".expr-caret")).to_have_text("X")

    page.locator("#ws-q").fill("#7 AND TI='石墨烯'")
    page.locator(".ws-submit").click()
    expect(page.locator(".expr-error-message")).to_contain_text("#7")


def test_export_selected_records(tab: Watched, live_server: LiveServer) -> None:
    page = tab.page
    page.goto(live_server.url + "/workspace")
    _search(tab, "KY='超级电容器'")
    expect(page.locator(".hit")).to_have_count(4)

    export = page.locator(".export-selected")
    expect(export).to_be_disabled()  # nothing ticked yet
    boxes = page.locator("input.select-record")
    boxes.nth(0).check()
    boxes.nth(2).check()
    expect(page.locator(".selected-count strong")).to_have_text("2")
    chosen = [boxes.nth(i).get_attribute("value") for i in (0, 2)]
    titles = [page.locator(".hit").nth(i).locator(".hit-title").inner_text() for i in (0, 2)]
    page.locator("#sel-format").select_option("ris")
    tab.shot("workspace-selection")
    with page.expect_download() as info:
        export.click()
    download = info.value
    today = datetime.now(timezone(timedelta(hours=8))).strftime("%Y%m%d")
    assert download.suggested_filename == f"查新平台-KY='超级电容器'-{today}.ris"
    text = download.path().read_text(encoding="utf-8")
    assert text.count("TY  - ") == 2
    for title in titles:
        assert f"TI  - {title}" in text
    assert all(rid for rid in chosen)

    # "全选本页" then the whole result set as CSV.
    page.locator(".select-all").check()
    expect(page.locator(".selected-count strong")).to_have_text("4")
    page.locator("#all-format").select_option("csv")
    with page.expect_download() as info:
        page.locator(".export-all").click()
    rows = list(csv.reader(io.StringIO(info.value.path().read_text(encoding="utf-8-sig"))))
    assert len(rows) == 1 + 4
    assert all("超级电容器" in ",".join(r) for r in rows[1:])


def test_export_with_no_selection_is_refused(tab: Watched, live_server: LiveServer) -> None:
    page = tab.page
    response = page.goto(live_server.url + "/workspace/export?format=ris")
    assert response is not None and response.status == 400
    expect(page.locator(".error-message")).to_contain_text("请先勾选要导出的记录")
