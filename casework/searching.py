"""Searches run "for a case": the one path the API and the case page share.

A search for a case is an analyst's professional expression, limited to the case's search window
(documents published up to the commission year, plus undated ones, unless the analyst overrides it),
run with the analyst's own access, and logged once as immutable evidence. The window is a filter
beside the expression, not part of it: the log and report section 四 print the analyst's expression
and the year span separately, as CNKI-style strategy tables do.

`#n` in a case search means the case's own n-th logged search, as in CNKI's 检索历史. It is spelt
out into that search's expression before running, and the log keeps the analyst's `#1 AND #2` beside
the spelt-out normalized and CNKI forms: the report prints only some of the searches, so a printed
strategy must stand on its own rather than point at a row the reader may not have. Showing the results of a logged entry again (paging,
coming back to the case page) re-runs the entry's expression with its window and logs nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from appdb.models import CaseDocument, CaseStrategy
from casework import core, evidence, states
from casework.core import CaseError
from search.history_text import spell_out
from search.principal import Principal
from search.query import MAX_QUERY_CHARS
from search.service import SearchService

MAX_PAGE = 500
MAX_SIZE = 100


def expand_history(expression: str, earlier: Sequence[str]) -> str:
    """`expression` with each `#n` replaced by `earlier[n - 1]` in parentheses (earlier: spelt-out forms)."""

    def text_of(number: int) -> str:
        if not 1 <= number <= len(earlier):
            raise CaseError(f"本案件没有第 {number} 条检索式（已有 {len(earlier)} 条）")
        return earlier[number - 1]

    return spell_out(expression, text_of)


def spelt_out(entries: Sequence[CaseStrategy]) -> list[str]:
    """Each logged search's expression with its `#n` spelt out, in log order."""
    out: list[str] = []
    for entry in entries:
        out.append(expand_history(entry.expression, out))
    return out


def check_paging(page: int, size: int) -> None:
    if not (1 <= page <= MAX_PAGE and 1 <= size <= MAX_SIZE):
        raise CaseError(f"页码应为 1–{MAX_PAGE}，每页条数应为 1–{MAX_SIZE}")


def clean_expression(q: object) -> str:
    if not isinstance(q, str) or not q.strip():
        raise CaseError("请输入检索式")
    if len(q) > MAX_QUERY_CHARS:
        raise CaseError(f"检索式过长（最多 {MAX_QUERY_CHARS} 个字符）")
    return q.strip()


def run_for_case(
    session: Session,
    principal: Principal,
    case_id: int,
    search: SearchService,
    *,
    q: object,
    override: bool = False,
    page: int = 1,
    size: int = 20,
    terms_zh: Sequence[str] = (),
    terms_en: Sequence[str] = (),
) -> tuple[dict[str, Any], CaseStrategy]:
    """Run and log one search for the case. A query error (`BadQuery`) propagates before anything is logged."""
    case = core.case_for_editing(session, principal, case_id)
    expression = clean_expression(q)
    check_paging(page, size)
    year_to = evidence.search_window(case, override)
    full = expand_history(expression, spelt_out(evidence.strategies(session, case)))
    result, _ = search.pro(full, page=page, size=size, principal=principal, year_to=year_to)
    if case.state == "received":
        states.transition(session, principal, case.id, "start_search")
    entry = evidence.record_search(
        session,
        principal,
        case,
        expression=expression,
        normalized=result["normalized"],
        cnki=result["cnki"],
        hits=result["total"],
        year_to=year_to,
        override=override,
        terms_zh=terms_zh,
        terms_en=terms_en,
    )
    return result, entry


def show_entry(
    search: SearchService,
    principal: Principal,
    entries: Sequence[CaseStrategy],
    entry: CaseStrategy,
    *,
    page: int = 1,
    size: int = 20,
) -> dict[str, Any]:
    """The results of a logged search (one of `entries`, the case's log), as they are now; the hit
    count logged is what the report prints."""
    check_paging(page, size)
    full = spelt_out(entries)[list(entries).index(entry)]
    year_to = None if entry.window_override else entry.year_to
    result, _ = search.pro(full, page=page, size=size, principal=principal, year_to=year_to)
    return result


def add_record(
    session: Session,
    principal: Principal,
    case_id: int,
    search: SearchService,
    record_id: str,
    data: Mapping[str, Any],
    *,
    every_point_by_default: bool = False,
) -> CaseDocument:
    """Add a record to the case as this analyst sees it now (its snapshot).

    `every_point_by_default` links it to all novelty points unless `data` names some: the one-click
    add of the case page, refined afterwards in the document list."""
    record_id = record_id.strip()
    if not record_id or len(record_id) > 255:
        raise CaseError("请提供文献的记录编号 record_id")
    case = core.case_for_editing(session, principal, case_id)
    record = search.get_record(record_id, principal=principal)
    if record is None:
        raise core.CaseNotFound(f"没有找到记录 {record_id}")
    if every_point_by_default and not data.get("points"):
        data = {**data, "points": [p.label for p in core.points(session, case)]}
    return evidence.add_document(
        session, principal, case_id, {**record, "id": record.get("id") or record_id}, data
    )
