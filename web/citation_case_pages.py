"""收录引证 cases in the analyst workspace: the new-case form's POST and the case page of this kind.

Server-rendered plain forms like the 查新 case pages (web/case_pages.py, whose gate, form reading and
refusal handling this module reuses): the header and options, the paper list with each paper's
match state and candidates, the 收录 grid (paper × requested database), the citing records of each
paper with their 自引/他引 marks and the analyst's exclusions and flips, the counts and totals, the
workflow, and a preview. A refused form shows the page again with the reason and what was typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from appdb.models import Centre, NoveltyCase
from casework import core, service, states, workflow
from casework.citation import assemble, citing, header, papers
from reports import display_code
from reports.citation_model import CitationReportData
from reports.citation_pdf import render_citation_html
from search.errors import BadQuery
from search.principal import Principal
from web.api import DbId
from web.case_pages import (
    CONFIRMED_ACTIONS,
    SECONDARY_ACTIONS,
    Failure,
    Posted,
    _history,
    _new_context,
)
from web.cases_api import site_url
from web.deps import Csrf, Db, StaffPage
from web.render import render
from web.state import app_state

router = APIRouter(include_in_schema=False)

NEXT_STEP = {
    "received": "粘贴、导入或选取委托人的论文，逐篇确认匹配记录，然后点“开始检索”。",
    "searching": "核对每篇论文的收录与引证：可排除不应计入的引证文献、改判自引/他引（须填写理由），然后点“撰写报告”。",
    "drafting": "预览报告，指定审核员后点“提交审核”。",
    "in_review": "由审核员审核：核对收录、引证与证明文字后“审核签字”，或填写意见“退回修改”。",
    "returned": "按审核意见修改后，直接点“提交审核”。",
    "signed": "报告已编号并冻结（以签字日为检索日期），核对后点“签发”。",
    "issued": "报告已签发，可下载 PDF、DOCX 并在核验页核验；存档后点“归档”。",
    "archived": "案件已归档。",
}


def page_url(case_id: int) -> str:
    return f"/workspace/cases/{case_id}/citation"


def _flag(values: Mapping[str, Any], name: str) -> bool:
    return values.get(name) == "1"


def header_data(values: Mapping[str, Any]) -> dict[str, Any]:
    """The posted header fields as `casework.citation.header` reads them (options are checkboxes)."""
    data: dict[str, Any] = {k: str(values[k]) for k in (*header.CLIENT_FIELDS, "client_type", "client_unit",
                                                         "purpose", "cutoff_date", "remarks") if k in values}  # fmt: skip
    chosen = values.get("databases") or []
    names = [chosen] if isinstance(chosen, str) else list(chosen)
    data["databases"] = [
        {"name": n, "year_from": str(values.get(f"from_{n}") or ""), "year_to": str(values.get(f"to_{n}") or "")}
        for n in names
    ]
    for name in header.OPTION_FIELDS:
        data[name] = _flag(values, name)
    return data


# ---------------------------------------------------------------- new case


@router.post("/workspace/cases/citation", response_class=HTMLResponse, dependencies=[Csrf])
def create_case(request: Request, me: StaffPage, db: Db, values: Posted) -> Response:
    data = header_data(values)
    for name in ("commission_date", "centre"):
        if values.get(name):
            data[name] = str(values[name])
    analyst = str(values.get("analyst_id") or "").strip()
    if analyst:
        data["analyst_id"] = int(analyst) if analyst.isdigit() and len(analyst) < 10 else analyst
    try:
        case_id = header.create_case(db, me, data).id
    except core.CaseError as exc:
        db.rollback()
        context = _new_context(db, me, values)
        return render(request, "citation_new.html", {**context, **header.form_choices(), "error": str(exc)},
                      status=exc.status)  # fmt: skip
    return RedirectResponse(page_url(case_id), status_code=303)


# ---------------------------------------------------------------- the case page


def _citer_view(c: citing.Citer) -> dict[str, Any]:
    return {"id": c.id, "reference": c.reference, "database": c.database, "year": c.year,
            "mark": "自引" if c.self_citation else "他引", "computed": "自引" if c.computed_self else "他引",
            "window": c.window, "counted": c.counted, "undecided": c.undecided, "adjustment": c.adjustment,
            "adjustment_label": citing.ACTIONS.get(c.adjustment or "", ""), "reason": c.reason}  # fmt: skip


def _live(view: assemble.CaseView) -> list[dict[str, Any]]:
    out = []
    for v in view.papers:
        key, label = papers.status(v.paper)
        out.append({
            "id": v.paper.id, "seq": v.seq, "input": v.paper.input, "origin": papers.ORIGINS.get(v.paper.origin, ""),
            "status": key, "status_label": label, "record_id": v.paper.record_id, "note": v.paper.note,
            "candidates": papers.paper_dict(v.paper, v.seq)["candidates"], "cited": v.cited,
            "record_title": str((v.record or {}).get("title") or ""),
            "citers": [_citer_view(c) for c in v.citers],
        })  # fmt: skip
    return out


def _frozen(report: CitationReportData) -> list[dict[str, Any]]:
    return [
        {"id": None, "seq": p.seq, "input": p.reference, "origin": "", "status": "frozen", "status_label": "已冻结",
         "record_id": None, "note": "", "candidates": [], "cited": p, "record_title": "",
         "citers": [{"id": "", "reference": c.reference, "database": c.database, "year": c.year, "mark": c.mark,
                     "computed": c.mark, "window": True, "counted": True, "undecided": False,
                     "adjustment": "flip" if c.flipped else None, "adjustment_label": "改判" if c.flipped else "",
                     "reason": ""} for c in p.citing]}
        for p in report.papers
    ]  # fmt: skip


def _context(request: Request, me: Principal, session: Session, case: NoveltyCase, failure: Failure | None) -> dict[str, Any]:
    head = header.header_of(session, case)
    search = app_state(request).search
    if case.snapshot is None:
        current = assemble.view(session, case, search)
        assemble.require_reader_sees(session, search, me, case, current)
        report, rows, problems = current.report, _live(current), list(current.problems)
    else:
        report = assemble.readable_report(session, case, search, me)
        rows, problems = _frozen(report), []
    wanted = header.requested(head)
    actions = states.actions_for(session, me, case)
    return {
        "me": me,
        "case": case,
        "head": head,
        "header": header.header_dict(case, head),
        "db_spans": {d["name"]: d for d in header.header_dict(case, head)["databases"]},
        "centre": session.get(Centre, case.centre_id),
        "state_label": core.STATE_LABELS[case.state],
        "analyst": core.display_name(session, case.analyst_id),
        "reviewer": core.display_name(session, case.reviewer_id),
        "reviewers": service.eligible_reviewers(session, case),
        "editable": core.may_edit(me, case),
        "frozen": case.snapshot is not None,
        "report": report,
        "papers": rows,
        "wanted": wanted,
        "missing": {db: [p.seq for p in report.not_indexed(db)] for db in wanted},
        "problems": problems,
        "actions": [(a, states.TRANSITIONS[a].label) for a in actions],
        "secondary_actions": SECONDARY_ACTIONS,
        "confirmed_actions": CONFIRMED_ACTIONS,
        "next_step": NEXT_STEP.get(case.state, ""),
        "history": _history(session, case),
        "report_code": display_code(case.verification_code) if case.verification_code else "",
        "failure": failure,
        "failed": failure.form if failure else "",
        "fv": failure.values if failure else {},
        **header.form_choices(),
        "upload_formats": papers.UPLOAD_FORMATS,
        "today": core.today_local().isoformat(),
    }


def _show(request: Request, db: Session, me: Principal, case_id: int, failure: Failure | None = None) -> Response:
    case = core.load_case(db, me, case_id)
    if case.kind != header.KIND:
        return RedirectResponse(f"/workspace/cases/{case_id}", status_code=303)
    context = _context(request, me, db, case, failure)
    return render(request, "citation_page.html", context, status=failure.status if failure else 200)


@router.get("/workspace/cases/{case_id}/citation", response_class=HTMLResponse)
def case_page(request: Request, me: StaffPage, db: Db, case_id: DbId) -> Response:
    return _show(request, db, me, case_id)


Work = Any  # (session, principal) -> object


def _act(
    request: Request, me: Principal, db: Session, case_id: int, form: str, values: Mapping[str, Any],
    work: Work, anchor: str,
) -> Response:
    """Do `work(session, me)`; on a refusal undo it and show the page again with the reason."""
    try:
        work(db, me)
    except (core.CaseError, BadQuery) as exc:
        db.rollback()
        status = exc.status if isinstance(exc, core.CaseError) else 400
        problems = exc.problems if isinstance(exc, workflow.ChecksFailed) else []
        return _show(request, db, me, case_id, Failure(form, str(exc), status, dict(values), problems))
    return RedirectResponse(f"{page_url(case_id)}#{anchor}", status_code=303)


@router.post("/workspace/cases/{case_id}/citation/header", response_class=HTMLResponse, dependencies=[Csrf])
def edit_header(request: Request, me: StaffPage, db: Db, case_id: DbId, values: Posted) -> Response:
    return _act(request, me, db, case_id, "header", values,
                lambda s, me: header.update_header(s, me, case_id, header_data(values)), "header")  # fmt: skip


@router.post("/workspace/cases/{case_id}/citation/papers", response_class=HTMLResponse, dependencies=[Csrf])
def add_papers(request: Request, me: StaffPage, db: Db, case_id: DbId, values: Posted) -> Response:
    """Pasted citations (`text`), or record IDs picked from search (`record_ids`, one a line)."""
    search = app_state(request).search

    def work(session: Session, me: Principal) -> None:
        picked = [i.strip() for i in str(values.get("record_ids") or "").splitlines() if i.strip()]
        if picked:
            papers.add_picked(session, me, case_id, search, picked)
        else:
            papers.add_pasted(session, me, case_id, search, str(values.get("text") or ""))

    return _act(request, me, db, case_id, "papers", values, work, "papers")


@router.post("/workspace/cases/{case_id}/citation/upload", response_class=HTMLResponse, dependencies=[Csrf])
async def upload_papers(request: Request, me: StaffPage, db: Db, case_id: DbId) -> Response:
    form = await request.form()
    upload = form.get("file")
    payload = await upload.read(papers.MAX_UPLOAD_BYTES + 1) if isinstance(upload, UploadFile) else b""
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    fmt = str(values.get("format") or "") or None
    search = app_state(request).search
    return _act(request, me, db, case_id, "upload", values,
                lambda s, me: papers.add_upload(s, me, case_id, search, payload, fmt), "papers")  # fmt: skip


@router.post("/workspace/cases/{case_id}/citation/papers/{paper_id}", response_class=HTMLResponse,
             dependencies=[Csrf])  # fmt: skip
def confirm_paper(request: Request, me: StaffPage, db: Db, case_id: DbId, paper_id: DbId, values: Posted) -> Response:
    """The analyst's choice for one paper: a candidate's record ID, or `absent` for 未收录."""
    chosen = str(values.get("record_id") or "").strip()
    record_id = None if chosen in ("", "absent") else chosen
    search = app_state(request).search
    return _act(request, me, db, case_id, f"paper-{paper_id}", values,
                lambda s, me: papers.confirm(s, me, case_id, paper_id, search, {"record_id": record_id}),
                f"paper-{paper_id}")  # fmt: skip


@router.post("/workspace/cases/{case_id}/citation/papers/{paper_id}/remove", response_class=HTMLResponse,
             dependencies=[Csrf])  # fmt: skip
def remove_paper(request: Request, me: StaffPage, db: Db, case_id: DbId, paper_id: DbId, values: Posted) -> Response:
    return _act(request, me, db, case_id, "papers", values,
                lambda s, me: papers.remove(s, me, case_id, paper_id), "papers")  # fmt: skip


@router.post("/workspace/cases/{case_id}/citation/adjustments", response_class=HTMLResponse, dependencies=[Csrf])
def adjust(request: Request, me: StaffPage, db: Db, case_id: DbId, values: Posted) -> Response:
    data = {k: str(values.get(k) or "") for k in ("cited_id", "citing_id", "action", "reason")}
    form = f"citer-{data['citing_id']}"
    return _act(request, me, db, case_id, form, values,
                lambda s, me: citing.adjust(s, me, case_id, data), "citations")  # fmt: skip


@router.post("/workspace/cases/{case_id}/citation/adjustments/{adjustment_id}/remove", response_class=HTMLResponse,
             dependencies=[Csrf])  # fmt: skip
def undo_adjustment(request: Request, me: StaffPage, db: Db, case_id: DbId, adjustment_id: DbId, values: Posted) -> Response:
    return _act(request, me, db, case_id, "citations", values,
                lambda s, me: citing.undo(s, me, case_id, adjustment_id), "citations")  # fmt: skip


@router.post("/workspace/cases/{case_id}/citation/transitions", response_class=HTMLResponse, dependencies=[Csrf])
def transition(request: Request, me: StaffPage, db: Db, case_id: DbId, values: Posted) -> Response:
    raw_reviewer = str(values.get("reviewer_id") or "").strip()
    reviewer_id = int(raw_reviewer) if raw_reviewer.isdigit() and len(raw_reviewer) < 10 else None
    action = str(values.get("action") or "")
    step = workflow.Step(action, comment=str(values.get("comment") or ""), reviewer_id=reviewer_id)

    def work(session: Session, me: Principal) -> None:
        if action in CONFIRMED_ACTIONS and values.get("confirm") != "1":
            raise core.CaseError(f"{states.TRANSITIONS[action].label}后不能撤回：请勾选确认框后再提交")
        workflow.advance(session, me, case_id, step, site_url=site_url(request), search=app_state(request).search)

    return _act(request, me, db, case_id, "transition", values, work, "workflow")


@router.get("/workspace/cases/{case_id}/citation/report", response_class=HTMLResponse)
def report_preview(request: Request, me: StaffPage, db: Db, case_id: DbId) -> Response:
    """The report as it would print now: watermarked 草稿 until issued, frozen from signing on."""
    case = core.load_case(db, me, case_id)
    header.header_of(db, case)
    report = assemble.readable_report(db, case, app_state(request).search, me, site_url=site_url(request))
    response = HTMLResponse(render_citation_html(report))
    response.headers["Cache-Control"] = "no-store"
    return response
