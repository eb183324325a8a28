"""Novelty-search cases over HTTP: `/api/v1/cases/...` for staff, and the public `/verify/{report_no}`.

Every route reads the principal, then does its work in one database transaction through
`casework`, whose `CaseError` carries the HTTP status (404 for another centre's case, so its
existence is not disclosed; 403 for a role the rules refuse; 409 for a state that forbids the step).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from appdb.models import NoveltyCase
from casework import evidence, service
from casework.report import build_report
from reports import code_matches, render_docx, render_pdf
from search.principal import Principal
from search.query import MAX_QUERY_CHARS
from web.api import DbId
from web.identity import current_principal, db_sessions
from web.state import app_state

router = APIRouter(prefix="/api/v1/cases")
verify_router = APIRouter()

Who = Annotated[Principal, Depends(current_principal)]
Payload = Annotated[dict[str, Any], Body()]


@contextmanager
def _tx(request: Request) -> Iterator[Session]:
    try:
        with db_sessions(request).begin() as session:
            yield session
    except service.CaseError as exc:
        raise HTTPException(status_code=exc.status, detail=str(exc)) from None


def _staff(principal: Principal) -> None:
    if not principal.authenticated:
        raise HTTPException(status_code=401, detail="请先登录")
    if not principal.staff:
        raise HTTPException(status_code=403, detail="只有查新机构工作人员可以使用查新案件")


def _detail(session: Session, case: NoveltyCase) -> dict[str, Any]:
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
            "documents": [evidence.document_dict(d) for d in evidence.documents(session, case)],
        }
    )
    return out


@router.post("", status_code=201)
def create_case(request: Request, principal: Who, payload: Payload) -> dict[str, Any]:
    _staff(principal)
    with _tx(request) as session:
        case = service.create_case(session, principal, payload)
        return _detail(session, case)


@router.get("")
def list_cases(
    request: Request, principal: Who, state: Annotated[str | None, Query(max_length=16)] = None
) -> dict[str, Any]:
    _staff(principal)
    with _tx(request) as session:
        return {
            "cases": [service.case_summary(c) for c in service.list_cases(session, principal, state=state)]
        }


@router.get("/{case_id}")
def get_case(request: Request, principal: Who, case_id: DbId) -> dict[str, Any]:
    _staff(principal)
    with _tx(request) as session:
        return _detail(session, service.load_case(session, principal, case_id))


@router.patch("/{case_id}")
def update_case(request: Request, principal: Who, case_id: DbId, payload: Payload) -> dict[str, Any]:
    _staff(principal)
    with _tx(request) as session:
        return _detail(session, service.update_case(session, principal, case_id, payload))


@router.post("/{case_id}/reviewer")
def assign_reviewer(request: Request, principal: Who, case_id: DbId, payload: Payload) -> dict[str, Any]:
    _staff(principal)
    with _tx(request) as session:
        case = service.load_case(session, principal, case_id)
        service.assign_reviewer(session, principal, case, payload.get("reviewer_id"))
        return _detail(session, case)


@router.post("/{case_id}/points", status_code=201)
def add_point(request: Request, principal: Who, case_id: DbId, payload: Payload) -> dict[str, Any]:
    _staff(principal)
    with _tx(request) as session:
        point = service.add_point(session, principal, case_id, payload.get("text"))
        return {"id": point.label, "text": point.text}


@router.patch("/{case_id}/points/{label}")
def update_point(
    request: Request, principal: Who, case_id: DbId, label: str, payload: Payload
) -> dict[str, Any]:
    _staff(principal)
    with _tx(request) as session:
        p = service.update_point(session, principal, case_id, label, payload)
        return {"id": p.label, "text": p.text, "comparison": p.comparison, "conclusion": p.conclusion}


@router.post("/{case_id}/transitions")
def transition(request: Request, principal: Who, case_id: DbId, payload: Payload) -> dict[str, Any]:
    _staff(principal)
    reviewer_id = payload.get("reviewer_id")
    if reviewer_id is not None and not isinstance(reviewer_id, int):
        raise HTTPException(status_code=400, detail="审核员编号应为整数")
    with _tx(request) as session:
        case = service.transition(
            session,
            principal,
            case_id,
            str(payload.get("action", "")),
            comment=str(payload.get("comment") or ""),
            reviewer_id=reviewer_id,
        )
        return _detail(session, case)


@router.post("/{case_id}/search")
def search_for_case(request: Request, principal: Who, case_id: DbId, payload: Payload) -> dict[str, Any]:
    """Run a professional search for the case and log it as evidence (section 四).

    Results stop at the commission year unless `override` is true; the override is logged."""
    _staff(principal)
    q = payload.get("q")
    if not isinstance(q, str) or not q.strip():
        raise HTTPException(status_code=400, detail="请输入检索式")
    if len(q) > MAX_QUERY_CHARS:
        raise HTTPException(status_code=400, detail=f"检索式过长（最多 {MAX_QUERY_CHARS} 个字符）")
    override = payload.get("override") is True
    page, size = payload.get("page", 1), payload.get("size", 20)
    if not isinstance(page, int) or not isinstance(size, int) or not (1 <= page <= 500 and 1 <= size <= 100):
        raise HTTPException(status_code=400, detail="页码应为 1–500，每页条数应为 1–100")
    with _tx(request) as session:
        case = service.load_case(session, principal, case_id)
        service.require_analyst(session, principal, case)
        year_to = evidence.search_window(case, override)
        ran = evidence.restrict_expression(q.strip(), year_to)
        # BadQuery propagates to the app's 400 handler, and the transaction logs nothing.
        result, _ = app_state(request).search.pro(ran, page=page, size=size, principal=principal)
        if case.state == "received":
            service.transition(session, principal, case.id, "start_search")
        entry = evidence.record_search(
            session,
            principal,
            case,
            expression=q.strip(),
            normalized=result["normalized"],
            cnki=result["cnki"],
            hits=result["total"],
            year_to=year_to,
            override=override,
            terms_zh=payload.get("terms_zh") or (),
            terms_en=payload.get("terms_en") or (),
        )
        return {**result, "strategy": evidence.strategy_dict(entry)}


@router.patch("/{case_id}/strategies/{strategy_id}")
def choose_strategy(
    request: Request, principal: Who, case_id: DbId, strategy_id: DbId, payload: Payload
) -> dict[str, Any]:
    _staff(principal)
    if not isinstance(payload.get("in_report"), bool):
        raise HTTPException(status_code=400, detail="in_report 应为 true 或 false")
    with _tx(request) as session:
        entry = evidence.choose_strategy(session, principal, case_id, strategy_id, payload["in_report"])
        return evidence.strategy_dict(entry)


@router.post("/{case_id}/documents", status_code=201)
def add_document(request: Request, principal: Who, case_id: DbId, payload: Payload) -> dict[str, Any]:
    _staff(principal)
    record_id = payload.get("record_id")
    if not isinstance(record_id, str) or not record_id.strip() or len(record_id) > 255:
        raise HTTPException(status_code=400, detail="请提供文献的记录编号 record_id")
    with _tx(request) as session:
        case = service.load_case(session, principal, case_id)
        service.require_analyst(session, principal, case)
        record = app_state(request).search.get_record(record_id.strip(), principal=principal)
        if record is None:
            raise HTTPException(status_code=404, detail=f"没有找到记录 {record_id.strip()}")
        record = {**record, "id": record.get("id") or record_id.strip()}
        doc = evidence.add_document(session, principal, case_id, record, payload)
        return evidence.document_dict(doc)


@router.patch("/{case_id}/documents/{doc_id}")
def update_document(
    request: Request, principal: Who, case_id: DbId, doc_id: DbId, payload: Payload
) -> dict[str, Any]:
    _staff(principal)
    with _tx(request) as session:
        return evidence.document_dict(evidence.update_document(session, principal, case_id, doc_id, payload))


@router.delete("/{case_id}/documents/{doc_id}", status_code=204)
def remove_document(request: Request, principal: Who, case_id: DbId, doc_id: DbId) -> Response:
    _staff(principal)
    with _tx(request) as session:
        evidence.remove_document(session, principal, case_id, doc_id)
    return Response(status_code=204)


def _report_file(request: Request, principal: Principal, case_id: DbId, kind: str) -> Response:
    _staff(principal)
    with _tx(request) as session:
        case = service.load_case(session, principal, case_id)
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


@verify_router.get("/verify/{report_no}")
def verify(
    request: Request, report_no: str, code: Annotated[str, Query(max_length=100)] = ""
) -> dict[str, Any]:
    """Public: whether a report with this number was issued and, given its code, whether it is unaltered."""
    if len(report_no) > 32:
        raise HTTPException(status_code=400, detail="报告编号过长")
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
