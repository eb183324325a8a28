"""The record page's 引用 box, and exports that keep the list's order and carry the query and date in
their file name."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from tests.browser.conftest import LiveServer, Watched

pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
from playwright.sync_api import expect


def _today() -> str:
    return datetime.now(timezone(timedelta(hours=8))).strftime("%Y%m%d")


def test_the_cite_box_copies_both_editions_and_downloads_ris(tab: Watched, live_server: LiveServer) -> None:
    page = tab.page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.goto(live_server.url + "/records/b-lithium")
    box = page.locator(".cite-box")
    expect(box.locator(".cite-body")).to_be_hidden()
    box.locator("summary", has_text="引用").click()
    expect(box.locator(".cite-label")).to_have_text(["GB/T 7714—2025", "GB/T 7714—2015"])
    new, old = box.locator(".cite-text").all_inner_texts()
    # 2025 writes the comma and colon full-width; 2015 half-width.
    assert new.startswith("锂离子电池硅碳负极材料研究进展[J]. 电化学，2021") and new.endswith(".")
    assert old.startswith("锂离子电池硅碳负极材料研究进展[J]. 电化学, 2021") and old.endswith(".")
    tab.shot("record-cite-box")

    box.locator(".cite-copy").first.click()
    expect(box.locator(".cite-copy").first).to_have_text("已复制")
    assert page.evaluate("navigator.clipboard.readText()") == new

    with page.expect_download() as info:
        box.locator(".cite-download", has_text="RIS").click()
    assert info.value.suggested_filename == f"查新平台-锂离子电池硅碳负极材料研究进展-{_today()}.ris"
    text = info.value.path().read_text(encoding="utf-8")
    assert text.count("TY  - ") == 1 and "TI  - 锂离子电池硅碳负极材料研究进展" in text
    with page.expect_download() as info:
        box.locator(".cite-download", has_text="EndNote").click()
    assert info.value.suggested_filename.endswith(".enw")
    assert "%T 锂离子电池硅碳负极材料研究进展" in info.value.path().read_text(encoding="utf-8")


def test_an_export_keeps_the_order_of_the_list(tab: Watched, live_server: LiveServer) -> None:
    page = tab.page
    page.goto(live_server.url + "/workspace")
    page.locator("#ws-q").fill("KY='超级电容器'")
    page.locator(".ws-submit").click()
    page.wait_for_url(re.compile(r"/workspace\?q="))
    # Newest first: not the order of the record IDs, nor of relevance.
    page.goto(page.url + "&sort=year_desc")
    expect(page.locator(".hit")).to_have_count(4)
    titles = [t.strip() for t in page.locator(".hit .hit-title").all_inner_texts()]
    ids = [page.locator("input.select-record").nth(i).get_attribute("value") for i in range(4)]
    assert ids != sorted(ids), "the test needs a list order that differs from the ID order"
    page.locator("input.select-record").nth(3).check()  # ticked out of order on purpose
    page.locator("input.select-record").nth(0).check()
    page.locator("input.select-record").nth(2).check()
    page.locator("#sel-format").select_option("ris")
    with page.expect_download() as info:
        page.locator(".export-selected").click()
    assert info.value.suggested_filename == f"查新平台-KY='超级电容器'-{_today()}.ris"
    text = info.value.path().read_text(encoding="utf-8")
    exported = re.findall(r"^TI  - (.+)$", text, flags=re.MULTILINE)
    assert exported == [titles[0], titles[2], titles[3]]
