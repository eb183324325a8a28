"""收录引证 cases over HTTP: the content routes under `/api/v1/cases/{id}/citation`.

A citation case is created by `POST /api/v1/cases` with `"kind": "citation"` and moves through the
shared transitions route; these routes hold what only this kind has: the header and options, the
paper list (paste, upload, pick), match confirmation, exclusions and flips of citing records, and
the preview of the report with every count.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, Response, UploadFile
from sqlalchemy.orm import Session

from appdb.models import NoveltyCase
from casework import core
from casework.citation import assemble, citing, header, papers
from reports.citation_xlsx import render_citation_xlsx
from search.principal import Principal
from web.api import DbId
from web.cases_api import require_staff, site_url
from web.citation_case_bodies import CitationHeaderFields, CitingAdjustment, PaperDecision, PaperInput
from web.deps import Db
from web.identity import asking
from web.state import app_state

router = APIRouter(prefix="/api/v1/cases", dependencies=[Depends(require_staff)])
Who = Annotated[Principal, Depends(asking)]


def _citer(c: citing.Citer) -> dict[str, Any]:
    return {
        "id": c.id,
        "title": c.title,
        "year": c.year,
        "reference": c.reference,
        "database": c.database,
        "self_citation": c.self_citation,
        "computed_self_citation": c.computed_self,
        "in_window": c.window,
        "counted": c.counted,
        "adjustment": c.adjustment,
        "reason": c.reason,
    }


def content(view: assemble.CaseView) -> dict[str, Any]:
    """Everything the case page shows for this kind, as JSON."""
    report = view.report
    wanted = header.requested(view.header)
    return {
        "header": header.header_dict(view.case, view.header),
        "papers": [
            {
                **papers.paper_dict(v.paper, v.seq),
                "reference": v.cited.reference,
                "found": v.cited.found,
                "indexing": [{"database": e.database, "accession": e.accession, "doc_type": e.doc_type}
                             for e in v.cited.indexing],  # fmt: skip
                "total": v.cited.total,
                "self": v.cited.self_count,
                "others": v.cited.others_count,
                "by_database": {db: {"total": t, "others": o} for db, (t, o) in v.cited.citations_by_database().items()},
                "citing": [_citer(c) for c in v.citers],
            }
            for v in view.papers
        ],
        "not_indexed": {db: [v.seq for v in view.missing_from(db)] for db in wanted},
        "totals": {
            "papers": len(report.papers),
            "indexed": {db: report.indexed_count(db) for db in wanted},
            "citations": report.total_citations,
            "self": report.self_total,
            "others": report.others_total,
            "h_index": report.h_index(),
            "h_index_others": report.h_index(others_only=True),
        },
        "certification": report.certification_text(),
        "notes": list(report.notes),
        "problems": [{"key": p.key, "message": p.message, "anchor": p.anchor, "warning": p.warning}
                     for p in view.problems],  # fmt: skip
    }


def frozen_content(case: NoveltyCase) -> dict[str, Any]:
    report = assemble.frozen(case)
    return {"frozen": True, "report": report.to_dict(), "certification": report.certification_text()}


def _answer(request: Request, db: Session, case: NoveltyCase, principal: Principal) -> dict[str, Any]:
    search = app_state(request).search
    if case.snapshot is not None:
        assemble.require_reader_sees(db, search, principal, case)
        return {"id": case.id, "state": case.state, **frozen_content(case)}
    view = assemble.view(db, case, search)
    assemble.require_reader_sees(db, search, principal, case, view)
    return {"id": case.id, "state": case.state, "frozen": False, **content(view)}


@router.get("/{case_id}/citation")
def get_citation(request: Request, db: Db, principal: Who, case_id: DbId) -> dict[str, Any]:
    """The case's citation content: live counts until signing, the frozen report after."""
    case = core.load_case(db, principal, case_id)
    header.header_of(db, case)
    return _answer(request, db, case, principal)


@router.patch("/{case_id}/citation")
def update_citation(
    request: Request, db: Db, principal: Who, case_id: DbId, body: CitationHeaderFields
) -> dict[str, Any]:
    case = header.update_header(db, principal, case_id, body.sent())
    return _answer(request, db, case, principal)


