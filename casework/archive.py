"""A centre's issued reports for a period as one zip: `<报告编号>.pdf`, `<报告编号>.docx`, `index.xlsx`.

Issued reports are rebuilt from the case (`build_report`): everything they print was frozen on the
case at signing, and the renderers refuse a report whose content no longer matches its verification
code, so a rebuilt file is the file that was issued; a report that cannot be rebuilt is left out and
index.xlsx names it with the reason, so one broken report never stops the others.

The work is split so that the database transaction stays short: `collect` reads the cases and builds
the (pure, in-memory) report descriptions; `write_zip` then renders them, which takes about a second
per PDF, with no session open. The zip is written into a spooled temporary file (on disk once past
`SPOOL_BYTES`), one report in memory at a time.
"""

from __future__ import annotations

import logging
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import IO

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from appdb.models import Centre, NoveltyCase
from casework.citation import assemble as citation
from casework.core import CaseError, StateConflict
from casework.period import Period
from casework.report import ISSUED_STATES, build_report
from casework.spreadsheet import Cell, Sheet, workbook_bytes
from reports import ReportData, ReportDataError, display_code, render_docx, render_pdf
from reports.citation_docx import render_citation_docx
from reports.citation_model import CitationReportData
from reports.citation_pdf import render_citation_pdf

# Rendering takes about a second per report (PDF ~0.4 MB with its embedded font), so 200 reports
# are a request of a few minutes and a zip of about 100 MB; more than that is better split by period.
log = logging.getLogger(__name__)

MAX_REPORTS = 200
SPOOL_BYTES = 32 * 1024 * 1024
INDEX_NAME = "index.xlsx"
# A 收录引证 row names the kind in 项目名称 and its purpose (职称评审 …) under 查新目的, with no 查新范围.
INDEX_HEADERS = ("报告编号", "项目名称", "委托人", "查新目的", "查新范围", "委托日期", "签发日期", "查新员",
                 "审核员", "验证码", "PDF 文件", "DOCX 文件")  # fmt: skip
_INDEX_WIDTHS = {"报告编号": 20, "项目名称": 40, "委托人": 30, "验证码": 22, "PDF 文件": 22, "DOCX 文件": 22}


@dataclass(frozen=True)
class ArchivedReport:
    stem: str  # the report number: the name of both files
    report: ReportData | CitationReportData  # 科技查新 or 收录引证, each rendered by its own renderers
    commission_date: date | None = None  # a 收录引证 report does not print it; the index does

    @property
    def pdf_name(self) -> str:
        return f"{self.stem}.pdf"

    @property
    def docx_name(self) -> str:
        return f"{self.stem}.docx"

    def index_row(self) -> list[Cell]:
        r = self.report
        code = display_code(r.verification_code) if r.verification_code else ""
        if isinstance(r, CitationReportData):
            return [self.stem, citation.PROJECT_NAME, r.client.name, r.purpose.value, "",
                    self.commission_date, r.issue_date, r.analyst.name, r.reviewer.name if r.reviewer else "",
                    code, self.pdf_name, self.docx_name]  # fmt: skip
        return [self.stem, r.project_name_zh, r.client.name, r.purpose.value, r.scope.value,
                r.commission_date, r.issue_date, r.analyst.name, r.reviewer.name, code, self.pdf_name,
                self.docx_name]  # fmt: skip


def _issued_in(centre: Centre, period: Period) -> ColumnElement[bool]:
    return and_(
        NoveltyCase.centre_id == centre.id,
        NoveltyCase.state.in_(ISSUED_STATES),
        NoveltyCase.issue_date.between(period.start, period.end),
    )


def collect(
    session: Session, centre: Centre, period: Period, *, limit: int | None = None, site_url: str = ""
) -> list[ArchivedReport]:
    """The issued reports of `centre` with an issue date in `period`, oldest first; CaseError over the cap."""
    cap = MAX_REPORTS if limit is None else limit
    total = (
        session.scalar(select(func.count()).select_from(NoveltyCase).where(_issued_in(centre, period))) or 0
    )
    if total > cap:
        raise CaseError(
            f"该期间内共有 {total} 份已签发报告，超过单个压缩包 {cap} 份的上限，请缩短统计期间后分批导出"
        )
    cases = session.scalars(
        select(NoveltyCase)
        .where(_issued_in(centre, period))
        .order_by(NoveltyCase.issue_date, NoveltyCase.report_no)
    )
    out = []
    for case in cases:
        stem = case.report_no or f"case-{case.id}"
        if case.kind == citation.KIND:
            frozen = citation.report_for(session, case, None, site_url=site_url)
            out.append(ArchivedReport(stem, frozen, case.commission_date))
        else:
            out.append(ArchivedReport(stem, build_report(session, case, site_url=site_url)))
    return out


def _entry(name: str, day: date | None) -> zipfile.ZipInfo:
    # An entry is dated by the report's issue date, so a zip listing shows when each was issued.
    when = day or date(1980, 1, 1)
    info = zipfile.ZipInfo(name, date_time=(when.year, when.month, when.day, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _render(item: ArchivedReport, kind: str) -> bytes:
    r = item.report
    try:
        if isinstance(r, CitationReportData):
            return render_citation_pdf(r) if kind == "pdf" else render_citation_docx(r)
        return render_pdf(r) if kind == "pdf" else render_docx(r)
    except ReportDataError as exc:
        raise StateConflict(
            f"报告 {item.stem} 无法按签发时的内容重新生成（{exc}），请联系平台管理员"
        ) from None


def _rendered(item: ArchivedReport) -> tuple[bytes, bytes] | str:
    """Both files of one report, or why they could not be made (one bad report never stops the zip)."""
    try:
        return _render(item, "pdf"), _render(item, "docx")
    except StateConflict as exc:
        return str(exc)
    except Exception as exc:  # a renderer's own failure on odd stored data: named in the index instead
        log.exception("report %s could not be rendered", item.stem)
        return f"报告 {item.stem} 无法生成（{type(exc).__name__}），请联系平台管理员"


def write_zip(items: Sequence[ArchivedReport]) -> IO[bytes]:
    """The zip in a temporary file, positioned at its start; the caller closes it.

    A report that cannot be rendered is left out, and its row in index.xlsx says why in place of
    its file names; the index is written last, once that is known.
    """
    # Not a `with`: the caller streams the file and closes it.
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
    try:
        with zipfile.ZipFile(out, "w") as zf:
            rows: list[list[Cell]] = []
            for item in items:
                row = item.index_row()
                made = _rendered(item)
                if isinstance(made, str):
                    row[-2:] = [made, ""]
                else:
                    for kind, body in zip(("pdf", "docx"), made, strict=True):
                        zf.writestr(_entry(f"{item.stem}.{kind}", item.report.issue_date), body)
                rows.append(row)
            sheet = Sheet("报告清单", INDEX_HEADERS, rows, widths=_INDEX_WIDTHS)
            latest = max((i.report.issue_date for i in items if i.report.issue_date), default=None)
            zf.writestr(_entry(INDEX_NAME, latest), workbook_bytes([sheet]))
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out
