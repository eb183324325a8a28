"""Novelty-search cases in the analyst workspace: the case list and the case page, server-rendered.

Everything on the case page is a plain form (no JavaScript needed): editing the commission, novelty
points and their comparisons, searching for the case, adding a hit in one click, marking documents,
choosing the strategies for section 四, and the review steps. Successful posts redirect back to the
page (post/redirect/get); a refused one renders the page again with the reason and with what the
analyst typed still in the form, so nothing is lost. The rules themselves live in `casework`, shared
with the JSON API.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from appdb import accounts
from appdb.models import AuditEvent, CaseStrategy, Centre, NoveltyCase
from casework import (
    case_documents,
    checks,
    core,
    evidence,
    external,
    record_policy,
    searching,
    service,
    states,
    workflow,
)
from casework.report import build_report, local_time, report_terms
from reports import display_code, render_html
from reports.model import Origin, Purpose, Relevance, Scope
from search.errors import BadQuery
from search.history_text import has_references
from search.principal import Principal, Role
from web.api import DbId
from web.cases_api import site_url
from web.deps import Csrf, Db, StaffPage
from web.render import render
from web.result_views import hit_view
from web.state import app_state

router = APIRouter(include_in_schema=False)

RESULTS_SIZE = 20
SECONDARY_ACTIONS = frozenset({"return", "archive"})  # shown as plain buttons, not primary ones
# Steps that cannot be undone: the form carries a confirmation box the server insists on.
CONFIRMED_ACTIONS = frozenset({"sign", "issue"})
NEXT_STEP = {
    "received": "为本案件检索：在平台检索，或记录在 CNKI、万方、Web of Science 等数据库中的检索。",
    "searching": "加入相关文献并标记相关程度，然后点“撰写报告”。",
    "drafting": "填写各查新点的对比分析与结论、总体结论，指定审核员后点“提交审核”。",
    "in_review": "由审核员审核：核对报告后“审核签字”，或填写意见“退回修改”。",
    "returned": "按审核意见修改后，直接点“提交审核”。",
    "signed": "报告已编号，核对后点“签发”。",
    "issued": "报告已签发，可下载 PDF、DOCX 并在核验页核验；存档后点“归档”。",
    "archived": "案件已归档。",
}
HISTORY_ACTIONS = tuple(f"case.{a}" for a in states.TRANSITIONS) + ("case.create",)


@dataclass
class Failure:
    """A refused form: which one, why, and what was typed into it (shown again)."""

    form: str
    message: str
    status: int = 400
    values: dict[str, Any] = field(default_factory=dict)
    problems: list[checks.Problem] = field(default_factory=list)  # each with a link to where it is fixed


async def form_values(request: Request) -> dict[str, Any]:
    """Every field of the posted form; repeated names (checkboxes) become lists."""
    form = await request.form()
    out: dict[str, Any] = {}
    for key in form:
        values = [v for v in form.getlist(key) if isinstance(v, str)]
        out[key] = values if len(values) > 1 or key in ("points",) else (values[0] if values else "")
    return out


Posted = Annotated[dict[str, Any], Depends(form_values)]


def _case_url(case_id: int, **params: Any) -> str:
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return f"/workspace/cases/{case_id}" + (f"?{query}" if query else "")


def _back(case_id: int, anchor: str, **params: Any) -> RedirectResponse:
    return RedirectResponse(_case_url(case_id, **params) + f"#{anchor}", status_code=303)


def _lines(text: object) -> list[str]:
    """Terms typed one per line, or separated by commas or semicolons (full- or half-width)."""
    raw = str(text or "")
    for sep in ("，", "；", ";", ","):
        raw = raw.replace(sep, "\n")
    return [t.strip() for t in raw.splitlines() if t.strip()]


# ---------------------------------------------------------------- case list and new case


@router.get("/workspace/cases", response_class=HTMLResponse)
def case_list(request: Request, me: StaffPage, db: Db) -> Response:
    state = request.query_params.get("state") or None
    centre_codes = {c.id: c.code for c in accounts.list_centres(db)}
    rows = [
        {
            **service.case_summary(c),
            "analyst": core.display_name(db, c.analyst_id),
            "reviewer": core.display_name(db, c.reviewer_id),
            "mine": me.user_id in (c.analyst_id, c.reviewer_id),
            "centre": centre_codes.get(c.centre_id, ""),
        }
        for c in service.list_cases(db, me, state=state)
    ]
    return render(
        request,
        "case_list.html",
        {
            "me": me,
            "rows": rows,
            "state": state or "",
            "state_labels": core.STATE_LABELS,
            "may_create": _may_create(me),
        },
    )


def _may_create(me: Principal) -> bool:
    return me.has(Role.analyst) or me.has(Role.centre_admin) or me.platform_admin


def _new_context(session: Session, me: Principal, values: Mapping[str, Any]) -> dict[str, Any]:
    centres = [c.code for c in session.scalars(select(Centre).order_by(Centre.code))]
    analysts = []
    if me.centre:
        centre = accounts.get_centre(session, me.centre)
        analysts = [
            u
            for u in accounts.list_users(session, centre_id=centre.id)
            if u.active and "analyst" in accounts.user_roles(session, u.id)
        ]
    return {
        "me": me,
        "values": values,
        "purposes": [p.value for p in Purpose],
        "scopes": [s.value for s in Scope],
        "centres": centres if me.platform_admin else [],
        "analysts": analysts,
        "today": core.today_local().isoformat(),
    }


@router.get("/workspace/cases/new", response_class=HTMLResponse)
def new_case_form(request: Request, me: StaffPage, db: Db) -> Response:
    if not _may_create(me):
        raise HTTPException(status_code=403, detail="只有查新员或分中心管理员可以受理查新委托")
    context = _new_context(db, me, {"analyst_id": str(me.user_id or "")})
    return render(request, "case_new.html", context)


def _case_data(values: Mapping[str, Any]) -> dict[str, Any]:
    """The posted fields `casework` knows, typed as it expects (lists for terms and attachments)."""
    data: dict[str, Any] = {}
    for name in (*service.HEADER_FIELDS, *service.TEXT_FIELDS):
        if name in values:
            data[name] = str(values[name])
    for name in service.LIST_FIELDS:
        if name in values:
            data[name] = _lines(values[name])
    return data


@router.post("/workspace/cases", response_class=HTMLResponse, dependencies=[Csrf])
def create_case(request: Request, me: StaffPage, db: Db, values: Posted) -> Response:
    data = _case_data(values)
    for name in ("commission_date", "purpose", "scope", "centre"):
        if values.get(name):
            data[name] = str(values[name])
    analyst = str(values.get("analyst_id") or "").strip()
    if analyst:
        data["analyst_id"] = int(analyst) if analyst.isdigit() and len(analyst) < 10 else analyst
    try:
        case = service.create_case(db, me, data)
        # Novelty points one per line; each gets its own ID (NP-1, NP-2, ...).
        for text in str(values.get("novelty_points") or "").splitlines():
            if text.strip():
                service.add_point(db, me, case.id, text.strip())
    except core.CaseError as exc:
        db.rollback()
        context = _new_context(db, me, values)
        return render(request, "case_new.html", {**context, "error": str(exc)}, status=exc.status)
    return RedirectResponse(f"/workspace/cases/{case.id}", status_code=303)


# ---------------------------------------------------------------- the case page


def _history(session: Session, case: NoveltyCase) -> list[dict[str, Any]]:
    # The audit log is shared by all cases; its JSON detail names the case, so a text match narrows
    # the rows and the parsed detail confirms them.
    rows = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action.in_(HISTORY_ACTIONS), AuditEvent.detail.like(f'%"case_id": {case.id}%'))
        .order_by(AuditEvent.id)
    )
    out = []
    for row in rows:
        detail = json.loads(row.detail or "{}")
        if detail.get("case_id") != case.id:
            continue
        action = row.action.removeprefix("case.")
        rule = states.TRANSITIONS.get(action)
        who = row.actor.removeprefix("user:")
        out.append(
            {
                "at": local_time(row.at).strftime("%Y-%m-%d %H:%M"),
                "label": rule.label if rule else "受理委托",
                "who": core.display_name(session, int(who)) if who.isdigit() else row.actor,
                "comment": detail.get("comment", ""),
            }
        )
    return out


def _results(
    request: Request,
    me: Principal,
    case: NoveltyCase,
    entries: Sequence[CaseStrategy],
    added: set[str],
    run: int | None,
    page: int,
) -> dict[str, Any] | None:
    """The results of logged search `run` (shown, not logged again); `added`: record IDs already in the case."""
    if run is None:
        return None
    entry = next((s for s in entries if s.id == run), None)
    if entry is None:
        return None
    result = searching.show_entry(app_state(request).search, me, entries, entry, page=page, size=RESULTS_SIZE)
    hits = []
    for hit in result["hits"]:
        view = hit_view(hit)
        view["id"] = hit["id"]
        view["added"] = hit["id"] in added
        hits.append(view)
    total = int(result["total"])
    last_page = max(1, min(searching.MAX_PAGE, -(-min(total, 10_000) // RESULTS_SIZE)))
    return {
        "entry": evidence.strategy_dict(entry),
        "total": total,
        "hits": hits,
        "first": (page - 1) * RESULTS_SIZE + 1,
        "page": page,
        "prev": _case_url(case.id, run=run, page=page - 1) + "#results" if page > 1 else None,
        "next": _case_url(case.id, run=run, page=page + 1) + "#results" if page < last_page else None,
    }


def _page_context(
    request: Request, me: Principal, session: Session, case: NoveltyCase, failure: Failure | None
) -> dict[str, Any]:
    run_raw = request.query_params.get("run", "")
    page_raw = request.query_params.get("page", "1")
    run = int(run_raw) if run_raw.isdigit() and len(run_raw) < 10 else None
    page = int(page_raw) if page_raw.isdigit() and len(page_raw) < 4 and int(page_raw) >= 1 else 1
    page = min(page, searching.MAX_PAGE)
    case_points = core.points(session, case)
    docs = evidence.documents(session, case)
    entries = evidence.strategies(session, case)
    editable = core.may_edit(me, case)
    search_error = None
    try:
        results = _results(request, me, case, entries, {d.record_id for d in docs}, run, page)
    except BadQuery as exc:  # an entry logged under an older query language; say so, keep the page
        results, search_error = None, str(exc)
    report_code = display_code(case.verification_code) if case.verification_code else ""
    return {
        "me": me,
        "case": case,
        "centre": session.get(Centre, case.centre_id),
        "state_label": core.STATE_LABELS[case.state],
        "analyst": core.display_name(session, case.analyst_id),
        "reviewer": core.display_name(session, case.reviewer_id),
        "terms_zh": core.loads_list(case.terms_zh),
        "terms_en": core.loads_list(case.terms_en),
        "attachments": core.loads_list(case.attachments),
        # What the report's 检索词 line will print.
        "all_terms": [t for terms in report_terms(case, [s for s in entries if s.in_report]) for t in terms],
        "points": case_points,
        "strategies": [
            {**evidence.strategy_dict(s), "run_at_local": local_time(s.run_at).strftime("%Y-%m-%d %H:%M")}
            for s in entries
        ],
        "documents": [
            record_policy.document_view(
                me, d, {**evidence.document_dict(d), "title": json.loads(d.snapshot or "{}").get("title", "")}
            )
            for d in docs
        ],
        "results": results,
        "search_error": search_error,
        "my_strategies": _my_strategies(request, me) if editable else [],
        "run": run,
        "editable": editable,
        "actions": [(a, states.TRANSITIONS[a].label) for a in states.actions_for(session, me, case)],
        "secondary_actions": SECONDARY_ACTIONS,
        "reviewers": service.eligible_reviewers(session, case) if editable else [],
        "history": _history(session, case),
        "relevances": [r.value for r in Relevance],
        "origins": [o.value for o in Origin],
        "report_code": report_code,
        "confirmed_actions": CONFIRMED_ACTIONS,
        "next_step": NEXT_STEP[case.state],
        "databases": external.databases(session, case.centre_id),
        "manual_types": case_documents.MANUAL_TYPES,
        "confirmed_warnings": checks.confirmed(case) if case.state not in ("drafting", "returned") else [],
        "today": core.today_local().isoformat(),
        "failure": failure,
        "fv": failure.values if failure else {},
        "failed": failure.form if failure else "",
    }


def _my_strategies(request: Request, me: Principal) -> list[dict[str, Any]]:
    """The analyst's workspace strategies that can run in a case: spelt out, no `#n` (which here
    would mean the case's own n-th search)."""
    if me.owner is None:
        return []
    return [s for s in app_state(request).history.strategies(me.owner) if not has_references(s["expression"])]


