"""Working days (工作日) in mainland China: statutory holidays off, adjusted weekends (调休) on.

The calendar comes from the `chinesecalendar` package (import name `chinese_calendar`), which carries
the State Council's holiday notices year by year; 1.11 covers 2004 to 2026. A day outside its data
(it raises NotImplementedError) falls back to Monday to Friday, so a year whose notice the installed
package does not know yet counts its holidays as working days and its adjusted weekends as days off.
Upgrading the package corrects such figures retroactively, since turnaround is always recomputed.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar


@lru_cache(maxsize=8192)
def is_working_day(day: date) -> bool:
    """True on a working day; Monday to Friday for a day the holiday data does not cover."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def working_days_after(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (0 when `end` is not after `start`).

    The day a commission arrives is not counted and the day of issue is, so a report issued on the
    next working day took one working day, and one issued the same day took none.
    """
    count = 0
    day = start + timedelta(days=1)
    while day <= end:
        count += is_working_day(day)
        day += timedelta(days=1)
    return count
