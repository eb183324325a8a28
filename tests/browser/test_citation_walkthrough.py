"""One 收录引证 case from commission to issued report in a real browser, on the real CSSCI export.

The analyst receives the commission, pastes three of the client's papers, confirms each match,
excludes one citing record with a reason and submits; the reviewer returns it, the analyst revises
and resubmits, the reviewer signs and issues. The issued PDF, read with pdftotext, carries every
section and the certification paragraph with the right numbers; /verify accepts the code and refuses
a wrong one; the pages fit a 375 px phone.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from appdb import accounts
from appdb.session import session_factory
from citeindex.link import link_records
from ingest.formats import cssci as cssci_format
from mappings.analysis.tokenizer import Tokenizer
from mappings.model import Record
from tests.browser.conftest import Watched, open_page, serve
from tests.conftest import new_prefix, settings_for, shared_file, site_index

pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
from playwright.sync_api import Browser, expect

PASSWORD = "Citation-walk-2026!"
PASTED = (
    "王世伟. 再论智慧图书馆[J]. 图书馆杂志，2012，31（11）：2-7.",
    "沈奎林，邵波，陈力军，等. 基于超高频RFID的图书盘点机器人的设计和实现[J]. 图书馆学研究，2016（7）：24-28.",
    "王世伟. 论智慧图书馆的三大特点[J]. 中国图书馆学报，2012，38（6）：22-28.",
)
# (总被引, 他引) after the analyst excludes one 他引 citer of the first paper: 21/20 → 20/19.
TOTAL, OTHERS = 20 + 12 + 76, 19 + 8 + 74


@dataclass
class CiteSite:
    url: str
    reviewer_id: int


@pytest.fixture(scope="module")
def cite_site(es: Elasticsearch, tokenizer: Tokenizer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CiteSite]:
    path = shared_file("citations", "cssci_smart_library", "LY_20230630122752.txt")
    records = [r for r in cssci_format.parse_file(path, now=datetime.now(UTC), version=1) if isinstance(r, Record)]
    settings = settings_for(new_prefix("citewalk"), f"sqlite:///{tmp_path_factory.mktemp('citewalk') / 'w.sqlite3'}")
    with site_index(es, tokenizer, settings, records) as names:
        link_records(es, names.write_alias, [r.id for r in records], tokenizer)
        es.indices.refresh(index=names.read_alias)
        with session_factory(settings.effective_database_url).begin() as s:
            centre = accounts.create_centre(s, code="GZ", name="贵州省科技查新中心", province_code="52",
                                            institution_no="001", pattern="most")  # fmt: skip
            accounts.set_centre_contact(centre, {"address": "贵阳市南明区新华路 1 号", "postcode": "550002",
                                                 "principal": "张主任", "contact": "刘老师", "phone": "0851-85555555",
                                                 "email": "chaxin@example.org"})  # fmt: skip
            accounts.create_user(s, username="cite-analyst", password=PASSWORD, real_name="李检索", centre="GZ",
                                 roles=["analyst"], professional_title="馆员")  # fmt: skip
            reviewer = accounts.create_user(s, username="cite-reviewer", password=PASSWORD, real_name="王审核",
                                            centre="GZ", roles=["reviewer"], professional_title="研究馆员",
                                            senior_title=True)  # fmt: skip
            reviewer_id = reviewer.id
        with serve(settings) as url:
            yield CiteSite(url, reviewer_id)


def _login(w: Watched, site: CiteSite, username: str) -> None:
    w.page.goto(f"{site.url}/login?next=/workspace/cases")
    form = w.page.locator("form[action='/login']")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(PASSWORD)
    form.locator("button[type=submit]").click()
    w.page.wait_for_url(re.compile(r"/workspace/cases$"))


def _submit(w: Watched, button: object, timeout_ms: float | None = None) -> None:
    with w.page.expect_navigation(timeout=timeout_ms):
        button.click()  # type: ignore[attr-defined]


def _act(w: Watched, label: str) -> None:
    # 签发 renders the PDF on the server to count its pages before it answers.
    button = w.page.locator("#workflow").get_by_role("button", name=label, exact=True)
    _submit(w, button, 90_000 if label == "签发" else None)


def _state(w: Watched) -> str:
    return w.page.locator("#summary .state").inner_text()


def _confirm(w: Watched, box: str) -> None:
    w.page.locator("#workflow form", has=w.page.get_by_role("button", name=box, exact=True)).get_by_role(
        "checkbox"
    ).check()


def test_citation_case_from_commission_to_issued_report(browser: Browser, cite_site: CiteSite) -> None:
    analyst, reviewer = open_page(browser), open_page(browser)
    try:
        _walk(browser, analyst, reviewer, cite_site)
        analyst.clean()
        reviewer.clean()
    finally:
        analyst.page.context.close()
        reviewer.page.context.close()


def _walk(browser: Browser, analyst: Watched, reviewer: Watched, site: CiteSite) -> None:
    a = analyst.page
    _login(analyst, site, "cite-analyst")
    a.get_by_role("link", name="受理收录引证委托").click()
    a.locator("#client_name").fill("王世伟")
    a.locator("#client_unit").fill("上海社会科学院")
    a.locator("#client_phone").fill("021-53060606")
    a.locator("#purpose").select_option("职称评审")
    a.locator("input[name=databases][value=CSSCI]").check()
    a.locator("input[name=databases][value=SCIE]").check()
    _submit(analyst, a.get_by_role("button", name="受理"))
    assert re.search(r"/workspace/cases/\d+/citation$", a.url), a.url
    case_url = a.url
    assert _state(analyst) == "已受理"

    # ---- the paper list: pasted, matched, each confirmed
    a.locator("#paste").fill("\n".join(PASTED))
    _submit(analyst, a.get_by_role("button", name="加入并匹配"))
    papers = a.locator("li.paper")
    expect(papers).to_have_count(3)
    expect(a.locator("#papers")).to_contain_text("已匹配，待确认")
    for n in range(3):
        _submit(analyst, a.locator("li.paper").nth(n).get_by_role("button", name="确认"))
    expect(a.locator("li.paper .match-confirmed")).to_have_count(3)
    expect(a.locator("#indexing")).to_contain_text("SCIE 未收录：第 1、2、3 篇")
    analyst.shot("citation-1-papers")

    # ---- one citing record of the first paper excluded, with its reason
    block = a.locator("#citing-1")
    block.locator("summary").click()
    first = block.locator("li.citer").first
    expect(first.locator(".mark-other")).to_have_count(1)
    first.locator("select[name=action]").select_option("exclude")
    first.locator("input[name=reason]").fill("该文为会议综述，非研究论文")
    _submit(analyst, first.get_by_role("button", name="调整"))
    expect(a.locator(".citation-notes")).to_contain_text("不计入：该文为会议综述，非研究论文")
    expect(a.locator("#totals .total-cited")).to_have_text(str(TOTAL))
    expect(a.locator("#totals .total-others")).to_have_text(str(OTHERS))

    _act(analyst, "开始检索")
    _act(analyst, "撰写报告")
    a.locator("#reviewer_id").select_option(str(site.reviewer_id))
    _act(analyst, "提交审核")
    assert _state(analyst) == "审核中"

    # ---- the reviewer returns it; the analyst revises and resubmits
    _login(reviewer, site, "cite-reviewer")
    r = reviewer.page
    r.goto(case_url)
    r.locator("#comment").fill("请在备注中注明引证数据来源。")
    _act(reviewer, "退回修改")
    assert _state(reviewer) == "退回修改"
    a.goto(case_url)
    expect(a.locator(".review-comment")).to_contain_text("请在备注中注明引证数据来源。")
    a.locator("#header summary").click()
    a.locator("#h-remarks").fill("引证数据来源：CSSCI 引文索引。")
    _submit(analyst, a.locator("#header").get_by_role("button", name="保存"))
    _act(analyst, "提交审核")
    assert _state(analyst) == "审核中"

    # ---- signing freezes the counts under the report number; issuing makes it verifiable
    r.goto(case_url)
    _confirm(reviewer, "审核签字")
    _act(reviewer, "审核签字")
    assert _state(reviewer) == "已签字"
    number = r.locator(".report-no").inner_text().strip()
    assert re.fullmatch(r"202\d52001\d{5}", number), number
    _confirm(reviewer, "签发")
    _act(reviewer, "签发")
    assert _state(reviewer) == "已签发"
    reviewer.shot("citation-2-issued")
    history = r.locator("#history").inner_text()
    for step in ("受理委托", "提交审核", "退回修改", "审核签字", "签发"):
        assert step in history

    a.goto(case_url)
    expect(a.locator("#papers form")).to_have_count(0)
    with a.expect_download() as pdf_download:
        a.get_by_role("link", name="下载 PDF").click()
    pdf_path = Path(pdf_download.value.path())
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-layout", str(pdf_path), "-"], capture_output=True, check=True,
                              text=True).stdout  # fmt: skip
        flat = re.sub(r"\s+", "", text)
        for part in ("附表一", "附表二", "附表三", number, "王世伟", "上海社会科学院", "职称评审",
                     "该文为会议综述，非研究论文"):  # fmt: skip
            assert part in flat, part
        # Each requested database in the order the form lists them.
        assert "经检索，委托人提供的3篇论文被SCIE收录0篇，被CSSCI收录3篇；" in flat, flat[:400]
        assert f"共被引用{TOTAL}次，其中他引{OTHERS}次（详见附表）。特此证明。" in flat

    # ---- /verify: the right code passes, a wrong one does not
    code = r.locator("#summary code").inner_text().strip()
    public = browser.new_context(locale="zh-CN")
    try:
        visitor = public.new_page()
        visitor.goto(f"{site.url}/verify")
        visitor.get_by_label("报告编号").fill(number)
        visitor.get_by_label("验证码").fill(code)
        visitor.get_by_role("button", name="核验").click()
        expect(visitor.locator(".verify-result")).to_contain_text("验证通过")
        visitor.get_by_label("验证码").fill(code[:-1] + ("0" if code[-1] != "0" else "1"))
        visitor.get_by_role("button", name="核验").click()
        expect(visitor.locator(".verify-result")).to_have_text("验证码与该报告不符")
    finally:
        public.close()

    # ---- the pages fit a phone
    phone = open_page(browser, width=375, height=740, mobile=True)
    try:
        _login(phone, site, "cite-analyst")
        for path in (case_url, f"{site.url}/workspace/cases/new?kind=citation", f"{site.url}/workspace/cases"):
            phone.page.goto(path)
            overflow = phone.page.evaluate("document.scrollingElement.scrollWidth") - 375
            assert overflow <= 0, f"{path} is {overflow}px wider than the phone"
        phone.page.goto(case_url)
        phone.shot("citation-phone")
        phone.clean()
    finally:
        phone.page.context.close()
