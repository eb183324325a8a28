"""One novelty-search case from commission to issued report in a real browser, on the CSL demo corpus.

Two people, each in their own browser context: the analyst receives the commission, searches the
2,000 real CSL records for the case, adds hits in one click, marks them, writes the comparisons and
submits; the reviewer returns it with a comment, the analyst revises and resubmits, the reviewer signs
and issues. Then the numbered report is downloaded as PDF and DOCX and checked, and the public
verification page confirms it. Screenshots of each step land in tests/browser/artifacts/.
"""

from __future__ import annotations

import gzip
import io
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
from ingest.formats.csl import parse_line
from mappings.analysis.tokenizer import Tokenizer
from tests.browser.conftest import Watched, open_page, serve
from tests.conftest import DEMO, SHARED_DATA, new_prefix, settings_for, site_index

pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
from playwright.sync_api import Browser, Locator, expect

PASSWORD = "Walk-through-2026!"
SECTIONS = ("一、查新目的", "二、科学技术要点", "三、查新点与查新要求", "四、文献检索范围及检索策略",
            "五、检索结果", "六、查新结论", "七、查新员、审核员声明", "八、附件清单", "九、备注")  # fmt: skip


@dataclass
class DemoSite:
    url: str
    reviewer_id: int


@pytest.fixture(scope="module")
def demo_site(
    es: Elasticsearch, tokenizer: Tokenizer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DemoSite]:
    settings = settings_for(
        new_prefix("walk"), f"sqlite:///{tmp_path_factory.mktemp('walk') / 'walk.sqlite3'}"
    )
    now = datetime.now(UTC)
    with gzip.open(DEMO, "rt", encoding="utf-8") as lines:
        records = [parse_line(line, now=now, version=1) for line in lines if line.strip()]
    assert len(records) == 2000
    with site_index(es, tokenizer, settings, records):
        with session_factory(settings.effective_database_url).begin() as s:
            centre = accounts.create_centre(s, code="GZ", name="贵州省科技查新中心", province_code="52",
                                            institution_no="001", pattern="most")  # fmt: skip
            accounts.set_centre_contact(centre, {"address": "贵阳市南明区新华路 1 号", "postcode": "550002",
                                                 "principal": "张主任", "contact": "刘老师", "phone": "0851-85555555",
                                                 "email": "chaxin@example.org"})  # fmt: skip
            accounts.create_user(s, username="walk-analyst", password=PASSWORD, real_name="李查新", centre="GZ",
                                 roles=["analyst"], professional_title="馆员")  # fmt: skip
            reviewer = accounts.create_user(s, username="walk-reviewer", password=PASSWORD, real_name="王审核",
                                            centre="GZ", roles=["reviewer"], professional_title="研究馆员",
                                            senior_title=True)  # fmt: skip
            reviewer_id = reviewer.id
            accounts.create_user(s, username="walk-head", password=PASSWORD, real_name="张主任", centre="GZ",
                                 roles=["centre_admin"])  # fmt: skip
        with serve(settings) as url:
            yield DemoSite(url, reviewer_id)


@pytest.fixture
def people(browser: Browser, demo_site: DemoSite) -> Iterator[tuple[Watched, Watched]]:
    analyst, reviewer = open_page(browser), open_page(browser)
    try:
        yield analyst, reviewer
        analyst.clean()
        reviewer.clean()
    finally:
        analyst.page.context.close()
        reviewer.page.context.close()


def _login(w: Watched, site: DemoSite, username: str) -> None:
    w.page.goto(f"{site.url}/login?next=/workspace/cases")
    form = w.page.locator("form[action='/login']")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(PASSWORD)
    form.locator("button[type=submit]").click()
    w.page.wait_for_url(re.compile(r"/workspace/cases$"))


def _submit(w: Watched, button: Locator, timeout_ms: float | None = None) -> None:
    """Click a form's button and wait for the page the post redirects to."""
    with w.page.expect_navigation(timeout=timeout_ms):
        button.click()


