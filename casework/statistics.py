"""Case statistics per branch centre and period: received, issued, turnaround, returned rate.

Definitions (also sent with every answer, in Chinese, see `DEFINITIONS`):

- received: cases whose commission date (委托日期) lies in the period, whatever their state now.
- issued: cases issued or archived whose issue date (签发日期) lies in the period.
- month and purpose: the month of the date counted (commission date for received, issue date for
  issued) and the case's 查新目的.
- turnaround: for each case issued in the period, the working days after the commission date up to
  and including the issue date (`working_days.working_days_after`: Chinese statutory holidays and
  adjusted working weekends; Monday to Friday outside the calendar data). The average is over
  those cases.
- returned rate: among the cases issued in the period, the share the reviewer returned for revision
  (退回修改) at least once. Returns are read from the audit log (`case.return` events), the one
  record of them that survives signing: the state machine writes the event in the same transaction
  as the transition, and signing clears the review comment on the case.

All dates are Asia/Shanghai calendar dates, as stored on the case.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from itertools import product
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from appdb.models import AuditEvent, Centre, NoveltyCase
from casework.core import CaseError
from casework.period import Period
from casework.report import ISSUED_STATES
from casework.working_days import working_days_after
from reports.citation_model import CitationPurpose
from reports.model import Purpose

PURPOSES: tuple[str, ...] = tuple(p.value for p in Purpose)
# Each kind of case is counted on its own: the purposes differ (and both have 其他), so one table
# over both kinds would add unlike things.
KINDS = {"novelty": "科技查新", "citation": "收录引证"}
PURPOSES_BY_KIND: dict[str, tuple[str, ...]] = {
    "novelty": PURPOSES,
    "citation": tuple(p.value for p in CitationPurpose),
}
RETURN_ACTION = "case.return"

DEFINITIONS = {
    "received": "受理数：委托日期在统计期间内的案件数（不论当前状态）",
    "issued": "签发数：签发日期在统计期间内、已签发或已归档的案件数",
    "turnaround": "平均查新周期：统计期间内签发的案件，自委托日期次日起至签发日期（含）的工作日数的平均值；"
    "工作日按国务院公布的法定节假日和调休计算，数据未覆盖的年份按周一至周五计算",
    "returned_rate": "退回率：统计期间内签发的案件中，曾被审核员退回修改至少一次的案件所占比例（依据审计日志）",
}


@dataclass(frozen=True)
class Counts:
    received: int = 0
    issued: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.received + other.received, self.issued + other.issued)

    def as_dict(self) -> dict[str, int]:
        return {"received": self.received, "issued": self.issued}


@dataclass(frozen=True)
class CentreSummary:
    """Totals for one centre (or, with code "*", for all centres asked for)."""

    code: str
    name: str
    received: int
    issued: int
    turnaround_days: int  # working days, summed over the cases issued in the period
    returned: int  # cases issued in the period that were returned at least once

    @property
    def average_turnaround(self) -> float | None:
        return self.turnaround_days / self.issued if self.issued else None

    @property
    def returned_rate(self) -> float | None:
        return self.returned / self.issued if self.issued else None

    def as_dict(self) -> dict[str, Any]:
        average, rate = self.average_turnaround, self.returned_rate
        return {
            "code": self.code,
            "name": self.name,
            "received": self.received,
            "issued": self.issued,
            "turnaround_working_days_total": self.turnaround_days,
            "average_turnaround_working_days": None if average is None else round(average, 2),
            "returned": self.returned,
            "returned_rate": None if rate is None else round(rate, 4),
        }


@dataclass(frozen=True)
class CaseStatistics:
    period: Period
    scope: str  # the centre code asked for, or "*"
    centres: tuple[CentreSummary, ...]
    # (centre code, "YYYY-MM", purpose) -> counts; only cells with something in them.
    cells: dict[tuple[str, str, str], Counts] = field(default_factory=dict)
    kind: str = "novelty"  # the kind of case counted (KINDS)

    @cached_property
    def _sums(self) -> dict[tuple[str | None, str | None, str | None], Counts]:
        # Every cell added under each of its 8 roll-ups (None = any), so `count` is one look-up:
        # the page and the workbook ask for centres x months x purposes of them.
        sums: dict[tuple[str | None, str | None, str | None], Counts] = {}
        for (c, m, p), n in self.cells.items():
            for key in product((c, None), (m, None), (p, None)):
                sums[key] = sums.get(key, Counts()) + n
        return sums

    def count(
        self, *, centre: str | None = None, month: str | None = None, purpose: str | None = None
    ) -> Counts:
        """Counts of the cells matching the given centre, month and purpose (None: any)."""
        return self._sums.get((centre, month, purpose), Counts())

    def purposes(self) -> list[str]:
        # Every official purpose, in the report's order, plus any odd value found in old data.
        official = PURPOSES_BY_KIND[self.kind]
        extra = sorted({p for _, _, p in self.cells} - set(official))
        return [*official, *extra]

    def by_month(self, centre: str | None = None) -> list[tuple[str, Counts]]:
        return [(m, self.count(centre=centre, month=m)) for m in self.period.months()]

    def by_purpose(self, centre: str | None = None) -> list[tuple[str, Counts]]:
        return [(p, self.count(centre=centre, purpose=p)) for p in self.purposes()]

    @property
    def totals(self) -> CentreSummary:
        if len(self.centres) == 1:
            return self.centres[0]
        return CentreSummary(
            code="*",
            name="合计",
            received=sum(c.received for c in self.centres),
            issued=sum(c.issued for c in self.centres),
            turnaround_days=sum(c.turnaround_days for c in self.centres),
            returned=sum(c.returned for c in self.centres),
        )

    def as_dict(self) -> dict[str, Any]:
        purposes = self.purposes()
        return {
            "scope": self.scope,
            "kind": self.kind,
            "period": self.period.as_dict(),
            "definitions": DEFINITIONS,
            "totals": self.totals.as_dict(),
            "centres": [c.as_dict() for c in self.centres],
            "by_month": [
                {
                    "month": month,
                    **counts.as_dict(),
                    "by_purpose": {p: self.count(month=month, purpose=p).as_dict() for p in purposes},
                }
                for month, counts in self.by_month()
            ],
            "by_purpose": [{"purpose": p, **counts.as_dict()} for p, counts in self.by_purpose()],
            "cells": [
                {"centre": c, "month": m, "purpose": p, **n.as_dict()}
                for (c, m, p), n in sorted(self.cells.items())
            ],
        }


def _month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def returned_case_ids(session: Session, case_ids: Iterable[int], since: date) -> set[int]:
    """Which of `case_ids` have a `case.return` event in the audit log.

    `since` (a date) bounds the scan: a case is returned only after it was created, and it cannot
    be created before its commission date; a day's margin covers the UTC timestamps of the log.
    """
    wanted = set(case_ids)
    if not wanted:
        return set()
    floor = datetime.combine(since - timedelta(days=1), time(), tzinfo=UTC)
    details = session.scalars(
        select(AuditEvent.detail).where(AuditEvent.action == RETURN_ACTION, AuditEvent.at >= floor)
    )
    found = set()
    for raw in details:
        try:
            case_id = json.loads(raw).get("case_id")
        except (ValueError, AttributeError):
            continue  # the log is append-only text; a malformed row must not break statistics
        if case_id in wanted:
            found.add(case_id)
    return found


def case_statistics(
    session: Session, centres: Sequence[Centre], period: Period, scope: str, kind: str = "novelty"
) -> CaseStatistics:
    """Statistics of one kind of case for `centres` (already checked against the principal, see
    `centre_access`)."""
    if kind not in KINDS:
        raise CaseError("案件类型应为：" + "、".join(f"{k}（{v}）" for k, v in KINDS.items()))
    by_id = {c.id: c for c in centres}
    rows = session.execute(
        select(
            NoveltyCase.id,
            NoveltyCase.centre_id,
            NoveltyCase.purpose,
            NoveltyCase.commission_date,
            NoveltyCase.issue_date,
            NoveltyCase.state,
        ).where(
            NoveltyCase.centre_id.in_(list(by_id)),
            NoveltyCase.kind == kind,
            or_(
                NoveltyCase.commission_date.between(period.start, period.end),
                and_(
                    NoveltyCase.state.in_(ISSUED_STATES),
                    NoveltyCase.issue_date.between(period.start, period.end),
                ),
            ),
        )
    ).all()
    received: Counter[tuple[str, str, str]] = Counter()
    issued: Counter[tuple[str, str, str]] = Counter()
    turnaround: Counter[int] = Counter()
    issued_cases: dict[int, int] = {}  # case id -> centre id
    for row in rows:
        code = by_id[row.centre_id].code
        if period.contains(row.commission_date):
            received[(code, _month(row.commission_date), row.purpose)] += 1
        if row.state in ISSUED_STATES and period.contains(row.issue_date):
            issued[(code, _month(row.issue_date), row.purpose)] += 1
            turnaround[row.centre_id] += working_days_after(row.commission_date, row.issue_date)
            issued_cases[row.id] = row.centre_id
    earliest = min((r.commission_date for r in rows if r.id in issued_cases), default=period.start)
    returned = Counter(issued_cases[i] for i in returned_case_ids(session, issued_cases, earliest))
    cells = {key: Counts(received[key], issued[key]) for key in received.keys() | issued.keys()}
    summaries = tuple(
        CentreSummary(
            code=c.code,
            name=c.name,
            received=sum(n for (code, _, _), n in received.items() if code == c.code),
            issued=sum(1 for centre_id in issued_cases.values() if centre_id == c.id),
            turnaround_days=turnaround[c.id],
            returned=returned[c.id],
        )
        for c in sorted(centres, key=lambda c: c.code)
    )
    return CaseStatistics(period=period, scope=scope, centres=summaries, cells=cells, kind=kind)
