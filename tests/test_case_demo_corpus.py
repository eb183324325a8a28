"""A full novelty-search case on the CSL demo corpus, end to end through the HTTP API only.

The 2,000 real CSL papers of `data/demo/csl_demo.jsonl.gz` are indexed under a prefix of this module's
own. An analyst of a MOST-pattern centre takes a commission on long-span cable-stayed bridges (斜拉桥),
runs four logged searches for it (one with the search window overridden), leaves one of them out of
section 四, files six real hits as 密切相关/一般相关 and 国内/国外 evidence for three novelty points,
writes the comparisons and conclusions, and submits; the reviewer returns the case with a comment,
the analyst revises and resubmits, the reviewer signs and issues, the analyst archives. The walk is one
module fixture; each test checks one part of what it left behind. The issued reports are fetched after
archiving (an archived case prints its issued report).

What it proves:

- each strategy-log entry records the expression as typed, its normalised and CNKI readings, the hit
  count the public search API gives for the same expression restricted to the case's search window,
  and when it ran (printed in the report's strategy table in Beijing time);
- signing gives the next MOST number of the centre, `YYYY` + `52` + `001` + 5-digit serial;
- the issued DOCX has every section 一 … 九 and everything that was entered: the header block, each
  novelty point, each comparison and conclusion (the revised ones, not the returned draft's), each
  document's GB/T 7714 reference in its relevance and origin group, and the CNKI reading of every
  chosen strategy but not of the one left out;
- the issued PDF, through `pdftotext -layout`, reads back as Chinese text (headings, project name,
  document titles), set in embedded CJK fonts, with no U+FFFD;
- drafts, even signed ones, carry the 草稿 watermark in DOCX and PDF; the issued report does not;
- `/verify/{report_no}` knows the issued report, accepts the code printed in its footer and refuses
  an altered code;
- the evidence is a snapshot: re-ingesting one of the cited records with a changed title changes the
  index but not the issued report (same reference text, same verification outcome).

The demo corpus holds only Chinese-language papers without publication years. Undated records stay
inside a case's search window (they cannot be ruled out), so here the window keeps every hit, and one
paper is marked 国外 by hand so that the report's 国外 group is exercised too.

`test_strategy_run_at_reads_back_as_it_was_reported` documents a known bug and fails until it is fixed.
"""

from __future__ import annotations

import gzip
import io
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from docx import Document as DocxDocument
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from appdb import accounts
from appdb.session import session_factory
from casework.core import LOCAL_TZ, today_local
from ingest.formats.csl import parse_line
from ingest.writer import write_records
from mappings.analysis.tokenizer import Tokenizer
from mappings.model import Record
from mappings.naming import IndexNames
from tests.conftest import DEMO, new_prefix, settings_for, site_index
from web.app import create_app

PASSWORD = "Test-pass-1"
SECTIONS = ("一、查新目的", "二、科学技术要点", "三、查新点与查新要求", "四、文献检索范围及检索策略",
            "五、检索结果", "六、查新结论", "七、查新员、审核员声明", "八、附件清单", "九、备注")  # fmt: skip
GROUP_HEADING = re.compile(r"^\d\. (国内|国外)(密切相关|一般相关)文献$")
FOOTER_CODE = re.compile(r"验证码：([0-9A-F]{4}(?:-[0-9A-F]{4}){3})")
WATERMARK = "草稿"

HEADER = {
    "project_name_zh": "大跨度斜拉桥塔梁间粘滞阻尼约束体系及钢-混结合段关键技术",
    "project_name_en": "Viscous damping restraint between tower and deck of long-span cable-stayed bridges "
    "and the steel-concrete joint section",
    "client_name": "贵州省交通规划勘察设计研究院股份有限公司",
    "client_address": "贵阳市观山湖区阳关大道100号",
    "client_postcode": "550081",
    "client_principal": "李总工",
    "client_contact": "赵工",
    "client_phone": "0851-85901234",
    "client_fax": "0851-85905678",
    "client_email": "bridge@example.cn",
}
COMMISSION_DATE = "2026-03-02"
POINTS = (
    "在斜拉桥塔梁之间设置液体粘滞阻尼器，并按桥面相对高度优化阻尼参数，实现顺桥向减震与限位",
    "钢-混结合段采用PBL剪力键，并给出考虑贯穿钢筋作用的承载力计算公式",
    "钢桁梁合龙时依据实测索力与温度进行配切控制",
)


