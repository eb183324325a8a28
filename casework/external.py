"""Searches run in other databases (CNKI, 万方, Web of Science ...) and logged on the case by hand.

A 查新 is searched in several databases, each with its own syntax, year span and hit count; section 四
lists them all. An external entry records what the analyst did there: the database (from the centre's
list), the years searched, the expression exactly as typed there, the hit count and the day. Like a
platform search it is written once and never edited; only whether it appears in section 四 may change.

The database list is a default set every centre has plus the databases a centre admin adds. Each
database is 国内 or 国外: the report's 国内/国外 statements follow from which were searched.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from appdb import accounts
from appdb.models import CaseStrategy, Centre, CentreDatabase, NoveltyCase
from casework import core, states
from casework.core import CaseError, Forbidden, clean_text, string_list
from reports.model import Origin
from search.principal import Principal, Role

PLATFORM_KIND = "platform"
EXTERNAL_KIND = "external"
EARLIEST_YEAR = 1900
MAX_EXPRESSION = 4_000  # other databases' expressions can be long (WoS allows 49 operators per field)


@dataclass(frozen=True)
class Database:
    name: str
    origin: Origin
    default: bool = True


DEFAULT_DATABASES: tuple[Database, ...] = (
    Database("CNKI 中国知网", Origin.domestic),
    Database("万方数据", Origin.domestic),
    Database("维普资讯", Origin.domestic),
    Database("国家科技成果库", Origin.domestic),
    Database("中国专利数据库", Origin.domestic),
    Database("国家科技报告服务系统", Origin.domestic),
    Database("Web of Science", Origin.foreign),
    Database("EI Compendex", Origin.foreign),
    Database("Derwent Innovations Index", Origin.foreign),
    Database("Scopus", Origin.foreign),
    Database("PubMed", Origin.foreign),
)


def databases(session: Session, centre_id: int) -> list[Database]:
    """The databases a case of this centre may log: the default set, then the centre's own."""
    own = session.scalars(
        select(CentreDatabase).where(CentreDatabase.centre_id == centre_id).order_by(CentreDatabase.id)
    )
    return [*DEFAULT_DATABASES, *(Database(d.name, Origin(d.origin), default=False) for d in own)]


def find_database(session: Session, centre_id: int, name: str) -> Database:
    for db in databases(session, centre_id):
        if db.name == name:
            return db
    raise CaseError(f"本分中心的数据库清单中没有“{name}”；请先由分中心管理员添加")


def add_database(
    session: Session, principal: Principal, centre_code: str, name: object, origin: object
) -> Database:
    """A centre admin (or a platform admin) adds a database to the centre's list."""
    if not (
        principal.platform_admin or (principal.has(Role.centre_admin) and principal.centre == centre_code)
    ):
        raise Forbidden("只有本分中心管理员可以维护数据库清单")
    try:
        centre = accounts.get_centre(session, centre_code)
    except accounts.NotFound as exc:
        raise CaseError(str(exc)) from None
    label = " ".join(clean_text(name, "数据库名称", 200).split())
    if not label:
        raise CaseError("请填写数据库名称")
    try:
        where = Origin(str(origin))
    except ValueError:
        raise CaseError("数据库应标明“国内”或“国外”") from None
    if any(db.name == label for db in databases(session, centre.id)):
        raise CaseError(f"数据库清单中已有“{label}”")
    session.add(CentreDatabase(centre_id=centre.id, name=label, origin=where.value))
    session.flush()
    accounts.audit(session, core.actor_key(principal), "centre.add_database",
                   {"centre": centre.code, "name": label, "origin": where.value})  # fmt: skip
    return Database(label, where, default=False)


def _year(value: object, label: str) -> int:
    raw = str(value if value is not None else "").strip()
    if not (raw.isascii() and raw.isdigit() and len(raw) == 4):
        raise CaseError(f"{label}应为四位年份")
    return int(raw)


def _hits(value: object) -> int:
    raw = str(value if value is not None else "").strip()
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9):
        raise CaseError("命中数应为不小于 0 的整数")
    return int(raw)


def _day(value: object) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise CaseError("检索日期格式应为 YYYY-MM-DD") from None


def record_external(
    session: Session, principal: Principal, case_id: int, data: Mapping[str, Any]
) -> CaseStrategy:
    """Log one search the analyst ran in another database. Fields: database, year_from, year_to,
    expression, hits, searched_on, and optionally terms_zh / terms_en."""
    case = core.case_for_editing(session, principal, case_id)
    db = find_database(session, case.centre_id, str(data.get("database") or "").strip())
    year_from = _year(data.get("year_from"), "检索起始年")
    year_to = _year(data.get("year_to"), "检索终止年")
    if not EARLIEST_YEAR <= year_from <= year_to:
        raise CaseError(f"检索年限应为 {EARLIEST_YEAR} 年以后，且起始年不晚于终止年")
    searched_on = _day(data.get("searched_on"))
    if searched_on > core.today_local():
        raise CaseError("检索日期不能晚于今天")
    if year_to > searched_on.year:
        raise CaseError("检索终止年不能晚于检索日期所在的年份")
    raw = data.get("expression")
    if not isinstance(raw, str) or not raw.strip():
        raise CaseError("请填写在该数据库中使用的检索式")
    if len(raw) > MAX_EXPRESSION:
        raise CaseError(f"检索式过长（最多 {MAX_EXPRESSION} 个字符）")
    # Kept as typed there (only the surrounding blank lines go), so it can be pasted back and re-run.
    expression = raw.replace("\r\n", "\n").strip("\n").rstrip()
    hits = _hits(data.get("hits"))
    if case.state == "received":
        states.transition(session, principal, case.id, "start_search")
    entry = CaseStrategy(
        case_id=case.id,
        database=db.name,
        year_from=year_from,
        year_to=year_to,
        terms_zh=json.dumps(string_list(data.get("terms_zh") or [], "中文检索词"), ensure_ascii=False),
        terms_en=json.dumps(string_list(data.get("terms_en") or [], "英文检索词"), ensure_ascii=False),
        expression=expression,
        normalized="",
        cnki="",
        hits=hits,
        window_override=False,
        in_report=True,
        kind=EXTERNAL_KIND,
        origin=db.origin.value,
        searched_on=searched_on,
        run_by=principal.user_id,
        run_at=core.now_utc(),
    )
    session.add(entry)
    session.flush()
    core.touch(case)
    core.audit(session, principal, "case.external_search", case, strategy_id=entry.id, database=db.name,
                  hits=hits)  # fmt: skip
    return entry


def is_external(entry: CaseStrategy) -> bool:
    return entry.kind == EXTERNAL_KIND


def searched_origins(entries: list[CaseStrategy]) -> set[Origin]:
    """The origins of the databases of the entries chosen for section 四."""
    return {Origin(e.origin or Origin.domestic.value) for e in entries if e.in_report}


def centre_of(session: Session, case: NoveltyCase) -> Centre:
    centre = session.get(Centre, case.centre_id)
    assert centre is not None  # a foreign key with ON DELETE RESTRICT
    return centre
