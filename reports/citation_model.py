"""What a 论文收录引证报告 (查收查引) says: the typed input of the citation report's renderers.

The case service builds one `CitationReportData` from a citation case: the client's papers, where each
is indexed, and the citing records the citation index linked to it, after the analyst's exclusions and
flipped marks. Nothing here reads a database or the search index. At signing the case stores
`to_dict()` as the frozen snapshot; `from_dict` gives back an equal object, so an issued report is
rebuilt byte-for-byte from that snapshot whatever later ingests and relinks do to the index.

Every number the report prints (papers indexed per database, 总被引, 自引, 他引, the h-index and the
certification paragraph) is computed here from the per-paper lists, never typed. Fields follow
domain.md Part B §2. Construction checks structure always, and completeness only for an issued
report, so a draft previews at any state of the case.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from reports.model import DatabaseSpan, Origin, Party, Person, ReportDataError

# Part of the frozen snapshot: bumped when the dict form changes, so an old snapshot is read by the
# rules it was written under rather than misread.
SNAPSHOT_VERSION = 1
KIND = "citation"


class CitationPurpose(StrEnum):
    promotion = "职称评审"
    grant = "基金申报"
    award = "报奖"
    academician = "院士推荐"
    other = "其他"


@dataclass(frozen=True)
class IndexingEntry:
    """One database that indexes a paper, as the record's merged sources say."""

    # "SCIE", "SSCI", "A&HCI", "CPCI" (from a WoS export's edition field), plain "WoS" when the export
    # carries none, "CSSCI", "EI", "CNKI", "万方" …; compared verbatim with the requested databases.
    database: str
    accession: str = ""  # 入藏号: WoS UT, CSSCI ID, EI accession number; "" when the source gives none
    doc_type: str = ""  # 文献类型 as the database states it (Article, Review, 论文 …)


@dataclass(frozen=True)
class CitingRecord:
    """A paper that cites one of the client's papers, inside the cut-off, not excluded."""

    reference: str  # GB/T 7714 string, formatted by the caller
    self_citation: bool  # the mark as printed: after the analyst's flip, if any
    database: str  # where the citing record came from
    year: int | None  # publication year; None when the record gives none
    flipped: bool = False  # the analyst reversed the computed mark (the reason is in the notes)
    accession: str = ""  # the citing record's 入藏号 in `database`, for the 引文清单

    @property
    def mark(self) -> str:
        return "自引" if self.self_citation else "他引"


@dataclass(frozen=True)
class CitedPaper:
    """One paper of the client's list, in the order the client gave it."""

    seq: int  # printed number, 1-based
    reference: str  # GB/T 7714 string of the confirmed record, or as the client gave it when not found
    found: bool  # False: no record on the platform matches (the paper prints as 未收录, never dropped)
    indexing: tuple[IndexingEntry, ...] = ()
    citing: tuple[CitingRecord, ...] = ()  # after exclusions

    @property
    def total(self) -> int:
        """总被引."""
        return len(self.citing)

    @property
    def self_count(self) -> int:
        """自引."""
        return sum(1 for c in self.citing if c.self_citation)

    @property
    def others_count(self) -> int:
        """他引."""
        return self.total - self.self_count

    def indexed_in(self, database: str) -> IndexingEntry | None:
        for entry in self.indexing:
            if entry.database == database:
                return entry
        return None

    def citations_by_database(self) -> dict[str, tuple[int, int]]:
        """Per database the citing records came from: (总被引, 他引), databases in name order."""
        totals: Counter[str] = Counter(c.database for c in self.citing)
        others: Counter[str] = Counter(c.database for c in self.citing if not c.self_citation)
        return {db: (totals[db], others[db]) for db in sorted(totals)}


@dataclass(frozen=True)
class CitationOptions:
    others_only: bool = False  # the 引文清单 lists only the 他引 records
    include_citing_list: bool = False  # print 附表三 引文清单
    show_h_index: bool = False  # print the h-index (all citations and 他引 only) in the notes