@router.post("/{case_id}/citation/papers", status_code=201)
def add_papers(request: Request, db: Db, principal: Who, case_id: DbId, body: PaperInput) -> dict[str, Any]:
    """Pasted citations (`text`, one a line) or records picked by ID (`record_ids`)."""
    search = app_state(request).search
    if body.record_ids is not None:
        outcome = papers.add_picked(db, principal, case_id, search, body.record_ids)
    else:
        outcome = papers.add_pasted(db, principal, case_id, search, body.text or "")
    case = core.load_case(db, principal, case_id)
    return {"message": outcome.message, "added": [p.id for p in outcome.added], "merged": outcome.merged,
            **_answer(request, db, case, principal)}  # fmt: skip


@router.post("/{case_id}/citation/papers/upload", status_code=201)
async def upload_papers(
    request: Request,
    db: Db,
    principal: Who,
    case_id: DbId,
    file: Annotated[UploadFile, File()],
    format: Annotated[str | None, Form(max_length=16)] = None,
) -> dict[str, Any]:
    """An RIS, EndNote, NoteExpress, RefWorks or WoS export of the client's papers."""
    payload = await file.read(papers.MAX_UPLOAD_BYTES + 1)
    search = app_state(request).search
    outcome = papers.add_upload(db, principal, case_id, search, payload, format or None)
    case = core.load_case(db, principal, case_id)
    return {"message": outcome.message, "added": [p.id for p in outcome.added], "merged": outcome.merged,
            "errors": outcome.errors, **_answer(request, db, case, principal)}  # fmt: skip


@router.patch("/{case_id}/citation/papers/{paper_id}")
def confirm_paper(
    request: Request, db: Db, principal: Who, case_id: DbId, paper_id: DbId, body: PaperDecision
) -> dict[str, Any]:
    papers.confirm(db, principal, case_id, paper_id, app_state(request).search,
                   body.model_dump(exclude_unset=True))  # fmt: skip
    return _answer(request, db, core.load_case(db, principal, case_id), principal)


@router.delete("/{case_id}/citation/papers/{paper_id}", status_code=204)
def remove_paper(db: Db, principal: Who, case_id: DbId, paper_id: DbId) -> Response:
    papers.remove(db, principal, case_id, paper_id)
    return Response(status_code=204)


@router.post("/{case_id}/citation/adjustments", status_code=201)
def adjust(request: Request, db: Db, principal: Who, case_id: DbId, body: CitingAdjustment) -> dict[str, Any]:
    """Exclude a citing record, flip its 自引/他引 mark, or include one the data cannot date: with a reason."""
    adj = citing.adjust(db, principal, case_id, body.model_dump())
    return {"adjustment_id": adj.id, **_answer(request, db, core.load_case(db, principal, case_id), principal)}


@router.delete("/{case_id}/citation/adjustments/{adjustment_id}", status_code=204)
def undo_adjustment(db: Db, principal: Who, case_id: DbId, adjustment_id: DbId) -> Response:
    citing.undo(db, principal, case_id, adjustment_id)
    return Response(status_code=204)


@router.get("/{case_id}/citation/preview")
def preview(request: Request, db: Db, principal: Who, case_id: DbId) -> dict[str, Any]:
    """The report as it would print now (frozen from signing on), with its certification paragraph."""
    case = core.load_case(db, principal, case_id)
    header.header_of(db, case)
    report = assemble.readable_report(db, case, app_state(request).search, principal,
                                      site_url=site_url(request))  # fmt: skip
    return {"report": report.to_dict(), "certification": report.certification_text(),
            "h_index": report.h_index(), "h_index_others": report.h_index(others_only=True)}  # fmt: skip


@router.get("/{case_id}/citation/report.xlsx")
def report_xlsx(request: Request, db: Db, principal: Who, case_id: DbId) -> Response:
    """附表一 收录 and 附表二 引证 as a workbook, for the centre's own records."""
    case = core.load_case(db, principal, case_id)
    header.header_of(db, case)
    report = assemble.readable_report(db, case, app_state(request).search, principal,
                                      site_url=site_url(request))  # fmt: skip
    name = case.report_no or f"case-{case.id}-draft"
    return Response(
        render_citation_xlsx(report),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
    )
