"""Tagged bibliographic exports analysts bring from CNKI, Wanfang, VIP and Web of Science.

RIS (`TY  - JOUR` … `ER  -`), EndNote tagged / Refer (`%0 Journal Article`, `%A` …), RefWorks tagged
(`RT Journal Article`, `A1` …), NoteExpress (`{Reference Type}: Journal Article`) and WoS plain text
(`PT J` … `ER`). Each format is read into tag -> values, then one builder maps canonical fields.

Document types: journal, thesis, conference, patent, standard, book, book section, newspaper and web
page map to their DocType. A report with a report number becomes a tech_report (the platform
identifies 科技报告 by it, and TechReportInfo requires one), one without a number a `report`: the
tagged formats have one report type, so a numbered report of another kind also reads as a 科技报告.
A standard needs a standard number. Types the platform does not hold (statutes, yearbooks, 科技成果 …)
are rejected with a RecordError naming the type, so the analyst sees what was left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path

from pydantic import ValidationError

from ingest.errors import RecordError, reason
from ingest.formats import wos_tab
from ingest.identity import record_id
from ingest.normalize_text import (
    author_key,
    clean_or_none,
    clean_text,
    find_doi,
    has_cjk,
    join_lines,
    looks_like_patent_number,
    looks_like_standard_number,
    normalize_doi,
    normalize_number,
    normalize_pages,
    normalize_standard_number,
    parse_date,
    parse_year,
    partial_date,
    split_values,
    tidy_title,
)
from mappings.citations.parse import parse_wos_cr
from mappings.model import (
    AccessLevel,
    Author,
    DocType,
    PatentInfo,
    Record,
    ReportInfo,
    StandardInfo,
    TechReportInfo,
    ThesisInfo,
)

MAX_FILE_BYTES = 100_000_000


@dataclass(frozen=True)
class _Syntax:
    line: re.Pattern[str]  # group 1 the tag, group 2 the value
    start: str
    fields: dict[str, tuple[str, ...]]  # canonical field -> tags, in order of preference
    end: str | None = None
    known: frozenset[str] | None = None  # other tag-shaped lines are continuations
    separate_lines: frozenset[str] = frozenset()  # continuation lines are further values, not wrapping
    codes: dict[str, str] = field(default_factory=dict)  # short type codes -> words _kind understands


def _tagset(spec: str) -> frozenset[str]:
    return frozenset(spec.split())


def _fields(spec: str) -> dict[str, tuple[str, ...]]:
    """ "key=TAG1,TAG2 …"; "_" in a tag stands for a space (NoteExpress "{Author Address}")."""
    pairs = (item.split("=") for item in spec.split())
    return {key: tuple(t.replace("_", " ") for t in tags.split(",")) for key, tags in pairs}


_RIS = _Syntax(
    line=re.compile(r"^([A-Z][A-Z0-9]) {1,2}-(?: (.*)|\s*)$"),
    start="TY",
    end="ER",
    separate_lines=frozenset({"KW"}),
    fields=_fields(
        "type=TY title=TI,T1,CT title_en=TT author=AU,A1 affiliation=AD venue=JF,JO,T2,JA,J2,BT year=PY,Y1 "
        "date=DA,PY,Y1 volume=VL issue=IS start_page=SP end_page=EP keywords=KW abstract=AB,N2 doi=DO "
        "number=SN,M1,IS,AN,ID publisher=PB url=UR,L1,LK language=LA database=DB,DP applicant=A2,PB "
        "accession=AN place=CY edition=ET supervisor=A3 editor=A2,ED"
    ),
    codes={"JOUR": "journal", "JFULL": "journal", "EJOUR": "journal", "MGZN": "journal", "INPR": "journal",
           "THES": "thesis", "CONF": "conference", "CPAPER": "conference", "PAT": "patent",
           "STAND": "standard", "STD": "standard", "RPRT": "report", "GOVDOC": "report",
           "NEWS": "newspaper", "BOOK": "book", "CHAP": "book section", "GEN": "generic", "ELEC": "web page",
           "BLOG": "web page"},
)  # fmt: skip

_ENDNOTE = _Syntax(
    line=re.compile(r"^%([0-9A-Z@!#$&()*+?~^>\]\[=|<]) ?(.*)$"),
    start="0",
    separate_lines=frozenset({"K"}),
    fields=_fields(
        "type=0 title=T title_en=Q author=A affiliation=+ venue=J,B year=D date=8,D volume=V issue=N pages=P "
        "keywords=K abstract=X doi=R number=@,V,N,M publisher=I url=U language=G database=~,W applicant=I "
        "accession=M place=C edition=7 supervisor=Y editor=E"
    ),
)

_REFWORKS = _Syntax(
    # CNKI sometimes writes no space after the tag ("A1林行众") and lowercase tags ("vo 49").
    line=re.compile(r"^([A-Za-z][A-Za-z0-9]{1,2})(?: |(?=[^\x00-\x7f])|$)(.*)$"),
    start="RT",
    known=_tagset(
        "RT SR ID A1 A2 A3 A4 A5 A6 T1 T2 T3 OT JF JO YR FD VO IS SP OP K1 AB NO PB PP ED SN AD AN LA CL "
        "SF DS LK DO CN DB UL URL C1 C2 C3 C4 C5 U1 U2 U3 U4 U5 RD WP WT WV FU"
    ),
    separate_lines=frozenset({"K1"}),
    fields=_fields(
        "type=RT title=T1 author=A1 affiliation=AD venue=JF,JO,T2 year=YR date=FD,YR volume=VO issue=IS "
        "start_page=SP end_page=OP keywords=K1 abstract=AB doi=DO number=ID,C1,SN,AN,IS publisher=PB "
        "url=LK,UL,URL language=LA database=DB,DS applicant=A2 clc=CL implementation_date=U4 fund=FU "
        "accession=AN place=PP edition=ED supervisor=A3 editor=A2"
    ),
)

_NOTEEXPRESS = _Syntax(
    line=re.compile(r"^\{([^{}]+)\}\s*:\s?(.*)$"),
    start="reference type",
    separate_lines=frozenset({"keywords"}),
    fields=_fields(
        "type=reference_type title=title title_en=translated_title author=author affiliation=author_address "
        "venue=journal,secondary_title year=year date=date,year volume=volume issue=issue pages=pages "
        "keywords=keywords abstract=abstract doi=doi "
        "number=patent_number,standard_number,report_number,number,isbn/issn,issue "
        "publisher=publisher,university url=url language=language database=database_provider,database "
        "applicant=assignee,applicant fund=fund,funding place=place_published edition=edition "
        "supervisor=tertiary_author editor=secondary_author"
    ),
)

_WOS = _Syntax(
    line=re.compile(r"^([A-Z][A-Z0-9])(?: (.*)|)$"),
    start="PT",
    end="ER",
    known=_tagset(
        "PT AU AF BA BF CA GP BE TI SO SE BS LA DT CT CY CL SP HO DE ID AB C1 C3 RP EM RI OI FU FP FX CR NR "
        "TC Z9 U1 U2 PU PI PA SN EI BN J9 JI PD PY VL IS PN SU SI MA BP EP AR DI DL D2 EA PG WC WE SC GA PM "
        "OA HC HP DA UT ER PS AE DG PC PL MC CC MQ OR BD CN DS"
    ),
    separate_lines=_tagset("AU AF BA BF BE CA C1 C3 CR EM RI OI"),
    fields=_fields(
        "type=PT subtype=DT title=TI author=AF,AU short_author=AU affiliation=C1 venue=SO,SE year=PY "
        "date=PD,DG,PY volume=VL issue=IS start_page=BP end_page=EP pages=PS keywords=DE,ID abstract=AB "
        "doi=DI number=PN applicant=AE language=LA fund=FU accession=UT reprint=RP cited=CR"
    ),
    codes={"J": "journal", "S": "journal", "P": "patent", "C": "conference", "B": "book"},
)

SYNTAXES = {"ris": _RIS, "endnote": _ENDNOTE, "refworks": _REFWORKS, "noteexpress": _NOTEEXPRESS, "wos": _WOS}
FORMAT_LABELS = {"ris": "RIS", "endnote": "EndNote", "refworks": "RefWorks", "noteexpress": "NoteExpress",
                 "wos": "Web of Science"}  # fmt: skip
_SUPPORTED = "期刊论文、学位论文、会议论文、专利、标准、报告、图书、报纸、网页"


@dataclass
class _Raw:
    start_line: int
    fields: dict[str, list[str]] = field(default_factory=dict)
    ended: bool = False  # its end tag (ER) was seen: a record without one at the end of a file is cut off


def _read(text: str, syntax: _Syntax, *, lower_tags: bool) -> Iterator[_Raw]:
    current: _Raw | None = None
    last: str | None = None
    for lineno, line in enumerate(text.split("\n"), 1):
        m = syntax.line.match(line)
        tag = None
        if m:
            tag = m.group(1).strip().lower() if lower_tags else m.group(1).upper()
            if syntax.known is not None and tag not in syntax.known:
                tag = None
        if tag is None:
            if current is not None and last is not None and line.strip():
                values = current.fields[last]
                if last in syntax.separate_lines:
                    values.append(line.strip())
                else:
                    values[-1] = join_lines(values[-1], line)
            continue
        assert m is not None
        if tag == syntax.start:
            if current is not None:
                yield current
            current = _Raw(lineno)
        elif current is None:
            continue  # a file header (WoS "FN", "VR") or stray lines before the first record
        if tag == syntax.end:
            current.ended = True
            yield current
            current, last = None, None
            continue
        current.fields.setdefault(tag, []).append((m.group(2) or "").strip())
        last = tag
    if current is not None:
        yield current


class _Values:
    """Canonical-field access to one record's tag values."""

    def __init__(self, raw: _Raw, syntax: _Syntax) -> None:
        self.raw, self.syntax = raw.fields, syntax

    def all(self, key: str) -> list[str]:
        """The values of the first tag (in preference order) that has any."""
        for tag in self.syntax.fields.get(key, ()):
            values = [v for v in self.raw.get(tag, []) if v.strip()]
            if values:
                return values
        return []

    def every(self, key: str) -> list[str]:
        return [v for tag in self.syntax.fields.get(key, ()) for v in self.raw.get(tag, []) if v.strip()]

    def first(self, key: str) -> str | None:
        values = self.all(key)
        return values[0] if values else None