# A field added to any class here after reports have been issued takes `metadata=ADDED` (see
# reports.model) and a default, so the verification code of an older report still holds, and
# `from_dict` reads it with `.get(name, default)`, so an older snapshot still loads.
@dataclass(frozen=True)
class CitationReportData:
    centre: Party  # 检索机构
    client: Party  # 委托人 with contact fields
    client_unit: str  # 委托人单位
    purpose: CitationPurpose
    databases: tuple[DatabaseSpan, ...]  # the requested databases with their coverage years
    cutoff: date  # citations counted up to this date (截至)
    search_date: date  # 检索日期: when the counts were taken
    analyst: Person  # 检索人
    reviewer: Person | None  # 审核人; assigned before review, required once issued
    papers: tuple[CitedPaper, ...]
    options: CitationOptions = field(default_factory=CitationOptions)
    notes: tuple[str, ...] = ()  # exclusions and flipped marks, each with its reason
    report_number: str | None = None
    issue_date: date | None = None
    verification_code: str | None = None  # full SHA-256 hex over the content, see reports.verification
    draft: bool = True
    # Where a reader checks this report: about the report rather than in it, so outside the code.
    verify_url: str = ""

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "purpose", CitationPurpose(self.purpose))
        except ValueError:
            raise ReportDataError(
                f"委托目的不正确：{self.purpose}（应为 {'、'.join(p.value for p in CitationPurpose)} 之一）"
            ) from None
        problems = list(_structure_problems(self))
        if not self.draft:
            problems.extend(_completeness_problems(self))
        if problems:
            raise ReportDataError("；".join(problems))

    # --- counts: everything the report prints is derived from the per-paper lists -------------------

    def indexed_count(self, database: str) -> int:
        """Papers of the list that `database` indexes."""
        return sum(1 for p in self.papers if p.indexed_in(database) is not None)

    def not_indexed(self, database: str) -> tuple[CitedPaper, ...]:
        """Papers of the list that `database` does not hold, for the analyst to see."""
        return tuple(p for p in self.papers if p.indexed_in(database) is None)

    @property
    def total_citations(self) -> int:
        return sum(p.total for p in self.papers)

    @property
    def self_total(self) -> int:
        return sum(p.self_count for p in self.papers)

    @property
    def others_total(self) -> int:
        return sum(p.others_count for p in self.papers)

    def h_index(self, others_only: bool = False) -> int:
        """The largest h such that h papers of the list are each cited at least h times."""
        counts = sorted((p.others_count if others_only else p.total for p in self.papers), reverse=True)
        return sum(1 for rank, n in enumerate(counts, 1) if n >= rank)

    def certification_text(self) -> str:
        """The certification paragraph, from the counts only, naming every requested database."""
        indexed = "，".join(f"被 {db.name} 收录 {self.indexed_count(db.name)} 篇" for db in self.databases)
        head = f"经检索，委托人提供的 {len(self.papers)} 篇论文"
        head = f"{head}{indexed}；" if indexed else f"{head}，"
        return (
            f"{head}截至 {_cn_date(self.cutoff)}，共被引用 {self.total_citations} 次，"
            f"其中他引 {self.others_total} 次（详见附表）。特此证明。"
        )

    def paper(self, seq: int) -> CitedPaper:
        for p in self.papers:
            if p.seq == seq:
                return p
        raise KeyError(seq)

    # --- the frozen snapshot ------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values only (ISO dates, lists); `from_dict(to_dict(x)) == x`."""
        return {
            "kind": KIND,
            "version": SNAPSHOT_VERSION,
            "centre": _party_dict(self.centre),
            "client": _party_dict(self.client),
            "client_unit": self.client_unit,
            "purpose": self.purpose.value,
            "databases": [_span_dict(d) for d in self.databases],
            "cutoff": self.cutoff.isoformat(),
            "search_date": self.search_date.isoformat(),
            "analyst": _person_dict(self.analyst),
            "reviewer": None if self.reviewer is None else _person_dict(self.reviewer),
            "papers": [_paper_dict(p) for p in self.papers],
            "options": {
                "others_only": self.options.others_only,
                "include_citing_list": self.options.include_citing_list,
                "show_h_index": self.options.show_h_index,
            },
            "notes": list(self.notes),
            "report_number": self.report_number,
            "issue_date": None if self.issue_date is None else self.issue_date.isoformat(),
            "verification_code": self.verification_code,
            "draft": self.draft,
            "verify_url": self.verify_url,
        }

    def to_json(self) -> str:
        """The snapshot as stable text: sorted keys, no insignificant whitespace, characters kept."""
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CitationReportData:
        """Rebuild from `to_dict()` output; a damaged snapshot raises ReportDataError, never a guess."""
        try:
            if data.get("kind", KIND) != KIND:
                raise ReportDataError(f"快照类型不是收录引证报告：{data.get('kind')}")
            if data.get("version") != SNAPSHOT_VERSION:
                raise ReportDataError(f"快照版本不受支持：{data.get('version')}")
            reviewer = data["reviewer"]
            issue_date = data["issue_date"]
            opts = data["options"]
            return cls(
                centre=_party(data["centre"]),
                client=_party(data["client"]),
                client_unit=_str(data["client_unit"]),
                purpose=CitationPurpose(data["purpose"]),
                databases=tuple(_span(d) for d in data["databases"]),
                cutoff=date.fromisoformat(data["cutoff"]),
                search_date=date.fromisoformat(data["search_date"]),
                analyst=_person(data["analyst"]),
                reviewer=None if reviewer is None else _person(reviewer),
                papers=tuple(_paper(p) for p in data["papers"]),
                options=CitationOptions(
                    others_only=_bool(opts["others_only"]),
                    include_citing_list=_bool(opts["include_citing_list"]),
                    show_h_index=_bool(opts["show_h_index"]),
                ),
                notes=tuple(_str(n) for n in data["notes"]),
                report_number=_opt_str(data["report_number"]),
                issue_date=None if issue_date is None else date.fromisoformat(issue_date),
                verification_code=_opt_str(data["verification_code"]),
                draft=_bool(data["draft"]),
                verify_url=_str(data.get("verify_url", "")),
            )
        except ReportDataError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ReportDataError(f"报告快照已损坏，无法读取：{exc!r}") from exc

    @classmethod
    def from_json(cls, text: str) -> CitationReportData:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ReportDataError(f"报告快照不是有效的 JSON：{exc}") from exc
        if not isinstance(data, dict):
            raise ReportDataError("报告快照不是对象")
        return cls.from_dict(data)


