"""Report numbers (domain.md Part A §6, Part B §1): one counter row per centre and year.

The serial comes from `UPDATE report_counters SET last = last + 1 ... RETURNING last` in the signing
transaction: the UPDATE holds the row's write lock until commit (a row lock on PostgreSQL, the
database write lock on SQLite), so two signings can never read the same value, and a signing that
rolls back takes its serial back with it, so numbers stay gap-free.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from appdb.models import Centre, ReportCounter

# Serial width per pattern: MOST year(4)+province(2)+institution(3)+serial(5) = 14 digits;
# MoE year(4)+"360"+station(5)+serial(4) = 16 characters.
SERIAL_DIGITS = {"most": 5, "moe": 4}
MOE_INFIX = "360"


class NumberingError(ValueError):
    """The centre's numbers for the year are used up, or the centre is misconfigured."""


def format_number(centre: Centre, year: int, serial: int) -> str:
    pattern = centre.numbering_pattern
    width = SERIAL_DIGITS.get(pattern)
    if width is None:
        raise NumberingError(f"分中心“{centre.name}”的报告编号规则无效：{pattern}")
    if serial >= 10**width:
        raise NumberingError(f"分中心“{centre.name}”{year} 年的报告编号已用完（流水号最多 {width} 位）")
    if pattern == "most":
        number = f"{year:04d}{centre.province_code:0>2}{centre.institution_no:0>3}{serial:05d}"
        expected = 14
    else:
        number = f"{year:04d}{MOE_INFIX}{centre.institution_no:0>5}{serial:04d}"
        expected = 16
    if len(number) != expected:
        raise NumberingError(f"分中心“{centre.name}”的省级代码或机构编号位数不对，无法生成报告编号")
    return number


def next_serial(session: Session, centre_id: int, year: int) -> int:
    """The next serial for this centre and year, held until the caller's transaction ends."""
    bump = (
        update(ReportCounter)
        .where(ReportCounter.centre_id == centre_id, ReportCounter.year == year)
        .values(last=ReportCounter.last + 1)
        .returning(ReportCounter.last)
    )
    got = session.execute(bump).scalar_one_or_none()
    if got is None:
        # First number of the year: create the row (a concurrent creator wins harmlessly), then bump.
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(
            insert(ReportCounter).values(centre_id=centre_id, year=year, last=0).on_conflict_do_nothing()
        )
        got = session.execute(bump).scalar_one()
    return int(got)


def issue_number(session: Session, centre: Centre, year: int) -> tuple[str, int]:
    serial = next_serial(session, centre.id, year)
    return format_number(centre, year, serial), serial