def _kind(text: str) -> str:
    t = text.lower()
    rules = (
        ("newspaper", ("newspaper", "报纸")),
        ("thesis", ("thesis", "dissertation", "学位", "硕士", "博士", "碩士")),
        ("conference", ("conference", "proceeding", "会议", "會議")),
        ("patent", ("patent", "专利", "專利")),
        ("standard", ("standard", "标准", "標準")),
        ("report", ("report", "报告", "govdoc", "government document")),
        ("journal", ("journal", "magazine", "electronic article", "期刊", "杂志")),
        ("chapter", ("book section", "book, section", "chapter", "incollection")),
        ("webpage", ("web page", "webpage", "网页")),
        ("book", ("book", "图书", "专著", "圖書")),
    )
    return next((kind for kind, words in rules if any(w in t for w in words)), "other")


_DOC_TYPES = {"journal": DocType.journal_article, "thesis": DocType.thesis,
              "conference": DocType.conference_paper, "patent": DocType.patent,
              "standard": DocType.standard, "report": DocType.tech_report, "book": DocType.book,
              "chapter": DocType.book_chapter, "newspaper": DocType.newspaper_article,
              "webpage": DocType.webpage}  # fmt: skip
_EMAIL_NOTE = re.compile(r"\s*\([^)]*@[^)]*\)")
_ISSN_ISBN = re.compile(r"^(?:\d{4}-\d{3}[\dXx]|[\d-]{10,17}[Xx]?)$")
# RIS and NoteExpress put the issue among the number tags; a report number is longer than "3".
_REPORT_NO = re.compile(r"^(?=.*\d)[\w./\-()（）]{4,}$")
_CLC = re.compile(r"^[A-Z][A-Z0-9]?\d[\d.\-/:=+]*$")