# 签发 renders the whole PDF on the server to count its pages before it answers: seconds on a quiet
# machine, more than the 15 s default under a loaded CI machine's load (seen at load average 20).
_SLOW_ACTIONS_MS = {"签发": 90_000}


def _act(w: Watched, label: str) -> None:
    button = w.page.locator("#workflow").get_by_role("button", name=label, exact=True)
    _submit(w, button, _SLOW_ACTIONS_MS.get(label))


EXTERNAL = (
    ("CNKI 中国知网", 2000, "SU=('遗传算法'+'GA')*('检测器'+'传感器')*'布设'", 138),
    ("万方数据", 1998, "主题:(遗传算法) AND 主题:(检测器 布设)", 96),
    ("Web of Science", 1990, 'TS=("genetic algorithm" AND "detector location")', 211),
)
MANUAL_TITLE = "Optimal traffic detector location for OD estimation"


def _external(w: Watched, database: str, start: int, expression: str, hits: int) -> None:
    """Log one search the analyst ran in another database."""
    p = w.page
    form = p.locator("details.external-search")
    if form.get_attribute("open") is None:
        form.locator("summary").click()
    p.locator("#ext-database").select_option(database)
    p.locator("#ext-from").fill(str(start))
    p.locator("#ext-to").fill("2026")
    p.locator("#ext-expression").fill(expression)
    p.locator("#ext-hits").fill(str(hits))
    p.locator("#ext-date").fill("2026-03-03")
    _submit(w, p.get_by_role("button", name="记录外部检索"))


def _state(w: Watched) -> str:
    return w.page.locator("#summary .state").inner_text()


