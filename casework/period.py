"""A reporting period (统计期间): whole days in Asia/Shanghai, both ends included.

Case dates (commission, signing, issue) are already local calendar dates (`core.today_local`), so
a period is compared with them directly; no time-zone arithmetic happens here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from casework.core import CaseError

MAX_YEARS = 5
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    def months(self) -> list[str]:
        """Every month the period touches, as "YYYY-MM", in order."""
        out = []
        year, month = self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            out.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return out

    def contains(self, day: date | None) -> bool:
        return day is not None and self.start <= day <= self.end

    def as_dict(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


def _day(raw: str, label: str) -> date:
    text = raw.strip()
    # date.fromisoformat also takes "20260101" and week dates; the form and the API promise one shape.
    if not _ISO_DAY.fullmatch(text):
        raise CaseError(f"{label}格式应为 YYYY-MM-DD（例如 2026-01-31），收到“{raw[:40]}”")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CaseError(f"{label}不是有效日期：{text}") from None


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a common year
        return date(day.year + years, 3, 1)


def parse_period(raw_from: str | None, raw_to: str | None, *, today: date) -> Period:
    """The period a request names; Chinese CaseError (400) for anything unusable.

    Defaults: the current year to date. With only `to`, the period starts on 1 January of that
    year; with only `from`, it ends today. At most five years, so one request stays cheap.
    """
    end = _day(raw_to, "截止日期") if raw_to and raw_to.strip() else None
    start = _day(raw_from, "起始日期") if raw_from and raw_from.strip() else None
    if end is None:
        end = today
    if start is None:
        start = date(end.year, 1, 1)
    if start > end:
        raise CaseError(f"起始日期（{start.isoformat()}）不能晚于截止日期（{end.isoformat()}）")
    if end >= _years_later(start, MAX_YEARS):
        raise CaseError(f"统计期间最长 {MAX_YEARS} 年，请缩短起止日期")
    return Period(start, end)