def _cn_date(d: date) -> str:
    return f"{d.year} 年 {d.month:02d} 月 {d.day:02d} 日"


# --- validation --------------------------------------------------------------------------------------


def _duplicates(values: Iterable[object]) -> list[object]:
    seen: set[object] = set()
    dup: list[object] = []
    for v in values:
        if v in seen and v not in dup:
            dup.append(v)
        seen.add(v)
    return dup


def _structure_problems(r: CitationReportData) -> Iterable[str]:
    if not r.centre.name.strip():
        yield "检索机构名称不能为空"
    if not r.client.name.strip():
        yield "委托人名称不能为空"
    if r.cutoff > r.search_date:
        yield f"引用截止日期（{r.cutoff.isoformat()}）不能晚于检索日期（{r.search_date.isoformat()}）"
    for name in _duplicates(db.name for db in r.databases):
        yield f"检索数据库重复：{name}"
    for db in r.databases:
        if not db.name.strip():
            yield "检索数据库名称不能为空"
        elif db.year_from is not None and db.year_to is not None and db.year_from > db.year_to:
            yield f"数据库 {db.name} 的收录年限起始晚于结束：{db.years}"
    for seq in _duplicates(p.seq for p in r.papers):
        yield f"论文序号重复：{seq}"
    for p in r.papers:
        if p.seq < 1:
            yield f"论文序号必须从 1 开始：{p.seq}"
        if not p.reference.strip():
            yield f"论文 [{p.seq}] 的题录不能为空"
        if not p.found and (p.indexing or p.citing):
            yield f"论文 [{p.seq}] 标为未收录，却带有收录或引用记录"
        for name in _duplicates(e.database for e in p.indexing):
            yield f"论文 [{p.seq}] 的收录数据库重复：{name}"
        for e in p.indexing:
            if not e.database.strip():
                yield f"论文 [{p.seq}] 有一条收录记录缺少数据库名称"
        for c in p.citing:
            if not c.reference.strip():
                yield f"论文 [{p.seq}] 有一条引用记录缺少题录"
            if c.year is not None and c.year > r.cutoff.year:
                yield f"论文 [{p.seq}] 的引用记录发表于 {c.year} 年，晚于引用截止日期"


