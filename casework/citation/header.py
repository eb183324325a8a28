"""The header of a 收录引证 case: who commissioned it, why, up to which day, which databases, options.

The case row (`cases`, shared with 查新) holds the 委托人 name and contacts and the purpose; the
citation-only fields live in `citation_headers`, one row per case.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from appdb.models import CitationHeader, NoveltyCase
from casework import service
from casework.core import (
    CaseError,
    audit,
    case_for_editing,
    clean_text,
    today_local,
    touch,
)
from reports.citation_model import CitationPurpose
from reports.model import DatabaseSpan, Origin
from search.principal import Principal

KIND = "citation"
PROJECT_NAME = "论文收录及被引用情况检索"
CLIENT_TYPES = ("个人", "单位")
# The databases a centre certifies against, in the order the form offers them. The names are the
# ones `indexing` derives from a record's sources, so a request and a holding compare verbatim.
DATABASES: dict[str, Origin] = {
    "SCIE": Origin.foreign,
    "SSCI": Origin.foreign,
    "A&HCI": Origin.foreign,
    "CPCI": Origin.foreign,
    "WoS": Origin.foreign,
    "EI": Origin.foreign,
    "CSSCI": Origin.domestic,
    "CNKI": Origin.domestic,
    "万方": Origin.domestic,
}
CLIENT_FIELDS = ("client_name", "client_address", "client_postcode", "client_principal", "client_contact",
                 "client_phone", "client_fax", "client_email")  # fmt: skip
OPTION_FIELDS = ("others_only", "citing_list", "show_h_index")
LABELS = {"others_only": "仅列他引", "citing_list": "附引文清单", "show_h_index": "给出 h 指数"}


def form_choices() -> dict[str, Any]:
    """What the forms of this kind offer: purposes, databases, client types."""
    return {"citation_purposes": [p.value for p in CitationPurpose], "databases": list(DATABASES),
            "client_types": CLIENT_TYPES}  # fmt: skip


def purpose(value: object) -> str:
    try:
        return CitationPurpose(str(value or "")).value
    except ValueError:
        raise CaseError("委托目的应为：" + "、".join(p.value for p in CitationPurpose)) from None


def cutoff(value: object) -> date:
    """The cut-off date for citations: a real day, not after today (a future count cannot be certified)."""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            raise CaseError("引用截止日期格式应为 YYYY-MM-DD") from None
    if not isinstance(value, date):
        raise CaseError("请填写引用截止日期")
    if value > today_local():
        raise CaseError(f"引用截止日期 {value.isoformat()} 晚于今天，不能证明尚未发生的引用")
    return value


def _year(value: object, label: str) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool) or not 1900 <= value <= 2100:
        raise CaseError(f"{label}应为四位年份")
    return value


def databases(value: object) -> list[dict[str, Any]]:
    """The requested databases: names from `DATABASES`, each with optional coverage years."""
    if not isinstance(value, (list, tuple)):
        raise CaseError("检索数据库应为列表")
    out: list[dict[str, Any]] = []
    for item in value:
        entry = {"name": item} if isinstance(item, str) else item
        if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
            raise CaseError("检索数据库应为名称，或 {name, year_from, year_to}")
        name = entry["name"].strip()
        if name not in DATABASES:
            raise CaseError(f"未知的检索数据库：{name}（可选：{'、'.join(DATABASES)}）")
        if any(d["name"] == name for d in out):
            continue
        low = _year(entry.get("year_from"), f"{name} 收录起始年")
        high = _year(entry.get("year_to"), f"{name} 收录截止年")
        if low is not None and high is not None and low > high:
            raise CaseError(f"{name} 的收录年限起始晚于截止")
        out.append({"name": name, "year_from": low, "year_to": high})
    return out


def spans(header: CitationHeader) -> tuple[DatabaseSpan, ...]:
    return tuple(
        DatabaseSpan(d["name"], d.get("year_from"), d.get("year_to"), DATABASES.get(d["name"], Origin.domestic))
        for d in json.loads(header.databases or "[]")
    )


def requested(header: CitationHeader) -> list[str]:
    return [d["name"] for d in json.loads(header.databases or "[]")]


def _flag(value: object, label: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value in ("1", "0", "true", "false", "on", ""):
        return value in ("1", "true", "on")
    raise CaseError(f"{label}应为是或否")


def _apply(case: NoveltyCase, header: CitationHeader, data: Mapping[str, Any]) -> list[str]:
    changed: list[str] = []
    for name in CLIENT_FIELDS:
        if name in data:
            value = " ".join(clean_text(data[name], service.FIELD_LABELS[name], service.HEADER_FIELDS[name]).split())
            setattr(case, name, value)
            changed.append(name)
    if "client_type" in data:
        if data["client_type"] not in CLIENT_TYPES:
            raise CaseError("委托人类型应为：个人 或 单位")
        header.client_type = str(data["client_type"])
        changed.append("client_type")
    if "client_unit" in data:
        header.client_unit = " ".join(clean_text(data["client_unit"], "委托人单位", 200).split())
        changed.append("client_unit")
    if "purpose" in data:
        case.purpose = purpose(data["purpose"])
        changed.append("purpose")
    if "cutoff_date" in data:
        header.cutoff_date = cutoff(data["cutoff_date"])
        changed.append("cutoff_date")
    if "databases" in data:
        header.databases = json.dumps(databases(data["databases"]), ensure_ascii=False)
        changed.append("databases")
    for name in OPTION_FIELDS:
        if name in data:
            setattr(header, name, _flag(data[name], LABELS[name]))
            changed.append(name)
    if "remarks" in data:
        case.remarks = clean_text(data["remarks"], "备注", 5_000)
        changed.append("remarks")
    if not case.client_name:
        raise CaseError("请填写委托人")
    return changed


def create_case(session: Session, principal: Principal, data: Mapping[str, Any]) -> NoveltyCase:
    """Receive a 收录引证 commission: the shared receiving rules, then this kind's header."""
    centre, analyst_id = service.receive(session, principal, data)
    commission = service.commission_date(data.get("commission_date") or today_local())
    case = NoveltyCase(
        kind=KIND,
        centre_id=centre.id,
        state="received",
        commission_date=commission,
        purpose=purpose(data.get("purpose")),
        scope="",
        analyst_id=analyst_id,
        **dict.fromkeys(service.HEADER_FIELDS, ""),
        **dict.fromkeys(service.TEXT_FIELDS, ""),
        **dict.fromkeys(service.LIST_FIELDS, "[]"),
        review_comment="",
    )
    case.project_name_zh = PROJECT_NAME
    header = CitationHeader(client_type="个人", client_unit="", databases="[]", others_only=False,
                            citing_list=True, show_h_index=False)  # fmt: skip
    if "cutoff_date" not in data:
        raise CaseError("请填写引用截止日期")
    _apply(case, header, data)
    if not json.loads(header.databases):
        raise CaseError("请至少选择一个检索数据库（如 SCIE、CSSCI）")
    session.add(case)
    session.flush()
    header.case_id = case.id
    session.add(header)
    session.flush()
    service.finish_creation(session, principal, case, data, centre)
    return case


