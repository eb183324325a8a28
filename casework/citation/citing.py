"""引证: the records citing each confirmed paper, within the cut-off, marked 自引 or 他引.

The citing records come from the citation index (`citations.cites`, linked at ingest by citeindex/),
each marked 自引 when linking found it shares an author with the cited paper (`citations.cites_self`,
domain.md Part A §4), and only those the analyst's principal may see (`search.policy`): the analyst
certifies what they can read, and the same principal is used at signing.

The cut-off is a day, but a record gives only its year. A citer of an earlier year is inside; of a
later year, outside; of the cut-off year itself (unless the cut-off is 31 December), or undated, the
data cannot decide: it is shown to the analyst as 待核定 and counts only once the analyst includes it,
with a reason. The analyst may also exclude a citer, or flip its mark, always with a reason; each
decision goes into the audit log and the report's notes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any

from elasticsearch import ApiError, NotFoundError, TransportError
from sqlalchemy import select
from sqlalchemy.orm import Session

from appdb.models import CitationAdjustment, NoveltyCase
from casework.citation.header import citation_case_for_editing
from casework.citation.indexing import first_database, indexing
from casework.citation.papers import papers
from casework.core import CaseError, CaseNotFound, audit, clean_text, touch
from search import citations
from search.errors import SearchUnavailable
from search.export.gbt7714 import format_entry
from search.policy import search_filter
from search.principal import Principal
from search.service import SearchService

ACTIONS = {"exclude": "排除", "flip": "改判自引/他引", "include": "核定计入"}
CITER_FIELDS = (
    "id", "source", "source_id", "sources", "doc_type", "title", "title_en", "authors", "venue", "year",
    "volume", "issue", "pages", "doi", "publisher", "place", "edition", "url", "language", "patent",
    "standard", "tech_report", "thesis",
)  # fmt: skip


@dataclass(frozen=True)
class Citer:
    """One record citing one paper, with what the data says and what the analyst decided."""

    id: str
    record: Mapping[str, Any]
    computed_self: bool  # the mark citation linking computed
    window: bool | None  # inside the cut-off; None: the data cannot decide (cut-off year, or undated)
    adjustment: str | None = None  # exclude / flip / include
    reason: str = ""

    @property
    def year(self) -> int | None:
        year = self.record.get("year")
        return year if isinstance(year, int) else None

    @property
    def counted(self) -> bool:
        if self.adjustment == "exclude" or self.window is False:
            return False
        return self.window is True or self.adjustment == "include"

    @property
    def undecided(self) -> bool:
        return self.window is None and self.adjustment not in ("include", "exclude")

    @property
    def self_citation(self) -> bool:
        return self.computed_self != (self.adjustment == "flip")

    @cached_property
    def database(self) -> str:
        return first_database(self.record)

    @cached_property
    def accession(self) -> str:
        entries = indexing(self.record)
        return entries[0].accession if entries else ""

    @cached_property
    def reference(self) -> str:
        return format_entry(dict(self.record))

    @property
    def title(self) -> str:
        return str(self.record.get("title") or self.id)


def in_window(year: int | None, cutoff: date) -> bool | None:
    if year is None:
        return None
    if year < cutoff.year or (year == cutoff.year and (cutoff.month, cutoff.day) == (12, 31)):
        return True
    if year > cutoff.year:
        return False
    return None


def records(search: SearchService, principal: Principal, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The bibliographic fields of each of `ids` that `principal` may see, in one request; an ID the
    policy hides is missing, exactly as a deleted one."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    keep = search_filter(principal)
    body = {"size": len(wanted), "track_total_hits": False, "_source": list(CITER_FIELDS),
            "query": {"bool": {"filter": [{"ids": {"values": wanted}}, *([keep] if keep is not None else [])]}}}  # fmt: skip
    try:
        resp = search.es.search(index=search.names.read_alias, body=body)
    except NotFoundError:
        return {}
    except (ApiError, TransportError) as exc:
        raise SearchUnavailable(f"检索服务暂时不可用（Elasticsearch：{type(exc).__name__}）") from exc
    return {hit["_id"]: {**hit["_source"], "id": hit["_id"]} for hit in resp["hits"]["hits"]}


def adjustments(session: Session, case: NoveltyCase) -> list[CitationAdjustment]:
    return list(session.scalars(select(CitationAdjustment).where(CitationAdjustment.case_id == case.id)
                                .order_by(CitationAdjustment.id)))  # fmt: skip


def fetch(
    search: SearchService,
    principal: Principal,
    cited_ids: Sequence[str],
    cutoff: date,
    decided: Sequence[CitationAdjustment] = (),
) -> dict[str, list[Citer]]:
    """The citers of each of `cited_ids` that `principal` may see, newest first: one msearch."""
    wanted = list(dict.fromkeys(cited_ids))
    if not wanted:
        return {}
    by_pair = {(a.cited_id, a.citing_id): a for a in decided}
    searches: list[dict[str, Any]] = []
    for rid in wanted:
        body = citations.citing_body(rid, principal, page=1, size=citations.MAX_CITING_WINDOW,
                                     source=CITER_FIELDS)  # fmt: skip
        searches.extend(({}, body))
    try:
        resp = search.es.msearch(index=search.names.read_alias, searches=searches)
    except NotFoundError:
        return {rid: [] for rid in wanted}
    except (ApiError, TransportError) as exc:
        raise SearchUnavailable(f"检索服务暂时不可用（Elasticsearch：{type(exc).__name__}）") from exc
    out: dict[str, list[Citer]] = {}
    for rid, item in zip(wanted, resp.body["responses"], strict=True):
        if "error" in item:
            raise SearchUnavailable(f"检索服务暂时不可用（Elasticsearch：{item['error'].get('type')}）")
        found = []
        for hit in item["hits"]["hits"]:
            record = {**hit["_source"], "id": hit["_id"]}
            adj = by_pair.get((rid, hit["_id"]))
            year = record.get("year") if isinstance(record.get("year"), int) else None
            found.append(Citer(hit["_id"], record, citations.is_self_citation(hit), in_window(year, cutoff),
                               adj.action if adj else None, adj.reason if adj else ""))  # fmt: skip
        out[rid] = found
    return out


def adjust(
    session: Session,
    principal: Principal,
    case_id: int,
    data: Mapping[str, Any],
) -> CitationAdjustment:
    """Exclude a citer, flip its mark, or include one the data cannot place: with a reason, logged."""
    case, _ = citation_case_for_editing(session, principal, case_id)
    action = str(data.get("action") or "")
    if action not in ACTIONS:
        raise CaseError("操作应为：exclude（排除）、flip（改判自引/他引）或 include（核定计入）")
    cited, citing = data.get("cited_id"), data.get("citing_id")
    if not isinstance(cited, str) or not isinstance(citing, str) or not cited.strip() or not citing.strip():
        raise CaseError("请指定被引论文与引证文献的记录编号")
    reason = clean_text(data.get("reason"), "理由", 2_000)
    if not reason:
        raise CaseError(f"{ACTIONS[action]}引证文献时请填写理由，理由将写入报告附注")
    from_papers = {p.record_id for p in papers(session, case) if p.record_id}
    if cited.strip() not in from_papers:
        raise CaseNotFound(f"本案件的论文清单中没有记录 {cited}")
    existing = session.scalar(select(CitationAdjustment).where(
        CitationAdjustment.case_id == case.id, CitationAdjustment.cited_id == cited.strip(),
        CitationAdjustment.citing_id == citing.strip()))  # fmt: skip
    if existing is None:
        existing = CitationAdjustment(case_id=case.id, cited_id=cited.strip(), citing_id=citing.strip(),
                                      action=action, reason=reason)  # fmt: skip
        session.add(existing)
    else:
        existing.action, existing.reason = action, reason
    session.flush()
    audit(session, principal, "case.citation_adjust", case, cited_id=cited.strip(), citing_id=citing.strip(),
          adjustment=action, reason=reason)  # fmt: skip
    touch(case)
    return existing


def undo(session: Session, principal: Principal, case_id: int, adjustment_id: int) -> None:
    case, _ = citation_case_for_editing(session, principal, case_id)
    adj = session.get(CitationAdjustment, adjustment_id)
    if adj is None or adj.case_id != case.id:
        raise CaseNotFound(f"本案件没有编号为 {adjustment_id} 的调整")
    audit(session, principal, "case.citation_undo", case, cited_id=adj.cited_id, citing_id=adj.citing_id,
          adjustment=adj.action)  # fmt: skip
    session.delete(adj)
    touch(case)

