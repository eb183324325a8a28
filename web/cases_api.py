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

from appdb.models import CaseDocument, NoveltyCase
from casework import evidence, record_policy, searching, service
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
    PointCreate,
    PointUpdate,
    ReviewerChoice,
    StrategyChoice,
    TransitionRequest,
)
from web.identity import current_principal, db_sessions
from web.ratelimit import rate_limit_verification
from web.state import app_state


def _require_staff(request: Request) -> None:
    # A router dependency runs before the body is read: anonymous callers get 401 rather than a
    # 400 about a body they were never allowed to send.
    _staff(current_principal(request))


router = APIRouter(prefix="/api/v1/cases", dependencies=[Depends(_require_staff)])
verify_router = APIRouter()

Who = Annotated[Principal, Depends(current_principal)]


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
    out.update({name: service.loads_list(getattr(case, name)) for name in service.LIST_FIELDS})
    out.update(
        {
            "review_comment": case.review_comment,
            "signing_date": case.signing_date.isoformat() if case.signing_date else None,
            "issue_date": case.issue_date.isoformat() if case.issue_date else None,
            "actions": list(service.allowed_actions(case)),
            "points": [
                {"id": p.label, "text": p.text, "comparison": p.comparison, "conclusion": p.conclusion}
                for p in service.points(session, case)
            ],
            "strategies": [evidence.strategy_dict(s) for s in evidence.strategies(session, case)],
            "documents": [_document(principal, d) for d in evidence.documents(session, case)],
        }
    )
    return out


@router.post("", status_code=201)
def create_case(request: Request, principal: Who, body: CaseCreate) -> dict[str, Any]:
    with db_sessions(request).begin() as session:
        case = service.create_case(session, principal, body.sent())
        return detail(session, case, principal)


@router.get("")
def list_cases(
    request: Request, principal: Who, state: Annotated[str | None, Query(max_length=16)] = None
) -> dict[str, Any]:
    with db_sessions(request).begin() as session:
        return {
            "cases": [service.case_summary(c) for c in service.list_cases(session, principal, state=state)]
        }


@router.get("/{case_id}")
def get_case(request: Request, principal: Who, case_id: DbId) -> dict[str, Any]:
    with db_sessions(request).begin() as session:
        return detail(session, service.load_case(session, principal, case_id), principal)


@router.patch("/{case_id}")
def update_case(request: Request, principal: Who, case_id: DbId, body: CaseUpdate) -> dict[str, Any]:
    with db_sessions(request).begin() as session:
        return detail(session, service.update_case(session, principal, case_id, body.sent()), principal)


@router.post("/{case_id}/reviewer")
def assign_reviewer(request: Request, principal: Who, case_id: DbId, body: ReviewerChoice) -> dict[str, Any]:
    with db_sessions(request).begin() as session:
        case = service.load_case(session, principal, case_id)
        service.assign_reviewer(session, principal, case, body.reviewer_id)
        return detail(session, case, principal)


@router.post("/{case_id}/points", status_code=201)
def add_point(request: Request, principal: Who, case_id: DbId, body: PointCreate) -> dict[str, Any]:
    with db_sessions(request).begin() as session:
        point = service.add_point(session, principal, case_id, body.text)
        return {"id": point.label, "text": point.text}


@router.patch("/{case_id}/points/{label}")
def update_point(
    request: Request,
    principal: Who,
    case_id: DbId,
    label: Annotated[str, Path(max_length=16)],
    body: PointUpdate,
) -> dict[str, Any]:
    with db_sessions(request).begin() as session:
        p = service.update_point(session, principal, case_id, label, body.sent())
        return {"id": p.label, "text": p.text, "comparison": p.comparison, "conclusion": p.conclusion}


@router.post("/{case_id}/transitions")
def transition(request: Request, principal: Who, case_id: DbId, body: TransitionRequest) -> dict[str, Any]:
    with db_sessions(request).begin() as session:
        case = service.transition(
            session, principal, case_id, body.action, comment=body.comment, reviewer_id=body.reviewer_id
        )
        return detail(session, case, principal)


