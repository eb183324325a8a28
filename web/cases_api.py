"""Novelty-search cases over HTTP: `/api/v1/cases/...` for staff, and the public `/verify/{report_no}`.

Every route reads the principal, then does its work in one database transaction through
`casework`, whose `CaseError` carries the HTTP status (404 for another centre's case, so its
existence is not disclosed; 403 for a role the rules refuse; 409 for a state that forbids the step).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from appdb import accounts
from appdb.models import CaseDocument, Centre, NoveltyCase
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
from casework.report import build_report
from reports import code_matches, render_docx, render_pdf
from search.principal import Principal
from web.api import DbId
from web.case_bodies import (
    CaseCreate,
    CaseSearchRequest,
    CaseUpdate,
    DocumentAdd,
    DocumentUpdate,
    ExternalSearch,
    ManualDocument,
    PointCreate,
    PointUpdate,
    ReviewerChoice,
    StrategyChoice,
    TransitionRequest,
)
from web.deps import Db, Who
from web.identity import current_principal
from web.ratelimit import rate_limit_verification
from web.render import render
from web.state import app_state


def _require_staff(request: Request) -> None:
    # A router dependency runs before the body is read: anonymous callers get 401 rather than a
    # 400 about a body they were never allowed to send.
    _staff(current_principal(request))


router = APIRouter(prefix="/api/v1/cases", dependencies=[Depends(_require_staff)])
verify_router = APIRouter()


def _staff(principal: Principal) -> None:
    if not principal.authenticated:
        raise HTTPException(status_code=401, detail="请先登录")
    if not principal.staff:
        raise HTTPException(status_code=403, detail="只有查新机构工作人员可以使用查新案件")


def _document(principal: Principal, doc: CaseDocument) -> dict[str, Any]:
    return record_policy.document_view(principal, doc, evidence.document_dict(doc))


def detail(session: Session, case: NoveltyCase, principal: Principal) -> dict[str, Any]:
    out = service.case_summary(case)
    out.update({name: getattr(case, name) for name in service.HEADER_FIELDS})
    out.update({name: getattr(case, name) for name in service.TEXT_FIELDS})
    out.update({name: core.loads_list(getattr(case, name)) for name in service.LIST_FIELDS})
    out.update(
        {
            "review_comment": case.review_comment,
            "confirmed_warnings": checks.confirmed(case),
            "page_count": case.page_count,
            "signing_date": case.signing_date.isoformat() if case.signing_date else None,
            "issue_date": case.issue_date.isoformat() if case.issue_date else None,
            "actions": list(states.allowed_actions(case)),
            "points": [
                {"id": p.label, "text": p.text, "comparison": p.comparison, "conclusion": p.conclusion}
                for p in core.points(session, case)
            ],
            "strategies": [evidence.strategy_dict(s) for s in evidence.strategies(session, case)],
            "documents": [_document(principal, d) for d in evidence.documents(session, case)],
        }
    )
    return out


@router.post("", status_code=201)
def create_case(db: Db, principal: Who, body: CaseCreate) -> dict[str, Any]:
    case = service.create_case(db, principal, body.sent())
    return detail(db, case, principal)


@router.get("")
def list_cases(
    db: Db, principal: Who, state: Annotated[str | None, Query(max_length=16)] = None
) -> dict[str, Any]:
    return {"cases": [service.case_summary(c) for c in service.list_cases(db, principal, state=state)]}


@router.get("/{case_id}")
def get_case(db: Db, principal: Who, case_id: DbId) -> dict[str, Any]:
    return detail(db, core.load_case(db, principal, case_id), principal)


@router.patch("/{case_id}")
def update_case(db: Db, principal: Who, case_id: DbId, body: CaseUpdate) -> dict[str, Any]:
    return detail(db, service.update_case(db, principal, case_id, body.sent()), principal)


@router.post("/{case_id}/reviewer")
def assign_reviewer(db: Db, principal: Who, case_id: DbId, body: ReviewerChoice) -> dict[str, Any]:
    case = core.load_case(db, principal, case_id)
    service.assign_reviewer(db, principal, case, body.reviewer_id)
    return detail(db, case, principal)


@router.post("/{case_id}/points", status_code=201)
def add_point(db: Db, principal: Who, case_id: DbId, body: PointCreate) -> dict[str, Any]:
    point = service.add_point(db, principal, case_id, body.text)
    return {"id": point.label, "text": point.text}


@router.patch("/{case_id}/points/{label}")
def update_point(
    db: Db,
    principal: Who,
    case_id: DbId,
    label: Annotated[str, Path(max_length=16)],
    body: PointUpdate,
) -> dict[str, Any]:
    p = service.update_point(db, principal, case_id, label, body.sent())
    return {"id": p.label, "text": p.text, "comparison": p.comparison, "conclusion": p.conclusion}


@router.post("/{case_id}/transitions")
def transition(
    request: Request, db: Db, principal: Who, case_id: DbId, body: TransitionRequest
) -> dict[str, Any]:
    step = workflow.Step(body.action, body.comment, body.reviewer_id, body.confirm_warnings)
    case = workflow.advance(db, principal, case_id, step, site_url=site_url(request))
    return detail(db, case, principal)


@router.post("/{case_id}/search")
def search_for_case(
    request: Request, db: Db, principal: Who, case_id: DbId, body: CaseSearchRequest
) -> dict[str, Any]:
    """Run a professional search for the case and log it as evidence (section 四).

    Results stop at the commission year unless `override` is true; the override is logged."""
    # A BadQuery propagates to the app's 400 handler, and the transaction logs nothing.
    result, entry = searching.run_for_case(
        db,
        principal,
        case_id,
        app_state(request).search,
        q=body.q,
        override=body.override,
        page=body.page,
        size=body.size,
        terms_zh=body.terms_zh,
        terms_en=body.terms_en,
    )
    return {**result, "strategy": evidence.strategy_dict(entry)}


@router.post("/{case_id}/external", status_code=201)
def external_search(db: Db, principal: Who, case_id: DbId, body: ExternalSearch) -> dict[str, Any]:
    """Log a search run in another database (CNKI, 万方, Web of Science ...) for section 四."""
    return evidence.strategy_dict(external.record_external(db, principal, case_id, body.sent()))


@router.post("/{case_id}/documents/manual", status_code=201)
def manual_document(db: Db, principal: Who, case_id: DbId, body: ManualDocument) -> dict[str, Any]:
    """A document found in another database, typed in; it lives in the case, not in the index."""
    data = body.sent()
    if "year" in data:
        data["year"] = str(data["year"])
    return evidence.document_dict(case_documents.add_manual(db, principal, case_id, data))


@router.patch("/{case_id}/strategies/{strategy_id}")
def choose_strategy(
    db: Db, principal: Who, case_id: DbId, strategy_id: DbId, body: StrategyChoice
) -> dict[str, Any]:
    entry = evidence.choose_strategy(db, principal, case_id, strategy_id, body.in_report)
    return evidence.strategy_dict(entry)


@router.post("/{case_id}/documents", status_code=201)
def add_document(
    request: Request, db: Db, principal: Who, case_id: DbId, body: DocumentAdd
) -> dict[str, Any]:
    search = app_state(request).search
    doc = searching.add_record(db, principal, case_id, search, body.record_id, body.sent())
    return _document(principal, doc)


@router.patch("/{case_id}/documents/{doc_id}")
def update_document(
    db: Db, principal: Who, case_id: DbId, doc_id: DbId, body: DocumentUpdate
) -> dict[str, Any]:
    doc = evidence.update_document(db, principal, case_id, doc_id, body.sent())
    return _document(principal, doc)


@router.delete("/{case_id}/documents/{doc_id}", status_code=204)
def remove_document(db: Db, principal: Who, case_id: DbId, doc_id: DbId) -> Response:
    evidence.remove_document(db, principal, case_id, doc_id)
    return Response(status_code=204)


def site_url(request: Request) -> str:
    """The address an issued report prints for /verify: CHAXIN_PUBLIC_URL, else the one the staff
    member's browser used to reach the site."""
    return str(app_state(request).settings.public_url or request.base_url).rstrip("/")


