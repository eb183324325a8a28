"""Who may write what through ingest: the check every write of a job passes before it reaches the index.

An upload is anyone's on the staff, but a tech report is its centre's: a write that would change a tech
report already in the index (or add a tech-report block to a record) needs a platform admin, the command
line, or the centre that owns the report. And no write lowers an access level (限制 → 延期公开 → 公开, or
an earlier embargo end) unless the job carries a platform admin's audited permission to. A refused write
is quarantined with its reason; the raw file stays in the raw store, so nothing is lost.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date

from appdb.jobs import Submitter
from mappings.model import AccessLevel, Record

# (what the index holds: None if nothing, or nothing readable; whether the ID exists; what would be
# written) -> a reason to refuse, or None.
WriteGuard = Callable[[Record | None, bool, Record], str | None]

_RANK = {AccessLevel.public: 0, AccessLevel.embargoed: 1, AccessLevel.restricted: 2}


def _level(record: Record) -> tuple[int, date]:
    """How closed a record is: its access rank, then (for an embargo) how long it stays closed."""
    tech = record.tech_report
    if tech is None:
        return 0, date.min
    rank = _RANK.get(tech.access_level, 2)
    until = tech.embargo_until or date.max if tech.access_level is AccessLevel.embargoed else date.min
    return rank, until


def lowers_access(old: Record, new: Record) -> bool:
    return _level(new) < _level(old)


def is_restricted(record: Record | None) -> bool:
    return (
        record is not None
        and record.tech_report is not None
        and (record.tech_report.access_level is AccessLevel.restricted)
    )


def guard_for(submitter: Submitter, owners: Mapping[str, str]) -> WriteGuard:
    """The check for one job; `owners` maps tech-report IDs to the centre that owns them."""

    def check(old: Record | None, exists: bool, new: Record) -> str | None:
        if not exists:
            return None
        touches_report = new.tech_report is not None or old is None or old.tech_report is not None
        if touches_report and not (submitter.operator or submitter.platform_admin):
            owner = owners.get(new.id)
            if owner is None or owner != submitter.centre:
                return "该科技报告已在库中，只有平台管理员或报告所属分中心可以更新；本条未写入，原文件已保存"
        if old is None:
            if submitter.lower_access:
                return None
            return "库中同一编号的记录无法读取，不能确认本次写入不降低访问级别；本条未写入，原文件已保存"
        if lowers_access(old, new) and not submitter.lower_access:
            return "导入不能降低访问级别；须由平台管理员在上传时明确允许（记入审计日志）；本条未写入，原文件已保存"
        return None

    return check