@dataclass(frozen=True)
class Search:
    q: str
    override: bool
    in_report: bool
    terms_zh: tuple[str, ...] = ()
    terms_en: tuple[str, ...] = ()


SEARCHES = (
    Search("TI='斜拉桥' AND KY='斜拉桥'", False, True, ("斜拉桥",), ("cable-stayed bridge",)),
    Search("TKA='斜拉桥' AND TKA='阻尼器'", False, True, ("阻尼器",), ("viscous damper",)),
    Search("SU='斜拉桥'*('施工监控'+'索力')", True, True, ("施工监控", "索力")),
    # A trial search the analyst keeps in the log but leaves out of section 四.
    Search("TKA%'斜拉桥 索力'", False, False, ("合龙",)),
)


@dataclass(frozen=True)
class Evidence:
    title: str  # the paper's real title in the demo corpus
    relevance: str
    origin: str
    points: tuple[str, ...]
    description: str
    excerpt: str = ""


EVIDENCE = (
    Evidence("大跨度斜拉桥顺桥向阻尼约束体系研究", "密切相关", "国内", ("NP-1",),
             "以双塔斜拉桥为背景比较E型钢阻尼器与液体粘滞阻尼器两种阻尼约束减震体系。",
             "综合考虑减震限位效果及综合使用性能,在该斜拉桥中推荐使用液体粘滞阻尼器约束减震体系方案"),
    Evidence("斜拉桥面相对高度对粘滞阻尼器减震效果影响研究", "密切相关", "国内", ("NP-1",),
             "改变下塔柱高度，分析桥面相对高度对塔梁间粘滞阻尼器减震效果的影响。",
             "桥面相对高度对粘滞阻尼器最优参数及最优减震效果均有较大影响"),
    Evidence("某大跨径斜拉桥钢-混结合段PBL剪力键承载力研究", "密切相关", "国内", ("NP-2",),
             "通过推出试验研究钢-混结合段PBL剪力键的破坏形态与承载能力。",
             "得出PBL剪力键的极限承载力和抗剪刚度计算公式,该公式具有较高的精度"),
    Evidence("贵黔高速鸭池河特大桥钢桁梁合龙施工控制技术", "密切相关", "国内", ("NP-3",),
             "主跨800 m混合梁斜拉桥钢桁梁自然合龙，按实测温度确定合龙温度与弦杆配切长度。",
             "确定合龙段的合龙温度和放置温度分别为17 ℃和19 ℃,上、下游弦杆的配切长度分别为8114 mm和8136 mm"),
    Evidence("崖门大桥施工监控的技术流程与主要成果", "一般相关", "国内", ("NP-3",),
             "介绍斜拉桥施工监控中的仿真计算、参数识别及标高与索力调整。"),
    # Marked 国外 by hand (see the module docstring), so the report prints a 国外 group with an entry.
    Evidence("番禺大桥斜拉桥主塔施工质量监理", "一般相关", "国外", ("NP-1", "NP-3"),
             "介绍斜拉桥主塔施工质量控制的主要工作内容。"),
)  # fmt: skip

COMPARISONS = {
    "NP-1": (("文献[1]比较了E型钢阻尼器和液体粘滞阻尼器对大跨度斜拉桥的减震限位效果；文献[2]分析了桥面相对高度"
              "对粘滞阻尼器最优参数的影响。两者均未按桥面相对高度优化塔梁间阻尼参数。"),
             "在所检文献范围内，已有塔梁间设置粘滞阻尼器的报道，未见按桥面相对高度优化阻尼参数以兼顾减震与限位的报道。"),
    "NP-2": ("文献[3]通过推出试验得出PBL剪力键的极限承载力和抗剪刚度计算公式，未单独考虑贯穿钢筋的作用。",
             "在所检文献范围内，未见考虑贯穿钢筋作用的PBL剪力键承载力计算公式的报道。"),
    "NP-3": ("文献[4]采用实测温度确定钢桁梁合龙温度。", "已见类似报道。"),
}  # fmt: skip
# What the analyst writes for NP-3 after the reviewer returned the case.
REVISED_NP3 = (
    (
        "文献[4]依据48 h连续观测确定合龙温度与上、下游弦杆配切长度，并以分级张拉索力调整合龙口姿态；"
        "文献[5]、[6]介绍斜拉桥施工监控与主塔施工质量控制，未涉及钢桁梁配切。"
    ),
    "国内已有依据实测索力与温度进行钢桁梁合龙配切控制的报道，本查新点不具有新颖性。",
)
RETURN_COMMENT = "请补充查新点3与文献[5]、[6]的对比分析，并说明合龙配切的具体依据。"