def _report_file(request: Request, db: Session, principal: Principal, case_id: DbId, kind: str) -> Response:
    case = core.load_case(db, principal, case_id)
    core.require_reader_sees(db, principal, case)
    report = build_report(db, case, site_url=site_url(request))
    name = case.report_no or f"case-{case.id}-draft"
    body = render_docx(report) if kind == "docx" else render_pdf(report)
    media = (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        if kind == "docx"
        else "application/pdf"
    )
    return Response(
        body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}.{kind}"'}
    )


@router.get("/{case_id}/report.docx")
def report_docx(request: Request, db: Db, principal: Who, case_id: DbId) -> Response:
    return _report_file(request, db, principal, case_id, "docx")


@router.get("/{case_id}/report.pdf")
def report_pdf(request: Request, db: Db, principal: Who, case_id: DbId) -> Response:
    return _report_file(request, db, principal, case_id, "pdf")


@verify_router.get("/verify", dependencies=[Depends(rate_limit_verification)])
def verify_form(
    request: Request,
    db: Db,
    report_no: Annotated[str, Query(max_length=32)] = "",
    code: Annotated[str, Query(max_length=100)] = "",
) -> Any:
    """Public: the form a reader types a report number and its code into (and its answer)."""
    return (
        verify(request, db, report_no.strip(), code) if report_no.strip() else _verify_page(request, None, "")
    )


