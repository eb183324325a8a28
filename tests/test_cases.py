"""Novelty-search cases through the API on a small real index, plus concurrent report numbering."""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from docx import Document as DocxDocument
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from appdb import accounts
from appdb.models import AuditEvent, CaseDocument, NoveltyCase
from appdb.session import session_factory
from casework import core, service, states
from casework.numbering import format_number
from mappings.analysis.tokenizer import Tokenizer
from search.principal import Principal, Role
from tests.conftest import make_record, new_prefix, seed_people, seed_two_centres, settings_for, site_index
from web.app import create_app

PASSWORD = "Test-pass-1"
CENTRE_A_CONTACT = {"address": "贵阳市南明区科技信息大楼", "postcode": "550001", "principal": "陈主任",
                    "contact": "刘老师", "phone": "0851-85555555", "email": "chaxin@example.org"}  # fmt: skip
SECTIONS = ("一、查新目的", "二、科学技术要点", "三、查新点与查新要求", "四、文献检索范围及检索策略",
            "五、检索结果", "六、查新结论", "七、查新员、审核员声明", "八、附件清单", "九、备注")  # fmt: skip


@dataclass
class Site:
    client: TestClient
    db: sessionmaker[Session]
    ids: dict[str, int]
    tokens: dict[str, str]

    def h(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


def _seed(db: sessionmaker[Session]) -> tuple[dict[str, int], dict[str, str]]:
    people = [
        ("ana-a", "A", ["analyst"], None),
        ("ana2-a", "A", ["analyst", "reviewer"], "研究馆员"),
        ("rev-a", "A", ["reviewer"], "研究馆员"),
        ("junior-a", "A", ["reviewer"], None),
        ("ana-b", "B", ["analyst"], None),
        ("root", None, ["platform_admin"], None),
    ]
    with db.begin() as s:
        seed_two_centres(s)
        accounts.set_centre_contact(accounts.get_centre(s, "A"), CENTRE_A_CONTACT)
        return seed_people(s, people, PASSWORD)


@pytest.fixture(scope="module")
def site(es: Elasticsearch, tokenizer: Tokenizer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    settings = settings_for(
        new_prefix("cases"), f"sqlite:///{tmp_path_factory.mktemp('cases') / 'c.sqlite3'}"
    )
    records = [
        make_record(
            "g1",
            "石墨烯锂电池负极材料的制备",
            year=2019,
            language="zh",
            venue="电源技术",
            abstract="采用化学气相沉积法制备石墨烯负极材料，提高了锂电池的循环稳定性。",
        ),
        make_record(
            "g2",
            "Graphene anodes for lithium-ion batteries",
            year=2021,
            language="en",
            venue="Journal of Power Sources",
            abstract="Graphene anode materials were studied.",
        ),
        make_record("g3", "石墨烯负极的最新进展", year=2030, language="zh", venue="电源技术"),
        make_record("g4", "石墨烯负极年代不详的资料", language="zh", venue="电源技术"),
    ]
    with site_index(es, tokenizer, settings, records):
        db = session_factory(settings.effective_database_url)
        ids, tokens = _seed(db)
        with TestClient(create_app(settings)) as client:
            yield Site(client, db, ids, tokens)


def _new_case(site: Site, who: str = "ana-a", **extra: Any) -> dict[str, Any]:
    body = {
        "project_name_zh": "高循环稳定性石墨烯锂电池负极材料",
        "project_name_en": "Graphene anode with high cycling stability",
        "client_name": "贵州大学材料学院",
        "client_address": "贵阳市花溪区",
        "client_contact": "王老师",
        "client_phone": "0851-88888888",
        "commission_date": "2026-03-02",
        "purpose": "立项",
        "scope": "国内外",
        "purpose_text": "为申报省科技计划项目提供查新依据。",
        "technical_points": "采用化学气相沉积法在铜箔上生长石墨烯，作为锂电池负极。",
        "requirements": "查证国内外有无相同或类似研究。",
        "overall_conclusion": "在所检文献范围内，未见与本项目查新点相同的报道。",
        "terms_zh": ["石墨烯", "负极"],
        "terms_en": ["graphene", "anode"],
        "attachments": ["密切相关文献原文"],
        **extra,
    }
    resp = site.client.post("/api/v1/cases", json=body, headers=site.h(who))
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


def _go(site: Site, who: str, case_id: int, action: str, **body: Any) -> Any:
    return site.client.post(f"/api/v1/cases/{case_id}/transitions", json={"action": action, **body},
                            headers=site.h(who))  # fmt: skip


def test_full_case_end_to_end(site: Site) -> None:
    c, h = site.client, site.h("ana-a")
    case = _new_case(site)
    cid = case["id"]
    assert case["state"] == "received"
    p1 = c.post(
        f"/api/v1/cases/{cid}/points", json={"text": "化学气相沉积法制备石墨烯负极"}, headers=h
    ).json()
    p2 = c.post(f"/api/v1/cases/{cid}/points", json={"text": "循环500次容量保持率大于95%"}, headers=h).json()
    assert (p1["id"], p2["id"]) == ("NP-1", "NP-2")

    # The search window stops at the commission year (2026): g3 (2030) is not found; g4, whose year
    # is unknown, cannot be ruled out and stays. The window is logged beside the expression.
    found = c.post(
        f"/api/v1/cases/{cid}/search", json={"q": "TKA%'石墨烯'", "terms_zh": ["石墨烯"]}, headers=h
    )
    assert found.status_code == 200, found.text
    body = found.json()
    assert {x["id"] for x in body["hits"]} == {"g1", "g4"} and body["total"] == 2
    assert body["strategy"]["cnki"] == "TKA%'石墨烯'" and body["strategy"]["year_to"] == 2026
    wide = c.post(
        f"/api/v1/cases/{cid}/search", json={"q": "TKA%'石墨烯'", "override": True}, headers=h
    ).json()
    assert {x["id"] for x in wide["hits"]} == {"g1", "g3", "g4"}
    assert wide["strategy"]["window_override"] is True and wide["strategy"]["year_to"] is None
    # The analyst leaves the override search out of section 四.
    sid = wide["strategy"]["id"]
    assert (
        c.patch(f"/api/v1/cases/{cid}/strategies/{sid}", json={"in_report": False}, headers=h).status_code
        == 200
    )
    en = c.post(
        f"/api/v1/cases/{cid}/search", json={"q": "TKA%'graphene'", "terms_en": ["graphene"]}, headers=h
    )
    assert en.json()["total"] == 1
    # A 国内外 case needs a foreign database: the analyst logs the Web of Science search run there.
    wos = c.post(f"/api/v1/cases/{cid}/external", headers=h, json={
        "database": "Web of Science", "year_from": 1990, "year_to": 2026, "expression": "TS=(graphene AND anode*)",
        "hits": 1523, "searched_on": "2026-03-03"})  # fmt: skip
    assert wos.status_code == 201, wos.text
    assert wos.json()["kind"] == "external" and wos.json()["origin"] == "国外"

    d1 = c.post(f"/api/v1/cases/{cid}/documents", headers=h, json={
        "record_id": "g1", "relevance": "密切相关", "points": ["NP-1"], "excerpt": "“采用化学气相沉积法制备石墨烯负极材料”"})  # fmt: skip
    assert d1.status_code == 201, d1.text
    assert d1.json()["origin"] == "国内" and "电源技术" in d1.json()["reference"]
    d2 = c.post(f"/api/v1/cases/{cid}/documents", headers=h,
                json={"record_id": "g2", "relevance": "一般相关", "origin": "国外", "points": ["NP-1", "NP-2"]})  # fmt: skip
    assert d2.status_code == 201 and d2.json()["description"].startswith("Graphene anode")
    assert (
        c.post(
            f"/api/v1/cases/{cid}/documents", headers=h, json={"record_id": "g2", "points": ["NP-1"]}
        ).status_code
        == 400
    )
    assert (
        c.post(
            f"/api/v1/cases/{cid}/documents", headers=h, json={"record_id": "g1x", "points": ["NP-1"]}
        ).status_code
        == 404
    )
    for label in ("NP-1", "NP-2"):
        r = c.patch(f"/api/v1/cases/{cid}/points/{label}", headers=h,
                    json={"comparison": "文献[1]采用类似方法，但未涉及本项目的工艺参数。", "conclusion": "未见相同报道。"})  # fmt: skip
        assert r.status_code == 200

    # A draft can be previewed at any state, watermarked.
    draft = c.get(f"/api/v1/cases/{cid}/report.docx", headers=h)
    assert draft.status_code == 200
    assert "草稿" in _docx_text(draft.content)

    assert _go(site, "ana-a", cid, "start_drafting").status_code == 200
    assert _go(site, "ana-a", cid, "submit", reviewer_id=site.ids["ana-a"]).status_code == 400, (
        "not a reviewer"
    )
    assert _go(site, "ana-a", cid, "submit", reviewer_id=site.ids["junior-a"]).status_code == 403, "高级职称"
    submitted = _go(site, "ana-a", cid, "submit", reviewer_id=site.ids["rev-a"], confirm_warnings=True)
    assert submitted.json()["state"] == "in_review", submitted.text
    assert _go(site, "ana-a", cid, "sign").status_code == 403, "the analyst cannot sign"
    # Frozen while in review.
    assert c.patch(f"/api/v1/cases/{cid}", json={"remarks": "x"}, headers=h).status_code == 409
    assert _go(site, "rev-a", cid, "return").status_code == 400, "a return needs a comment"
    back = _go(site, "rev-a", cid, "return", comment="请补充国外文献的对比分析")
    assert back.json()["state"] == "returned" and back.json()["review_comment"].startswith("请补充")
    assert (
        c.patch(
            f"/api/v1/cases/{cid}", json={"remarks": "本报告仅对委托日之前公开的文献负责。"}, headers=h
        ).status_code
        == 200
    )
    # After a return the analyst resubmits directly.
    assert _go(site, "ana-a", cid, "submit", confirm_warnings=True).json()["state"] == "in_review"
    signed = _go(site, "rev-a", cid, "sign")
    assert signed.status_code == 200, signed.text
    number = signed.json()["report_no"]
    assert re.fullmatch(r"\d{14}", number) and number.startswith(f"{date.today().year}52001")
    # Content is frozen after signing; only issue and archive remain.
    assert c.post(f"/api/v1/cases/{cid}/points", json={"text": "新查新点"}, headers=h).status_code == 409
    assert c.post(f"/api/v1/cases/{cid}/search", json={"q": "TKA%'石墨烯'"}, headers=h).status_code == 409
    assert site.client.get(f"/verify/{number}").json()["issued"] is False, "not issued yet"
    issued = _go(site, "rev-a", cid, "issue")
    assert issued.status_code == 200 and issued.json()["state"] == "issued"

    docx = c.get(f"/api/v1/cases/{cid}/report.docx", headers=site.h("rev-a"))
    assert docx.status_code == 200
    text = _docx_text(docx.content)
    for heading in SECTIONS:
        assert heading in text, heading
    for content in ("高循环稳定性石墨烯锂电池负极材料", "贵州大学材料学院", "化学气相沉积法制备石墨烯负极",
                    "Graphene anodes for lithium-ion batteries", "未见相同报道",
                    "本报告仅对委托日之前公开的文献负责", number, "用户ana-a", "用户rev-a", "研究馆员"):  # fmt: skip
        assert content in text, content
    assert "草稿" not in text
    assert "TKA%'石墨烯'" in text or "石墨烯" in text
    for value in CENTRE_A_CONTACT.values():  # the 查新机构 block of the header table
        assert value in text, value
    # The centre moves after issue: the issued report keeps the block it was signed with.
    with site.db.begin() as s:
        accounts.update_centre(s, "A", name="贵州省科技查新中心", province_code="52", institution_no="001",
                               pattern="most", contact={"address": "贵阳市观山湖区新址"})  # fmt: skip
    again = _docx_text(c.get(f"/api/v1/cases/{cid}/report.docx", headers=h).content)
    assert CENTRE_A_CONTACT["address"] in again and "新址" not in again
    pdf = c.get(f"/api/v1/cases/{cid}/report.pdf", headers=h)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    with site.db() as s:
        stored = s.get(NoveltyCase, cid)
        assert stored is not None and stored.verification_code
        code = stored.verification_code
        actions = set(
            s.scalars(select(AuditEvent.action).where(AuditEvent.detail.like(f'%"case_id": {cid}%')))
        )
    assert {"case.create", "case.search", "case.submit", "case.return", "case.sign", "case.issue"} <= actions
    ok = c.get(f"/verify/{number}", params={"code": code[:16]}).json()
    # A correct code shows what a holder compares with the paper: never the report's content.
    assert ok["genuine"] is True and ok["facts"]["project_name"] == "高循环稳定性石墨烯锂电池负极材料"
    assert ok["facts"]["page_count"] >= 3 and ok["facts"]["client"] == "贵州大学材料学院"
    assert "化学气相沉积" not in str(ok)
    wrong = c.get(f"/verify/{number}", params={"code": "0" * 16}).json()
    assert wrong["genuine"] is False and "facts" not in wrong and wrong["message"] == "验证码与该报告不符"
    assert c.get("/verify/20990000000001").json()["issued"] is False
    assert _go(site, "ana-a", cid, "archive").json()["state"] == "archived"


def test_snapshot_survives_changes(site: Site) -> None:
    case = _new_case(site)
    h = site.h("ana-a")
    site.client.post(f"/api/v1/cases/{case['id']}/points", json={"text": "点"}, headers=h)
    site.client.post(
        f"/api/v1/cases/{case['id']}/documents", json={"record_id": "g1", "points": ["NP-1"]}, headers=h
    )
    with site.db() as s:
        doc = s.scalar(select(CaseDocument).where(CaseDocument.case_id == case["id"]))
        assert doc is not None and "石墨烯锂电池负极材料的制备" in doc.snapshot


def test_centre_and_role_checks(site: Site) -> None:
    c = site.client
    case = _new_case(site)
    cid = case["id"]
    assert c.get(f"/api/v1/cases/{cid}", headers=site.h("ana-b")).status_code == 404, (
        "centre B cannot read A's case"
    )
    assert c.get(f"/api/v1/cases/{cid}/report.docx", headers=site.h("ana-b")).status_code == 404
    assert (
        c.post(f"/api/v1/cases/{cid}/points", json={"text": "x"}, headers=site.h("ana-b")).status_code == 404
    )
    assert all(x["id"] != cid for x in c.get("/api/v1/cases", headers=site.h("ana-b")).json()["cases"])
    assert any(x["id"] == cid for x in c.get("/api/v1/cases", headers=site.h("root")).json()["cases"])
    assert c.get(f"/api/v1/cases/{cid}", headers=site.h("root")).status_code == 200
    assert c.get(f"/api/v1/cases/{cid}").status_code == 401
    # Another analyst of the same centre may read but not edit.
    assert c.get(f"/api/v1/cases/{cid}", headers=site.h("ana2-a")).status_code == 200
    assert (
        c.post(f"/api/v1/cases/{cid}/points", json={"text": "x"}, headers=site.h("ana2-a")).status_code == 403
    )
    assert _go(site, "ana-a", cid, "sign").status_code == 409
    assert _go(site, "ana-a", cid, "fly").status_code == 400
    bad = c.post("/api/v1/cases", json={"project_name_zh": "x", "client_name": "y", "purpose": "赚钱",
                                        "scope": "国内", "commission_date": "2026-01-05"}, headers=site.h("ana-a"))  # fmt: skip
    assert bad.status_code == 400 and "查新目的" in bad.json()["error"]["message"]
    missing = c.post("/api/v1/cases", json={"project_name_zh": "x"}, headers=site.h("ana-a"))
    assert missing.status_code == 400 and missing.json()["error"]["message"] == "字段 commission_date 缺失"
    typo = c.patch(f"/api/v1/cases/{cid}", json={"projet_name_zh": "x"}, headers=site.h("ana-a"))
    assert typo.status_code == 400 and "projet_name_zh 不是可用字段" in typo.json()["error"]["message"]


def test_reviewer_rules_at_signing(site: Site) -> None:
    # ana2-a is analyst and senior reviewer: may review others' cases, never their own.
    own = _new_case(site, who="ana2-a")
    assert site.client.post(f"/api/v1/cases/{own['id']}/reviewer", json={"reviewer_id": site.ids["ana2-a"]},
                            headers=site.h("ana2-a")).status_code == 403  # fmt: skip
    case = _new_case(site)
    cid = case["id"]
    site.client.post(f"/api/v1/cases/{cid}/points", json={"text": "点"}, headers=site.h("ana-a"))
    _go(site, "ana-a", cid, "start_search")
    _go(site, "ana-a", cid, "start_drafting")
    # Incomplete (no comparison or conclusion for NP-1, nothing searched for section 四): the check
    # at submit refuses and lists every problem with where it is fixed; the case stays in drafting.
    refused = _go(site, "ana-a", cid, "submit", reviewer_id=site.ids["ana2-a"])
    assert refused.status_code == 409, refused.text
    listed = {p["key"]: p["anchor"] for p in refused.json()["error"]["problems"]}
    assert listed["conclusion-NP-1"] == "#point-NP-1" and listed["scope-none"] == "#strategies"
    with site.db() as s:
        stored = s.get(NoveltyCase, cid)
        assert stored is not None and stored.state == "drafting" and stored.report_no is None
    with site.db.begin() as s:
        stored = s.get(NoveltyCase, cid)
        assert stored is not None
        stored.state, stored.reviewer_id = (
            "in_review",
            site.ids["ana2-a"],
        )  # past the check, as older cases are
    assert _go(site, "rev-a", cid, "sign").status_code == 403, "only the assigned reviewer signs"
    # Signing checks again: refused, and no number is used up.
    again = _go(site, "ana2-a", cid, "sign")
    assert again.status_code == 400 and "不能签字" in again.text
    with site.db() as s:
        stored = s.get(NoveltyCase, cid)
        assert stored is not None and stored.state == "in_review" and stored.report_no is None
    # A reviewer whose 高级职称 was withdrawn after assignment cannot sign either.
    with site.db.begin() as s:
        accounts.set_title(accounts.get_user(s, site.ids["ana2-a"]), None, False)
    assert _go(site, "ana2-a", cid, "sign").status_code == 403
    with site.db.begin() as s:
        accounts.set_title(accounts.get_user(s, site.ids["ana2-a"]), "研究馆员", True)


def _docx_text(data: bytes) -> str:
    doc = DocxDocument(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    for section in doc.sections:
        for part in (section.header, section.footer):
            parts.extend(p.text for p in part.paragraphs)
    return "\n".join(parts)


# ---------------------------------------------------------------- concurrent numbering


def test_number_formats() -> None:
    from appdb.models import Centre

    most = Centre(code="m", name="m", province_code="52", institution_no="001", numbering_pattern="most")
    moe = Centre(code="e", name="e", province_code="11", institution_no="36002", numbering_pattern="moe")
    assert format_number(most, 2026, 42) == "20265200100042"
    assert format_number(moe, 2026, 7) == "2026360360020007" and len(format_number(moe, 2026, 7)) == 16


def _ready_case(s: Session, analyst: Principal, reviewer_id: int) -> int:
    case = service.create_case(s, analyst, {
        "project_name_zh": "并发签字测试", "client_name": "测试委托人", "commission_date": "2026-01-05",
        "purpose": "成果", "scope": "国内", "purpose_text": "鉴定", "technical_points": "要点",
        "requirements": "有无相同研究", "overall_conclusion": "未见相同报道", "reviewer_id": reviewer_id})  # fmt: skip
    point = service.add_point(s, analyst, case.id, "查新点")
    service.update_point(s, analyst, case.id, point.label, {"comparison": "对比", "conclusion": "结论"})
    for action in ("start_search", "start_drafting", "submit"):
        states.transition(s, analyst, case.id, action)
    return case.id


def test_fifty_concurrent_signings(database_url: str) -> None:
    db = session_factory(database_url)
    tag = new_prefix("n").replace("-", "")
    with db.begin() as s:
        accounts.create_centre(
            s, code=tag, name="并发分中心", province_code="52", institution_no="007", pattern="most"
        )
        ana = accounts.create_user(s, username=f"a{tag}", password=PASSWORD, centre=tag, roles=["analyst"])
        rev = accounts.create_user(s, username=f"r{tag}", password=PASSWORD, centre=tag, roles=["reviewer"],
                                   professional_title="研究馆员", senior_title=True)  # fmt: skip
        analyst = Principal(
            user_id=ana.id, roles=frozenset({Role.analyst}), centre=tag, owner=f"user:{ana.id}"
        )
        reviewer = Principal(
            user_id=rev.id, roles=frozenset({Role.reviewer}), centre=tag, owner=f"user:{rev.id}"
        )
        case_ids = [_ready_case(s, analyst, rev.id) for _ in range(50)]
    barrier = threading.Barrier(50)
    numbers: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def sign(case_id: int) -> None:
        barrier.wait()
        try:
            with db.begin() as s:
                case = states.transition(s, reviewer, case_id, "sign", today=date(2026, 6, 1))
                number = case.report_no
            assert number is not None
            with lock:
                numbers.append(number)
        except BaseException as exc:  # noqa: BLE001 - reported below
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=sign, args=(cid,)) for cid in case_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    assert len(numbers) == 50 and len(set(numbers)) == 50
    assert sorted(numbers) == [f"202652007{n:05d}" for n in range(1, 51)], "unique and gap-free"
    # Signing the same case twice at once: exactly one wins.
    with db.begin() as s:
        twice = _ready_case(s, analyst, rev.id)
    outcomes: list[str] = []
    gate = threading.Barrier(2)

    def race() -> None:
        gate.wait()
        try:
            with db.begin() as s:
                states.transition(s, reviewer, twice, "sign", today=date(2026, 6, 1))
            outcomes.append("ok")
        except core.StateConflict:
            outcomes.append("conflict")

    pair = [threading.Thread(target=race) for _ in range(2)]
    for t in pair:
        t.start()
    for t in pair:
        t.join()
    assert sorted(outcomes) == ["conflict", "ok"]
    with db() as s:
        assert s.get(NoveltyCase, twice).report_no == "20265200700051"  # type: ignore[union-attr]


# ---------------------------------------------------------------- evidence from other databases


def _complete_points(site: Site, cid: int) -> None:
    h = site.h("ana-a")
    site.client.post(f"/api/v1/cases/{cid}/points", json={"text": "化学气相沉积法制备石墨烯负极"}, headers=h)
    site.client.patch(f"/api/v1/cases/{cid}/points/NP-1", headers=h,
                      json={"comparison": "文献[1]方法相近。", "conclusion": "未见相同报道。"})  # fmt: skip


def test_external_searches_and_hand_entered_documents(site: Site) -> None:
    c, h = site.client, site.h("ana-a")
    cid = _new_case(site)["id"]
    _complete_points(site, cid)
    ext = f"/api/v1/cases/{cid}/external"
    typed = "SU=('石墨烯'+'graphene')*'负极'  AND YE BETWEEN ('2000','2026')"
    for database, start, hits in (("CNKI 中国知网", 2000, 312), ("万方数据", 1998, 205)):
        made = c.post(ext, headers=h, json={"database": database, "year_from": start, "year_to": 2026,
                                             "expression": typed, "hits": hits, "searched_on": "2026-03-03"})  # fmt: skip
        assert made.status_code == 201, made.text
        assert made.json()["expression"] == typed, "kept exactly as typed there"
    # The check at submit: 国内外 with no foreign database searched.
    _go(site, "ana-a", cid, "start_drafting")
    refused = _go(site, "ana-a", cid, "submit", reviewer_id=site.ids["rev-a"])
    assert refused.status_code == 409
    assert "scope-foreign" in {p["key"] for p in refused.json()["error"]["problems"]}
    unknown = c.post(ext, headers=h, json={"database": "某某库", "year_from": 2000, "year_to": 2026,
                                           "expression": "x", "hits": 1, "searched_on": "2026-03-03"})  # fmt: skip
    assert unknown.status_code == 400 and "数据库清单中没有" in unknown.json()["error"]["message"]
    future = c.post(ext, headers=h, json={"database": "Scopus", "year_from": 2000, "year_to": 2027,
                                          "expression": "x", "hits": 1, "searched_on": "2026-03-03"})  # fmt: skip
    assert future.status_code == 400
    wos = c.post(ext, headers=h, json={"database": "Web of Science", "year_from": 1990, "year_to": 2026,
                                       "expression": "TS=(graphene AND anode*)", "hits": 1523,
                                       "searched_on": "2026-03-04"})  # fmt: skip
    assert wos.status_code == 201 and wos.json()["origin"] == "国外"

    # A document found in WoS, typed in; it lives in the case (its ID says so), not in the index.
    manual = c.post(f"/api/v1/cases/{cid}/documents/manual", headers=h, json={
        "database": "Web of Science", "doc_type": "journal_article", "title": "Graphene anodes by CVD",
        "authors": ["Smith J", "Wang L"], "venue": "Carbon", "year": 2020, "volume": "158", "pages": "1-9",
        "relevance": "密切相关", "excerpt": "CVD-grown graphene anodes."})  # fmt: skip
    assert manual.status_code == 201, manual.text
    assert manual.json()["origin"] == "国外" and manual.json()["source"] == "manual"
    assert "Wang L. Graphene anodes by CVD[J]. Carbon，2020，158：1-9." in manual.json()["reference"]
    thin = c.post(f"/api/v1/cases/{cid}/documents/manual", headers=h,
                  json={"database": "CNKI 中国知网", "title": "石墨烯负极综述"})  # fmt: skip
    assert thin.status_code == 201 and thin.json()["origin"] == "国内"
    assert c.post(f"/api/v1/cases/{cid}/documents/manual", headers=h,
                  json={"database": "CNKI 中国知网", "title": " "}).status_code == 400  # fmt: skip

    # The thin reference lacks authors, journal and year: a warning the analyst must confirm.
    warned = _go(site, "ana-a", cid, "submit", reviewer_id=site.ids["rev-a"])
    assert warned.status_code == 409, warned.text
    problems = warned.json()["error"]["problems"]
    assert problems and all(p["warning"] for p in problems)
    assert "责任者" in problems[0]["message"] and "刊名" in problems[0]["message"]
    ok = _go(site, "ana-a", cid, "submit", reviewer_id=site.ids["rev-a"], confirm_warnings=True)
    assert ok.status_code == 200 and ok.json()["state"] == "in_review"
    seen = c.get(f"/api/v1/cases/{cid}", headers=site.h("rev-a")).json()
    assert "石墨烯负极综述" in seen["confirmed_warnings"][0]["message"]

    assert _go(site, "rev-a", cid, "sign").status_code == 200
    assert _go(site, "rev-a", cid, "issue").status_code == 200
    text = _docx_text(c.get(f"/api/v1/cases/{cid}/report.docx", headers=h).content)
    for name, years in (
        ("CNKI 中国知网", "2000—2026"),
        ("万方数据", "1998—2026"),
        ("Web of Science", "1990—2026"),
    ):
        assert name in text and years in text, name
    assert "国外文献检索范围：Web of Science" in text and "Graphene anodes by CVD" in text
    assert "来源数据库" in text and "/verify/" in text


def test_import_a_real_cnki_refworks_export(site: Site) -> None:
    from tests.conftest import shared_file

    path = shared_file("zotero-translators-cn", "import_inputs", "CNKI_RefWorks__00.txt")
    cid = _new_case(site)["id"]
    _complete_points(site, cid)
    with site.db.begin() as s:
        from casework import case_documents

        analyst = Principal(user_id=site.ids["ana-a"], roles=frozenset({Role.analyst}), centre="A")
        outcome = case_documents.import_file(
            s, analyst, cid, path.read_bytes(), {"database": "CNKI 中国知网"}
        )
        assert outcome.added and not outcome.errors, outcome.message
        doc = outcome.added[0]
        assert doc.source == "import" and doc.database == "CNKI 中国知网" and doc.origin == "国内"
        assert "黄瓜胚性愈伤组织的诱导保存和再生[J]" in doc.reference and "2024" in doc.reference
        again = case_documents.import_file(s, analyst, cid, path.read_bytes(), {"database": "CNKI 中国知网"})
        assert not again.added and again.skipped


def test_centre_admin_adds_a_database(site: Site) -> None:
    from casework import external

    with site.db.begin() as s:
        admin = Principal(user_id=None, roles=frozenset({Role.centre_admin}), centre="A")
        added = external.add_database(s, admin, "A", "中国生物医学文献数据库", "国内")
        assert added.name in [d.name for d in external.databases(s, accounts.get_centre(s, "A").id)]
        assert added.name not in [d.name for d in external.databases(s, accounts.get_centre(s, "B").id)]
        with pytest.raises(core.Forbidden):
            external.add_database(s, admin, "B", "某库", "国内")
        with pytest.raises(core.CaseError):
            external.add_database(s, admin, "A", "Web of Science", "国外")


def test_verify_is_a_form_page(site: Site) -> None:
    from web.cases_api import client_shown

    page = site.client.get("/verify", headers={"accept": "text/html"})
    assert page.status_code == 200 and 'name="report_no"' in page.text and 'name="code"' in page.text
    unknown = site.client.get("/verify", params={"report_no": "20990000000001", "code": "0" * 16},
                              headers={"accept": "text/html"})  # fmt: skip
    assert unknown.status_code == 200 and "未找到该编号的已签发查新报告" in unknown.text
    assert client_shown("贵州大学材料学院") == "贵州大学材料学院"
    assert client_shown("王小明") == "王**" and client_shown("李四") == "李*"
    with site.db() as s:
        logged = s.scalars(select(AuditEvent).where(AuditEvent.action == "report.verify")).all()
        assert any('"20990000000001"' in e.detail for e in logged)
