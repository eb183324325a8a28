"""Who may call which case endpoint: one table of (method, route, body) x role -> status.

Every route under `/api/v1/cases`, and the public `/verify/{report_no}`, is in the table, for ten
actors: anonymous, a registered user who is not staff, the case's analyst, another analyst of the same
centre, the case's reviewer, a reviewer of the same centre who is not assigned, the centre admin of
the same centre, an analyst and a centre admin of another centre, and the platform admin. Each is a
real user with a real bearer token in a real SQLite database; the index is a real one with two papers.

A row that could change something runs on a fresh case made for it (through the API, as the case's
analyst and reviewer) in the state the row needs, so a 2xx in one row never disturbs another, and a
2xx means the request was let through and carried out. Read-only rows share one issued case.

A test fails if the app has a case route the table does not list. Further tests show that
- after signing (and after issuing and archiving) every content-changing endpoint and every step back
  answers 409 with a Chinese message, and changes nothing;
- another centre's case answers exactly as a missing one does (status, headers, body shape; only the
  number in the message differs), so its existence is not disclosed;
- the case list of one centre does not show another centre's cases;
- a refused submission does not keep the reviewer it tried to assign.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

import pytest
from elasticsearch import Elasticsearch
from fastapi import FastAPI
from fastapi.testclient import TestClient

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
from tests.secure_site import walk_routes
from web.app import create_app

PASSWORD = "Test-pass-1"
ROLES = ("anonymous", "registered", "case_analyst", "other_analyst", "case_reviewer", "other_reviewer",
         "centre_admin", "foreign_analyst", "foreign_centre_admin", "platform_admin")  # fmt: skip
# Who plays each role. The case is always centre A's, with analyst ana-a and reviewer rev-a.
ACTOR = {
    "registered": "reg",
    "case_analyst": "ana-a",
    "other_analyst": "ana2-a",
    "case_reviewer": "rev-a",
    "other_reviewer": "rev2-a",
    "centre_admin": "cadm-a",
    "foreign_analyst": "ana-b",
    "foreign_centre_admin": "cadm-b",
    "platform_admin": "root",
}
CASE_PREFIX = "/api/v1/cases"
MISSING_ID = 999_999
HAN = re.compile(r"[\u4e00-\u9fff]")
# A 限制 report an analyst holds a grant for and files on a case (break 2 of issue 14).
SECRET_ID = "case-secret-1"
SECRET_TITLE = "舰载雷达隐身涂层配方"
SECRET_ABSTRACT = "保密摘要内容甲乙丙"

# Statuses by role, in the order of ROLES:
#   anon  reg  analyst  other-an  reviewer  other-rev  c-admin  B-analyst  B-admin  platform
READ = (401, 403, 200, 200, 200, 200, 200, 404, 404, 200)


def analyst_only(ok: int) -> tuple[int, ...]:
    """Content of a case: only its own analyst changes it; nobody else, not even the platform admin."""
    return (401, 403, ok, 403, 403, 403, 403, 404, 404, 403)


REVIEWER_ONLY = (401, 403, 403, 403, 200, 403, 403, 404, 404, 403)  # return, sign: the assigned reviewer
REVIEWER_OR_ADMIN = (401, 403, 403, 403, 200, 403, 200, 404, 404, 403)  # issue
ANALYST_OR_ADMIN = (401, 403, 200, 403, 403, 403, 200, 404, 404, 403)  # archive; choosing the reviewer
PUBLIC = (200,) * 10


class Row(NamedTuple):
    method: str
    template: str  # the route as the app declares it
    # {case} {strategy} {doc} {report_no} {paper} {adjustment} are filled in from the case the row runs on
    path: str
    body: dict[str, Any] | None  # "@user" values become that user's id
    state: str | None  # a fresh case in this state for the row; None: the shared issued case (or none)
    expected: tuple[int, ...]
    kind: str = "novelty"  # the kind of case the row runs on: novelty (查新) or citation (收录引证)


C = CASE_PREFIX + "/{case_id}"
TABLE: list[Row] = [
    # Creating: analysts and centre admins for their own centre; the platform admin names the centre.
    # Another centre's staff cannot receive a commission for centre A's analyst (400: not their staff).
    Row("POST", CASE_PREFIX, CASE_PREFIX, {"project_name_zh": "新委托", "client_name": "委托人", "purpose": "立项",
        "scope": "国内", "commission_date": "2026-03-02", "centre": "A", "analyst_id": "@ana-a"}, None,
        (401, 403, 201, 201, 403, 403, 201, 400, 400, 201)),
    Row("GET", CASE_PREFIX, CASE_PREFIX, None, None, (401, 403, 200, 200, 200, 200, 200, 200, 200, 200)),
    Row("GET", C, "/api/v1/cases/{case}", None, None, READ),
    Row("PATCH", C, "/api/v1/cases/{case}", {"remarks": "补充备注"}, "drafting", analyst_only(200)),
    Row("POST", C + "/reviewer", "/api/v1/cases/{case}/reviewer", {"reviewer_id": "@rev2-a"}, "drafting",
        ANALYST_OR_ADMIN),
    Row("POST", C + "/points", "/api/v1/cases/{case}/points", {"text": "新增查新点"}, "drafting",
        analyst_only(201)),
    Row("PATCH", C + "/points/{label}", "/api/v1/cases/{case}/points/NP-1", {"comparison": "修改后的对比分析"},
        "drafting", analyst_only(200)),
    Row("POST", C + "/transitions", "/api/v1/cases/{case}/transitions", {"action": "start_search"}, "received",
        analyst_only(200)),
    Row("POST", C + "/transitions", "/api/v1/cases/{case}/transitions", {"action": "start_drafting"},
        "searching", analyst_only(200)),
    Row("POST", C + "/transitions", "/api/v1/cases/{case}/transitions",
        {"action": "submit", "confirm_warnings": True}, "drafting", analyst_only(200)),
    Row("POST", C + "/transitions", "/api/v1/cases/{case}/transitions", {"action": "return", "comment": "请修改"},
        "in_review", REVIEWER_ONLY),
    Row("POST", C + "/transitions", "/api/v1/cases/{case}/transitions", {"action": "sign"}, "in_review",
        REVIEWER_ONLY),
    Row("POST", C + "/transitions", "/api/v1/cases/{case}/transitions", {"action": "issue"}, "signed",
        REVIEWER_OR_ADMIN),
    Row("POST", C + "/transitions", "/api/v1/cases/{case}/transitions", {"action": "archive"}, "issued",
        ANALYST_OR_ADMIN),
    Row("POST", C + "/search", "/api/v1/cases/{case}/search", {"q": "TI='斜拉桥'"}, "drafting", analyst_only(200)),
    Row("POST", C + "/external", "/api/v1/cases/{case}/external", {"database": "CNKI 中国知网", "year_from": 2000,
        "year_to": 2026, "expression": "SU='斜拉桥'", "hits": 12, "searched_on": "2026-03-03"}, "drafting",
        analyst_only(201)),
    Row("POST", C + "/documents/manual", "/api/v1/cases/{case}/documents/manual",
        {"database": "CNKI 中国知网", "title": "斜拉桥阻尼器试验研究", "points": ["NP-1"]}, "drafting",
        analyst_only(201)),
    Row("PATCH", C + "/strategies/{strategy_id}", "/api/v1/cases/{case}/strategies/{strategy}",
        {"in_report": False}, "drafting", analyst_only(200)),
    Row("POST", C + "/documents", "/api/v1/cases/{case}/documents", {"record_id": "k2", "points": ["NP-1"]},
        "drafting", analyst_only(201)),
    Row("PATCH", C + "/documents/{doc_id}", "/api/v1/cases/{case}/documents/{doc}",
        {"relevance": "密切相关", "excerpt": "原文摘录"}, "drafting", analyst_only(200)),
    Row("DELETE", C + "/documents/{doc_id}", "/api/v1/cases/{case}/documents/{doc}", None, "drafting",
        analyst_only(204)),
    # 收录引证 cases: created by the same route, with their own content routes.
    Row("POST", CASE_PREFIX, CASE_PREFIX, {"kind": "citation", "client_name": "某教授", "purpose": "职称评审",
        "cutoff_date": "2026-03-02", "databases": ["CSSCI"], "centre": "A", "analyst_id": "@ana-a"}, None,
        (401, 403, 201, 201, 403, 403, 201, 400, 400, 201), "citation"),
    Row("GET", C + "/citation", "/api/v1/cases/{case}/citation", None, None, READ, "citation"),
    Row("PATCH", C + "/citation", "/api/v1/cases/{case}/citation", {"client_unit": "某大学"}, "drafting",
        analyst_only(200), "citation"),
    Row("POST", C + "/citation/papers", "/api/v1/cases/{case}/citation/papers", {"record_ids": ["k2"]},
        "drafting", analyst_only(201), "citation"),
    Row("POST", C + "/citation/papers/upload", "/api/v1/cases/{case}/citation/papers/upload", None, "drafting",
        analyst_only(201), "citation"),
    Row("PATCH", C + "/citation/papers/{paper_id}", "/api/v1/cases/{case}/citation/papers/{paper}",
        {"record_id": "k1"}, "drafting", analyst_only(200), "citation"),
    Row("DELETE", C + "/citation/papers/{paper_id}", "/api/v1/cases/{case}/citation/papers/{paper}", None,
        "drafting", analyst_only(204), "citation"),
    Row("POST", C + "/citation/adjustments", "/api/v1/cases/{case}/citation/adjustments",
        {"cited_id": "k1", "citing_id": "k2", "action": "flip", "reason": "同名不同人"}, "drafting",
        analyst_only(201), "citation"),
    Row("DELETE", C + "/citation/adjustments/{adjustment_id}",
        "/api/v1/cases/{case}/citation/adjustments/{adjustment}", None, "drafting", analyst_only(204), "citation"),
    Row("GET", C + "/citation/preview", "/api/v1/cases/{case}/citation/preview", None, None, READ, "citation"),
    Row("GET", C + "/citation/report.xlsx", "/api/v1/cases/{case}/citation/report.xlsx", None, None, READ,
        "citation"),
    Row("GET", C + "/report.docx", "/api/v1/cases/{case}/report.docx", None, None, READ),
    Row("GET", C + "/report.pdf", "/api/v1/cases/{case}/report.pdf", None, None, READ),
    Row("GET", "/verify/{report_no}", "/verify/{report_no}", None, None, PUBLIC),
    Row("GET", "/verify", "/verify?report_no={report_no}", None, None, PUBLIC),
]  # fmt: skip

# A client's paper as an RIS export (the title of record k2).
UPLOAD = "TY  - JOUR\nTI  - 斜拉桥粘滞阻尼器减震效果研究\nT2  - 世界桥梁\nPY  - 2020\nER  - \n".encode()

# Everything that changes a case's content, and every step that would move it back into work; after
# signing all of them are refused with 409. (who, method, path, body)
FROZEN: list[tuple[str, str, str, dict[str, Any] | None]] = [
    ("ana-a", "PATCH", "/api/v1/cases/{case}", {"remarks": "签字后修改"}),
    ("ana-a", "POST", "/api/v1/cases/{case}/reviewer", {"reviewer_id": "@rev2-a"}),
    ("cadm-a", "POST", "/api/v1/cases/{case}/reviewer", {"reviewer_id": "@rev2-a"}),
    ("ana-a", "POST", "/api/v1/cases/{case}/points", {"text": "签字后新增的查新点"}),
    ("ana-a", "PATCH", "/api/v1/cases/{case}/points/NP-1", {"conclusion": "签字后修改的结论"}),
    ("ana-a", "POST", "/api/v1/cases/{case}/search", {"q": "TI='斜拉桥'"}),
    ("ana-a", "PATCH", "/api/v1/cases/{case}/strategies/{strategy}", {"in_report": False}),
    ("ana-a", "POST", "/api/v1/cases/{case}/documents", {"record_id": "k2", "points": ["NP-1"]}),
    ("ana-a", "PATCH", "/api/v1/cases/{case}/documents/{doc}", {"description": "签字后修改"}),
    ("ana-a", "DELETE", "/api/v1/cases/{case}/documents/{doc}", None),
    ("ana-a", "POST", "/api/v1/cases/{case}/transitions", {"action": "start_search"}),
    ("ana-a", "POST", "/api/v1/cases/{case}/transitions", {"action": "start_drafting"}),
    ("ana-a", "POST", "/api/v1/cases/{case}/transitions", {"action": "submit"}),
    ("rev-a", "POST", "/api/v1/cases/{case}/transitions", {"action": "return", "comment": "签字后退回"}),
    ("rev-a", "POST", "/api/v1/cases/{case}/transitions", {"action": "sign"}),
]
STEPS = ("received", "searching", "drafting", "in_review", "signed", "issued", "archived")


# ---------------------------------------------------------------- the site


@dataclass(frozen=True)
class Made:
    """A case the factory made, with the IDs rows refer to."""

    case: int
    strategy: int | None = None
    doc: int | None = None
    report_no: str | None = None
    paper: int | None = None  # 收录引证: a paper of the list, and an adjustment of one of its citers
    adjustment: int | None = None

    def fill(self, path: str) -> str:
        return path.format(case=self.case, strategy=self.strategy, doc=self.doc, report_no=self.report_no,
                           paper=self.paper, adjustment=self.adjustment)  # fmt: skip


@dataclass
class Site:
    app: FastAPI
    client: TestClient
    ids: dict[str, int]
    tokens: dict[str, str]
    issued: Made | None = None  # the shared case of the read-only rows
    issued_citation: Made | None = None  # the same for 收录引证 rows
    database_url: str = ""

    def h(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"} if who != "anonymous" else {}

    def send(self, who: str, method: str, path: str, body: dict[str, Any] | None) -> Any:
        kwargs: dict[str, Any] = {"headers": self.h(who)}
        if path.endswith("/citation/papers/upload"):
            kwargs.update(files={"file": ("papers.ris", UPLOAD)}, data={"format": "ris"})
        if body is not None:
            kwargs["json"] = {k: self.ids[v[1:]] if isinstance(v, str) and v.startswith("@") else v
                              for k, v in body.items()}  # fmt: skip
        return self.client.request(method, path, **kwargs)

    def ok(self, who: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        resp = self.send(who, method, path, body)
        assert resp.status_code in (200, 201), f"{method} {path} as {who}: {resp.status_code} {resp.text}"
        return resp.json()

    def make_case(self, state: str) -> Made:
        """A fresh case of centre A in `state`, ready to sign: one novelty point with its conclusion, one
        logged search and one filed document (from "searching" on)."""
        case = self.ok("ana-a", "POST", CASE_PREFIX, {
            "project_name_zh": "斜拉桥阻尼减震体系", "client_name": "某设计院", "commission_date": "2026-03-02",
            "purpose": "立项", "scope": "国内", "purpose_text": "立项查新", "technical_points": "塔梁间设置阻尼器",
            "requirements": "有无相同研究", "overall_conclusion": "未见相同报道", "reviewer_id": "@rev-a"})  # fmt: skip
        base = f"{CASE_PREFIX}/{case['id']}"
        self.ok("ana-a", "POST", f"{base}/points", {"text": "塔梁间设置粘滞阻尼器"})
        self.ok(
            "ana-a",
            "PATCH",
            f"{base}/points/NP-1",
            {"comparison": "文献[1]类似", "conclusion": "未见相同报道"},
        )
        if state == "received":
            return Made(case["id"])
        strategy = self.ok("ana-a", "POST", f"{base}/search", {"q": "TI='斜拉桥'"})["strategy"]["id"]
        doc = self.ok("ana-a", "POST", f"{base}/documents", {"record_id": "k1", "points": ["NP-1"]})["id"]
        steps = [("ana-a", "start_drafting"), ("ana-a", "submit"), ("rev-a", "sign"), ("rev-a", "issue"),
                 ("ana-a", "archive")]  # fmt: skip
        moved = {"state": "searching", "report_no": None}
        for who, action in steps[: STEPS.index(state) - 1]:
            body: dict[str, Any] = {"action": action, "confirm_warnings": action == "submit"}
            moved = self.ok(who, "POST", f"{base}/transitions", body)
        assert moved["state"] == state
        return Made(case["id"], strategy, doc, moved["report_no"])

    def make_citation_case(self, state: str) -> Made:
        """A fresh 收录引证 case of centre A in `state`: one paper (k1, picked), one adjustment."""
        case = self.ok("ana-a", "POST", CASE_PREFIX, {
            "kind": "citation", "client_name": "某教授", "client_unit": "某大学", "purpose": "职称评审",
            "cutoff_date": "2026-03-02", "databases": ["CSSCI"], "reviewer_id": "@rev-a"})  # fmt: skip
        base = f"{CASE_PREFIX}/{case['id']}/citation"
        paper = self.ok("ana-a", "POST", f"{base}/papers", {"record_ids": ["k1"]})["added"][0]
        adjustment = self.ok("ana-a", "POST", f"{base}/adjustments", {"cited_id": "k1", "citing_id": "k-gone",
                             "action": "exclude", "reason": "测试"})["adjustment_id"]  # fmt: skip
        steps = [("ana-a", "start_search"), ("ana-a", "start_drafting"), ("ana-a", "submit"), ("rev-a", "sign"),
                 ("rev-a", "issue"), ("ana-a", "archive")]  # fmt: skip
        moved = {"state": "received", "report_no": None}
        for who, action in steps[: STEPS.index(state)]:
            moved = self.ok(who, "POST", f"{CASE_PREFIX}/{case['id']}/transitions", {"action": action})
        assert moved["state"] == state
        return Made(case["id"], report_no=moved["report_no"], paper=paper, adjustment=adjustment)

    def make(self, row: Row) -> Made:
        if row.kind == "citation":
            if row.state:
                return self.make_citation_case(row.state)
            assert self.issued_citation is not None
            return self.issued_citation
        if row.state:
            return self.make_case(row.state)
        assert self.issued is not None
        return self.issued


def _seed(url: str) -> tuple[dict[str, int], dict[str, str]]:
    db = session_factory(url)
    people: list[Person] = [
        ("reg", None, [], None),
        ("ana-a", "A", ["analyst"], None),
        ("ana2-a", "A", ["analyst"], None),
        ("rev-a", "A", ["reviewer"], "研究馆员"),
        ("rev2-a", "A", ["reviewer"], "研究馆员"),
        ("cadm-a", "A", ["centre_admin"], None),
        ("ana-b", "B", ["analyst"], None),
        ("cadm-b", "B", ["centre_admin"], None),
        ("root", None, ["platform_admin"], None),
    ]
    with db.begin() as s:
        seed_two_centres(s)
        accounts.set_centre_contact(accounts.get_centre(s, "A"), {
            "address": "贵阳市南明区", "postcode": "550001", "principal": "陈主任", "contact": "刘老师",
            "phone": "0851-85555555", "email": "chaxin@example.org"})  # fmt: skip
        return seed_people(s, people, PASSWORD)


@pytest.fixture(scope="module")
def site(es: Elasticsearch, tokenizer: Tokenizer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    settings = settings_for(
        new_prefix("caseauthz"), f"sqlite:///{tmp_path_factory.mktemp('caseauthz') / 'a.db'}"
    )
    records = [
        make_record("k1", "大跨度斜拉桥顺桥向阻尼约束体系研究", language="zh", year=2019, venue="桥梁建设"),
        make_record("k2", "斜拉桥粘滞阻尼器减震效果研究", language="zh", year=2020, venue="世界桥梁"),
        make_record(
            SECRET_ID,
            SECRET_TITLE,
            language="zh",
            year=2019,
            doc_type="tech_report",
            abstract=SECRET_ABSTRACT,
            authors=[{"name": "保密作者", "order": 1}],
            tech_report={"report_no": "R-CASE-SECRET-1", "access_level": "restricted"},
        ),
    ]
    with site_index(es, tokenizer, settings, records):
        ids, tokens = _seed(settings.effective_database_url)
        app = create_app(settings)
        with TestClient(app) as client:
            built = Site(app, client, ids, tokens, database_url=settings.effective_database_url)
            built.issued = built.make_case("issued")
            built.issued_citation = built.make_citation_case("issued")
            yield built


# ---------------------------------------------------------------- the table covers every case route


def test_every_case_route_is_in_the_table(site: Site) -> None:
    routes = {(m, p) for m, p in walk_routes(site.app.routes) if p.startswith((CASE_PREFIX, "/verify"))}
    listed = {(row.method, row.template) for row in TABLE}
    assert routes - listed == set(), "case routes missing from the authorisation table"
    assert listed - routes == set(), "table rows for routes the app no longer has"


# ---------------------------------------------------------------- the matrix


def _row_id(row: Row, role: str) -> str:
    action = f" {row.body['action']}" if row.body and "action" in row.body else ""
    return f"{row.method} {row.template}{action} as {role}"


MATRIX = [
    pytest.param(row, role, row.expected[i], id=_row_id(row, role))
    for row in TABLE
    for i, role in enumerate(ROLES)
]


@pytest.mark.parametrize(("row", "role", "expected"), MATRIX)
def test_authorisation(site: Site, row: Row, role: str, expected: int) -> None:
    made = site.make(row)
    resp = site.send(ACTOR.get(role, role), row.method, made.fill(row.path), row.body)
    assert resp.status_code == expected, resp.text[:300]
    if resp.status_code >= 400:
        message = resp.json()["error"]["message"]
        assert HAN.search(message), f"refusals are worded in Chinese: {message}"


# ---------------------------------------------------------------- frozen after signing


@pytest.mark.parametrize("state", ["signed", "issued", "archived"])
def test_signed_content_is_frozen(site: Site, state: str) -> None:
    made = site.make_case(state)
    before = site.ok("ana-a", "GET", made.fill("/api/v1/cases/{case}"))
    for who, method, path, body in FROZEN:
        resp = site.send(who, method, made.fill(path), body)
        assert resp.status_code == 409, f"{method} {path} {body} as {who}: {resp.status_code} {resp.text}"
        message = resp.json()["error"]["message"]
        assert HAN.search(message), message
    after = site.ok("ana-a", "GET", made.fill("/api/v1/cases/{case}"))
    assert after == before, "nothing changed"


# ---------------------------------------------------------------- another centre's case looks missing


def _shape(resp: Any) -> tuple[int, str, Any]:
    body = resp.json()
    return (
        resp.status_code,
        resp.headers["content-type"],
        {
            key: {k: re.sub(r"\d+", "#", str(v)) for k, v in value.items()}
            if isinstance(value, dict)
            else value
            for key, value in body.items()
        },
    )


@pytest.mark.parametrize("who", ["ana-b", "cadm-b"])
@pytest.mark.parametrize(
    "row", [row for row in TABLE if "{case}" in row.path], ids=lambda row: _row_id(row, "")[:-4]
)
def test_another_centres_case_is_indistinguishable_from_a_missing_one(site: Site, who: str, row: Row) -> None:
    base = site.issued_citation if row.kind == "citation" else site.issued
    assert base is not None
    missing = dataclasses.replace(base, case=MISSING_ID)
    theirs = site.send(who, row.method, base.fill(row.path), row.body)
    nothing = site.send(who, row.method, missing.fill(row.path), row.body)
    assert theirs.status_code == 404
    assert _shape(theirs) == _shape(nothing)
    assert theirs.text.replace(f" {base.case} ", f" {MISSING_ID} ") == nothing.text


def test_case_list_shows_only_the_centres_own_cases(site: Site) -> None:
    # A fresh case: the list shows the newest 200, and the matrix has made more than that by now.
    mine = site.make_case("received").case

    def listed(who: str) -> set[int]:
        return {c["id"] for c in site.ok(who, "GET", CASE_PREFIX)["cases"]}

    for who in ("ana-a", "ana2-a", "rev-a", "rev2-a", "cadm-a", "root"):
        assert mine in listed(who), who
    for who in ("ana-b", "cadm-b"):
        assert mine not in listed(who), who
    own_b = site.ok("ana-b", "POST", CASE_PREFIX, {
        "project_name_zh": "B 的案件", "client_name": "委托人", "commission_date": "2026-03-02", "purpose": "成果",
        "scope": "国内"})["id"]  # fmt: skip
    assert own_b in listed("cadm-b") and own_b in listed("root") and own_b not in listed("cadm-a")


def test_refused_submission_keeps_the_assigned_reviewer(site: Site) -> None:
    """`submit` with a reviewer_id assigns before it checks the role; a refusal must roll that back."""
    made = site.make_case("drafting")
    resp = site.send("cadm-a", "POST", made.fill("/api/v1/cases/{case}/transitions"),
                     {"action": "submit", "reviewer_id": "@rev2-a"})  # fmt: skip
    assert resp.status_code == 403, resp.text
    case = site.ok("ana-a", "GET", made.fill("/api/v1/cases/{case}"))
    assert (case["state"], case["reviewer_id"]) == ("drafting", site.ids["rev-a"])


# ---------------------------------------------------------------- case content under the record's policy


def _grant(site: Site, who: str, *, revoke: bool = False) -> None:
    from appdb import accounts

    with session_factory(site.database_url).begin() as session:
        user = accounts.get_user(session, site.ids[who])
        if revoke:
            accounts.revoke_record(session, user, SECRET_ID)
        else:
            accounts.grant_record(session, user, SECRET_ID)


def test_restricted_case_content_follows_each_readers_grant(site: Site) -> None:
    """A granted 限制 report on a case: hidden from readers without the grant (a placeholder says it is
    there), the reviewer must hold the grant to be submitted to or to sign, and revoking hides it again."""
    _grant(site, "ana-a")
    made = site.make_case("drafting")
    base = made.fill("/api/v1/cases/{case}")
    added = site.ok("ana-a", "POST", f"{base}/documents", {"record_id": SECRET_ID, "points": ["NP-1"],
                                                            "excerpt": "摘录" + SECRET_ABSTRACT})  # fmt: skip
    assert SECRET_TITLE in added["reference"]

    def shows_secret(who: str) -> bool:
        resp = site.send(who, "GET", base, None)
        assert resp.status_code == 200, resp.text
        return SECRET_TITLE in resp.text or SECRET_ABSTRACT in resp.text or SECRET_ID in resp.text

    assert shows_secret("ana-a")
    for who in ("cadm-a", "rev-a", "ana2-a"):
        assert not shows_secret(who), who
        placeholder = [d for d in site.ok(who, "GET", base)["documents"] if d.get("restricted")]
        assert len(placeholder) == 1 and "限制级文献" in placeholder[0]["reference"]
        for kind in ("docx", "pdf"):
            refused = site.send(who, "GET", f"{base}/report.{kind}", None)
            assert refused.status_code == 403 and "限制级文献" in refused.json()["error"]["message"]
    # The reviewer must hold the grant too: submitting to rev-a is refused until rev-a has it.
    refused = site.send("ana-a", "POST", f"{base}/transitions", {"action": "submit"})
    assert refused.status_code == 403 and "授权" in refused.json()["error"]["message"]
    _grant(site, "rev-a")
    assert shows_secret("rev-a")
    assert site.send("rev-a", "GET", f"{base}/report.docx", None).status_code == 200
    site.ok("ana-a", "POST", f"{base}/transitions", {"action": "submit", "confirm_warnings": True})
    # Revoked before signing: the content is hidden again and the reviewer cannot sign.
    _grant(site, "rev-a", revoke=True)
    assert not shows_secret("rev-a")
    assert site.send("rev-a", "GET", f"{base}/report.docx", None).status_code == 403
    assert site.send("rev-a", "POST", f"{base}/transitions", {"action": "sign"}).status_code == 403
    page = site.client.get(made.fill("/workspace/cases/{case}"), headers=site.h("cadm-a"))
    assert page.status_code == 200 and SECRET_TITLE not in page.text and SECRET_ABSTRACT not in page.text
    _grant(site, "ana-a", revoke=True)
    assert not shows_secret("ana-a")
    own_page = site.client.get(made.fill("/workspace/cases/{case}"), headers=site.h("ana-a"))
    assert SECRET_TITLE not in own_page.text and "限制级文献" in own_page.text
    # The analyst's marks are kept while hidden, and show again with the grant.
    _grant(site, "ana-a")
    assert any(SECRET_ABSTRACT in d["excerpt"] for d in site.ok("ana-a", "GET", base)["documents"])


def test_both_kinds_share_one_number_sequence(site: Site) -> None:
    """查新 and 收录引证 reports of one centre and year take consecutive numbers from one sequence."""
    first = site.make_case("signed").report_no
    second = site.make_citation_case("signed").report_no
    third = site.make_case("signed").report_no
    assert first and second and third
    assert int(second[-5:]) == int(first[-5:]) + 1 and int(third[-5:]) == int(second[-5:]) + 1
    assert first[:-5] == second[:-5] == third[:-5]