@verify_router.get("/verify/{report_no}", dependencies=[Depends(rate_limit_verification)])
def verify(request: Request, db: Db, report_no: str, code: Annotated[str, Query(max_length=100)] = "") -> Any:
    """Public: whether a report with this number was issued and, given its code, whether it is unaltered.

    A correct code also shows the facts a holder compares with the paper in hand (number, project,
    client, centre, issue date, page count); the content stays private. JSON for programs; a browser
    (asking for HTML) gets the form page."""
    if len(report_no) > 32:
        raise HTTPException(status_code=400, detail="报告编号过长")
    outcome = _verification(request, db, report_no, code.strip())
    if "text/html" in request.headers.get("accept", ""):
        return _verify_page(request, outcome, code.strip())
    return outcome


def _verify_page(request: Request, outcome: dict[str, Any] | None, code: str) -> Any:
    return render(request, "verify.html", {"outcome": outcome, "code": code})


# Words that mark a client as a unit (named in full); any other short name is a person's, shown in part.
_UNIT_MARKS = ("大学", "学院", "学校", "研究", "公司", "集团", "中心", "医院", "院", "所", "局", "厅", "委",
               "会", "站", "厂", "部", "馆", "社", "银行", "Ltd", "Inc", "Univ", "Institute", "Co.")  # fmt: skip


def client_shown(name: str) -> str:
    """委托人 as /verify prints it: a unit's name in full, a person's with all but the first character hidden."""
    name = name.strip()
    if any(mark in name for mark in _UNIT_MARKS) or len(name) > 6:
        return name
    return name[:1] + "*" * max(1, len(name) - 1)


def _verification(request: Request, db: Session, report_no: str, code: str) -> dict[str, Any]:
    case = db.scalar(select(NoveltyCase).where(NoveltyCase.report_no == report_no))
    issued = case is not None and case.state in ("issued", "archived") and bool(case.verification_code)
    genuine = bool(issued and code and case is not None and code_matches(code, case.verification_code or ""))
    accounts.audit(db, "anon", "report.verify",
                   {"report_no": report_no, "issued": issued, "code_given": bool(code), "genuine": genuine},
                   ip=request.client.host if request.client else None)  # fmt: skip
    if case is None or not issued:
        return {"report_no": report_no, "issued": False, "genuine": False,
                "message": "未找到该编号的已签发查新报告"}  # fmt: skip
    if not code:
        return {"report_no": report_no, "issued": True, "genuine": None,
                "message": "该编号的查新报告已签发；请同时输入报告页脚上的验证码以核验内容是否被篡改"}  # fmt: skip
    if not genuine:
        return {"report_no": report_no, "issued": True, "genuine": False, "message": "验证码与该报告不符"}
    centre = db.get(Centre, case.centre_id)
    facts = {
        "report_no": report_no,
        "project_name": case.project_name_zh,
        "client": client_shown(case.client_name),
        "centre": centre.name if centre else "",
        "issue_date": case.issue_date.isoformat() if case.issue_date else None,
        "page_count": case.page_count,
    }
    return {"report_no": report_no, "issued": True, "genuine": True, "facts": facts,
            "message": "验证通过：该报告为本平台签发，内容与签发时一致。请核对以下信息与手中报告是否相符"}  # fmt: skip