def test_case_from_commission_to_issued_report(
    browser: Browser, people: tuple[Watched, Watched], demo_site: DemoSite
) -> None:
    analyst, reviewer = people
    a = analyst.page

    # ---- the analyst receives the commission
    _login(analyst, demo_site, "walk-analyst")
    a.get_by_role("link", name="受理新委托").click()
    a.get_by_label("项目中文名称").fill("基于遗传算法的交通检测器优化布置方法")
    a.get_by_label("项目英文名称").fill("Genetic-algorithm placement of traffic detectors")
    a.get_by_label("委托日期").fill("2026-03-02")
    a.locator("#purpose").select_option("成果")
    a.get_by_label("委托单位 / 委托人").fill("贵州交通规划勘察设计研究院")
    a.get_by_label("通信地址").fill("贵阳市观山湖区")
    a.get_by_label("联系人").fill("赵工")
    a.get_by_label("电话").fill("0851-12345678")
    a.get_by_label("查新目的说明").fill("科技成果鉴定。")
    a.get_by_label("科学技术要点").fill("以遗传算法求解交通检测器的优化布置，兼顾动态OD估计精度与布设成本。")
    a.get_by_label("查新点（每行一个）").fill("用遗传算法优化交通检测器布置\n以动态OD估计精度为目标函数")
    a.get_by_label("查新要求").fill("查证国内有无相同研究。")
    _submit(analyst, a.get_by_role("button", name="受理"))
    assert re.search(r"/workspace/cases/\d+$", a.url), a.url
    case_url = a.url
    expect(a.locator("#points")).to_contain_text("NP-2")
    assert _state(analyst) == "已受理"

    # ---- searches for the case; each is logged, hits are added in one click
    a.get_by_label("专业检索式").fill("KY='遗传算法'")
    a.get_by_label("本次中文检索词（逗号分隔）").fill("遗传算法，检测器")
    _submit(analyst, a.get_by_role("button", name="为本案件检索"))
    assert "run=" in a.url
    results = a.locator("#results .case-hit")
    expect(results.first).to_be_visible()
    assert results.count() >= 5
    for n in (1, 2):
        _submit(analyst, a.get_by_role("button", name=f"加入案件：第 {n} 条"))
        expect(results.nth(n - 1)).to_contain_text("已加入")
    a.get_by_label("专业检索式").fill("TI='交通' AND KY='遗传算法'")
    _submit(analyst, a.get_by_role("button", name="为本案件检索"))
    expect(a.locator("#results h2")).to_contain_text("共 2 条")
    expect(a.locator(".strategy-table tbody tr")).to_have_count(2)
    for button in a.locator("#results").get_by_role("button", name=re.compile("加入案件")).all()[:1]:
        _submit(analyst, button)
    docs = a.locator("article.case-doc")
    assert docs.count() >= 2

    # ---- searches run in CNKI and 万方, logged as typed there (Web of Science comes later)
    for database, start, expression, hits in EXTERNAL[:2]:
        _external(analyst, database, start, expression, hits)
    table = a.locator(".strategy-table tbody tr")
    expect(table).to_have_count(4)
    expect(table.nth(2)).to_contain_text("外部检索")
    expect(table.nth(2)).to_contain_text(EXTERNAL[0][2])
    analyst.shot("case-1-searched")

    # ---- documents found elsewhere: one imported from a real CNKI RefWorks export, one typed in
    imported = SHARED_DATA / "zotero-translators-cn" / "import_inputs" / "CNKI_RefWorks__00.txt"
    if imported.exists():  # AGPL data: read from ../shared, never copied into the repository
        a.locator(".import-documents summary").click()
        a.locator("#i-database").select_option("CNKI 中国知网")
        a.locator("#i-file").set_input_files(str(imported))
        _submit(analyst, a.get_by_role("button", name="导入文献"))
        expect(a.locator("#documents")).to_contain_text("黄瓜胚性愈伤组织的诱导保存和再生")
    a.locator(".manual-document summary").click()
    a.locator("#m-database").select_option("Web of Science")
    a.locator("#m-title").fill(MANUAL_TITLE)
    a.locator("#m-authors").fill("Gentili F; Viti F")
    a.locator("#m-venue").fill("Transportation Research Part C")
    a.locator("#m-year").fill("2012")
    a.locator("#m-volume").fill("24")
    a.locator("#m-pages").fill("116-131")
    a.locator("#m-rel").select_option("密切相关")
    _submit(analyst, a.get_by_role("button", name="录入文献"))
    manual = a.locator("article.case-doc", has_text=MANUAL_TITLE)
    expect(manual).to_contain_text("Web of Science")
    expect(manual).to_contain_text("国外")

    # ---- marking: the first document is 密切相关 to NP-1 with an excerpt
    first = docs.first
    first.get_by_label("相关程度").select_option("密切相关")
    first.locator("input[name=points][value='NP-2']").uncheck()
    first.get_by_label("原文摘录（密切相关文献须填写）").fill("以遗传算法求解检测器优化布置模型。")
    _submit(analyst, first.get_by_role("button", name="保存标记"))
    expect(a.locator("article.case-doc").first.locator(".doc-ref")).to_contain_text("密切相关")

    # ---- the comparison editor, per novelty point
    for label, comparison, conclusion in [
        ("NP-1", "文献[1]以遗传算法求解检测器布置，与查新点1相同。", "查新点1已见相同报道。"),
        ("NP-2", "所检文献未以动态OD估计精度为目标函数。", "查新点2未见相同报道。"),
    ]:
        point = a.locator(f"#point-{label}")
        point.get_by_label("对比分析（引用文献用序号，如 [1]）").fill(comparison)
        point.get_by_label("查新结论").fill(conclusion)
        _submit(analyst, point.get_by_role("button", name=f"保存 {label}"))
    a.locator("#commission summary").click()
    a.get_by_label("六、总体查新结论").fill("所检文献中，以动态OD估计精度为目标的遗传算法布置方法未见报道。")
    _submit(analyst, a.locator("#commission").get_by_role("button", name="保存"))

    _act(analyst, "撰写报告")
    assert _state(analyst) == "撰写中"
    expect(a.locator(".next-step")).to_contain_text("提交审核")
    a.get_by_label("审核员").select_option(str(demo_site.reviewer_id))

    # ---- the check at submit refuses and lists each problem with a link to where it is fixed
    _act(analyst, "提交审核")
    assert _state(analyst) == "撰写中"
    problems = a.locator(".check-problems li")
    expect(problems.first).to_be_visible()
    listed = a.locator(".check-problems").inner_text()
    assert "尚未检索任何国外数据库" in listed and "尚无原文摘录" in listed, listed
    analyst.shot("case-2-refused")
    manual_id = a.locator(".check-problems a", has_text="尚无原文摘录").get_attribute("href")
    assert manual_id and manual_id.startswith("#doc-")
    a.locator(".check-problems a", has_text="国外数据库").click()
    _external(analyst, *EXTERNAL[2])
    fix = a.locator(f"article{manual_id}")
    fix.get_by_label("原文摘录（密切相关文献须填写）").fill(
        "A bi-level model places detectors for OD estimation."
    )
    _submit(analyst, fix.get_by_role("button", name="保存标记"))
    a.get_by_label("审核员").select_option(str(demo_site.reviewer_id))
    a.get_by_label("已核对著录项目提醒（如有）").check()
    _act(analyst, "提交审核")
    assert _state(analyst) == "审核中"
    analyst.shot("case-2-submitted")

    # ---- the reviewer returns it with a comment
    _login(reviewer, demo_site, "walk-reviewer")
    r = reviewer.page
    r.goto(case_url)
    expect(r.locator("#workflow")).to_contain_text("审核签字")
    r.get_by_label("审核意见（退回时必填）").fill("请在备注中说明检索的数据库范围。")
    _act(reviewer, "退回修改")
    assert _state(reviewer) == "退回修改"

    # ---- the analyst sees the comment, revises, resubmits
    a.goto(case_url)
    expect(a.locator(".review-comment")).to_contain_text("请在备注中说明检索的数据库范围。")
    expect(a.locator(".next-step")).to_contain_text("直接点“提交审核”")
    a.locator("#commission summary").click()
    a.get_by_label("九、备注").fill(
        "检索范围为本平台文献库（CSL 中文科技文献数据集）及 CNKI、万方、Web of Science。"
    )
    _submit(analyst, a.locator("#commission").get_by_role("button", name="保存"))
    a.get_by_label("已核对著录项目提醒（如有）").check()
    _act(analyst, "提交审核")
    assert _state(analyst) == "审核中"

    # ---- the reviewer signs and issues
    r.goto(case_url)
    # Signing asks for confirmation: without it the browser does not send the form.
    sign = r.locator("#workflow form", has=r.get_by_role("button", name="审核签字", exact=True))
    sign.get_by_role("button", name="审核签字", exact=True).click()
    assert _state(reviewer) == "审核中"
    sign.get_by_role("checkbox").check()
    _act(reviewer, "审核签字")
    assert _state(reviewer) == "已签字"
    number = r.locator(".report-no").inner_text().strip()
    assert re.fullmatch(r"202652001\d{5}", number), number
    r.locator("#workflow form", has=r.get_by_role("button", name="签发", exact=True)).get_by_role(
        "checkbox"
    ).check()
    _act(reviewer, "签发")
    assert _state(reviewer) == "已签发"
    reviewer.shot("case-3-issued")
    history = r.locator("#history").inner_text()
    for step in ("受理委托", "开始检索", "提交审核", "退回修改", "审核签字", "签发"):
        assert step in history

    # ---- the analyst downloads the issued report; nothing is editable any more
    a.goto(case_url)
    assert _state(analyst) == "已签发"
    expect(a.locator("#commission form")).to_have_count(0)
    with a.expect_download() as pdf_download:
        a.get_by_role("link", name="下载 PDF").click()
    pdf_path = Path(pdf_download.value.path())
    assert pdf_download.value.suggested_filename == f"{number}.pdf"
    with a.expect_download() as docx_download:
        a.get_by_role("link", name="下载 DOCX").click()
    from docx import Document as DocxDocument

    docx_text = "\n".join(
        p.text for p in DocxDocument(io.BytesIO(Path(docx_download.value.path()).read_bytes())).paragraphs
    )
    for heading in SECTIONS:
        assert heading in docx_text
    assert "查新点2未见相同报道。" in docx_text and "草稿" not in docx_text
    from pypdf import PdfReader

    pages = len(PdfReader(pdf_path).pages)
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-layout", str(pdf_path), "-"], capture_output=True, check=True,
                              text=True).stdout  # fmt: skip
        squashed = re.sub(r"\s+", "", text)
        for heading in SECTIONS:
            assert re.sub(r"\s+", "", heading) in squashed, heading
        assert "基于遗传算法的交通检测器优化布置方法" in squashed and "\ufffd" not in text
        # 四（一）lists every database searched, each with its span.
        databases = squashed.split("（一）检索的数据库及年限")[1].split("（二）检索词")[0]
        for name, span in (("Chaxin平台文献库", "不限—2026"), ("CNKI中国知网", "2000—2026"),
                           ("万方数据", "1998—2026"), ("WebofScience", "1990—2026")):  # fmt: skip
            assert name in databases and span in databases.split(name, 1)[1][:20], (name, databases)
        # The verification URL on every page, the same URL the cover's QR code encodes.
        url = f"{demo_site.url}/verify/{number}"
        assert text.count(f"核验网址：{url}") >= pages, (url, pages)

    # ---- the centre admin sees the case in the centre's figures: issued once, returned once
    head = open_page(browser)
    try:
        _login(head, demo_site, "walk-head")
        head.page.get_by_role("link", name="中心", exact=True).click()
        totals = head.page.locator("#totals")
        expect(totals).to_contain_text("签发数")
        assert re.search(r"签发数\s*1\b", totals.inner_text()), totals.inner_text()
        assert "100.0%" in totals.inner_text(), "the one issued case was returned once"
        head.shot("case-4-centre")
        head.clean()
    finally:
        head.page.context.close()

    # ---- anyone can verify the number, and with the footer's code, the content
    code = r.locator("#summary code").inner_text().strip()
    public = a.context.browser.new_context(locale="zh-CN") if a.context.browser else None
    assert public is not None
    visitor = public.new_page()
    try:
        visitor.goto(f"{demo_site.url}/verify")
        visitor.get_by_label("报告编号").fill(number)
        visitor.get_by_label("验证码").fill(code)
        visitor.get_by_role("button", name="核验").click()
        expect(visitor.locator(".verify-result")).to_contain_text("验证通过")
        expect(visitor.locator(".project-name")).to_have_text("基于遗传算法的交通检测器优化布置方法")
        expect(visitor.locator(".page-count")).to_have_text(f"共 {pages} 页")
        expect(visitor.locator(".verify-facts")).to_contain_text("贵州交通规划勘察设计研究院")
        visitor.get_by_label("验证码").fill(code[:-1] + ("0" if code[-1] != "0" else "1"))
        visitor.get_by_role("button", name="核验").click()
        expect(visitor.locator(".verify-result")).to_have_text("验证码与该报告不符")
        expect(visitor.locator(".verify-facts")).to_have_count(0)
    finally:
        public.close()


def test_case_pages_fit_a_phone(browser: Browser, demo_site: DemoSite) -> None:
    phone = open_page(browser, width=375, height=740, mobile=True)
    try:
        p = phone.page
        _login(phone, demo_site, "walk-analyst")
        p.get_by_role("link", name="受理新委托").click()
        p.get_by_label("项目中文名称").fill("手机上受理的查新委托")
        p.get_by_label("委托单位 / 委托人").fill("某某大学")
        p.get_by_label("查新点（每行一个）").fill("一个很长很长的查新点" * 8)
        _submit(phone, p.get_by_role("button", name="受理"))
        p.get_by_label("专业检索式").fill("KY='遗传算法'")
        _submit(phone, p.get_by_role("button", name="为本案件检索"))
        _submit(phone, p.get_by_role("button", name="加入案件：第 1 条"))
        for path in (p.url.split("?")[0], f"{demo_site.url}/workspace/cases"):
            p.goto(path)
            overflow = p.evaluate("document.scrollingElement.scrollWidth") - 375
            assert overflow <= 0, f"{path} is {overflow}px wider than the phone"
        phone.shot("case-phone")
        phone.clean()
    finally:
        phone.page.context.close()