@router.post("/{case_id}/search")
def search_for_case(
    request: Request, principal: Who, case_id: DbId, body: CaseSearchRequest
) -> dict[str, Any]:
    """Run a professional search for the case and log it as evidence (section 四).

    Results stop at the commission year unless `override` is true; the override is logged."""
    with db_sessions(request).begin() as session:
        # A BadQuery propagates to the app's 400 handler, and the transaction logs nothing.
        result, entry = searching.run_for_case(
            session,
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


@router.patch("/{case_id}/strategies/{strategy_id}")
def choose_strategy(
    request: Request, principal: Who, case_id: DbId, strategy_id: DbId, body: StrategyChoice
) -> dict[str, Any]:
    with db_sessions(request).begin() as session:
        entry = evidence.choose_strategy(session, principal, case_id, strategy_id, body.in_report)
        return evidence.strategy_dict(entry)


@router.post("/{case_id}/documents", status_code=201)
def add_document(request: Request, principal: Who, case_id: DbId, body: DocumentAdd) -> dict[str, Any]:
    with db_sessions(request).begin() as session:
        search = app_state(request).search
        doc = searching.add_record(session, principal, case_id, search, body.record_id, body.sent())
        return _document(principal, doc)


@router.patch("/{case_id}/documents/{doc_id}")
def update_document(
    request: Request, principal: Who, case_id: DbId, doc_id: DbId, body: DocumentUpdate
) -> dict[str, Any]:
    with db_sessions(request).begin() as session:
        doc = evidence.update_document(session, principal, case_id, doc_id, body.sent())
        return _document(principal, doc)


@router.delete("/{case_id}/documents/{doc_id}", status_code=204)
def remove_document(request: Request, principal: Who, case_id: DbId, doc_id: DbId) -> Response:
    with db_sessions(request).begin() as session:
        evidence.remove_document(session, principal, case_id, doc_id)
    return Response(status_code=204)


def _report_file(request: Request, principal: Principal, case_id: DbId, kind: str) -> Response:
    with db_sessions(request).begin() as session:
        case = service.load_case(session, principal, case_id)
        service.require_reader_sees(session, principal, case)
        report = build_report(session, case)
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
def report_docx(request: Request, principal: Who, case_id: DbId) -> Response:
    return _report_file(request, principal, case_id, "docx")


@router.get("/{case_id}/report.pdf")
def report_pdf(request: Request, principal: Who, case_id: DbId) -> Response:
    return _report_file(request, principal, case_id, "pdf")


@verify_router.get("/verify/{report_no}", dependencies=[Depends(rate_limit_verification)])
def verify(request: Request, report_no: str, code: Annotated[str, Query(max_length=100)] = "") -> Any:
    """Public: whether a report with this number was issued and, given its code, whether it is unaltered.

    JSON for programs; a browser (asking for HTML) gets a page with a form for the code."""
    if len(report_no) > 32:
        raise HTTPException(status_code=400, detail="报告编号过长")
    outcome = _verification(request, report_no, code.strip())
    if "text/html" in request.headers.get("accept", ""):
        from web.auth import render

        return render(request, "verify.html", {"outcome": outcome, "code": code.strip()})
    return outcome


def _verification(request: Request, report_no: str, code: str) -> dict[str, Any]:
    with db_sessions(request).begin() as session:
        row = session.execute(
            select(NoveltyCase.state, NoveltyCase.verification_code).where(NoveltyCase.report_no == report_no)
        ).first()
    if row is None or row.state not in ("issued", "archived") or not row.verification_code:
        return {
            "report_no": report_no,
            "issued": False,
            "genuine": False,
            "message": "未找到该编号的已签发查新报告",
        }
    if not code:
        return {"report_no": report_no, "issued": True, "genuine": None,
                "message": "该编号的查新报告已签发；请同时输入报告页脚上的验证码以核验内容是否被篡改"}  # fmt: skip
    genuine = code_matches(code, row.verification_code)
    message = (
        "验证通过：该报告为本平台签发，内容未被篡改"
        if genuine
        else "验证码不符：报告内容可能已被篡改，或验证码输入有误"
    )
    return {"report_no": report_no, "issued": True, "genuine": genuine, "message": message}