def _show(
    request: Request, db: Session, me: Principal, case_id: int, failure: Failure | None = None
) -> Response:
    context = _page_context(request, me, db, core.load_case(db, me, case_id), failure)
    return render(request, "case_page.html", context, status=failure.status if failure else 200)


@router.get("/workspace/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, me: StaffPage, db: Db, case_id: DbId) -> Response:
    return _show(request, db, me, case_id)


def _act(
    request: Request,
    me: Principal,
    db: Session,
    case_id: int,
    form: str,
    values: Mapping[str, Any],
    work: Any,
    anchor: str,
    **params: Any,
) -> Response:
    """Do `work(session, me)`; on a refusal undo it and show the page again with the reason."""
    try:
        outcome = work(db, me)
    except (core.CaseError, BadQuery) as exc:
        db.rollback()
        status = exc.status if isinstance(exc, core.CaseError) else 400
        problems = exc.problems if isinstance(exc, workflow.ChecksFailed) else []
        return _show(request, db, me, case_id, Failure(form, str(exc), status, dict(values), problems))
    if isinstance(outcome, Response):
        return outcome
    return _back(case_id, anchor, **params)


@router.post("/workspace/cases/{case_id}/edit", response_class=HTMLResponse, dependencies=[Csrf])
def edit_case(request: Request, me: StaffPage, db: Db, case_id: DbId, values: Posted) -> Response:
    return _act(
        request,
        me,
        db,
        case_id,
        "edit",
        values,
        lambda s, me: service.update_case(s, me, case_id, _case_data(values)),
        "commission",
    )


@router.post("/workspace/cases/{case_id}/points", response_class=HTMLResponse, dependencies=[Csrf])
def add_point(request: Request, me: StaffPage, db: Db, case_id: DbId, values: Posted) -> Response:
    return _act(
        request,
        me,
        db,
        case_id,
        "add-point",
        values,
        lambda s, me: service.add_point(s, me, case_id, str(values.get("text") or "")),
        "points",
    )


@router.post("/workspace/cases/{case_id}/points/{label}", response_class=HTMLResponse, dependencies=[Csrf])
def update_point(
    request: Request, me: StaffPage, db: Db, case_id: DbId, label: str, values: Posted
) -> Response:
    if len(label) > 16:
        raise HTTPException(status_code=404, detail=f"本案件没有查新点 {label[:16]}")
    data: dict[str, Any] = {k: str(values[k]) for k in ("text", "comparison", "conclusion") if k in values}
    return _act(
        request,
        me,
        db,
        case_id,
        f"point-{label}",
        values,
        lambda s, me: service.update_point(s, me, case_id, label, data),
        f"point-{label}",
    )


@router.post("/workspace/cases/{case_id}/search", response_class=HTMLResponse, dependencies=[Csrf])
def search_for_case(request: Request, me: StaffPage, db: Db, case_id: DbId, values: Posted) -> Response:
    def work(session: Session, me: Principal) -> Response:
        _, entry = searching.run_for_case(
            session,
            me,
            case_id,
            app_state(request).search,
            q=values.get("q"),
            override=values.get("override") == "1",
            size=RESULTS_SIZE,
            terms_zh=_lines(values.get("terms_zh")),
            terms_en=_lines(values.get("terms_en")),
        )
        return _back(case_id, "results", run=entry.id)

    return _act(request, me, db, case_id, "search", values, work, "results")


@router.post(
    "/workspace/cases/{case_id}/strategies/{strategy_id}", response_class=HTMLResponse, dependencies=[Csrf]
)
def choose_strategy(
    request: Request, me: StaffPage, db: Db, case_id: DbId, strategy_id: DbId, values: Posted
) -> Response:
    chosen = values.get("in_report") == "1"
    return _act(
        request,
        me,
        db,
        case_id,
        f"strategy-{strategy_id}",
        values,
        lambda s, me: evidence.choose_strategy(s, me, case_id, strategy_id, chosen),
        "strategies",
        run=values.get("run") or None,
    )


def _document_data(values: Mapping[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {k: str(values[k]) for k in ("relevance", "origin", "description", "excerpt")
                            if values.get(k)}  # fmt: skip
    chosen = values.get("points")
    if chosen:
        data["points"] = list(chosen) if isinstance(chosen, list) else [str(chosen)]
    return data


def _add_from_form(request: Request, me: Principal, db: Session, case_id: int, values: Mapping[str, Any],
                   form: str, anchor: str, **params: Any) -> Response:  # fmt: skip
    def work(session: Session, me: Principal) -> None:
        record_id = str(values.get("record_id") or "")
        searching.add_record(session, me, case_id, app_state(request).search, record_id, _document_data(values),
                             every_point_by_default=True)  # fmt: skip

    return _act(request, me, db, case_id, form, values, work, anchor, **params)


@router.post("/workspace/cases/{case_id}/documents", response_class=HTMLResponse, dependencies=[Csrf])
def add_document(request: Request, me: StaffPage, db: Db, case_id: DbId, values: Posted) -> Response:
    """One click from a result: 一般相关, linked to every novelty point, to be refined in the list."""
    run, page = values.get("run") or None, values.get("page") or None
    return _add_from_form(request, me, db, case_id, values, "results", "results", run=run, page=page)


@router.post("/workspace/cases/documents", response_class=HTMLResponse, dependencies=[Csrf])
def add_record_to_case(request: Request, me: StaffPage, db: Db, values: Posted) -> Response:
    """From a record page: the case is chosen in the form, not in the path."""
    raw = str(values.get("case_id") or "").strip()
    if not (raw.isascii() and raw.isdigit() and len(raw) < 10):
        raise HTTPException(status_code=400, detail="请选择要加入的查新案件")
    return _add_from_form(request, me, db, int(raw), values, "documents", "documents")


@router.post(
    "/workspace/cases/{case_id}/documents/{doc_id}", response_class=HTMLResponse, dependencies=[Csrf]
)
def update_document(
    request: Request, me: StaffPage, db: Db, case_id: DbId, doc_id: DbId, values: Posted
) -> Response:
    def work(session: Session, me: Principal) -> None:
        data = _document_data(values)
        # An unticked box sends nothing; the page always sends the description and excerpt fields.
        data.setdefault("points", [])
        for name in ("description", "excerpt"):
            data.setdefault(name, "")
        evidence.update_document(session, me, case_id, doc_id, data)

    return _act(request, me, db, case_id, f"doc-{doc_id}", values, work, f"doc-{doc_id}")


@router.post(
    "/workspace/cases/{case_id}/documents/{doc_id}/remove", response_class=HTMLResponse, dependencies=[Csrf]
)
def remove_document(
    request: Request, me: StaffPage, db: Db, case_id: DbId, doc_id: DbId, values: Posted
) -> Response:
    return _act(
        request,
        me,
        db,
        case_id,
        f"doc-{doc_id}",
        values,
        lambda s, me: evidence.remove_document(s, me, case_id, doc_id),
        "documents",
    )


@router.post("/workspace/cases/{case_id}/transitions", response_class=HTMLResponse, dependencies=[Csrf])
def transition(request: Request, me: StaffPage, db: Db, case_id: DbId, values: Posted) -> Response:
    raw_reviewer = str(values.get("reviewer_id") or "").strip()
    reviewer_id = int(raw_reviewer) if raw_reviewer.isdigit() and len(raw_reviewer) < 10 else None
    action = str(values.get("action") or "")
    step = workflow.Step(
        action,
        comment=str(values.get("comment") or ""),
        reviewer_id=reviewer_id,
        confirm_warnings=values.get("confirm_warnings") == "1",
    )

    def work(session: Session, me: Principal) -> None:
        if action in CONFIRMED_ACTIONS and values.get("confirm") != "1":
            raise core.CaseError(f"{states.TRANSITIONS[action].label}后不能撤回：请勾选确认框后再提交")
        workflow.advance(session, me, case_id, step, site_url=site_url(request))

    return _act(request, me, db, case_id, "transition", values, work, "workflow")


@router.post("/workspace/cases/{case_id}/external", response_class=HTMLResponse, dependencies=[Csrf])
def external_search(request: Request, me: StaffPage, db: Db, case_id: DbId, values: Posted) -> Response:
    """Log a search the analyst ran in another database (CNKI, 万方, Web of Science ...)."""
    data = {
        k: values.get(k) for k in ("database", "year_from", "year_to", "expression", "hits", "searched_on")
    }
    data["terms_zh"] = _lines(values.get("terms_zh"))
    data["terms_en"] = _lines(values.get("terms_en"))
    return _act(
        request,
        me,
        db,
        case_id,
        "external",
        values,
        lambda s, me: external.record_external(s, me, case_id, data),
        "strategies",
    )


@router.post("/workspace/cases/{case_id}/manual-document", response_class=HTMLResponse, dependencies=[Csrf])
def manual_document(request: Request, me: StaffPage, db: Db, case_id: DbId, values: Posted) -> Response:
    """A document typed in with its bibliographic fields, found in one of the centre's databases."""
    data: dict[str, Any] = {k: str(values.get(k) or "") for k in case_documents.MANUAL_FIELDS}
    data.update(_document_data(values))
    data["database"] = str(values.get("database") or "")
    return _act(
        request,
        me,
        db,
        case_id,
        "manual",
        values,
        lambda s, me: case_documents.add_manual(s, me, case_id, data),
        "documents",
    )


@router.post("/workspace/cases/{case_id}/import-documents", response_class=HTMLResponse, dependencies=[Csrf])
async def import_documents(request: Request, me: StaffPage, db: Db, case_id: DbId) -> Response:
    """An export file (RIS, EndNote, RefWorks, NoteExpress, WoS) from the database it was found in."""
    form = await request.form()
    upload = form.get("file")
    payload = (
        await upload.read(case_documents.MAX_IMPORT_BYTES + 1) if isinstance(upload, UploadFile) else b""
    )
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    return _act(
        request,
        me,
        db,
        case_id,
        "import",
        values,
        lambda s, me: case_documents.import_file(s, me, case_id, payload, values),
        "documents",
    )


@router.get("/workspace/cases/{case_id}/report", response_class=HTMLResponse)
def report_preview(request: Request, me: StaffPage, db: Db, case_id: DbId) -> Response:
    """The report as it would print now: watermarked 草稿 until issued."""
    case = core.load_case(db, me, case_id)
    core.require_reader_sees(db, me, case)
    report = build_report(db, case, site_url=site_url(request))
    response = HTMLResponse(render_html(report))
    response.headers["Cache-Control"] = "no-store"
    return response
