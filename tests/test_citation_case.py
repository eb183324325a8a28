"""收录引证 cases on the real CSSCI export: paper list, 收录, 引证 counts, snapshot, bad input.

The export in ../shared (318 papers of 智慧图书馆 research with every reference) is read with the
`cssci` ingest format into a fresh index and linked as the worker links it. Ten papers cited inside
the set are entered as a client would paste them, confirmed, and their 总被引/自引/他引 checked against
numbers written here. They were computed once by this code and checked by hand against the export:
- 王世伟《再论智慧图书馆》(图书馆杂志 2012): 28 reference lines carry the title, but 6 are 孙利芳's
  《再论智慧图书馆定义》(2015) and one (in 王世伟's own 2012 paper) the Taipei conference version, a
  different work; the other 21 cite it, one of them 王世伟's 《融合图书馆初探》(2016): 21 / 1 / 20;
- 沈奎林 et al.'s RFID robot paper (2016): 12 citing papers (an award notice and a patent with the
  same words are other works), 4 of them co-written by 邵波, its second author: 12 / 4 / 8.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from elasticsearch import Elasticsearch
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from appdb import accounts
from appdb.models import NoveltyCase
from appdb.session import session_factory
from casework.core import today_local
from citeindex.link import link_records
from ingest.formats import cssci as cssci_format
from ingest.writer import write_records
from mappings.analysis.tokenizer import Tokenizer
from mappings.model import Record, Reference
from mappings.naming import IndexNames
from tests.conftest import (
    Person,
    make_record,
    new_prefix,
    seed_people,
    seed_two_centres,
    settings_for,
    shared_file,
    site_index,
)
from web.app import create_app

CSSCI = ("citations", "cssci_smart_library", "LY_20230630122752.txt")
PASSWORD = "Citation-case-1"

# The client's list as pasted: GB/T 7714 lines, as applicants bring them.
PASTED = [
    "王世伟. 论智慧图书馆的三大特点[J]. 中国图书馆学报，2012，38（6）：22-28.",
    "王世伟. 未来图书馆的新模式——智慧图书馆[J]. 图书馆建设，2011（12）：1-5.",
    "初景利，段美珍. 智慧图书馆与智慧服务[J]. 图书馆建设，2018（4）：85-90,95.",
    "董晓霞，龚向阳，张若林，等. 智慧图书馆的定义、设计以及实现[J]. 现代图书情报技术，2011（2）：76-80.",
    "刘炜，陈晨，张磊. 5G与智慧图书馆建设[J]. 中国图书馆学报，2019，45（5）：42-50.",
    "初景利，段美珍. 从智能图书馆到智慧图书馆[J]. 国家图书馆学刊，2019，28（1）：3-9.",
    "王世伟. 再论智慧图书馆[J]. 图书馆杂志，2012，31（11）：2-7.",
    "刘炜，刘圣婴. 智慧图书馆标准规范体系框架初探[J]. 图书馆建设，2018（4）：91-95.",
    "曾子明，金鹏. 智慧图书馆个性化推荐服务体系及模式研究[J]. 图书馆杂志，2015，34（12）：16-22.",
    "沈奎林，邵波，陈力军，等. 基于超高频RFID的图书盘点机器人的设计和实现[J]. 图书馆学研究，2016（7）：24-28.",
]
# (总被引, 自引, 他引) of each pasted paper, in order.
EXPECTED = [(76, 2, 74), (65, 1, 64), (39, 4, 35), (37, 0, 37), (24, 1, 23), (22, 1, 21), (21, 1, 20),
            (15, 2, 13), (13, 2, 11), (12, 4, 8)]  # fmt: skip
TOTAL, OTHERS = 324, 306


@dataclass
class Site:
    app: FastAPI
    client: TestClient
    tokens: dict[str, str]
    ids: dict[str, int]
    names: IndexNames
    es: Elasticsearch
    tokenizer: Tokenizer
    records: list[Record]
    database_url: str

    def h(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def call(self, who: str, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        resp = self.client.request(method, path, headers=self.h(who), **kwargs)
        assert resp.status_code == expect, f"{method} {path}: {resp.status_code} {resp.text[:500]}"
        return resp.json() if resp.content and "json" in resp.headers.get("content-type", "") else resp


def _records() -> list[Record]:
    parsed = cssci_format.parse_file(shared_file(*CSSCI), now=datetime.now(UTC), version=1)
    return [r for r in parsed if isinstance(r, Record)]


@pytest.fixture(scope="module")
def site(es: Elasticsearch, tokenizer: Tokenizer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    records = _records()
    settings = settings_for(new_prefix("citecase"), f"sqlite:///{tmp_path_factory.mktemp('citecase') / 'c.db'}")
    with site_index(es, tokenizer, settings, records) as names:
        link_records(es, names.write_alias, [r.id for r in records], tokenizer)
        es.indices.refresh(index=names.read_alias)
        db = session_factory(settings.effective_database_url)
        people: list[Person] = [("ana", "A", ["analyst"], None), ("rev", "A", ["reviewer"], "研究馆员"),
                                ("ana-b", "B", ["analyst"], None), ("cadm", "A", ["centre_admin"], None),
                                ("ana2", "A", ["analyst"], None)]  # fmt: skip
        with db.begin() as s:
            seed_two_centres(s)
            accounts.set_centre_contact(accounts.get_centre(s, "A"), {
                "address": "贵阳市南明区", "postcode": "550001", "principal": "陈主任", "contact": "刘老师",
                "phone": "0851-85555555", "email": "chaxin@example.org"})  # fmt: skip
            ids, tokens = seed_people(s, people, PASSWORD)
        app = create_app(settings)
        with TestClient(app) as client:
            yield Site(app, client, tokens, ids, names, es, tokenizer, records, settings.effective_database_url)


def new_case(site: Site, **fields: Any) -> dict[str, Any]:
    body = {"kind": "citation", "client_name": "王世伟", "client_type": "个人", "client_unit": "上海社会科学院",
            "client_phone": "021-00000000", "purpose": "职称评审", "cutoff_date": date.today().isoformat(),
            "databases": ["CSSCI", "SCIE"], "citing_list": True, "show_h_index": True,
            "reviewer_id": site.ids["rev"], **fields}  # fmt: skip
    return dict(site.call("ana", "POST", "/api/v1/cases", 201, json=body))


def content(site: Site, case_id: int) -> dict[str, Any]:
    return dict(site.call("ana", "GET", f"/api/v1/cases/{case_id}/citation"))


def paste(site: Site, case_id: int, lines: list[str], expect: int = 201) -> Any:
    return site.call("ana", "POST", f"/api/v1/cases/{case_id}/citation/papers", expect, json={"text": "\n".join(lines)})


def confirm_all(site: Site, case_id: int) -> dict[str, Any]:
    for paper in content(site, case_id)["papers"]:
        site.call("ana", "PATCH", f"/api/v1/cases/{case_id}/citation/papers/{paper['id']}",
                  json={"record_id": paper["record_id"]})  # fmt: skip
    return content(site, case_id)


def step(site: Site, who: str, case_id: int, action: str, expect: int = 200, **more: Any) -> Any:
    return site.call(who, "POST", f"/api/v1/cases/{case_id}/transitions", expect, json={"action": action, **more})


# ---------------------------------------------------------------- the ten papers


@pytest.mark.shared
def test_ten_pasted_papers_counts_and_totals(site: Site) -> None:
    case = new_case(site)
    assert case["kind"] == "citation"
    added = paste(site, case["id"], PASTED)
    assert len(added["added"]) == 10 and not added["merged"]
    shown = added["papers"]
    assert [p["status"] for p in shown] == ["matched"] * 10, [p["input"] for p in shown if p["status"] != "matched"]
    after = confirm_all(site, case["id"])
    counts = [(p["total"], p["self"], p["others"]) for p in after["papers"]]
    assert counts == EXPECTED
    assert (after["totals"]["citations"], after["totals"]["others"]) == (TOTAL, OTHERS)
    assert after["totals"]["indexed"] == {"CSSCI": 10, "SCIE": 0}
    # Every paper came from the CSSCI export, which holds each as a 期刊论文; this download carries no
    # CSSCI ID, so no accession number is printed rather than an invented one.
    assert after["papers"][0]["indexing"] == [{"database": "CSSCI", "accession": "", "doc_type": "期刊论文"}]
    assert after["not_indexed"] == {"CSSCI": [], "SCIE": list(range(1, 11))}
    # h-index: all ten are cited at least ten times; by 他引 the tenth has 8, the ninth 11.
    assert after["totals"]["h_index"] == 10
    assert after["totals"]["h_index_others"] == 9
    assert "被 CSSCI 收录 10 篇" in after["certification"] and "被 SCIE 收录 0 篇" in after["certification"]
    assert f"共被引用 {TOTAL} 次，其中他引 {OTHERS} 次" in after["certification"]
    # Per database the citers came from: all of them are CSSCI records.
    assert after["papers"][6]["by_database"] == {"CSSCI": {"total": 21, "others": 20}}
    marks = [c["self_citation"] for c in after["papers"][6]["citing"]]
    assert marks.count(True) == 1 and len(marks) == 21


@pytest.mark.shared
def test_exclusion_and_flip_change_counts_and_print_in_notes(site: Site) -> None:
    case = new_case(site)
    paste(site, case["id"], PASTED[6:7])
    paper = confirm_all(site, case["id"])["papers"][0]
    own = next(c for c in paper["citing"] if c["self_citation"])
    other = next(c for c in paper["citing"] if not c["self_citation"])
    base = f"/api/v1/cases/{case['id']}/citation/adjustments"
    # A reason is required, in Chinese.
    resp = site.client.post(base, headers=site.h("ana"), json={"cited_id": paper["record_id"],
                            "citing_id": other["id"], "action": "exclude", "reason": " "})  # fmt: skip
    assert resp.status_code == 400 and "理由" in resp.json()["error"]["message"]
    site.call("ana", "POST", base, 201, json={"cited_id": paper["record_id"], "citing_id": other["id"],
                                              "action": "exclude", "reason": "会议通知，非学术论文"})  # fmt: skip
    got = site.call("ana", "POST", base, 201, json={"cited_id": paper["record_id"], "citing_id": own["id"],
                                                    "action": "flip", "reason": "同名不同人"})  # fmt: skip
    p = got["papers"][0]
    assert (p["total"], p["self"], p["others"]) == (20, 0, 20)
    assert any("不计入：会议通知，非学术论文" in n for n in got["notes"])
    assert any("由自引改判为他引：同名不同人" in n for n in got["notes"])
    # Undo puts the computed mark back.
    site.call("ana", "DELETE", f"{base}/{got['adjustment_id']}", 204)
    p = content(site, case["id"])["papers"][0]
    assert (p["total"], p["self"], p["others"]) == (20, 1, 19)


# ---------------------------------------------------------------- bad input


@pytest.mark.shared
def test_empty_list_cannot_be_submitted_or_pasted(site: Site) -> None:
    case = new_case(site)
    resp = site.client.post(f"/api/v1/cases/{case['id']}/citation/papers", headers=site.h("ana"), json={"text": " \n "})
    assert resp.status_code == 400 and "论文清单为空" in resp.json()["error"]["message"]
    step(site, "ana", case["id"], "start_search")
    step(site, "ana", case["id"], "start_drafting")
    refused = site.client.post(f"/api/v1/cases/{case['id']}/transitions", headers=site.h("ana"),
                               json={"action": "submit"})  # fmt: skip
    assert refused.status_code == 409
    problems = refused.json()["error"]["problems"]
    assert any("论文清单为空" in p["message"] for p in problems)


@pytest.mark.shared
def test_duplicate_is_merged_with_a_note(site: Site) -> None:
    case = new_case(site)
    twice = [PASTED[0], PASTED[1], PASTED[0].replace("，", ", "), PASTED[1]]
    got = paste(site, case["id"], twice)
    assert len(got["added"]) == 2 and len(got["merged"]) == 2
    assert "重复" in got["message"] and "并入第 1 篇" in got["message"]
    assert "重复条目已合并" in got["papers"][0]["note"]
    # Pasting it again later merges into the paper already listed too.
    again = paste(site, case["id"], [PASTED[0]])
    assert again["added"] == [] and len(again["papers"]) == 2


@pytest.mark.shared
def test_a_paper_not_found_stays_as_not_indexed(site: Site) -> None:
    case = new_case(site)
    ghost = "张三. 一篇平台中没有的论文：量子图书馆的未来[J]. 不存在学报，2020（1）：1-9."
    got = paste(site, case["id"], [PASTED[6], ghost])
    assert [p["status"] for p in got["papers"]] == ["matched", "not_found"]
    # Submitting needs every paper decided, 未收录 included.
    step(site, "ana", case["id"], "start_search")
    step(site, "ana", case["id"], "start_drafting")
    refused = site.client.post(f"/api/v1/cases/{case['id']}/transitions", headers=site.h("ana"),
                               json={"action": "submit"})  # fmt: skip
    assert refused.status_code == 409
    assert any("第 2 篇论文尚未确认" in p["message"] for p in refused.json()["error"]["problems"])
    after = confirm_all(site, case["id"])
    assert [p["status"] for p in after["papers"]] == ["confirmed", "absent"]
    assert after["papers"][1]["reference"] == ghost and after["papers"][1]["found"] is False
    assert after["totals"]["papers"] == 2 and after["totals"]["indexed"]["CSSCI"] == 1
    assert "委托人提供的 2 篇论文被 CSSCI 收录 1 篇" in after["certification"]
    assert after["not_indexed"]["CSSCI"] == [2]
    step(site, "ana", case["id"], "submit")


@pytest.mark.shared
def test_broken_upload_changes_nothing(site: Site) -> None:
    case = new_case(site)
    paste(site, case["id"], PASTED[:1])
    before = content(site, case["id"])
    url = f"/api/v1/cases/{case['id']}/citation/papers/upload"
    for payload, fmt in ((b"\x00\x01\x02 not an export", "ris"), (b"TY  - JOUR\nER  -\n", "ris"),
                         ("随便一段文字".encode(), "")):  # fmt: skip
        resp = site.client.post(url, headers=site.h("ana"), files={"file": ("x.ris", payload)},
                                data={"format": fmt} if fmt else {})  # fmt: skip
        assert resp.status_code == 400, resp.text
        message = resp.json()["error"]["message"]
        assert any("\u4e00" <= ch <= "\u9fff" for ch in message)
    assert content(site, case["id"])["papers"] == before["papers"]


@pytest.mark.shared
def test_upload_of_an_export_matches_its_records(site: Site) -> None:
    case = new_case(site)
    ris = ("TY  - JOUR\nAU  - 王世伟\nTI  - 再论智慧图书馆\nT2  - 图书馆杂志\nPY  - 2012\nVL  - 31\nIS  - 11\n"
           "SP  - 2\nEP  - 7\nER  - \n").encode()  # fmt: skip
    got = site.call("ana", "POST", f"/api/v1/cases/{case['id']}/citation/papers/upload", 201,
                    files={"file": ("papers.ris", ris)}, data={"format": "ris"})  # fmt: skip
    assert len(got["papers"]) == 1 and got["papers"][0]["record_id"]
    assert got["papers"][0]["total"] == 21


@pytest.mark.shared
def test_future_cutoff_is_refused(site: Site) -> None:
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    resp = site.client.post("/api/v1/cases", headers=site.h("ana"), json={
        "kind": "citation", "client_name": "某人", "purpose": "职称评审", "cutoff_date": tomorrow,
        "databases": ["CSSCI"]})  # fmt: skip
    assert resp.status_code == 400 and "晚于今天" in resp.json()["error"]["message"]
    case = new_case(site)
    resp = site.client.patch(f"/api/v1/cases/{case['id']}/citation", headers=site.h("ana"), json={"cutoff_date": tomorrow})
    assert resp.status_code == 400 and "晚于今天" in resp.json()["error"]["message"]


@pytest.mark.shared
def test_cutoff_year_citers_are_left_to_the_analyst(site: Site) -> None:
    # Cut-off mid-2019: citers of 2019 cannot be placed by their year alone.
    case = new_case(site, cutoff_date="2019-06-30")
    paste(site, case["id"], PASTED[6:7])
    paper = confirm_all(site, case["id"])["papers"][0]
    undecided = [c for c in paper["citing"] if c["in_window"] is None]
    later = [c for c in paper["citing"] if c["in_window"] is False]
    assert paper["total"] == sum(1 for c in paper["citing"] if c["counted"])
    assert undecided and later
    assert all(c["year"] == 2019 for c in undecided) and all(c["year"] > 2019 for c in later)
    if undecided:
        step(site, "ana", case["id"], "start_search")
        step(site, "ana", case["id"], "start_drafting")
        refused = site.client.post(f"/api/v1/cases/{case['id']}/transitions", headers=site.h("ana"),
                                   json={"action": "submit"})  # fmt: skip
        assert refused.status_code == 409
        assert any("无法判定" in p["message"] for p in refused.json()["error"]["problems"])


def test_other_centre_sees_no_citation_case(site: Site) -> None:
    case = new_case(site)
    resp = site.client.get(f"/api/v1/cases/{case['id']}/citation", headers=site.h("ana-b"))
    assert resp.status_code == 404


# ---------------------------------------------------------------- workflow and snapshot


def _pdftext(pdf: bytes) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) not installed")
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()


@pytest.mark.shared
def test_issue_then_relink_and_reingest_leave_the_report_identical(site: Site) -> None:
    case = new_case(site)
    cid = case["id"]
    paste(site, cid, PASTED)
    live = confirm_all(site, cid)
    citer = live["papers"][0]["citing"][0]["id"]
    step(site, "ana", cid, "start_search")
    step(site, "ana", cid, "start_drafting")
    step(site, "ana", cid, "submit")
    step(site, "rev", cid, "return", comment="请核对第 7 篇的自引")
    step(site, "ana", cid, "submit")
    signed = step(site, "rev", cid, "sign")
    assert signed["report_no"] and signed["report_no"].startswith(str(date.today().year))
    issued = step(site, "rev", cid, "issue")
    assert issued["state"] == "issued" and issued["page_count"]
    pdf = site.call("ana", "GET", f"/api/v1/cases/{cid}/report.pdf").content
    docx = site.call("ana", "GET", f"/api/v1/cases/{cid}/report.docx").content
    frozen = content(site, cid)
    assert frozen["frozen"] is True
    flat = "".join(_pdftext(pdf).split())
    assert f"共被引用{TOTAL}次，其中他引{OTHERS}次" in flat and "被CSSCI收录10篇" in flat
    for heading in ("附表一", "附表二", "附表三", signed["report_no"]):
        assert heading in flat
    # Change the index under the issued report: re-ingest the export as a newer version, relink it,
    # and take one citing record of the first paper away altogether.
    newer = [r.model_copy(update={"version": r.version + 1}) for r in site.records]
    write_records(site.es, site.names.write_alias, [(r.id, r) for r in newer], site.tokenizer, refresh=True)
    link_records(site.es, site.names.write_alias, [r.id for r in newer], site.tokenizer)
    site.es.delete(index=site.names.write_alias, id=citer, refresh=True)
    try:
        assert site.call("ana", "GET", f"/api/v1/cases/{cid}/report.pdf").content == pdf
        assert site.call("ana", "GET", f"/api/v1/cases/{cid}/report.docx").content == docx
        assert content(site, cid) == frozen
        # A case still open counts live: it sees the record gone.
        other = new_case(site)
        paste(site, other["id"], PASTED[:1])
        assert confirm_all(site, other["id"])["papers"][0]["total"] == EXPECTED[0][0] - 1
    finally:
        gone = next(r for r in newer if r.id == citer)
        write_records(site.es, site.names.write_alias, [(gone.id, gone)], site.tokenizer, refresh=True)
        link_records(site.es, site.names.write_alias, [gone.id], site.tokenizer)
        site.es.indices.refresh(index=site.names.read_alias)
    # Signed content is frozen: the paper list, its confirmations and the citers cannot change.
    for method, path, body in (("POST", "/citation/papers", {"text": PASTED[0]}),
                               ("PATCH", "/citation", {"remarks": "签发后修改"}),
                               ("POST", "/citation/adjustments", {"cited_id": "x", "citing_id": "y",
                                                                  "action": "exclude", "reason": "z"})):  # fmt: skip
        resp = site.client.request(method, f"/api/v1/cases/{cid}{path}", headers=site.h("ana"), json=body)
        assert resp.status_code == 409 and "冻结" in resp.json()["error"]["message"], resp.text
    # The centre's figures count it under its own kind; the zip holds the issued files as issued.
    today = today_local().isoformat()  # the issue date is Beijing's
    stats = site.call("cadm", "GET", "/api/v1/centres/A/case-statistics", params={"kind": "citation"})
    assert stats["kind"] == "citation" and stats["totals"]["issued"] >= 1
    assert {p["purpose"] for p in stats["by_purpose"]} >= {"职称评审", "院士推荐"}
    page = site.client.get("/workspace/centres/A", params={"kind": "citation"}, headers=site.h("cadm"))
    assert page.status_code == 200 and 'value="citation" selected' in page.text and "职称评审" in page.text
    novelty = site.call("cadm", "GET", "/api/v1/centres/A/case-statistics")
    assert novelty["kind"] == "novelty" and novelty["totals"]["issued"] == 0
    zipped = site.call("cadm", "GET", "/api/v1/centres/A/reports.zip",
                       params={"from": f"{today_local().year}-01-01", "to": today}).content  # fmt: skip
    with zipfile.ZipFile(io.BytesIO(zipped)) as zf:
        assert zf.read(f"{signed['report_no']}.pdf") == pdf
        assert zf.read(f"{signed['report_no']}.docx") == docx
    xlsx = site.call("ana", "GET", f"/api/v1/cases/{cid}/citation/report.xlsx").content
    assert xlsx[:2] == b"PK"
    # /verify accepts the code and refuses another.
    with session_factory(site.database_url).begin() as s:
        code = s.scalar(select(NoveltyCase.verification_code).where(NoveltyCase.id == cid))
    assert code
    ok = site.client.get(f"/verify/{signed['report_no']}", params={"code": code[:16]}).json()
    assert ok["genuine"] is True and ok["facts"]["client"].startswith("王")
    bad = site.client.get(f"/verify/{signed['report_no']}", params={"code": "0" * 16}).json()
    assert bad["genuine"] is False


# ---------------------------------------------------------------- the pages


def _signed_in(site: Site, username: str) -> TestClient:
    client = TestClient(site.app, follow_redirects=False)
    token = _csrf(client.get("/login").text)
    resp = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token, "next": "/"})
    assert resp.status_code == 303, resp.text
    return client


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def _post(client: TestClient, url: str, page: str, data: dict[str, Any], **kwargs: Any) -> Any:
    return client.post(url, data={**data, "csrf_token": _csrf(client.get(page).text)}, **kwargs)


@pytest.mark.shared
def test_pages_paste_confirm_exclude(site: Site) -> None:
    ana = _signed_in(site, "ana")
    form = ana.get("/workspace/cases/new?kind=citation")
    assert form.status_code == 200 and "受理收录引证委托" in form.text and 'value="CSSCI"' in form.text
    # A future cut-off comes back with the reason and the typed values kept.
    later = (date.today() + timedelta(days=3)).isoformat()
    refused = _post(ana, "/workspace/cases/citation", "/workspace/cases/new?kind=citation",
                    {"client_name": "王世伟", "purpose": "职称评审", "cutoff_date": later, "databases": "CSSCI"})  # fmt: skip
    assert refused.status_code == 400 and "晚于今天" in refused.text and 'value="王世伟"' in refused.text
    made = _post(ana, "/workspace/cases/citation", "/workspace/cases/new?kind=citation",
                 {"client_name": "王世伟", "client_unit": "上海社会科学院", "purpose": "职称评审",
                  "cutoff_date": date.today().isoformat(), "databases": ["CSSCI", "SCIE"], "citing_list": "1"})  # fmt: skip
    assert made.status_code == 303
    page = made.headers["location"]
    cid = int(page.split("/")[3])
    # The shared case URL leads to this kind's page.
    assert ana.get(f"/workspace/cases/{cid}").headers["location"] == page
    empty = _post(ana, f"{page}/papers", page, {"text": "  "})
    assert empty.status_code == 400 and "论文清单为空" in empty.text
    assert _post(ana, f"{page}/papers", page, {"text": "\n".join(PASTED[6:8])}).status_code == 303
    html = ana.get(page).text
    assert "已匹配，待确认" in html and "王世伟. 再论智慧图书馆" in html
    got = content(site, cid)
    for paper in got["papers"]:
        assert _post(ana, f"{page}/papers/{paper['id']}", page, {"record_id": paper["record_id"]}).status_code == 303
    citer = got["papers"][0]["citing"][0]
    no_reason = _post(ana, f"{page}/adjustments", page, {"cited_id": got["papers"][0]["record_id"],
                      "citing_id": citer["id"], "action": "exclude", "reason": ""})  # fmt: skip
    assert no_reason.status_code == 400 and "理由" in no_reason.text
    assert _post(ana, f"{page}/adjustments", page, {"cited_id": got["papers"][0]["record_id"],
                 "citing_id": citer["id"], "action": "exclude", "reason": "重复发表"}).status_code == 303  # fmt: skip
    html = ana.get(page).text
    assert "已确认" in html and "不计入：重复发表" in html and "总被引 20" in html
    assert "SCIE 未收录：第 1、2 篇" in html
    preview = ana.get(f"{page}/report")
    assert preview.status_code == 200 and "草稿" in preview.text
    assert ana.get(f"/workspace/cases/{cid}/report").headers["location"] == f"{page}/report"
    # Another centre's analyst sees nothing.
    assert _signed_in(site, "ana-b").get(page).status_code == 404


# ---------------------------------------------------------------- a 限制 citer


@pytest.mark.shared
def test_restricted_citer_counts_only_for_those_granted(site: Site) -> None:
    """A 限制 report citing a client's paper counts for an analyst granted it; every other reader of
    the case, the reviewer included, must hold the grant too, else the content is refused."""
    secret = make_record(
        "citecase-secret-1", "某保密研究报告", year=2020, doc_type="tech_report", language="zh",
        authors=[{"name": "保密作者", "order": 1}],
        tech_report={"report_no": "R-CITE-SECRET-1", "access_level": "restricted"},
        references=[Reference(raw="王世伟.未来图书馆的新模式——智慧图书馆.图书馆建设.2011.(12)", authors=["王世伟"],
                              title="未来图书馆的新模式——智慧图书馆", venue="图书馆建设", year=2011).model_dump()],
    )  # fmt: skip
    write_records(site.es, site.names.write_alias, [(secret.id, secret)], site.tokenizer, refresh=True)
    link_records(site.es, site.names.write_alias, [secret.id], site.tokenizer)
    site.es.indices.refresh(index=site.names.read_alias)
    with session_factory(site.database_url).begin() as s:
        accounts.grant_record(s, accounts.get_user(s, site.ids["ana2"]), secret.id)
    body = {"kind": "citation", "client_name": "王世伟", "purpose": "报奖", "cutoff_date": date.today().isoformat(),
            "databases": ["CSSCI"], "reviewer_id": site.ids["rev"]}  # fmt: skip
    cid = site.call("ana2", "POST", "/api/v1/cases", 201, json=body)["id"]
    site.call("ana2", "POST", f"/api/v1/cases/{cid}/citation/papers", 201, json={"text": PASTED[1]})
    papers = site.call("ana2", "GET", f"/api/v1/cases/{cid}/citation")["papers"]
    site.call("ana2", "PATCH", f"/api/v1/cases/{cid}/citation/papers/{papers[0]['id']}",
              json={"record_id": papers[0]["record_id"]})  # fmt: skip
    got = site.call("ana2", "GET", f"/api/v1/cases/{cid}/citation")["papers"][0]
    assert (got["total"], got["others"]) == (EXPECTED[1][0] + 1, EXPECTED[1][2] + 1)
    # Another analyst of the centre, without the grant, learns nothing of it, not even a count.
    for path in ("/citation", "/citation/preview", "/report.pdf"):
        refused = site.client.get(f"/api/v1/cases/{cid}{path}", headers=site.h("ana"))
        assert refused.status_code == 403 and "限制级" in refused.json()["error"]["message"]
    step(site, "ana2", cid, "start_search")
    step(site, "ana2", cid, "start_drafting")
    refused = site.client.post(f"/api/v1/cases/{cid}/transitions", headers=site.h("ana2"), json={"action": "submit"})
    assert refused.status_code == 403 and "审核员须同样获得" in refused.json()["error"]["message"]
    with session_factory(site.database_url).begin() as s:
        accounts.grant_record(s, accounts.get_user(s, site.ids["rev"]), secret.id)
    step(site, "ana2", cid, "submit")
    step(site, "rev", cid, "sign")
    step(site, "rev", cid, "issue")
    assert site.client.get(f"/api/v1/cases/{cid}/report.pdf", headers=site.h("rev")).status_code == 200
    refused = site.client.get(f"/api/v1/cases/{cid}/report.pdf", headers=site.h("ana"))
    assert refused.status_code == 403
