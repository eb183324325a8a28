"""Record page details for the public and for staff: a tech report's 学科 is its subject, the source's
name instead of internal IDs, 全文仅对登录用户开放 as a way to 登录, and the 引用 box."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape

import pytest
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient

from mappings.analysis.tokenizer import Tokenizer
from mappings.model import AccessLevel, DocType, TechReportInfo
from tests.conftest import make_record, new_prefix, settings_for, site_index
from web.app import create_app

PASSWORD = "Chaxin-Record-2026!"
RECORDS = [
    make_record("d-report", "设施园艺节水灌溉技术研究", doc_type=DocType.tech_report, source="techreport",
                source_id="NSTRS-0001", category="最终报告", discipline="园艺学", year=2023,
                tech_report=TechReportInfo(report_no="401700125-22375401D/01", access_level=AccessLevel.public,
                                           embargo_until=None, organisation="某农业科学院")),
    make_record("d-paper", "石墨烯导热薄膜的制备", source="csl", source_id="csl-dev-0061", category="工学",
                discipline="材料科学与工程", year=2021, venue="材料导报", abstract="制备了石墨烯薄膜。",
                full_text="正文：石墨烯薄膜的导热系数……"),
]  # fmt: skip


@pytest.fixture(scope="module")
def client(
    es: Elasticsearch, tokenizer: Tokenizer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    settings = settings_for(new_prefix("recpage"), f"sqlite:///{tmp_path_factory.mktemp('rp') / 'rp.sqlite3'}")
    with site_index(es, tokenizer, settings, RECORDS):
        from appdb import accounts
        from appdb.session import session_factory

        with session_factory(settings.effective_database_url).begin() as session:
            accounts.create_centre(session, code="RP", name="测试中心", province_code="52", institution_no="001",
                                   pattern="most")  # fmt: skip
            accounts.create_user(session, username="rp-analyst", password=PASSWORD, real_name="查新员",
                                 centre="RP", roles=["analyst"])  # fmt: skip
        with TestClient(create_app(settings)) as c:
            yield c


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_a_tech_reports_subject_is_not_its_report_type(client: TestClient) -> None:
    page = _text(client.get("/records/d-report").text)
    assert "学科 园艺学" in page and "最终报告 ›" not in page
    assert "报告类型 最终报告" in page
    hits = _text(client.get("/", params={"q": "节水灌溉"}).text)
    assert "园艺学" in hits and "最终报告 › 园艺学" not in hits


def test_the_public_sees_the_source_name_staff_also_its_id(client: TestClient) -> None:
    client.cookies.clear()
    page = client.get("/records/d-paper").text
    assert "CSL 中文科学文献数据集" in page and "csl-dev-0061" not in page
    # 全文仅对登录用户开放 leads to 登录, and back to this record.
    assert re.search(r'<a href="/login\?next=%2Frecords%2Fd-paper">全文仅对登录用户开放</a>', page)
    login = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
    assert token
    r = client.post("/login", data={"username": "rp-analyst", "password": PASSWORD, "next": "/records/d-paper",
                                    "csrf_token": token.group(1)}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == "/records/d-paper"
    staff = client.get("/records/d-paper").text
    assert "csl · csl-dev-0061" in staff and "全文仅对登录用户开放" not in staff
    client.cookies.clear()


def test_the_cite_box_holds_both_editions_and_downloads(client: TestClient) -> None:
    page = client.get("/records/d-paper").text
    assert "GB/T 7714—2025" in page and "GB/T 7714—2015" in page
    assert "石墨烯导热薄膜的制备[J]. 材料导报，2021." in page
    assert "石墨烯导热薄膜的制备[J]. 材料导报, 2021." in page
    links = re.findall(r'class="cite-download" href="([^"]+)"', page)
    assert len(links) == 2 and "format=ris" in links[0] and "format=endnote" in links[1]
    ris = client.get(unescape(links[0]))
    assert ris.status_code == 200 and ris.text.count("TY  - ") == 1
    assert "filename*=UTF-8''" in ris.headers["content-disposition"]
