"""The centre statistics page of the workspace: `/workspace/centres` and `/workspace/centres/{code}`.

Platform admins get a list of centres (and `*`, all centres together); a centre admin is sent
straight to their own centre. The page shows the tables of `casework.statistics` for a period
chosen with a plain GET form, and links to the XLSX and zip downloads of `web.centre_api`, which
apply the same access rules. Anonymous visitors go to the login page, like every staff page.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from appdb import accounts
from appdb.models import Centre
from casework import archive, core, external
from casework.centre_access import ALL_CENTRES, centres_in_scope
from casework.period import parse_period
from casework.statistics import DEFINITIONS, CaseStatistics, case_statistics
from web.centre_form import ContactBlock
from web.deps import CentresPage, Csrf, Db
from web.render import render

router = APIRouter(include_in_schema=False)

Code = Annotated[str, Path(max_length=32)]


def _page_url(code: str) -> str:
    return f"/workspace/centres/{quote(code, safe='')}"


def _links(centres: list[Centre], current: str | None) -> list[dict[str, Any]]:
    """The centre switcher of platform admins: all centres together first, then each centre."""
    items = [(ALL_CENTRES, "全部分中心")] + [(c.code, c.name) for c in centres]
    return [{"code": code, "name": name, "url": _page_url(code), "current": code == current}
            for code, name in items]  # fmt: skip


@router.get("/workspace/centres", response_class=HTMLResponse)
def centre_index(request: Request, me: CentresPage, db: Db) -> Response:
    if not me.platform_admin:
        return RedirectResponse(_page_url(me.centre or ""), status_code=303)
    links = _links(accounts.list_centres(db), None)
    return render(
        request, "centre_stats.html", {"me": me, "links": links, "stats": None, "title": "分中心统计"}
    )


@router.get("/workspace/centres/{code}", response_class=HTMLResponse)
def centre_page(request: Request, me: CentresPage, db: Db, code: Code) -> Response:
    raw_from = request.query_params.get("from", "")[:40]
    raw_to = request.query_params.get("to", "")[:40]
    stats: CaseStatistics | None = None
    error = ""
    centres = centres_in_scope(db, me, code)
    own_databases = external.databases(db, centres[0].id) if code != ALL_CENTRES else []
    title = "全部分中心" if code == ALL_CENTRES else f"{centres[0].name}（{centres[0].code}）"
    links = _links(accounts.list_centres(db), code) if me.platform_admin else []
    try:
        period = parse_period(raw_from, raw_to, today=core.today_local())
        stats = case_statistics(db, centres, period, code)
    except core.CaseError as exc:
        error = str(exc)  # the form comes back with what was typed and the reason
    context: dict[str, Any] = {
        "me": me,
        "links": links,
        "title": title,
        "code": code,
        "page_url": _page_url(code),
        "stats": stats,
        "error": error,
        "definitions": DEFINITIONS,
        "max_reports": archive.MAX_REPORTS,
        # The 查新机构 block of one centre, which its admin keeps up to date (printed in every report).
        "centre": centres[0] if code != ALL_CENTRES else None,
        "contact_fields": accounts.CENTRE_CONTACT,
        "saved": request.query_params.get("saved") == "1",
        "databases": own_databases,
        "database_error": request.query_params.get("db_error", "")[:200],
        "date_from": stats.period.start.isoformat() if stats else raw_from,
        "date_to": stats.period.end.isoformat() if stats else raw_to,
    }
    if stats:
        query = urlencode(stats.period.as_dict())
        api = f"/api/v1/centres/{quote(code, safe='')}"
        context["xlsx_url"] = f"{api}/case-statistics.xlsx?{query}"
        context["zip_url"] = None if code == ALL_CENTRES else f"{api}/reports.zip?{query}"
    return render(request, "centre_stats.html", context, status=400 if error else 200)


@router.post("/workspace/centres/{code}/contact", response_class=HTMLResponse, dependencies=[Csrf])
def centre_contact(me: CentresPage, db: Db, code: Code, block: ContactBlock) -> Response:
    """The centre's 查新机构 block; reports signed from now on print it (signed ones keep theirs)."""
    if code == ALL_CENTRES:
        raise HTTPException(status_code=404, detail="请选择一个分中心")
    try:
        centre = centres_in_scope(db, me, code)[0]
        accounts.set_centre_contact(centre, block)
        accounts.audit(db, core.actor_key(me), "centre.contact", {"code": centre.code})
    except accounts.AccountError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    return RedirectResponse(_page_url(code) + "?saved=1#contact", status_code=303)


@router.post("/workspace/centres/{code}/databases", response_class=HTMLResponse, dependencies=[Csrf])
async def centre_database(request: Request, me: CentresPage, db: Db, code: Code) -> Response:
    """Add a database to the centre's list (beside the default set every centre has)."""
    if code == ALL_CENTRES:
        raise HTTPException(status_code=404, detail="请选择一个分中心")
    form = await request.form()
    try:
        centre = centres_in_scope(db, me, code)[0]
        external.add_database(db, me, centre.code, form.get("name"), form.get("origin"))
    except core.CaseError as exc:
        if exc.status in (403, 404):  # not this admin's centre: answered like the other centre pages
            raise
        db.rollback()
        return RedirectResponse(_page_url(code) + "?" + urlencode({"db_error": str(exc)}) + "#databases",
                                status_code=303)  # fmt: skip
    return RedirectResponse(_page_url(code) + "#databases", status_code=303)
