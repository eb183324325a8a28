"""Branch-centre statistics and report exports over HTTP: `/api/v1/centres/{code}/...`.

- `GET /api/v1/centres/{code}/case-statistics`: JSON (`casework.statistics`, definitions included).
- `GET /api/v1/centres/{code}/case-statistics.xlsx`: the same as a workbook (按月, 按目的, 汇总).
- `GET /api/v1/centres/{code}/reports.zip`: every report issued in the period, PDF and DOCX, plus
  `index.xlsx`; audit-logged as `centre.reports_export`.

`code` is a centre code, or `*` for all centres together (platform admins; statistics only, a zip
is per centre). Query `from` and `to` are YYYY-MM-DD, both included; the default is the current
year to date (Asia/Shanghai). Access (`casework.centre_access`): 401 anonymous; platform admins any
centre; a centre admin their own (another centre is 404, as if missing); everyone else 403.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy.orm import Session

from appdb import accounts
from casework import archive, core
from casework.centre_access import ALL_CENTRES, centres_in_scope
from casework.period import Period, parse_period
from casework.statistics import CaseStatistics, case_statistics
from casework.statistics_xlsx import statistics_xlsx
from search.principal import Principal
from web.cases_api import site_url
from web.deps import Db, Who
from web.identity import client_ip

router = APIRouter(prefix="/api/v1/centres")

Code = Annotated[str, Path(max_length=32)]
From = Annotated[str | None, Query(alias="from", max_length=40)]
To = Annotated[str | None, Query(alias="to", max_length=40)]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_CHUNK = 256 * 1024


def _signed_in(principal: Principal) -> None:
    if not principal.authenticated:
        raise HTTPException(status_code=401, detail="请先登录")


def load_statistics(
    session: Session, principal: Principal, code: str, raw_from: str | None, raw_to: str | None
) -> CaseStatistics:
    """Access first, then the period: a refused caller learns nothing from how the dates are read."""
    centres = centres_in_scope(session, principal, code)
    period = parse_period(raw_from, raw_to, today=core.today_local())
    return case_statistics(session, centres, period, code)


def _file_label(code: str, period: Period) -> str:
    # Centre codes are ASCII letters, digits, "-" and "_", so the name needs no quoting.
    return f"{'all' if code == ALL_CENTRES else code}-{period.start.isoformat()}-{period.end.isoformat()}"


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}


@router.get("/{code}/case-statistics")
def statistics_json(db: Db, principal: Who, code: Code, date_from: From = None,
                    date_to: To = None) -> dict[str, Any]:  # fmt: skip
    _signed_in(principal)
    return load_statistics(db, principal, code, date_from, date_to).as_dict()


@router.get("/{code}/case-statistics.xlsx")
def statistics_workbook(db: Db, principal: Who, code: Code, date_from: From = None,
                        date_to: To = None) -> Response:  # fmt: skip
    _signed_in(principal)
    stats = load_statistics(db, principal, code, date_from, date_to)
    name = f"case-statistics-{_file_label(code, stats.period)}.xlsx"
    return Response(statistics_xlsx(stats), media_type=XLSX, headers=_attachment(name))


def _chunks(file: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := file.read(_CHUNK):
            yield chunk
    finally:
        file.close()


@router.get("/{code}/reports.zip")
def reports_zip(request: Request, db: Db, principal: Who, code: Code, date_from: From = None,
                date_to: To = None) -> Response:  # fmt: skip
    """The issued reports of one centre and period; refused (400) past `archive.MAX_REPORTS`."""
    _signed_in(principal)
    centres = centres_in_scope(db, principal, code)
    if code == ALL_CENTRES:
        raise core.CaseError("报告压缩包按分中心导出，请选择一个分中心")
    period = parse_period(date_from, date_to, today=core.today_local())
    items = archive.collect(db, centres[0], period, site_url=site_url(request))
    # Rendering takes about a second per report; no transaction is held open meanwhile.
    db.commit()
    file = archive.write_zip(items)
    size = file.seek(0, 2)
    file.seek(0)
    try:
        detail = {"centre": code, **period.as_dict(), "reports": len(items), "bytes": size}
        accounts.audit(db, core.actor_key(principal), "centre.reports_export", detail, ip=client_ip(request))
        db.commit()  # here rather than as the route returns, so that a failed audit closes the file
    except BaseException:
        file.close()
        raise
    headers = {**_attachment(f"reports-{_file_label(code, period)}.zip"), "Content-Length": str(size)}
    return StreamingResponse(_chunks(file), media_type="application/zip", headers=headers)