# ---------------------------------------------------------------- the site


@dataclass
class Site:
    client: TestClient
    es: Elasticsearch
    tokenizer: Tokenizer
    names: IndexNames
    db: sessionmaker[Session]
    ids: dict[str, int]
    tokens: dict[str, str]
    records: dict[str, Record]  # by title

    def h(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


def _load_demo() -> list[Record]:
    now = datetime.now(UTC)
    with gzip.open(DEMO, "rt", encoding="utf-8") as f:
        return [parse_line(line, now=now, version=1) for line in f if line.strip()]


def _seed(db: sessionmaker[Session]) -> tuple[dict[str, int], dict[str, str]]:
    people = [
        ("zhang-a", "A", ["analyst"], "张明", "馆员", False),
        ("li-a", "A", ["reviewer"], "李华", "研究馆员", True),
        ("wang-a", "A", ["centre_admin"], "王强", None, False),
    ]
    ids, tokens = {}, {}
    with db.begin() as s:
        centre = accounts.create_centre(s, code="A", name="贵州省科技查新中心", province_code="52",
                                        institution_no="001", pattern="most")  # fmt: skip
        accounts.set_centre_contact(centre, {"address": "贵阳市南明区科技信息大楼", "phone": "0851-85555555",
                                             "postcode": "550001", "principal": "陈主任", "contact": "刘老师",
                                             "email": "chaxin@example.org"})  # fmt: skip
        for name, code, roles, real_name, title, senior in people:
            user = accounts.create_user(s, username=name, password=PASSWORD, real_name=real_name, centre=code,
                                        roles=roles, professional_title=title, senior_title=senior)  # fmt: skip
            ids[name] = user.id
            tokens[name] = accounts.create_api_token(s, user, "test")[1]
    return ids, tokens


@pytest.fixture(scope="module")
def site(es: Elasticsearch, tokenizer: Tokenizer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    settings = settings_for(
        new_prefix("demo-case"), f"sqlite:///{tmp_path_factory.mktemp('democase') / 'c.db'}"
    )
    with site_index(es, tokenizer, settings) as names:
        records = _load_demo()
        written = write_records(es, names.write_alias, [(str(i), r) for i, r in enumerate(records)], tokenizer,
                                refresh=True)  # fmt: skip
        assert written.indexed == len(records) == 2000 and not written.failed
        db = session_factory(settings.effective_database_url)
        ids, tokens = _seed(db)
        with TestClient(create_app(settings)) as client:
            yield Site(client, es, tokenizer, names, db, ids, tokens, {r.title: r for r in records})


# ---------------------------------------------------------------- helpers


def _ok(resp: Any, status: int = 200) -> Any:
    assert resp.status_code == status, (
        f"{resp.request.method} {resp.request.url}: {resp.status_code} {resp.text}"
    )
    return resp.json() if resp.content else None


def _go(site: Site, who: str, case_id: int, action: str, **body: Any) -> dict[str, Any]:
    resp = site.client.post(f"/api/v1/cases/{case_id}/transitions", json={"action": action, **body},
                            headers=site.h(who))  # fmt: skip
    return dict(_ok(resp))


def _public_search(site: Site, q: str) -> tuple[int, str, str]:
    """What `GET /api/v1/search?mode=pro` says for an expression: total, normalised and CNKI reading."""
    body = _ok(site.client.get("/api/v1/search", params={"q": q, "mode": "pro"}, headers=site.h("zhang-a")))
    return body["total"], body["normalized"], body["cnki"]


def _as_utc(stamp: str) -> datetime:
    moment = datetime.fromisoformat(stamp)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite hands back naive UTC


def _same_instant(entry: dict[str, Any]) -> dict[str, Any]:
    return {**entry, "run_at": _as_utc(entry["run_at"])}


def _docx(data: bytes) -> Any:
    return DocxDocument(io.BytesIO(data))


def _docx_text(doc: Any) -> str:
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    for section in doc.sections:
        for part in (section.header, section.footer):
            parts.extend(p.text for p in part.paragraphs)
    return "\n".join(parts)


def _docx_header_xml(doc: Any) -> str:
    return "".join(section.header._element.xml for section in doc.sections)


def _pdftotext(data: bytes) -> str:
    if shutil.which("pdftotext") is None or shutil.which("pdffonts") is None:
        pytest.skip("pdftotext / pdffonts (poppler-utils) are not installed")
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(data)
        f.flush()
        done = subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", f.name, "-"], capture_output=True,
                              check=True, timeout=60)  # fmt: skip
    return done.stdout.decode("utf-8")


def _pdffonts(data: bytes) -> list[str]:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(data)
        f.flush()
        done = subprocess.run(["pdffonts", f.name], capture_output=True, check=True, timeout=60)
    lines = done.stdout.decode("utf-8").splitlines()[2:]
    return [line.split()[0].split("+")[-1] for line in lines if line.strip()]


def squash(text: str) -> str:
    """Text without whitespace: the layout breaks lines (and pdftotext spaces) where it likes."""
    return re.sub(r"\s+", "", text)


def _report(site: Site, case_id: int, kind: str) -> bytes:
    resp = site.client.get(f"/api/v1/cases/{case_id}/report.{kind}", headers=site.h("zhang-a"))
    assert resp.status_code == 200, resp.text
    return bytes(resp.content)


# ---------------------------------------------------------------- the case, step by step


@dataclass
class Run:
    """One search for the case, and what the public search API says about the same expression."""

    search: Search
    entry: dict[str, Any]  # the strategy-log entry in the search response (after choosing, if it was)
    total: int  # hits in the search response
    public_total: int  # GET /api/v1/search?mode=pro for the expression restricted to the search window
    public_normalized: str  # … and its readings of the unrestricted expression
    public_cnki: str
    before: datetime
    after: datetime


@dataclass
class Walk:
    """What the case's walk through the API left behind, for the tests to check."""

    case_id: int
    created: dict[str, Any]
    runs: list[Run]
    logged: dict[str, Any]  # the case after the searches
    docs: dict[str, dict[str, Any]]  # by title, as the API answered when each was filed
    returned: dict[str, Any]  # the case as the analyst sees it after the reviewer returned it
    signed: dict[str, Any]
    verify_when_signed: dict[str, Any]
    draft_docx: bytes  # signed, not yet issued
    draft_pdf: bytes
    issued_docx: bytes
    issued_pdf: bytes
    archived: dict[str, Any]

    @property
    def entries(self) -> list[dict[str, Any]]:
        return [run.entry for run in self.runs]


def _open_case(site: Site) -> dict[str, Any]:
    body = {
        **HEADER,
        "commission_date": COMMISSION_DATE,
        "purpose": "立项",
        "scope": "国内外",
        "purpose_text": "为申报贵州省科技支撑计划项目提供查新依据。",
        "technical_points": "本项目针对主跨800 m级混合梁斜拉桥的纵向地震响应与结构连接问题：\n"
        "1. 在塔梁之间设置液体粘滞阻尼器，按桥面相对高度优化阻尼系数与速度指数；\n"
        "2. 钢-混结合段采用开孔板连接件（PBL剪力键），建立考虑贯穿钢筋的承载力计算公式；\n"
        "3. 钢桁梁合龙采用基于实测索力与温度的配切控制方法。",
        "requirements": "查证国内外有无与本项目查新点相同或类似的研究报道，并进行对比分析。",
        "terms_zh": ["斜拉桥", "剪力键"],
        "terms_en": ["PBL shear connector"],
        "attachments": ["密切相关文献原文复印件 4 篇"],
    }
    case = _ok(site.client.post("/api/v1/cases", json=body, headers=site.h("zhang-a")), 201)
    for n, text in enumerate(POINTS, 1):
        point = _ok(site.client.post(f"/api/v1/cases/{case['id']}/points", json={"text": text},
                                     headers=site.h("zhang-a")), 201)  # fmt: skip
        assert point == {"id": f"NP-{n}", "text": text}
    return dict(case)


def _run_searches(site: Site, case_id: int) -> tuple[list[Run], dict[str, str]]:
    """Run SEARCHES for the case; returns the runs and the record IDs of all hits by title."""
    year = int(COMMISSION_DATE[:4])
    runs, hit_ids = [], {}
    for search in SEARCHES:
        before = datetime.now(UTC)
        body = {"q": search.q, "override": search.override, "size": 50, "terms_zh": list(search.terms_zh),
                "terms_en": list(search.terms_en)}  # fmt: skip
        result = _ok(
            site.client.post(f"/api/v1/cases/{case_id}/search", json=body, headers=site.h("zhang-a"))
        )
        after = datetime.now(UTC)
        entry = result["strategy"]
        assert entry["in_report"] is True, "a new entry goes into section 四 until the analyst says otherwise"
        if not search.in_report:
            chosen = site.client.patch(f"/api/v1/cases/{case_id}/strategies/{entry['id']}",
                                       json={"in_report": False}, headers=site.h("zhang-a"))  # fmt: skip
            entry = _ok(chosen)
        # The window keeps what was published up to the commission year and what is undated, which in
        # the query language is "NOT PY>year"; with the override nothing is cut off.
        restricted = search.q if search.override else f"({search.q}) NOT PY>{year}"
        public_total, _, _ = _public_search(site, restricted)
        _, normalized, cnki = _public_search(site, search.q)
        runs.append(Run(search, entry, result["total"], public_total, normalized, cnki, before, after))
        hit_ids.update({hit["title"]: hit["id"] for hit in result["hits"]})
    return runs, hit_ids


def _file_evidence(site: Site, case_id: int, hit_ids: dict[str, str]) -> dict[str, dict[str, Any]]:
    docs = {}
    for ev in EVIDENCE:
        assert ev.title in hit_ids, f"{ev.title} is a hit of one of the logged searches"
        body = {"record_id": hit_ids[ev.title], "relevance": ev.relevance, "origin": ev.origin,
                "points": list(ev.points), "description": ev.description, "excerpt": ev.excerpt}  # fmt: skip
        url = f"/api/v1/cases/{case_id}/documents"
        docs[ev.title] = _ok(site.client.post(url, json=body, headers=site.h("zhang-a")), 201)
    return docs


def _conclude(site: Site, case_id: int, label: str, comparison: str, conclusion: str) -> None:
    body = {"comparison": comparison, "conclusion": conclusion}
    point = _ok(site.client.patch(f"/api/v1/cases/{case_id}/points/{label}", json=body,
                                  headers=site.h("zhang-a")))  # fmt: skip
    assert (point["comparison"], point["conclusion"]) == (comparison, conclusion)


@pytest.fixture(scope="module")
def walk(site: Site) -> Walk:
    """The whole case, through the API only: commission, searches, evidence, review loop, sign, issue, archive."""
    c = site.client
    created = _open_case(site)
    case_id = int(created["id"])
    runs, hit_ids = _run_searches(site, case_id)
    logged = _ok(c.get(f"/api/v1/cases/{case_id}", headers=site.h("zhang-a")))
    docs = _file_evidence(site, case_id, hit_ids)
    for label, (comparison, conclusion) in COMPARISONS.items():
        _conclude(site, case_id, label, comparison, conclusion)
    _ok(c.patch(f"/api/v1/cases/{case_id}", headers=site.h("zhang-a"), json={
        "results_summary": "在Chaxin平台文献库中按上述检索式检索，经逐篇阅读筛选出相关文献如下。",
        "overall_conclusion": "综上，在所检文献范围内，查新点1、2未见相同报道；查新点3国内已有相同报道。",
        "remarks": "本报告仅对委托日之前公开的文献负责。"}))  # fmt: skip

    # 国内外: the foreign side was searched in Web of Science and is logged as an external search.
    _ok(c.post(f"/api/v1/cases/{case_id}/external", headers=site.h("zhang-a"), json={
        "database": "Web of Science", "year_from": 1990, "year_to": 2026, "expression": "TS=(attitude control)",
        "hits": 57, "searched_on": "2026-03-03"}), 201)  # fmt: skip
    logged = _ok(c.get(f"/api/v1/cases/{case_id}", headers=site.h("zhang-a")))

    # Review: the reviewer is assigned, the case submitted, returned with a comment, revised, resubmitted.
    # The demo corpus has no authors, journals or years: the analyst confirms those warnings.
    _go(site, "zhang-a", case_id, "start_drafting")
    _ok(c.post(f"/api/v1/cases/{case_id}/reviewer", json={"reviewer_id": site.ids["li-a"]},
               headers=site.h("zhang-a")))  # fmt: skip
    assert _go(site, "zhang-a", case_id, "submit", confirm_warnings=True)["state"] == "in_review"
    _go(site, "li-a", case_id, "return", comment=RETURN_COMMENT)
    returned = _ok(c.get(f"/api/v1/cases/{case_id}", headers=site.h("zhang-a")))
    _conclude(site, case_id, "NP-3", *REVISED_NP3)
    _go(site, "zhang-a", case_id, "start_drafting")
    assert _go(site, "zhang-a", case_id, "submit", confirm_warnings=True)["state"] == "in_review"

    signed = _go(site, "li-a", case_id, "sign")
    verify_when_signed = c.get(f"/verify/{signed['report_no']}").json()
    draft_docx, draft_pdf = _report(site, case_id, "docx"), _report(site, case_id, "pdf")
    assert _go(site, "li-a", case_id, "issue")["state"] == "issued"
    archived = _go(site, "zhang-a", case_id, "archive")
    return Walk(case_id, created, runs, logged, docs, returned, signed, verify_when_signed, draft_docx, draft_pdf,
                _report(site, case_id, "docx"), _report(site, case_id, "pdf"), archived)  # fmt: skip


# ---------------------------------------------------------------- the case as the API reports it


def test_the_case_keeps_the_full_header(walk: Walk) -> None:
    assert walk.created["state"] == "received"
    assert {name: walk.created[name] for name in HEADER} == HEADER
    assert [p["text"] for p in walk.archived["points"]] == list(POINTS)


def test_strategy_log_records_each_search_as_the_public_search_sees_it(walk: Walk) -> None:
    year = int(COMMISSION_DATE[:4])
    for run in walk.runs:
        entry, search = run.entry, run.search
        assert run.public_total > 0, f"{search.q} finds real papers in the demo corpus"
        assert entry["hits"] == run.total == run.public_total, search.q
        assert (entry["expression"], entry["normalized"], entry["cnki"]) == (
            search.q, run.public_normalized, run.public_cnki)  # fmt: skip
        assert entry["window_override"] is search.override
        assert entry["year_to"] == (None if search.override else year)
        assert (entry["terms_zh"], entry["terms_en"]) == (list(search.terms_zh), list(search.terms_en))
        assert entry["in_report"] is search.in_report
        slack = timedelta(seconds=1)
        assert run.before - slack <= _as_utc(entry["run_at"]) <= run.after + slack, "run when it was sent"
    assert walk.logged["state"] == "searching", "the first search starts the search phase"
    # Compared as instants: the spelling differs between responses on SQLite (see
    # test_strategy_run_at_reads_back_as_it_was_reported).
    platform = [e for e in walk.logged["strategies"] if e["kind"] == "platform"]
    assert [_same_instant(e) for e in platform] == [_same_instant(e) for e in walk.entries], (
        "the log holds each search once, as run, in order"
    )


def test_documents_are_filed_as_marked(walk: Walk) -> None:
    for ev in EVIDENCE:
        doc = walk.docs[ev.title]
        assert (doc["relevance"], doc["origin"], doc["points"]) == (ev.relevance, ev.origin, list(ev.points))
        assert (doc["description"], doc["excerpt"]) == (ev.description, ev.excerpt)
        assert doc["reference"].startswith(ev.title) and doc["reference"].endswith("."), "GB/T 7714, [J]"
    assert walk.archived["documents"] == [walk.docs[ev.title] for ev in EVIDENCE]


def test_review_returns_with_a_visible_comment(walk: Walk) -> None:
    returned = walk.returned
    assert (returned["state"], returned["state_label"]) == ("returned", "退回修改")
    assert returned["review_comment"] == RETURN_COMMENT
    assert returned["actions"] == ["start_drafting", "submit"], "a returned case may be resubmitted directly"
    point3 = next(p for p in walk.archived["points"] if p["id"] == "NP-3")
    assert (point3["comparison"], point3["conclusion"]) == REVISED_NP3
    assert walk.signed["review_comment"] == "", "the comment was dealt with; signing clears it"
    assert walk.archived["state"] == "archived" and walk.archived["reviewer_id"] is not None


def test_signing_numbers_the_report_by_the_centres_most_pattern(walk: Walk) -> None:
    number = walk.signed["report_no"]
    # year(4) + province code 52 + institution 001 + serial 00001: the centre's first report this year.
    assert re.fullmatch(r"\d{14}", number) and number == f"{today_local().year}5200100001"
    assert walk.signed["state"] == "signed" and walk.archived["report_no"] == number
    assert walk.verify_when_signed["issued"] is False, "signed is not issued yet"


# ---------------------------------------------------------------- the rendered report


def test_issued_docx_holds_every_section_and_what_was_entered(walk: Walk) -> None:
    doc = _docx(walk.issued_docx)
    text = _docx_text(doc)
    for heading in SECTIONS:
        assert heading in text, heading
    for value in HEADER.values():
        assert value in text, value
    for point in POINTS:
        assert point in text, point
    for label, (comparison, conclusion) in {**COMPARISONS, "NP-3": REVISED_NP3}.items():
        assert comparison in text and conclusion in text, label
    assert COMPARISONS["NP-3"][0] not in text, "the comparison the reviewer returned was revised"
    for ev in EVIDENCE:
        assert ev.description in text and ev.excerpt in text, ev.title
    for sign in ("张明", "李华", "研究馆员", walk.signed["report_no"]):
        assert sign in text, sign
    _check_groups(doc, walk.docs)
    for entry in walk.entries:
        assert (f"CNKI：{entry['cnki']}" in text) is entry["in_report"], entry["expression"]
    _check_strategy_table(doc, walk.logged["strategies"])


def _check_groups(doc: Any, docs: dict[str, dict[str, Any]]) -> None:
    """Each reference sits under the 五 group heading of its origin and relevance."""
    paragraphs = [p.text for p in doc.paragraphs]
    for ev in EVIDENCE:
        reference = docs[ev.title]["reference"]
        where = [i for i, text in enumerate(paragraphs) if text.endswith(reference)]
        assert len(where) == 1, f"{ev.title} is listed once in section 五"
        group = next(m for text in reversed(paragraphs[: where[0]]) if (m := GROUP_HEADING.match(text)))
        assert (group.group(1), group.group(2)) == (ev.origin, ev.relevance), ev.title


def _check_strategy_table(doc: Any, entries: list[dict[str, Any]]) -> None:
    """Section 四 prints every chosen entry (readings, hits, Beijing time) and nothing of the others."""
    table = next(
        t for t in doc.tables if [c.text for c in t.rows[0].cells][:3] == ["序号", "数据库", "检索式"]
    )
    rows = [[cell.text for cell in row.cells] for row in table.rows[1:]]
    chosen = [e for e in entries if e["in_report"]]
    assert len(rows) == len(chosen)
    for row, entry in zip(rows, chosen, strict=True):
        if entry["kind"] == "external":  # as typed there, dated by the day it ran there
            assert row[1:] == [
                entry["database"],
                entry["expression"],
                str(entry["hits"]),
                entry["searched_on"],
            ]
            continue
        run_at = _as_utc(entry["run_at"]).astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")
        cell = f"{entry['normalized']}\nCNKI：{entry['cnki']}"
        assert row[1:] == [entry["database"], cell, str(entry["hits"]), run_at]


def test_docx_draft_is_watermarked_and_the_issued_report_is_not(walk: Walk) -> None:
    draft = _docx(walk.draft_docx)
    assert WATERMARK in _docx_text(draft)
    assert f'string="{WATERMARK}"' in _docx_header_xml(draft), "Word's own watermark shape in the page header"
    issued = _docx(walk.issued_docx)
    assert WATERMARK not in _docx_text(issued) and WATERMARK not in _docx_header_xml(issued)


def test_pdf_reads_back_as_chinese_text(walk: Walk) -> None:
    assert walk.issued_pdf.startswith(b"%PDF")
    raw = _pdftotext(walk.issued_pdf)
    assert "\ufffd" not in raw
    text = squash(raw)
    for needle in (*SECTIONS, HEADER["project_name_zh"], *(ev.title for ev in EVIDENCE)):
        assert squash(needle) in text, needle
    # No tofu: a missing glyph would come from a fallback font or be drawn as .notdef; every font
    # embedded is a CJK serif or the Times-compatible Latin serif.
    fonts = _pdffonts(walk.issued_pdf)
    assert any("CJK" in name or "Sung" in name or "Ming" in name for name in fonts), fonts
    assert all(re.search(r"Serif|Sung|Ming|Times|Termes", name) for name in fonts), fonts
    # The footer's code is the one the DOCX prints.
    assert set(FOOTER_CODE.findall(text)) == set(FOOTER_CODE.findall(_docx_text(_docx(walk.issued_docx))))
    assert WATERMARK not in raw
    pages = [page for page in _pdftotext(walk.draft_pdf).split("\f") if page.strip()]
    assert pages and all(WATERMARK in page for page in pages), "every page of a draft says 草稿"


# ---------------------------------------------------------------- verification and the snapshot rule


def _printed_code(walk: Walk) -> str:
    codes = set(FOOTER_CODE.findall(_docx_text(_docx(walk.issued_docx))))
    assert len(codes) == 1, codes
    return codes.pop()


def test_verify_accepts_the_printed_code_and_refuses_an_altered_one(site: Site, walk: Walk) -> None:
    number, code = walk.signed["report_no"], _printed_code(walk)
    bare = site.client.get(f"/verify/{number}").json()
    assert (bare["issued"], bare["genuine"]) == (True, None)
    genuine = site.client.get(f"/verify/{number}", params={"code": code}).json()
    assert (genuine["issued"], genuine["genuine"]) == (True, True)
    altered = code[:-1] + ("0" if code[-1] != "0" else "1")
    refused = site.client.get(f"/verify/{number}", params={"code": altered}).json()
    assert (refused["issued"], refused["genuine"]) == (True, False)


def test_reingesting_a_cited_record_does_not_change_the_issued_report(site: Site, walk: Walk) -> None:
    """The first cited paper is written again, version 2, with a corrected title: the index changes,
    the issued report does not (same reference text, same content, same verification outcome)."""
    number, code = walk.signed["report_no"], _printed_code(walk)
    verdict = site.client.get(f"/verify/{number}", params={"code": code}).json()
    cited = site.records[EVIDENCE[0].title]
    changed = cited.model_copy(update={"title": cited.title + "（更正版）", "version": 2})
    result = write_records(site.es, site.names.write_alias, [("fix", changed)], site.tokenizer, refresh=True)
    assert result.indexed == 1 and not result.failed
    assert (
        _ok(site.client.get(f"/api/v1/records/{cited.id}", headers=site.h("zhang-a")))["title"]
        == changed.title
    )

    again = _docx(_report(site, walk.case_id, "docx"))
    reference = walk.docs[EVIDENCE[0].title]["reference"]

    def printed(doc: Any) -> list[bytes]:
        return [p.text.encode() for p in doc.paragraphs if p.text.endswith(reference)]

    assert printed(again) == printed(_docx(walk.issued_docx)) and len(printed(again)) == 1
    assert _docx_text(again) == _docx_text(_docx(walk.issued_docx)) and "更正版" not in _docx_text(again)
    stored = _ok(site.client.get(f"/api/v1/cases/{walk.case_id}", headers=site.h("zhang-a")))["documents"]
    assert [d["reference"] for d in stored] == [walk.docs[ev.title]["reference"] for ev in EVIDENCE]
    assert site.client.get(f"/verify/{number}", params={"code": code}).json() == verdict


# ---------------------------------------------------------------- known bug


def test_strategy_run_at_reads_back_as_it_was_reported(site: Site) -> None:
    """A strategy entry's `run_at` is one instant with one spelling, and it says which time zone it is in.

    Known bug (fails on SQLite): the search response spells it from the in-memory aware datetime
    ("…+00:00"), later reads spell what SQLite hands back, a naive UTC time ("…" without offset), which a
    client in Beijing would read as local time, eight hours off.
    """
    case_id = int(_open_case(site)["id"])
    run = _ok(site.client.post(f"/api/v1/cases/{case_id}/search", json={"q": SEARCHES[0].q},
                               headers=site.h("zhang-a")))["strategy"]  # fmt: skip
    read = _ok(site.client.get(f"/api/v1/cases/{case_id}", headers=site.h("zhang-a")))["strategies"][0]
    for stamp in (run["run_at"], read["run_at"]):
        assert datetime.fromisoformat(stamp).utcoffset() is not None, f"{stamp} has no UTC offset"
    assert read["run_at"] == run["run_at"]