def header_of(session: Session, case: NoveltyCase) -> CitationHeader:
    if case.kind != KIND:
        raise CaseError(f"案件 {case.id} 不是收录引证案件")
    header = session.get(CitationHeader, case.id)
    if header is None:
        raise CaseError(f"收录引证案件 {case.id} 缺少委托信息")
    return header


def citation_case_for_editing(session: Session, principal: Principal, case_id: int) -> tuple[NoveltyCase, CitationHeader]:
    case = case_for_editing(session, principal, case_id)
    return case, header_of(session, case)


def update_header(session: Session, principal: Principal, case_id: int, data: Mapping[str, Any]) -> NoveltyCase:
    case, header = citation_case_for_editing(session, principal, case_id)
    changed = _apply(case, header, data)
    if not json.loads(header.databases):
        raise CaseError("请至少选择一个检索数据库（如 SCIE、CSSCI）")
    touch(case)
    audit(session, principal, "case.update", case, fields=changed)
    return case


def header_dict(case: NoveltyCase, header: CitationHeader) -> dict[str, Any]:
    return {
        **{name: getattr(case, name) for name in CLIENT_FIELDS},
        "client_type": header.client_type,
        "client_unit": header.client_unit,
        "purpose": case.purpose,
        "cutoff_date": header.cutoff_date.isoformat(),
        "databases": json.loads(header.databases or "[]"),
        **{name: getattr(header, name) for name in OPTION_FIELDS},
        "remarks": case.remarks,
    }
