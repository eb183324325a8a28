"""A record page with its references and its citing list (issue 11), in a real browser, on a site of
its own whose documents carry the link state citation linking leaves (tests/citation_docs.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from elasticsearch import Elasticsearch

from mappings.analysis.tokenizer import Tokenizer
from mappings.model import Record
from tests.browser.conftest import open_page, serve
from tests.citation_docs import CITATIONS, CITED, OTHER, SECRET, SECRET_TITLE, SELF, TOPIC, write_network
from tests.conftest import make_record, new_prefix, settings_for, site_index

pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
from playwright.sync_api import Browser, expect

# Enough public citers of CITED for a second page of its citing list (10 a page).
MANY = [f"c-many-{i:02d}" for i in range(10)]


def _many() -> list[Record]:
    return [
        make_record(rid, f"{TOPIC}引用者之{i + 1}", year=2010 + i, keywords=[TOPIC],
                    authors=[{"name": "吴十", "order": 1}], language="zh")
        for i, rid in enumerate(MANY)
    ]  # fmt: skip


@pytest.fixture(scope="module")
def citation_site(
    es: Elasticsearch, tokenizer: Tokenizer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    settings = settings_for(new_prefix("bcite"), f"sqlite:///{tmp_path_factory.mktemp('bcite') / 'b.sqlite3'}")
    state = {**CITATIONS, **{rid: {"cites": [CITED]} for rid in MANY}}
    state[CITED] = {"cited_by_count": 12, "cited_by_others": 11, "cited_by_restricted": 1}
    with site_index(es, tokenizer, settings) as names:
        write_network(es, names.write_alias, tokenizer, extra=_many(), state=state)
        with serve(settings) as url:
            yield url


def test_record_page_references_and_citing_list(browser: Browser, citation_site: str) -> None:
    tab = open_page(browser)
    try:
        page = tab.page
        page.goto(f"{citation_site}/records/{OTHER}")
        refs = page.locator(".record-references li")
        expect(refs).to_have_count(3)
        # The resolved reference links to its record; the one to a 限制 report is plain text.
        expect(refs.nth(0).locator("a.ref-link")).to_have_attribute("href", f"/records/{CITED}")
        expect(refs.nth(1).locator("a")).to_have_count(0)
        expect(refs.nth(2).locator("a")).to_have_count(0)
        refs.nth(0).locator("a.ref-link").click()
        page.wait_for_url(f"**/records/{CITED}")

        # 12 citers a visitor may see (the 限制 report is not one of them), 自引 marked.
        expect(page.locator(".record-cited")).to_contain_text("被引 12 次")
        expect(page.locator(".record-cited")).to_contain_text("他引 11 次")
        citing = page.locator("#citing")
        expect(citing.locator("h2")).to_have_text("引证文献（12）")
        items = citing.locator(".citing-item")
        expect(items).to_have_count(10)
        expect(items.nth(0)).to_contain_text(f"{TOPIC}材料的稳定性再研究")  # 2022, newest
        expect(items.nth(0).locator(".cite-kind")).to_have_text("自引")
        expect(items.nth(1).locator(".cite-kind")).to_have_text("他引")
        expect(citing).not_to_contain_text(SECRET_TITLE)
        tab.shot("record-citing")

        citing.get_by_role("link", name="下一页").click()
        expect(citing.locator(".citing-pager")).to_contain_text("第 2 / 2 页")
        expect(items).to_have_count(2)
        citing.get_by_role("link", name="上一页").click()
        expect(items.nth(0).locator("a")).to_have_attribute("href", f"/records/{SELF}")

        # A hit list says how often each hit is cited.
        page.goto(f"{citation_site}/?q={TOPIC}&sort=cited_desc")
        expect(page.locator(".hit").first.locator(".meta-cited")).to_have_text("被引 12 次")
        assert SECRET not in page.content()
        tab.clean()
    finally:
        tab.page.context.close()


def test_record_page_fits_a_phone(browser: Browser, citation_site: str) -> None:
    phone = open_page(browser, width=375, height=740, mobile=True)
    try:
        page = phone.page
        for path in (f"/records/{CITED}", f"/records/{OTHER}", f"/records/{CITED}?cp=2"):
            page.goto(citation_site + path)
            overflow = page.evaluate("document.scrollingElement.scrollWidth") - 375
            assert overflow <= 0, f"{path} is {overflow}px wider than the phone"
        phone.shot("record-citing-phone")
        phone.clean()
    finally:
        phone.page.context.close()
