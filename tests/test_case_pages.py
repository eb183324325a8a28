"""The case pages of the analyst workspace, driven as a browser would: sign in, post forms, follow redirects.

One case goes from commission to issued report through the pages alone, with an analyst and a
reviewer each in their own signed-in session; refusals come back as the page with the reason and
with what was typed still in the form.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from typing import Any

import pytest
from docx import Document as DocxDocument
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from appdb import accounts
from appdb.session import session_factory
from mappings.analysis.tokenizer import Tokenizer
from tests.conftest import (
    Person,
    make_record,
    new_prefix,
    seed_people,
    seed_two_centres,
    settings_for,
    site_index,
)
from web.app import create_app

PASSWORD = "Case-pages-1"
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


@dataclass
class Site:
    app: Any
    db: sessionmaker[Session]
    ids: dict[str, int]

    def browser(self, username: str | None) -> TestClient:
        """A client with its own cookie jar, signed in as `username` (None: anonymous)."""
        client = TestClient(self.app, follow_redirects=False)
        if username:
            token = _csrf(client.get("/login").text)
            resp = client.post(
                "/login", data={"username": username, "password": PASSWORD, "csrf_token": token, "next": "/"}
            )
            assert resp.status_code == 303, resp.text
        return client


def _csrf(html: str) -> str:
    found = CSRF.search(html)
    assert found, html[:300]
    return found.group(1)


def _post(client: TestClient, path: str, data: dict[str, Any]) -> Any:
    token = _csrf(client.get("/workspace/cases").text)
    return client.post(path, data={**data, "csrf_token": token})


def _text(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", re.sub(r"</?(mark|em)>", "", html)))


@pytest.fixture(scope="module")
def site(es: Elasticsearch, tokenizer: Tokenizer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    settings = settings_for(
        new_prefix("casepages"), f"sqlite:///{tmp_path_factory.mktemp('cp') / 'c.sqlite3'}"
    )
    records = [
        make_record(
            "p1",
            "石墨烯锂电池负极材料的制备",
            year=2019,
            language="zh",
            venue="电源技术",
            abstract="采用化学气相沉积法制备石墨烯负极材料。",
        ),
        make_record(
            "p2",
            "Graphene anodes for lithium-ion batteries",
            year=2021,
            language="en",
            venue="Journal of Power Sources",
            abstract="Graphene anode materials.",
        ),
        make_record("p3", "石墨烯负极的未来展望", year=2031, language="zh", venue="电源技术"),
    ]
    people: list[Person] = [
        ("p-ana", "GZ", ["analyst"], None),
        ("p-rev", "GZ", ["reviewer"], "研究馆员"),
        ("p-other", "SC", ["analyst"], None),
        ("p-public", None, [], None),
    ]
    with site_index(es, tokenizer, settings, records):
        db = session_factory(settings.effective_database_url)
        with db.begin() as s:
            seed_two_centres(s, "GZ", "SC")
            accounts.set_centre_contact(accounts.get_centre(s, "GZ"), CENTRE_CONTACT)
            ids, _ = seed_people(s, people, PASSWORD)
        yield Site(create_app(settings), db, ids)


CENTRE_CONTACT = {"address": "贵阳市南明区", "postcode": "550001", "principal": "陈主任", "contact": "刘老师",
                  "phone": "0851-85555555", "email": "chaxin@example.org"}  # fmt: skip
COMMISSION = {
    "project_name_zh": "石墨烯锂电池负极材料",
    "project_name_en": "Graphene anode for lithium batteries",
    "commission_date": "2026-03-02",
    "purpose": "立项",
    "scope": "国内外",
    "client_name": "贵州大学材料学院",
    "client_address": "贵阳市花溪区",
    "client_contact": "王老师",
    "client_phone": "0851-88888888",
    "purpose_text": "申报省科技计划项目。",
    "technical_points": "化学气相沉积法制备石墨烯负极。",
    "novelty_points": "化学气相沉积法制备石墨烯负极\n负极循环 1000 次容量保持率 95%",
    "requirements": "查证国内外有无相同研究。",
}


def _create(client: TestClient) -> int:
    resp = _post(client, "/workspace/cases", COMMISSION)
    assert resp.status_code == 303, resp.text
    found = re.fullmatch(r"/workspace/cases/(\d+)", resp.headers["location"])
    assert found
    return int(found.group(1))


def test_a_case_from_commission_to_issued_report_through_the_pages(site: Site) -> None:
    ana, rev = site.browser("p-ana"), site.browser("p-rev")
    listing = ana.get("/workspace/cases")
    assert listing.status_code == 200 and "受理新委托" in listing.text

    case_id = _create(ana)
    page = ana.get(f"/workspace/cases/{case_id}").text
    assert "NP-1" in page and "NP-2" in page and "已受理" in page

    # A broken expression: the page again, with the reason and the expression kept.
    bad = _post(ana, f"/workspace/cases/{case_id}/search", {"q": "TI='石墨烯' AND (", "terms_zh": "石墨烯"})
    assert bad.status_code == 400
    assert "TI=&#39;石墨烯&#39; AND (" in bad.text and 'role="alert"' in bad.text

    ran = _post(ana, f"/workspace/cases/{case_id}/search", {"q": "TI='石墨烯'", "terms_zh": "石墨烯，负极"})
    assert ran.status_code == 303 and "run=" in ran.headers["location"]
    results = ana.get(ran.headers["location"].split("#")[0]).text
    text = _text(results)
    # The 2031 record is past the commission year: not shown, and the logged count says 1.
    assert "石墨烯锂电池负极材料的制备" in text and "未来展望" not in text
    assert "检索中" in text and "至 2026" in text
    run = re.search(r"run=(\d+)", ran.headers["location"])
    assert run

    # `#n` combines the case's own searches; the log keeps what was typed and the spelt-out reading.
    combined = _post(ana, f"/workspace/cases/{case_id}/search", {"q": "#1 NOT TI='锂电池'"})
    assert combined.status_code == 303
    page = " ".join(_text(ana.get(combined.headers["location"].split("#")[0]).text).split())
    assert "#1 NOT TI='锂电池'" in page and "展开为 TI='石墨烯' NOT TI='锂电池'" in page
    unknown = _post(ana, f"/workspace/cases/{case_id}/search", {"q": "#7 AND TI='x'"})
    assert unknown.status_code == 400 and "本案件没有第 7 条检索式" in unknown.text

    added = _post(ana, f"/workspace/cases/{case_id}/documents", {"record_id": "p1", "run": run.group(1)})
    assert added.status_code == 303
    page = ana.get(added.headers["location"].split("#")[0]).text
    assert "已加入" in page
    doc_id = int(re.search(r'id="doc-(\d+)"', page).group(1))  # type: ignore[union-attr]

    # A document linked to no novelty point is refused, and the typed description survives.
    refused = _post(ana, f"/workspace/cases/{case_id}/documents/{doc_id}",
                    {"relevance": "密切相关", "origin": "国内", "description": "同样用CVD法", "excerpt": ""})  # fmt: skip
    assert refused.status_code == 400 and "请至少关联一个查新点" in refused.text
    assert "同样用CVD法" in refused.text
    marked = _post(ana, f"/workspace/cases/{case_id}/documents/{doc_id}",
                   {"relevance": "密切相关", "origin": "国内", "points": ["NP-1"], "description": "同样用CVD法",
                    "excerpt": "采用化学气相沉积法制备石墨烯负极材料"})  # fmt: skip
    assert marked.status_code == 303
    for label, comparison, conclusion in [
        ("NP-1", "文献[1]采用化学气相沉积法制备石墨烯负极。", "查新点1已见报道。"),
        ("NP-2", "未见容量保持率 95% 的报道。", "查新点2未见相同报道。"),
    ]:
        saved = _post(ana, f"/workspace/cases/{case_id}/points/{label}",
                      {"text": _point_text(ana, case_id, label), "comparison": comparison,
                       "conclusion": conclusion})  # fmt: skip
        assert saved.status_code == 303
    edited = _post(
        ana, f"/workspace/cases/{case_id}/edit", {**_edit_fields(), "overall_conclusion": "部分新颖。"}
    )
    assert edited.status_code == 303

    for action in ("start_drafting",):
        assert _post(ana, f"/workspace/cases/{case_id}/transitions", {"action": action}).status_code == 303
    page = ana.get(f"/workspace/cases/{case_id}").text
    assert "提交审核" in page and f'value="{site.ids["p-rev"]}"' in page
    # 国内外 without a foreign database: the check at submit refuses, with a link to the strategies.
    refused = _post(ana, f"/workspace/cases/{case_id}/transitions",
                    {"action": "submit", "reviewer_id": str(site.ids["p-rev"])})  # fmt: skip
    assert refused.status_code == 409 and "尚未检索任何国外数据库" in refused.text
    assert 'href="#strategies"' in refused.text
    logged = _post(ana, f"/workspace/cases/{case_id}/external",
                   {"database": "Web of Science", "year_from": "1990", "year_to": "2026",
                    "expression": "TS=(graphene AND anode*)", "hits": "812", "searched_on": "2026-03-03"})  # fmt: skip
    assert logged.status_code == 303
    submitted = _post(ana, f"/workspace/cases/{case_id}/transitions",
                      {"action": "submit", "reviewer_id": str(site.ids["p-rev"]), "confirm_warnings": "1"})  # fmt: skip
    assert submitted.status_code == 303, _text(submitted.text)

    # The reviewer: returning needs a comment; the analyst then sees it.
    page = rev.get(f"/workspace/cases/{case_id}").text
    assert "审核签字" in page and "退回修改" in page and "审核中" in page
    no_comment = _post(rev, f"/workspace/cases/{case_id}/transitions", {"action": "return", "comment": ""})
    assert no_comment.status_code == 400 and "审核意见" in no_comment.text
    returned = _post(rev, f"/workspace/cases/{case_id}/transitions",
                     {"action": "return", "comment": "请补充国外文献。"})  # fmt: skip
    assert returned.status_code == 303
    page = ana.get(f"/workspace/cases/{case_id}").text
    assert "退回修改" in page and "请补充国外文献。" in page

    assert (
        _post(ana, f"/workspace/cases/{case_id}/transitions", {"action": "start_drafting"}).status_code == 303
    )
    ran = _post(ana, f"/workspace/cases/{case_id}/search",
                {"q": "TI='graphene'", "terms_en": "graphene, anode", "override": "1"})  # fmt: skip
    assert ran.status_code == 303
    run2 = re.search(r"run=(\d+)", ran.headers["location"]).group(1)  # type: ignore[union-attr]
    page = ana.get(f"/workspace/cases/{case_id}?run={run2}").text
    assert "不限" in page
    assert (
        _post(ana, f"/workspace/cases/{case_id}/documents", {"record_id": "p2", "run": run2}).status_code
        == 303
    )
    assert _post(ana, f"/workspace/cases/{case_id}/transitions",
                 {"action": "submit", "confirm_warnings": "1"}).status_code == 303  # fmt: skip
    unconfirmed = _post(rev, f"/workspace/cases/{case_id}/transitions", {"action": "sign"})
    assert unconfirmed.status_code == 400 and "请勾选确认框" in unconfirmed.text
    signed = _post(rev, f"/workspace/cases/{case_id}/transitions", {"action": "sign", "confirm": "1"})
    assert signed.status_code == 303, signed.text

    # Signed: the content is frozen for the analyst, whose forms are gone and whose posts are refused.
    page = ana.get(f"/workspace/cases/{case_id}").text
    number = re.search(r'class="report-no">(\d{14})<', page)
    assert number and number.group(1).startswith("202652001")
    assert f"/workspace/cases/{case_id}/edit" not in page
    frozen = _post(ana, f"/workspace/cases/{case_id}/edit", _edit_fields())
    assert frozen.status_code == 409 and "内容已冻结" in frozen.text

    draft = rev.get(f"/workspace/cases/{case_id}/report")
    assert draft.status_code == 200 and "草稿" in draft.text
    assert (
        _post(rev, f"/workspace/cases/{case_id}/transitions", {"action": "issue", "confirm": "1"}).status_code
        == 303
    )
    page = ana.get(f"/workspace/cases/{case_id}").text
    assert "已签发" in page and "验证码" in page and f"/verify/{number.group(1)}" in page
    history = _text(page[page.index('id="history"') :])
    for step in ("受理委托", "开始检索", "提交审核", "退回修改", "审核签字", "签发"):
        assert step in history
    assert "请补充国外文献。" in history

    issued = ana.get(f"/workspace/cases/{case_id}/report")
    assert issued.status_code == 200 and "草稿" not in _text(issued.text)
    docx = ana.get(f"/api/v1/cases/{case_id}/report.docx")
    assert docx.status_code == 200
    body = "\n".join(p.text for p in DocxDocument(io.BytesIO(docx.content)).paragraphs)
    assert "石墨烯锂电池负极材料" in body and "文献[1]采用化学气相沉积法制备石墨烯负极。" in body


def _point_text(client: TestClient, case_id: int, label: str) -> str:
    page = client.get(f"/workspace/cases/{case_id}").text
    found = re.search(rf'id="point-{label}-text" name="text" rows="2">([^<]*)</textarea>', page)
    assert found, label
    return unescape(found.group(1))


def _edit_fields() -> dict[str, str]:
    keep = ("project_name_zh", "project_name_en", "client_name", "client_address", "client_contact",
            "client_phone", "purpose_text", "technical_points", "requirements")  # fmt: skip
    return {k: COMMISSION[k] for k in keep} | {"terms_zh": "石墨烯\n负极", "terms_en": "graphene"}


def test_who_may_open_the_case_pages(site: Site) -> None:
    case_id = _create(site.browser("p-ana"))
    anonymous = site.browser(None).get(f"/workspace/cases/{case_id}")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    public = site.browser("p-public")
    assert public.get("/workspace/cases").status_code == 403
    assert public.get(f"/workspace/cases/{case_id}").status_code == 403
    other = site.browser("p-other")
    missing = other.get("/workspace/cases/999999")
    hidden = other.get(f"/workspace/cases/{case_id}")
    assert hidden.status_code == missing.status_code == 404
    assert str(case_id) not in _text(other.get("/workspace/cases").text).split()
    # Another centre's analyst cannot act on the case either, and learns nothing from trying.
    refused = _post(other, f"/workspace/cases/{case_id}/points", {"text": "偷偷加一个"})
    assert refused.status_code == 404
    # The reviewer of the same centre reads the case but gets no editing forms.
    page = site.browser("p-rev").get(f"/workspace/cases/{case_id}").text
    assert "石墨烯锂电池负极材料" in page and f"/workspace/cases/{case_id}/edit" not in page


def test_a_refused_commission_keeps_what_was_typed(site: Site) -> None:
    ana = site.browser("p-ana")
    resp = _post(ana, "/workspace/cases", {**COMMISSION, "commission_date": "2999-01-01"})
    assert resp.status_code == 400
    assert "委托日期不能晚于今天" in resp.text
    assert "化学气相沉积法制备石墨烯负极" in resp.text and "贵州大学材料学院" in resp.text


def test_form_posts_need_the_csrf_token(site: Site) -> None:
    ana = site.browser("p-ana")
    resp = ana.post("/workspace/cases", data=COMMISSION)
    assert resp.status_code == 403


def test_a_record_page_offers_the_analysts_open_cases(site: Site) -> None:
    ana = site.browser("p-ana")
    case_id = _create(ana)
    record = ana.get("/records/p2").text
    assert 'action="/workspace/cases/documents"' in record and f'<option value="{case_id}">' in record
    added = _post(ana, "/workspace/cases/documents", {"case_id": str(case_id), "record_id": "p2"})
    assert added.status_code == 303 and added.headers["location"].endswith("#documents")
    page = ana.get(f"/workspace/cases/{case_id}").text
    assert "Graphene anodes for lithium-ion batteries" in page
    again = _post(ana, "/workspace/cases/documents", {"case_id": str(case_id), "record_id": "p2"})
    assert again.status_code == 400 and "该文献已在本案件中" in again.text
    # Not an analyst with open cases: no form; anonymous visitors never see it.
    assert 'action="/workspace/cases/documents"' not in site.browser("p-rev").get("/records/p2").text
    assert 'action="/workspace/cases/documents"' not in site.browser(None).get("/records/p2").text
    other = _post(
        site.browser("p-other"), "/workspace/cases/documents", {"case_id": str(case_id), "record_id": "p2"}
    )
    assert other.status_code == 404


def test_a_workspace_strategy_runs_inside_a_case(site: Site) -> None:
    ana = site.browser("p-ana")
    token = _csrf(ana.get("/workspace").text)
    for q in ("TI='石墨烯'", "#1 NOT TI='未来'"):
        assert ana.post("/workspace/search", data={"q": q, "csrf_token": token}).status_code == 303
    r = ana.post("/workspace/strategies", data={"from_history": "2", "name": "石墨烯负极", "csrf_token": token})
    assert r.status_code == 303
    case_id = _create(ana)
    page = ana.get(f"/workspace/cases/{case_id}").text
    # Offered spelt out: a `#1` would mean the case's own first search here.
    assert "用我的检索策略" in page and "(TI=&#39;石墨烯&#39;) NOT TI=&#39;未来&#39;" in page
    expression = unescape(re.search(r'class="inline-form run-my-strategy">.*?name="q" value="([^"]+)"', page,
                                    flags=re.DOTALL).group(1))  # type: ignore[union-attr]  # fmt: skip
    r = _post(ana, f"/workspace/cases/{case_id}/search", {"q": expression})
    assert r.status_code == 303, r.text
    logged = _text(ana.get(f"/workspace/cases/{case_id}").text)
    assert "(TI='石墨烯') NOT TI='未来'" in logged