def _completeness_problems(r: CitationReportData) -> Iterable[str]:
    if not r.report_number:
        yield "正式报告必须有报告编号"
    if r.issue_date is None:
        yield "正式报告必须填写签发日期"
    elif r.issue_date < r.search_date:
        yield "签发日期不能早于检索日期"
    if not r.verification_code:
        yield "正式报告必须有验证码"
    if r.reviewer is None:
        yield "正式报告必须有审核人"
    if not r.papers:
        yield "正式报告至少需要一篇论文"
    if not r.databases:
        yield "正式报告至少需要一个检索数据库"


# --- the dict form, class by class (explicit, so a renamed field cannot slip through unnoticed) -----


def _str(v: Any) -> str:
    if not isinstance(v, str):
        raise TypeError(f"应为字符串：{v!r}")
    return v


def _opt_str(v: Any) -> str | None:
    return None if v is None else _str(v)


def _bool(v: Any) -> bool:
    if not isinstance(v, bool):
        raise TypeError(f"应为布尔值：{v!r}")
    return v


def _opt_int(v: Any) -> int | None:
    if v is None:
        return None
    if not isinstance(v, int) or isinstance(v, bool):
        raise TypeError(f"应为整数：{v!r}")
    return v


def _party_dict(p: Party) -> dict[str, Any]:
    return {
        "name": p.name,
        "address": p.address,
        "postcode": p.postcode,
        "principal": p.principal,
        "contact": p.contact,
        "phone": p.phone,
        "fax": p.fax,
        "email": p.email,
    }


def _party(d: Mapping[str, Any]) -> Party:
    return Party(**{k: _str(d.get(k, "")) for k in _party_dict(Party(name=""))})


def _person_dict(p: Person) -> dict[str, Any]:
    return {"name": p.name, "title": p.title}


def _person(d: Mapping[str, Any]) -> Person:
    return Person(name=_str(d["name"]), title=_str(d["title"]))


def _span_dict(s: DatabaseSpan) -> dict[str, Any]:
    return {"name": s.name, "year_from": s.year_from, "year_to": s.year_to, "origin": s.origin.value}


def _span(d: Mapping[str, Any]) -> DatabaseSpan:
    return DatabaseSpan(
        name=_str(d["name"]),
        year_from=_opt_int(d["year_from"]),
        year_to=_opt_int(d["year_to"]),
        origin=Origin(d.get("origin", Origin.domestic.value)),
    )


def _paper_dict(p: CitedPaper) -> dict[str, Any]:
    return {
        "seq": p.seq,
        "reference": p.reference,
        "found": p.found,
        "indexing": [
            {"database": e.database, "accession": e.accession, "doc_type": e.doc_type} for e in p.indexing
        ],
        "citing": [
            {
                "reference": c.reference,
                "self_citation": c.self_citation,
                "database": c.database,
                "year": c.year,
                "flipped": c.flipped,
                "accession": c.accession,
            }
            for c in p.citing
        ],
    }


def _paper(d: Mapping[str, Any]) -> CitedPaper:
    seq = _opt_int(d["seq"])
    if seq is None:
        raise TypeError("论文序号不能为空")
    return CitedPaper(
        seq=seq,
        reference=_str(d["reference"]),
        found=_bool(d["found"]),
        indexing=tuple(
            IndexingEntry(
                database=_str(e["database"]), accession=_str(e["accession"]), doc_type=_str(e["doc_type"])
            )
            for e in d["indexing"]
        ),
        citing=tuple(
            CitingRecord(
                reference=_str(c["reference"]),
                self_citation=_bool(c["self_citation"]),
                database=_str(c["database"]),
                year=_opt_int(c["year"]),
                flipped=_bool(c["flipped"]),
                accession=_str(c.get("accession", "")),
            )
            for c in d["citing"]
        ),
    )
