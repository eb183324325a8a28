"""Branch-centre statistics, the statistics workbook, the zip of issued reports, the centre page.

Cases go through the API (created, points written, submitted, one returned and resubmitted); signing
and issue use `casework.states.transition` with a fixed day, since the API only signs today, so the
figures below do not depend on when the test runs. Everything else is real: a SQLite app database,
the audit log the returns are read from, WeasyPrint and python-docx for the reports.

Period 2026-09-01..2026-10-31 (centre SA unless noted):

| case | commission | purpose | returned | issued     | working days                          |
|------|------------|---------|----------|------------|---------------------------------------|
| c1   | 2026-09-30 | 立项    |          | 2026-10-12 | 4: National Day 10-01..07 off, Sat 10-10 worked |
| c2   | 2026-09-14 | 成果    | once     | 2026-09-21 | 6: Sun 09-20 worked                   |
| c3   | 2026-09-07 | 立项    |          | (open)     |                                       |
| c4   | 2026-08-20 | 专利    |          | 2026-09-03 | 10 (received before the period)      |
| c5   | 2026-10-15 | 新产品  |          | 2026-11-02 | (issued after the period)             |
| c7   | 2026-10-20 | 其他    | once     | 2026-11-04 | (issued after the period)             |
| c6 B | 2026-09-10 | 立项    |          | 2026-09-30 | 14: Sun 09-20 worked, Fri 09-25 中秋 off |
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pytest
from docx import Document as DocxDocument
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from appdb import accounts
from appdb.models import AuditEvent, NoveltyCase
from appdb.session import session_factory, upgrade
from casework import archive, core, states
from casework.period import Period, parse_period
from casework.working_days import is_working_day, working_days_after
from reports import display_code
from search.principal import Principal, Role
from tests.conftest import new_prefix, seed_people, seed_two_centres, settings_for
from web.app import create_app

PASSWORD = "Stats-pass-1"
SEP_OCT = {"from": "2026-09-01", "to": "2026-10-31"}
EMPTY = {"from": "2026-01-01", "to": "2026-01-31"}
PEOPLE = [
    ("ana-a", "SA", ["analyst"], None),
    ("rev-a", "SA", ["reviewer"], "研究馆员"),
    ("adm-a", "SA", ["centre_admin"], None),
    ("ana-b", "SB", ["analyst"], None),
    ("rev-b", "SB", ["reviewer"], "研究馆员"),
    ("adm-b", "SB", ["centre_admin"], None),
    ("root", None, ["platform_admin"], None),
]


@dataclass
class Site:
    client: TestClient
    db: sessionmaker[Session]
    ids: dict[str, int]
    tokens: dict[str, str]
    cases: dict[str, int]

    def h(self, who: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}

    def get(self, path: str, who: str | None, **params: str) -> Any:
        return self.client.get(path, params=params, headers=self.h(who), follow_redirects=False)

    def report_no(self, case: str) -> str:
        with self.db() as s:
            stored = s.get(NoveltyCase, self.cases[case])
            assert stored is not None and stored.report_no
            return stored.report_no


def _seed(db: sessionmaker[Session]) -> tuple[dict[str, int], dict[str, str]]:
    with db.begin() as s:
        seed_two_centres(s, "SA", "SB")
        for code in ("SA", "SB"):  # the 查新机构 block the check at submit asks for
            accounts.set_centre_contact(accounts.get_centre(s, code), {
                "address": "某市某路 1 号", "postcode": "550001", "principal": "陈主任", "contact": "刘老师",
                "phone": "0851-85555555", "email": "chaxin@example.org"})  # fmt: skip
        return seed_people(s, PEOPLE, PASSWORD)


def _api_case(c: TestClient, h: dict[str, str], reviewer: int, commission: str, purpose: str, name: str,
              scope: str = "国内") -> int:  # fmt: skip
    """A complete case, submitted for review, through the API."""
    body = {
        "project_name_zh": name,
        "project_name_en": "Graphene anode" if scope == "国内外" else "",
        "client_name": f"{name}委托单位",
        "commission_date": commission,
        "purpose": purpose,
        "scope": scope,
        "purpose_text": "为申报项目提供查新依据。",
        "technical_points": "采用化学气相沉积法制备石墨烯负极。",
        "requirements": "查证有无相同或类似研究。",
        "overall_conclusion": "在所检文献范围内，未见相同报道。",
    }
    made = c.post("/api/v1/cases", json=body, headers=h)
    assert made.status_code == 201, made.text
    cid = int(made.json()["id"])
    assert c.post(f"/api/v1/cases/{cid}/points", json={"text": "查新点一"}, headers=h).status_code == 201
    done = c.patch(
        f"/api/v1/cases/{cid}/points/NP-1", json={"comparison": "对比", "conclusion": "未见"}, headers=h
    )
    assert done.status_code == 200, done.text
    # The scope searched, as the check at submit requires: CNKI, and Web of Science for 国内外.
    for database in ("CNKI 中国知网", "Web of Science") if scope == "国内外" else ("CNKI 中国知网",):
        logged = c.post(f"/api/v1/cases/{cid}/external", headers=h, json={
            "database": database, "year_from": 2000, "year_to": int(commission[:4]), "expression": "SU='石墨烯'",
            "hits": 10, "searched_on": commission})  # fmt: skip
        assert logged.status_code == 201, logged.text
    for action, extra in (  # the first logged search started the searching
        ("start_drafting", {}),
        ("submit", {"reviewer_id": reviewer}),
    ):
        moved = c.post(f"/api/v1/cases/{cid}/transitions", json={"action": action, **extra}, headers=h)
        assert moved.status_code == 200, moved.text
    return cid


def _return_once(c: TestClient, cid: int, analyst: dict[str, str], reviewer: dict[str, str]) -> None:
    for action, h, extra in (("return", reviewer, {"comment": "请补充对比分析"}), ("start_drafting", analyst, {}),
                             ("submit", analyst, {})):  # fmt: skip
        moved = c.post(f"/api/v1/cases/{cid}/transitions", json={"action": action, **extra}, headers=h)
        assert moved.status_code == 200, moved.text


def _sign_and_issue(db: sessionmaker[Session], cid: int, reviewer: int, centre: str, signed: date,
                    issued: date) -> None:  # fmt: skip
    who = Principal(
        user_id=reviewer, roles=frozenset({Role.reviewer}), centre=centre, owner=f"user:{reviewer}"
    )
    with db.begin() as s:
        states.transition(s, who, cid, "sign", today=signed)
        states.transition(s, who, cid, "issue", today=issued)


@pytest.fixture(scope="module")
def site(es: Elasticsearch, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    # `es`: the app is built against the running node, though nothing here searches it.
    settings = settings_for(
        new_prefix("cstats"), f"sqlite:///{tmp_path_factory.mktemp('cstats') / 's.sqlite3'}"
    )
    upgrade(settings.effective_database_url)
    db = session_factory(settings.effective_database_url)
    ids, tokens = _seed(db)
    with TestClient(create_app(settings)) as client:
        ha, hb = (
            {"Authorization": f"Bearer {tokens['ana-a']}"},
            {"Authorization": f"Bearer {tokens['ana-b']}"},
        )
        ra, rb = ids["rev-a"], ids["rev-b"]
        cases = {
            "c4": _api_case(client, ha, ra, "2026-08-20", "专利", "专利案件"),
            "c2": _api_case(client, ha, ra, "2026-09-14", "成果", "成果鉴定案件"),
            "c1": _api_case(client, ha, ra, "2026-09-30", "立项", "国庆跨假案件", scope="国内外"),
            "c5": _api_case(client, ha, ra, "2026-10-15", "新产品", "新产品案件"),
            "c7": _api_case(client, ha, ra, "2026-10-20", "其他", "其他案件"),
            "c6": _api_case(client, hb, rb, "2026-09-10", "立项", "乙中心案件"),
        }
        made = client.post("/api/v1/cases", headers=ha, json={"project_name_zh": "未完成案件", "client_name": "某单位",
                                                                "commission_date": "2026-09-07", "purpose": "立项",
                                                                "scope": "国内"})  # fmt: skip
        cases["c3"] = int(made.json()["id"])
        _return_once(client, cases["c2"], ha, {"Authorization": f"Bearer {tokens['rev-a']}"})
        _return_once(client, cases["c7"], ha, {"Authorization": f"Bearer {tokens['rev-a']}"})
        _sign_and_issue(db, cases["c4"], ra, "SA", date(2026, 9, 2), date(2026, 9, 3))
        _sign_and_issue(db, cases["c2"], ra, "SA", date(2026, 9, 18), date(2026, 9, 21))
        _sign_and_issue(db, cases["c1"], ra, "SA", date(2026, 10, 9), date(2026, 10, 12))
        _sign_and_issue(db, cases["c5"], ra, "SA", date(2026, 10, 30), date(2026, 11, 2))
        _sign_and_issue(db, cases["c7"], ra, "SA", date(2026, 11, 3), date(2026, 11, 4))
        _sign_and_issue(db, cases["c6"], rb, "SB", date(2026, 9, 29), date(2026, 9, 30))
        # An archived case still counts as issued, and its report is still exported.
        archived = client.post(
            f"/api/v1/cases/{cases['c1']}/transitions", json={"action": "archive"}, headers=ha
        )
        assert archived.json()["state"] == "archived"
        yield Site(client, db, ids, tokens, cases)


def _message(resp: Any) -> str:
    return str(resp.json()["error"]["message"])


# ---------------------------------------------------------------- working days and periods


def test_working_days() -> None:
    assert working_days_after(date(2026, 9, 30), date(2026, 10, 12)) == 4, (
        "National Day off, Sat 10-10 worked"
    )
    assert working_days_after(date(2026, 9, 18), date(2026, 9, 21)) == 2, "Sun 09-20 worked"
    assert working_days_after(date(2026, 10, 8), date(2026, 10, 8)) == 0, "issued the day it came"
    assert working_days_after(date(2026, 10, 9), date(2026, 10, 10)) == 1
    assert working_days_after(date(2026, 10, 12), date(2026, 10, 9)) == 0
    assert not is_working_day(date(2026, 10, 5)) and is_working_day(date(2026, 10, 10))
    # 2027 is past the package's data: Monday to Friday, so New Year's Day (a Friday) counts.
    assert is_working_day(date(2027, 1, 1)) and not is_working_day(date(2027, 1, 2))
    assert working_days_after(date(2026, 12, 31), date(2027, 1, 4)) == 2


def test_periods() -> None:
    today = date(2026, 11, 26)
    assert parse_period(None, None, today=today) == Period(date(2026, 1, 1), today)
    assert parse_period("", "2025-03-31", today=today) == Period(date(2025, 1, 1), date(2025, 3, 31))
    assert parse_period("2026-11-01", None, today=today) == Period(date(2026, 11, 1), today)
    assert Period(date(2025, 11, 15), date(2026, 2, 1)).months() == [
        "2025-11",
        "2025-12",
        "2026-01",
        "2026-02",
    ]
    assert parse_period("2024-02-29", "2029-02-28", today=today).end == date(2029, 2, 28)
    for raw_from, raw_to, words in [
        ("2026-13-01", "", "起始日期不是有效日期"),
        ("2026/01/01", "", "起始日期格式应为 YYYY-MM-DD"),
        ("", "20260101", "截止日期格式应为 YYYY-MM-DD"),
        ("2026-10-01", "2026-09-01", "不能晚于截止日期"),
        ("2021-01-01", "2026-01-01", "最长 5 年"),
        ("2024-02-29", "2029-03-01", "最长 5 年"),
    ]:
        with pytest.raises(core.CaseError, match=words) as caught:
            parse_period(raw_from, raw_to, today=today)
        assert caught.value.status == 400


# ---------------------------------------------------------------- statistics


def test_centre_statistics_exact(site: Site) -> None:
    resp = site.get("/api/v1/centres/SA/case-statistics", "adm-a", **SEP_OCT)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["scope"] == "SA" and body["period"] == SEP_OCT
    assert body["totals"] == {
        "code": "SA", "name": "贵州省科技查新中心", "received": 5, "issued": 3,
        "turnaround_working_days_total": 4 + 6 + 10, "average_turnaround_working_days": 6.67,
        "returned": 1, "returned_rate": 0.3333,
    }  # fmt: skip
    months = {m["month"]: m for m in body["by_month"]}
    assert list(months) == ["2026-09", "2026-10"]
    assert (months["2026-09"]["received"], months["2026-09"]["issued"]) == (3, 2)
    assert (months["2026-10"]["received"], months["2026-10"]["issued"]) == (2, 1)
    assert months["2026-09"]["by_purpose"]["立项"] == {"received": 2, "issued": 0}
    assert months["2026-09"]["by_purpose"]["成果"] == {"received": 1, "issued": 1}
    assert months["2026-09"]["by_purpose"]["专利"] == {"received": 0, "issued": 1}
    assert months["2026-10"]["by_purpose"]["立项"] == {"received": 0, "issued": 1}
    assert months["2026-10"]["by_purpose"]["新产品"] == {"received": 1, "issued": 0}
    assert months["2026-10"]["by_purpose"]["其他"] == {"received": 1, "issued": 0}
    assert {p["purpose"]: (p["received"], p["issued"]) for p in body["by_purpose"]} == {
        "立项": (2, 1), "成果": (1, 1), "专利": (0, 1), "新产品": (1, 0), "其他": (1, 0)}  # fmt: skip
    assert {(x["month"], x["purpose"], x["received"], x["issued"]) for x in body["cells"]} == {
        ("2026-09", "立项", 2, 0), ("2026-09", "成果", 1, 1), ("2026-09", "专利", 0, 1),
        ("2026-10", "立项", 0, 1), ("2026-10", "新产品", 1, 0), ("2026-10", "其他", 1, 0)}  # fmt: skip
    assert (
        "工作日" in body["definitions"]["turnaround"] and "审计日志" in body["definitions"]["returned_rate"]
    )

    # October alone: only c1 was issued, never returned; a period without issues has no averages.
    october = site.get(
        "/api/v1/centres/SA/case-statistics", "root", **{"from": "2026-10-01", "to": "2026-10-31"}
    )
    assert october.json()["totals"]["average_turnaround_working_days"] == 4.0
    assert october.json()["totals"]["returned_rate"] == 0.0
    # c5 and c7 were issued in November; c7 had been returned.
    november = site.get(
        "/api/v1/centres/SA/case-statistics", "root", **{"from": "2026-11-01", "to": "2026-11-30"}
    )
    assert november.json()["totals"]["issued"] == 2 and november.json()["totals"]["returned"] == 1
    assert november.json()["totals"]["received"] == 0
    empty = site.get("/api/v1/centres/SA/case-statistics", "root", **EMPTY).json()["totals"]
    assert empty["issued"] == 0 and empty["average_turnaround_working_days"] is None
    assert empty["returned_rate"] is None


def test_all_centres(site: Site) -> None:
    body = site.get("/api/v1/centres/*/case-statistics", "root", **SEP_OCT).json()
    assert [c["code"] for c in body["centres"]] == ["SA", "SB"]
    sb = body["centres"][1]
    assert (sb["received"], sb["issued"], sb["turnaround_working_days_total"], sb["returned"]) == (
        1,
        1,
        14,
        0,
    )
    assert body["totals"]["code"] == "*"
    assert (body["totals"]["received"], body["totals"]["issued"]) == (6, 4)
    assert (
        body["totals"]["average_turnaround_working_days"] == 8.5 and body["totals"]["returned_rate"] == 0.25
    )
    assert body["by_purpose"][0] == {"purpose": "立项", "received": 3, "issued": 2}
    assert ("SB", "2026-09", "立项", 1, 1) in {(x["centre"], x["month"], x["purpose"], x["received"],
                                                   x["issued"]) for x in body["cells"]}  # fmt: skip
    # The default period is the current year to date.
    default = site.get("/api/v1/centres/*/case-statistics", "root").json()["period"]
    today = core.today_local()
    assert default == {"from": f"{today.year}-01-01", "to": today.isoformat()}


def test_statistics_xlsx(site: Site) -> None:
    resp = site.get("/api/v1/centres/SA/case-statistics.xlsx", "adm-a", **SEP_OCT)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    assert 'filename="case-statistics-SA-2026-09-01-2026-10-31.xlsx"' in resp.headers["content-disposition"]
    wb = load_workbook(io.BytesIO(resp.content), read_only=True)
    assert wb.sheetnames == ["按月", "按目的", "汇总"]
    monthly = list(wb["按月"].iter_rows(values_only=True))
    assert monthly[0][:6] == ("分中心", "月份", "受理数", "签发数", "受理·立项", "受理·成果")
    assert monthly[1:] == [
        ("SA", "2026-09", 3, 2, 2, 1, 0, 0, 0, 0, 1, 1, 0, 0),
        ("SA", "2026-10", 2, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0),
    ]
    by_purpose = list(wb["按目的"].iter_rows(values_only=True))
    assert by_purpose[1:] == [("SA", "立项", 2, 1), ("SA", "成果", 1, 1), ("SA", "专利", 0, 1),
                              ("SA", "新产品", 1, 0), ("SA", "其他", 1, 0)]  # fmt: skip
    summary = [r for r in wb["汇总"].iter_rows(values_only=True) if any(v is not None for v in r)]
    assert summary[0][:4] == ("分中心代码", "分中心名称", "受理数", "签发数")
    assert summary[1] == ("SA", "贵州省科技查新中心", 5, 3, 6.67, 1, 0.3333)
    assert summary[2][0] == "统计期间：2026-09-01 至 2026-10-31（含起止日）"
    rate = load_workbook(io.BytesIO(resp.content))["汇总"]["G2"]
    assert rate.value == 0.3333 and rate.number_format == "0.0%", "退回率 reads as 33.3% in Excel"

    every = site.get("/api/v1/centres/*/case-statistics.xlsx", "root", **SEP_OCT)
    assert 'filename="case-statistics-all-2026-09-01-2026-10-31.xlsx"' in every.headers["content-disposition"]
    rows = list(load_workbook(io.BytesIO(every.content), read_only=True)["汇总"].iter_rows(values_only=True))
    assert rows[1][:4] == ("SA", "贵州省科技查新中心", 5, 3)
    assert rows[2] == ("SB", "某大学查新工作站", 1, 1, 14, 0, 0)
    assert rows[3] == ("*", "合计", 6, 4, 8.5, 1, 0.25)


# ---------------------------------------------------------------- the zip of issued reports


def _docx_text(data: bytes) -> str:
    doc = DocxDocument(io.BytesIO(data))
    return "\n".join(
        [p.text for p in doc.paragraphs] + [c.text for t in doc.tables for r in t.rows for c in r.cells]
    )


def test_reports_zip(site: Site) -> None:
    resp = site.get("/api/v1/centres/SA/reports.zip", "adm-a", **SEP_OCT)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "application/zip"
    assert 'filename="reports-SA-2026-09-01-2026-10-31.zip"' in resp.headers["content-disposition"]
    numbers = [site.report_no(c) for c in ("c4", "c2", "c1")]  # by issue date
    zf = zipfile.ZipFile(io.BytesIO(resp.content))
    assert sorted(zf.namelist()) == sorted(
        ["index.xlsx"] + [f"{n}.{k}" for n in numbers for k in ("pdf", "docx")]
    )
    for number, _case in zip(numbers, ("c4", "c2", "c1"), strict=True):
        assert zf.read(f"{number}.pdf").startswith(b"%PDF")
        text = _docx_text(zf.read(f"{number}.docx"))
        assert number in text and "草稿" not in text
    assert "国庆跨假案件" in _docx_text(zf.read(f"{numbers[2]}.docx"))

    rows = list(
        load_workbook(io.BytesIO(zf.read("index.xlsx")), read_only=True).active.iter_rows(values_only=True)
    )
    assert rows[0] == ("报告编号", "项目名称", "委托人", "查新目的", "查新范围", "委托日期", "签发日期", "查新员",
                       "审核员", "验证码", "PDF 文件", "DOCX 文件")  # fmt: skip
    assert [r[0] for r in rows[1:]] == numbers
    with site.db() as s:
        c1 = s.get(NoveltyCase, site.cases["c1"])
        assert c1 is not None and c1.verification_code
        code = display_code(c1.verification_code)
    assert rows[3] == (numbers[2], "国庆跨假案件", "国庆跨假案件委托单位", "立项", "国内外", datetime(2026, 9, 30),
                       datetime(2026, 10, 12), "用户ana-a", "用户rev-a", code, f"{numbers[2]}.pdf",
                       f"{numbers[2]}.docx")  # fmt: skip
    assert rows[1][3:7] == ("专利", "国内", datetime(2026, 8, 20), datetime(2026, 9, 3))

    with site.db() as s:
        events = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "centre.reports_export")))
    assert events, "the export is audit-logged"
    detail = json.loads(events[-1].detail)
    assert events[-1].actor == f"user:{site.ids['adm-a']}"
    assert (detail["centre"], detail["from"], detail["to"], detail["reports"]) == ("SA", *SEP_OCT.values(), 3)


def test_reports_zip_limits(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    # A period without issued reports: just the index, with its header row.
    empty = site.get("/api/v1/centres/SB/reports.zip", "root", **EMPTY)
    assert empty.status_code == 200
    zf = zipfile.ZipFile(io.BytesIO(empty.content))
    assert zf.namelist() == ["index.xlsx"]
    assert len(list(load_workbook(io.BytesIO(zf.read("index.xlsx"))).active.iter_rows())) == 1
    monkeypatch.setattr(archive, "MAX_REPORTS", 2)
    over = site.get("/api/v1/centres/SA/reports.zip", "adm-a", **SEP_OCT)
    assert over.status_code == 400
    assert (
        _message(over) == "该期间内共有 3 份已签发报告，超过单个压缩包 2 份的上限，请缩短统计期间后分批导出"
    )
    everything = site.get("/api/v1/centres/*/reports.zip", "root", **EMPTY)
    assert everything.status_code == 400 and "请选择一个分中心" in _message(everything)


# ---------------------------------------------------------------- access and bad input


@pytest.mark.parametrize("suffix", ["case-statistics", "case-statistics.xlsx", "reports.zip"])
def test_access(site: Site, suffix: str) -> None:
    def status(code: str, who: str | None) -> int:
        return int(site.get(f"/api/v1/centres/{code}/{suffix}", who, **EMPTY).status_code)

    for code in ("SA", "SB", "*", "NOPE"):
        assert status(code, None) == 401
        for who in ("ana-a", "rev-a", "ana-b"):
            assert status(code, who) == 403, (code, who)
    assert (status("SA", "adm-a"), status("SB", "adm-a"), status("NOPE", "adm-a")) == (200, 404, 404)
    assert (status("SB", "adm-b"), status("SA", "adm-b")) == (200, 404)
    assert status("*", "adm-a") == 403
    assert (status("SA", "root"), status("SB", "root"), status("NOPE", "root")) == (200, 200, 404)
    assert status("*", "root") == (400 if suffix == "reports.zip" else 200)
    other = site.get(f"/api/v1/centres/SB/{suffix}", "adm-a", **EMPTY)
    assert _message(other) == "没有代码为“SB”的分中心"
    assert _message(site.get(f"/api/v1/centres/SA/{suffix}", None)) == "请先登录"
    assert "分中心管理员" in _message(site.get(f"/api/v1/centres/SA/{suffix}", "ana-a"))


@pytest.mark.parametrize("suffix", ["case-statistics", "case-statistics.xlsx", "reports.zip"])
def test_bad_input(site: Site, suffix: str) -> None:
    path = f"/api/v1/centres/SA/{suffix}"
    for params, words in [
        ({"from": "2026-02-30"}, "起始日期不是有效日期"),
        ({"from": "2026/01/01"}, "起始日期格式应为 YYYY-MM-DD"),
        ({"to": "yesterday"}, "截止日期格式应为 YYYY-MM-DD"),
        ({"from": "2026-10-01", "to": "2026-09-30"}, "起始日期（2026-10-01）不能晚于截止日期（2026-09-30）"),
        ({"from": "2020-01-01", "to": "2025-12-31"}, "统计期间最长 5 年"),
    ]:
        resp = site.get(path, "root", **params)
        assert resp.status_code == 400 and words in _message(resp), (params, resp.text)
    long_code = site.get(f"/api/v1/centres/{'X' * 40}/{suffix}", "root")
    assert long_code.status_code == 400
    assert any("\u4e00" <= ch <= "\u9fff" for ch in _message(long_code))


# ---------------------------------------------------------------- the centre page


def test_centre_pages(site: Site) -> None:
    index = site.get("/workspace/centres", None)
    assert index.status_code == 303 and index.headers["location"].startswith("/login")
    assert site.get("/workspace/centres", "ana-a").status_code == 403
    own = site.get("/workspace/centres", "adm-a")
    assert own.status_code == 303 and own.headers["location"] == "/workspace/centres/SA"
    listing = site.get("/workspace/centres", "root")
    assert listing.status_code == 200
    for link in (
        'href="/workspace/centres/SA"',
        'href="/workspace/centres/SB"',
        'href="/workspace/centres/%2A"',
    ):
        assert link in listing.text

    page = site.get("/workspace/centres/SA", "adm-a", **SEP_OCT)
    assert page.status_code == 200, page.text
    html = page.text
    for text in ("贵州省科技查新中心（SA）", "按月", "按查新目的", "汇总", "2026-09", "2026-10", "6.7", "33.3%",
                 "口径说明", 'value="2026-09-01"', 'value="2026-10-31"',
                 "/api/v1/centres/SA/case-statistics.xlsx?from=2026-09-01&amp;to=2026-10-31",
                 "/api/v1/centres/SA/reports.zip?from=2026-09-01&amp;to=2026-10-31"):  # fmt: skip
        assert text in html, text
    assert "全部分中心" not in html, "a centre admin gets no centre switcher"
    assert site.get("/workspace/centres/SB", "adm-a").status_code == 404
    assert site.get("/workspace/centres/SA", "ana-a").status_code == 403
    anonymous = site.get("/workspace/centres/SA", None)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    assert site.get("/workspace/centres/SB", "root").status_code == 200
    every = site.get("/workspace/centres/*", "root", **SEP_OCT)
    assert every.status_code == 200 and "某大学查新工作站" in every.text and "8.5" in every.text
    assert "reports.zip" not in every.text, "the zip is per centre"

    bad = site.get("/workspace/centres/SA", "adm-a", **{"from": "2026-10-01", "to": "2026-09-30"})
    assert bad.status_code == 400
    assert (
        "起始日期（2026-10-01）不能晚于截止日期（2026-09-30）" in bad.text
        and 'value="2026-10-01"' in bad.text
    )


def test_centre_admin_keeps_the_contact_block(site: Site) -> None:
    from tests.secure_site import csrf_for

    token = csrf_for(site.client)

    def post(code: str, who: str | None, **fields: str) -> Any:
        return site.client.post(f"/workspace/centres/{code}/contact", data={"csrf_token": token, **fields},
                                headers=site.h(who), follow_redirects=False)  # fmt: skip

    saved = post("SA", "adm-a", address="贵阳市南明区科技路 1 号", phone="0851-8888", email="sa@example.org")
    assert saved.status_code == 303 and saved.headers["location"].endswith("?saved=1#contact")
    page = site.get("/workspace/centres/SA", "adm-a", saved="1").text
    assert "贵阳市南明区科技路 1 号" in page and "已保存" in page
    with site.db() as s:
        centre = accounts.get_centre(s, "SA")
        assert (centre.address, centre.phone, centre.fax) == ("贵阳市南明区科技路 1 号", "0851-8888", "")
    assert post("SB", "adm-a", address="x").status_code == 404, "another centre looks missing"
    assert post("SA", "ana-a", address="x").status_code == 403
    assert post("SA", None, address="x").status_code == 303, "anonymous: to the login page"
    assert post("*", "root", address="x").status_code == 404
    assert post("SB", "root", address="北京市海淀区").status_code == 303
    too_long = post("SA", "adm-a", postcode="1" * 40)
    assert too_long.status_code == 400 and "邮政编码过长" in too_long.text
    # The platform admin's centres page sets the same block, beside the numbering fields.
    admin_page = site.client.post("/admin/centres/SB", headers=site.h("root"), follow_redirects=False, data={
        "csrf_token": token, "name": "某大学查新工作站", "province_code": "11", "institution_no": "36002",
        "pattern": "moe", "active": "1", "address": "北京市海淀区学院路", "fax": "010-6666"})  # fmt: skip
    assert admin_page.status_code == 303
    with site.db() as s:
        centre = accounts.get_centre(s, "SB")
        assert (centre.address, centre.fax, centre.phone) == ("北京市海淀区学院路", "010-6666", "")


def test_centre_admin_adds_a_database_on_the_centre_page(site: Site) -> None:
    from tests.secure_site import csrf_for

    token = csrf_for(site.client)

    def post(code: str, who: str | None, **fields: str) -> Any:
        return site.client.post(f"/workspace/centres/{code}/databases", data={"csrf_token": token, **fields},
                                headers=site.h(who), follow_redirects=False)  # fmt: skip

    page = site.get("/workspace/centres/SA", "adm-a").text
    assert "Web of Science（国外）" in page and "CNKI 中国知网（国内）" in page
    added = post("SA", "adm-a", name="中国生物医学文献数据库", origin="国内")
    assert added.status_code == 303 and added.headers["location"].endswith("#databases")
    assert "中国生物医学文献数据库（国内）" in site.get("/workspace/centres/SA", "adm-a").text
    again = post("SA", "adm-a", name="中国生物医学文献数据库", origin="国内")
    assert "db_error=" in again.headers["location"]
    assert post("SB", "adm-a", name="x", origin="国内").status_code == 404, "another centre looks missing"
    assert post("*", "root", name="x", origin="国内").status_code == 404