def _split_names(value: str) -> list[str]:
    names = []
    for part in split_values(value):
        # Chinese name lists also come comma-joined ("颜宏,石德成"); a Western "Smith, J" must not split.
        pieces = re.split(r"[,，、]", part) if has_cjk(part) else [part]
        for piece in pieces:
            name = clean_text(_EMAIL_NOTE.sub("", piece))
            name = re.sub(r"[\d*]+$", "", name).strip() if has_cjk(name) else name
            if name:
                names.append(name)
    cjk = [n for n in names if has_cjk(n)]
    # Wanfang lists every author twice, all Chinese names then all Latin ones; keep the Chinese names.
    # One plus one is left alone: "张三;John Smith" is as likely a real pair of co-authors.
    # (Repeated names stay: two authors may well both be called 王伟.)
    if len(cjk) >= 2 and len(cjk) * 2 == len(names) and names[: len(cjk)] == cjk:
        return cjk
    return names


def _split_keywords(values: list[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        parts = split_values(value)
        if len(parts) == 1 and has_cjk(parts[0]) and "，" in parts[0]:
            parts = parts[0].split("，")
        out.extend(k for p in parts if (k := clean_text(p)))
    return list(dict.fromkeys(out))


def _affiliation_text(value: str) -> str:
    # CNKI marks the postcode with "!" ("生命科学学院!长春130024").
    return clean_text(value.replace("!", ", "))


def _assign_affiliations(v: _Values, names: list[str], fmt: str) -> list[str | None]:
    raw = v.all("affiliation")
    if fmt == "wos":
        return _wos_affiliations(raw, names)
    if len(raw) == len(names) > 1:  # one value per author (Wanfang NoteExpress)
        return [_affiliation_text(a).rstrip("；;") or None for a in raw]
    # CNKI's older "学院!长春130024,学院!长春130024" style separates institutions with commas.
    pieces = [a for v in raw for a in (re.split(r"[,，;；]", v) if "!" in v else split_values(v))]
    affs = [t for a in pieces if (t := _affiliation_text(a))]
    if len(affs) == len(names):
        return list(affs)
    if len(affs) == 1:
        return [affs[0]] * len(names)
    # Several institutions, no mapping: CNKI lists the first author's first.
    return [affs[0] if i == 0 and affs else None for i in range(len(names))]


def _wos_affiliations(lines: list[str], names: list[str]) -> list[str | None]:
    keys = [author_key(n) for n in names]
    found: dict[int, list[str]] = {}
    plain = []
    for line in lines:
        m = re.match(r"^\[(.*?)\]\s*(.*)$", line)
        if not m:
            plain.append(clean_text(line))
            continue
        for who in m.group(1).split(";"):
            if author_key(who) in keys:
                found.setdefault(keys.index(author_key(who)), []).append(clean_text(m.group(2)))
    if not found and len(plain) == 1:
        return [plain[0]] * len(names)
    return ["; ".join(found[i]) if i in found else None for i in range(len(names))]


def _language(value: str | None, title: str) -> str:
    v = (value or "").lower()
    if any(w in v for w in ("中文", "chi", "zh", "汉语")):
        return "zh"
    if any(w in v for w in ("english", "eng", "英文")) or v == "en":
        return "en"
    return "zh" if has_cjk(title) else "en"


def _pages(v: _Values) -> str | None:
    pages = [p for p in v.all("pages") if p.strip()]
    if pages:
        # CNKI conference exports carry "%P 5" (a count) beside "%P 269-273"; the range is the pages.
        return normalize_pages(next((p for p in pages if re.search(r"\d\s*[-–—~]\s*\d", p)), pages[0]))
    start, end = v.first("start_page"), v.first("end_page")
    if end and re.search(r"[-+,]", end):
        return normalize_pages(end)  # RefWorks OP holds the whole range ("1106-1111+1117")
    return normalize_pages(start, end) or normalize_pages(end)


def _kind_of(v: _Values, syntax: _Syntax) -> tuple[str, str]:
    raw_type = clean_text(v.first("type"))
    words = syntax.codes.get(raw_type.upper(), raw_type)
    label = f"{raw_type}（{words}）" if words != raw_type else raw_type
    kind = _kind(words)
    subtype = clean_text(v.first("subtype"))
    if "proceedings paper" in subtype.lower():
        kind = "conference"  # WoS: a proceedings paper in a book series is PT B or S
    if kind == "other":
        kind = _kind(" ".join(v.every("database")))  # CNKI: "Legal Rule or Regulation" + "国家标准"
        kind = kind if kind in ("standard", "patent") else "other"
    return kind, label or "（未注明）"


def _record(v: _Values, fmt: str, *, now: datetime, version: int) -> Record:
    syntax = SYNTAXES[fmt]
    kind, raw_type = _kind_of(v, syntax)
    if kind not in _DOC_TYPES:
        raise RecordError(f"文献类型「{raw_type}」不在收录范围（{_SUPPORTED}）")
    title = tidy_title(v.first("title"))
    if not title:
        raise RecordError("缺少题名")
    names = [n for value in v.all("author") for n in _split_names(value)]
    if fmt == "wos" and len(v.all("author")) != len(v.all("short_author")):
        names = [n for value in v.all("short_author") for n in _split_names(value)]
    corresponding = {author_key(m) for m in re.findall(r"([^;()]+?)\s*\((?:corresponding|reprint) author\)",
                                                        " ".join(v.all("reprint")))}  # fmt: skip
    # A patent's address field is the applicant's or inventor's address, not an affiliation.
    affiliations = [None] * len(names) if kind == "patent" else _assign_affiliations(v, names, fmt)
    authors = [
        Author(name=n, affiliation=a, order=i, corresponding=author_key(n) in corresponding)
        for i, (n, a) in enumerate(zip(names, affiliations, strict=True), 1)
    ]
    numbers = [clean_text(p) for value in v.every("number") for p in split_values(value)]
    urls = " ".join(v.every("url"))
    doi = normalize_doi(v.first("doi")) or find_doi(urls if "doi" in urls.lower() else "")
    year = parse_year(v.first("year")) or parse_year(v.first("date"))
    venue = clean_or_none(v.first("venue"))
    volume, issue = normalize_number(v.first("volume")), normalize_number(v.first("issue"))
    patent = standard = tech_report = thesis = report = None
    doc_type = _DOC_TYPES[kind]
    patent_no = standard_no = report_no = None
    body = clean_or_none(v.first("publisher"))
    # CNKI writes a conference's venue city (会议地点) in PP / %C, not where its proceedings appeared.
    place = clean_or_none(v.first("place")) if kind not in ("patent", "conference") else None
    if kind == "patent":
        patent_no = next((n for n in numbers if looks_like_patent_number(n)), None)
        applicants = [a for value in v.all("applicant") for a in _split_names(value)]
        # The one date CNKI gives a patent (FD / %8) is its 公开/公告日.
        patent = PatentInfo(publication_number=patent_no, applicants=applicants,
                            publication_date=parse_date(v.first("date")))  # fmt: skip
        venue = volume = issue = None
    elif kind == "standard":
        standard_no = next(
            (normalize_standard_number(n) for n in numbers if looks_like_standard_number(n)), None
        )
        if not standard_no:
            raise RecordError("标准缺少标准号（如 GB/T 7714-2015），无法入库")
        standard = StandardInfo(
            standard_number=standard_no,
            issue_date=parse_date(v.first("date")),
            implementation_date=parse_date(v.first("implementation_date")),
        )
        venue = volume = issue = None
    elif kind == "report":
        report_no = next((n for n in numbers if _REPORT_NO.match(n) and not _ISSN_ISBN.match(n)), None)
        if report_no:
            tech_report = TechReportInfo(
                report_no=report_no,
                access_level=AccessLevel.public,  # it reached the analyst through a public export
                organisation=body or (affiliations[0] if affiliations else None),
            )
        else:
            doc_type = DocType.report  # a report outside the national system: no 公开范围 to police
            report = ReportInfo(institution=body)
    elif kind == "newspaper":
        venue = venue or body  # CNKI writes the paper's name in PB / %I
    elif kind == "thesis":
        venue = body or venue  # the degree-granting university
        # CNKI's A3 / %Y on a thesis are its supervisors: kept, never authors.
        supervisors = [n for value in v.all("supervisor") for n in _split_names(value)]
        thesis = ThesisInfo(institution=body, supervisor="；".join(supervisors) or None)
    first_author = author_key(names[0]) if names else None
    rid = record_id(
        title=title, year=year, first_author=first_author, doi=doi,
        patent_number=patent_no, standard_number=standard_no, report_no=report_no,
    )  # fmt: skip
    try:
        return Record(
            id=rid,
            source=fmt,
            source_id=doi or clean_or_none(v.first("accession")) or rid,
            doc_type=doc_type,
            title=title,
            title_en=tidy_title(v.first("title_en")) or None,
            authors=authors,
            abstract=clean_or_none(v.first("abstract")),
            keywords=_split_keywords(v.all("keywords")),
            venue=venue,
            year=year,
            volume=volume,
            issue=issue,
            pages=None if kind in ("patent", "standard") else _pages(v),
            doi=doi,
            publisher=body if kind not in ("patent", "newspaper") else None,
            place=place,
            edition=clean_or_none(v.first("edition")),
            date=partial_date(v.first("date")) if kind in ("newspaper", "webpage", "report") else None,
            editors=[n for value in v.all("editor") for n in _split_names(value)]
            if kind in ("chapter", "conference")
            else [],
            url=clean_or_none(v.first("url")) if kind == "webpage" else None,
            # RefWorks CL is a classification for articles but the degree for a thesis: shape decides.
            clc=[c for value in v.all("clc") for c in split_values(value) if _CLC.match(c)],
            language=_language(v.first("language"), title),
            funds=list(dict.fromkeys(f for value in v.all("fund") for f in split_values(value))),
            ingested_at=now,
            version=version,
            tech_report=tech_report,
            patent=patent,
            standard=standard,
            thesis=thesis,
            report=report,
            references=[parse_wos_cr(c) for c in v.all("cited")],  # WoS CR, one cited work a value
        )
    except ValidationError as exc:
        raise RecordError(reason(exc)) from None


def detect_format(text: str) -> str | None:
    """The export format from the first tagged lines, or None."""
    if wos_tab.is_tab_layout(text):
        return "wos"
    lines = [line for line in text.lstrip("\ufeff").split("\n")[:50] if line.strip()]
    checks = (
        ("noteexpress", r"^\{Reference Type\}\s*:"),
        ("ris", r"^TY {1,2}- "),
        ("endnote", r"^%0 "),
        ("wos", r"^(?:FN |PT [A-Z]\s*$)"),
        ("refworks", r"^RT "),
    )
    for fmt, pattern in checks:
        if any(re.match(pattern, line, re.IGNORECASE if fmt == "noteexpress" else 0) for line in lines):
            return fmt
    return None


def _raws(text: str, fmt: str, syntax: _Syntax) -> Iterator[tuple[_Raw, str | None]]:
    """Each record's tag values, with the reason it cannot be read when it is cut off."""
    if fmt == "wos" and wos_tab.is_tab_layout(text):
        for row in wos_tab.read(text):
            yield _Raw(row.start_line, row.fields, ended=True), row.error
        return
    for raw in _read(text, syntax, lower_tags=fmt == "noteexpress"):
        cut = fmt == "wos" and not raw.ended
        yield raw, "记录不完整：缺少结束标记 ER（文件可能被截断），未入库" if cut else None


def parse_text(
    text: str, *, now: datetime, version: int, fmt: str | None = None
) -> Iterator[Record | RecordError]:
    """Records from an export's text; `fmt` detected when not given. One RecordError per bad record."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    fmt = fmt or detect_format(text)
    if fmt not in SYNTAXES:
        yield RecordError(
            "无法识别的文献导出格式（支持 RIS、EndNote、RefWorks、NoteExpress、Web of Science）"
        )
        return
    syntax = SYNTAXES[fmt]
    n = 0
    for n, (raw, problem) in enumerate(_raws(text, fmt, syntax), 1):
        try:
            if problem:
                raise RecordError(problem)
            yield _record(_Values(raw, syntax), fmt, now=now, version=version)
        except (RecordError, ValidationError) as exc:
            yield RecordError(f"第 {n} 条记录（第 {raw.start_line} 行）：{reason(exc)}")
    if n == 0:
        yield RecordError(f"{FORMAT_LABELS[fmt]} 文件中没有找到任何记录")


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM) or UTF-16 with BOM, else GB18030; RecordError when neither fits."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise RecordError("文件以 UTF-16 标记开头，但内容无法按 UTF-16 解码") from None
    if b"\x00" in data:
        raise RecordError("文件含有空字节，不是文本导出文件（或是没有 BOM 的 UTF-16）")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        utf8_error = exc
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise RecordError(
            f"无法识别文件编码：既不是 UTF-8，也不是 GB18030（第 {utf8_error.start} 字节起无法解码）"
        ) from None


def read_text(path: Path) -> str:
    """A text export's contents, size-checked and decoded (UTF-8 or GB18030); RecordError otherwise."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise RecordError(f"文件过大（{size} 字节，上限 {MAX_FILE_BYTES}）")
    try:
        return decode(path.read_bytes())
    except ValidationError as exc:
        raise RecordError(reason(exc)) from None


def parse_file(
    path: Path, *, now: datetime, version: int, fmt: str | None = None
) -> Iterator[Record | RecordError]:
    try:
        text = read_text(path)
    except RecordError as exc:
        yield exc
        return
    yield from parse_text(text, now=now, version=version, fmt=fmt)


parse_ris = partial(parse_text, fmt="ris")
parse_endnote = partial(parse_text, fmt="endnote")
parse_refworks = partial(parse_text, fmt="refworks")
parse_noteexpress = partial(parse_text, fmt="noteexpress")
parse_wos = partial(parse_text, fmt="wos")
