"""Export writers: golden files written by hand from the standard's own examples, clean output for
sparse records, independent parsers on RIS and BibTeX, and 10,000 records through every format.

Pure Python: no Elasticsearch. The golden records are built through `Record` and dumped the way the
index stores them, so the writers see exactly the `_source` shape.

Where a golden entry differs from the standard's printed example, the record model lacks the element
(place of publication, publisher, a thesis's cited page, a patent's full date): the writers leave it
out rather than invent it. Each record below names the example it comes from.
"""

from __future__ import annotations

import csv
import functools
import io
import random
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from mappings.model import Author, PatentInfo, Record, ReportInfo, StandardInfo, TechReportInfo, ThesisInfo
from search.export import CHUNK_BYTES, DEFAULT_FORMAT, FORMATS
from search.export.gbt7714 import format_entry, write_chaxin, write_gbt7714
from search.export.names import personal_name
from search.export.tabular import HEADERS, write_csv
from search.export.tagged import (
    bibtex_key,
    tex,
    write_bibtex,
    write_endnote,
    write_noteexpress,
    write_refworks,
    write_ris,
)

GOLDEN = Path(__file__).with_name("export_golden")
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def _authors(*names: str, affiliation: dict[str, str] | None = None) -> list[Author]:
    return [Author(name=n, order=i, affiliation=(affiliation or {}).get(n)) for i, n in enumerate(names, 1)]


def _record(n: int, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"id": f"golden-{n}", "source": "test", "source_id": f"g{n}", "ingested_at": NOW,
                            "version": 1}  # fmt: skip
    return Record(**base, **fields).model_dump(mode="json")


# fmt: off
GOLDEN_RECORDS = [
    # 7714-2025 8.5 example; 2015 prints the same entry with half-width marks.
    _record(1, doc_type="journal_article", title="互联网药品可信交易环境中主体资质审核备案模式",
            authors=_authors("于潇", "刘义", "柴跃廷", "孙宏波", affiliation={
                "于潇": "清华大学自动化系", "刘义": "清华大学自动化系", "柴跃廷": "清华大学自动化系",
                "孙宏波": "国家食品药品监督管理局信息中心"}),
            venue="清华大学学报(自然科学版)", year=2012, volume="52", issue="11", pages="1518-1523",
            keywords=["药品电子商务", "可信交易", "资质审核"], clc=["F724.6"], language="zh",
            abstract="针对互联网药品交易中主体资质审核的难题，提出备案模式并分析其流程。"),
    # 7714-2025 8.5 example (Myburg A A …); 2015 as its examples print it (MYBURG A A …). No issue number.
    _record(2, doc_type="journal_article", title="The genome of Eucalyptus grandis",
            authors=_authors("Alexander A. Myburg", "Dario Grattapaglia", "Gerald A. Tuskan", "Uffe Hellsten"),
            venue="Nature", year=2014, volume="510", pages="356--362", doi="10.1038/nature13308",
            keywords=["genome", "Eucalyptus"], language="en",
            abstract="Eucalypts are the world's most widely planted hardwood trees."),
    # 7714-2025 8.7.2 example 1 (its cited page 87 is not a thesis's `pages`, which is a page count;
    # the supervisor is invented, to show it is kept and never printed).
    _record(3, doc_type="thesis", title="融合星载 GNSS-R 和 SAR 数据的高时空分辨率土壤湿度反演方法研究",
            authors=_authors("王琦"), place="武汉", year=2022, language="zh",
            thesis=ThesisInfo(institution="武汉大学", supervisor="某导师")),
    # 7714-2015 A.4 example 29, CALMS R B; a record from before thesis.institution keeps it in venue.
    _record(4, doc_type="thesis", title="Infrared spectroscopic studies on solid oxygen",
            authors=_authors("R. B. Calms"), venue="Univ. of California", place="Berkeley", year=1965,
            language="en"),
    # 7714-2015 4.2 example 5 (the colon inside the proceedings title is the record's own text, printed
    # as it is); published proceedings, so 2025 prints them as a book part too (8.6.1).
    _record(5, doc_type="conference_paper", title="面向数字素养的高校图书馆数字服务体系研究",
            authors=_authors("贾东琴", "柯平"), venue="中国图书馆学会年会论文集: 2011年卷", year=2011,
            pages="45-52", language="zh", editors=["中国图书馆学会"], place="北京", publisher="国家图书馆出版社"),
    # 7714-2015 4.5 example 1 (2025's 8.10.2 example cites a later publication of the same patent).
    _record(6, doc_type="patent", title="全智能节电器", authors=_authors("邓一刚"), year=2006, language="zh",
            patent=PatentInfo(application_number="200610171314.3", applicants=["邓一刚"],
                              publication_date=date(2006, 12, 13))),
    # 7714-2025 8.9 example; 2015 writes the responsible body first and the number after the name.
    _record(7, doc_type="standard", title="信息与文献 资源描述", authors=_authors("全国信息与文献标准化技术委员会"),
            year=2021, language="zh",
            standard=StandardInfo(standard_number="GB/T 3792—2021", status="现行", issue_date=date(2021, 10, 11))),
    # 7714-2015 A.3 example 25 and 7714-2025 8.8.3 example 4 (without 2025's cited page 25).
    _record(8, doc_type="report", title="Guidelines for handling excavated acid-producing materials",
            authors=_authors("U.S. Department of Transportation Federal Highway Administration"),
            year=1990, language="en", place="Springfield",
            report=ReportInfo(report_no="PB 91-194001",
                              institution="U.S. Department of Commerce National Information Service")),
    # Platform-shaped, not from the standard: a 科技报告 with personal authors and a 承担单位.
    _record(9, doc_type="tech_report", title="多源遥感数据融合的农作物长势监测关键技术研究",
            authors=_authors("张华", "李明"), year=2020, language="zh",
            tech_report=TechReportInfo(report_no="121000-2017YFD0300402/05", access_level="public",
                                       organisation="中国农业科学院农业资源与农业区划研究所")),
]
# fmt: on


def _golden(name: str) -> str:
    return (GOLDEN / name).read_text(encoding="utf-8")


def _assert_lines(actual: str, expected: str) -> None:
    """Line by line, so a failure names the first differing line of the golden file."""
    got, want = actual.split("\n"), expected.split("\n")
    for i, (g, w) in enumerate(zip(got, want, strict=False), 1):
        assert g == w, f"line {i}:\n got  {g!r}\n want {w!r}"
    assert len(got) == len(want), f"{len(got)} lines, golden has {len(want)}"


# ---- golden files ------------------------------------------------------------------------------


@pytest.mark.parametrize("edition", ["2015", "2025"])
def test_gbt7714_golden(edition: str) -> None:
    out = "".join(write_gbt7714(GOLDEN_RECORDS, edition=edition))  # type: ignore[arg-type]
    _assert_lines(out, _golden(f"gbt7714-{edition}.txt"))


def test_chaxin_golden() -> None:
    _assert_lines("".join(write_chaxin(GOLDEN_RECORDS)), _golden("chaxin.txt"))


@pytest.mark.parametrize(
    ("writer", "golden"),
    [(write_ris, "ris.ris"), (write_endnote, "endnote.enw"), (write_refworks, "refworks.txt"),
     (write_noteexpress, "noteexpress.txt"), (write_bibtex, "bibtex.bib")],
    ids=["ris", "endnote", "refworks", "noteexpress", "bibtex"],
)  # fmt: skip
def test_tagged_golden(writer: Any, golden: str) -> None:
    _assert_lines("".join(writer(GOLDEN_RECORDS)), _golden(golden))


def test_registry_default_output_is_the_2025_golden() -> None:
    fmt = FORMATS[DEFAULT_FORMAT]
    assert fmt.name == "gbt7714-2025"
    _assert_lines(b"".join(fmt.write(GOLDEN_RECORDS)).decode("utf-8"), _golden("gbt7714-2025.txt"))


# ---- rules of the standard ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "y2015", "y2025"),
    [
        ("Alexander A. Myburg", "MYBURG A A", "Myburg A A"),
        ("Myburg, Alexander A.", "MYBURG A A", "Myburg A A"),
        ("Myburg AA", "MYBURG A A", "Myburg A A"),
        ("H KANAMORI", "KANAMORI H", "Kanamori H"),
        ("DES MARAIS D J", "DES MARAIS D J", "Des Marais D J"),
        ("Williams-ellis, Amabel", "WILLIAMS-ELLIS A", "Williams-ellis A"),
        ("Ludwig van Beethoven", "VAN BEETHOVEN L", "van Beethoven L"),
        ("LI Jiang-ning", "LI J N", "Li J N"),  # CNKI's English author field: capitals mark the surname
        ("Sodeman, Jr., William A", "SODEMAN W A, Jr.", "Sodeman W A Jr"),  # 2015 4.2 ex. 6, 2025 8.3.2 ex. 4
        ("O'BRIEN J A", "O'BRIEN J A", "O'Brien J A"),
        ("张 三", "张三", "张三"),
        ("World Health Organization", "World Health Organization", "World Health Organization"),
    ],
)
def test_personal_names(name: str, y2015: str, y2025: str) -> None:
    assert personal_name(name, edition="2015") == y2015
    assert personal_name(name, edition="2025") == y2025


def _minimal(doc_type: str, **fields: Any) -> dict[str, Any]:
    extra: dict[str, Any] = {
        "standard": {"standard": StandardInfo(standard_number="GB/T 1-2020")},
        "tech_report": {"tech_report": TechReportInfo(report_no="R-1", access_level="public")},
    }.get(doc_type, {})
    return _record(0, doc_type=doc_type, **{"title": "题名", **extra, **fields})


@pytest.mark.parametrize(
    ("doc_type", "y2015", "y2025"),
    [
        ("journal_article", "题名[J].", "题名[J]."),
        ("thesis", "题名[D].", "题名[D]."),
        ("conference_paper", "题名[C].", "题名[C]."),
        ("patent", "题名[P].", "题名[P]."),
        ("standard", "题名: GB/T 1-2020[S].", "GB/T 1-2020 题名[S]."),
        ("tech_report", "题名: R-1[R].", "题名：R-1[R]."),
    ],
)
def test_title_only_records_are_clean(doc_type: str, y2015: str, y2025: str) -> None:
    rec = _minimal(doc_type)
    assert format_entry(rec, edition="2015") == y2015
    assert format_entry(rec, edition="2025") == y2025


@pytest.mark.parametrize(
    ("fields", "y2015", "y2025"),
    [
        # The standard's own example of an issue without a volume: "2010(6): 23".
        ({"venue": "刊名", "year": 2010, "issue": "6", "pages": "23"},
         "题名[J]. 刊名, 2010(6): 23.", "题名[J]. 刊名，2010（6）：23."),
        ({"venue": "刊名", "volume": "8"}, "题名[J]. 刊名, 8.", "题名[J]. 刊名，8."),
        ({"year": 2020, "pages": "1-5"}, "题名[J]. 2020: 1-5.", "题名[J]. 2020：1-5."),
        ({"doi": "10.1000/x"}, "题名[J]. DOI:10.1000/x.", "题名[J]. DOI:10.1000/x."),
    ],
)  # fmt: skip
def test_partial_journal_records_omit_cleanly(fields: dict[str, Any], y2015: str, y2025: str) -> None:
    rec = _minimal("journal_article", **fields)
    assert format_entry(rec, edition="2015") == y2015
    assert format_entry(rec, edition="2025") == y2025


def test_conference_without_venue_and_thesis_without_university() -> None:
    conf = _minimal("conference_paper", year=2011, pages="45-52")
    assert format_entry(conf, edition="2015") == "题名[C]. 2011: 45-52."
    assert format_entry(conf, edition="2025") == "题名[C]. 2011：45-52."
    assert format_entry(_minimal("thesis", year=2003), edition="2025") == "题名[D]. 2003."


def test_three_authors_are_all_listed_and_a_fourth_becomes_et_al() -> None:
    three = _minimal("journal_article", authors=_authors("甲", "乙", "丙"))
    assert format_entry(three, edition="2015") == "甲, 乙, 丙. 题名[J]."
    en = _minimal("journal_article", title="Title.", language="en",
                  authors=_authors("Ann Lee", "Bo Ma", "Cy Wu", "Di Xu"))  # fmt: skip
    # "et al." ends the area: no second full stop; the title's own full stop is dropped before [J].
    assert format_entry(en, edition="2015") == "LEE A, MA B, WU C, et al. Title[J]."


def test_authors_who_share_a_name_are_both_kept() -> None:
    rec = _minimal("journal_article", authors=_authors("王伟", "王伟"))
    assert format_entry(rec, edition="2015") == "王伟, 王伟. 题名[J]."
    assert "".join(write_ris([rec])).count("AU  - 王伟") == 2
    assert "author = {王伟 and 王伟}" in "".join(write_bibtex([rec]))


def test_bylan_punctuation_keeps_western_entries_half_width() -> None:
    zh, en = GOLDEN_RECORDS[0], GOLDEN_RECORDS[1]
    assert "，2012，52（11）：1518-1523." in format_entry(zh, punctuation="bylan")
    assert ", 2014, 510: 356-362." in format_entry(en, punctuation="bylan")
    assert "Myburg A A, Grattapaglia D" in format_entry(en, punctuation="bylan")


def test_patent_by_company_and_report_without_authors() -> None:
    patent = _minimal("patent", authors=_authors("Ryuki Tachibana"), year=2005,
                      patent=PatentInfo(publication_number="US6915001", applicants=["TRISCO ICAP PTY LTD"]))  # fmt: skip
    assert format_entry(patent, edition="2015") == "TRISCO ICAP PTY LTD. 题名: US6915001[P]. 2005."
    no_applicant = _minimal("patent", authors=_authors("Ryuki Tachibana"), year=2005)
    assert format_entry(no_applicant, edition="2025") == "Tachibana R. 题名[P]. 2005."


# ---- sparse and hostile records in every format -----------------------------------------------

_SPARSE = [_minimal(t) for t in ("journal_article", "thesis", "conference_paper", "patent", "standard",
                                 "tech_report")]  # fmt: skip
_TEXT_WRITERS = {"ris": write_ris, "endnote": write_endnote, "refworks": write_refworks,
                 "noteexpress": write_noteexpress, "bibtex": write_bibtex, "gbt7714": write_gbt7714,
                 "chaxin": write_chaxin}  # fmt: skip


@pytest.mark.parametrize("name", list(_TEXT_WRITERS))
def test_sparse_records_print_no_placeholders_or_empty_tags(name: str) -> None:
    out = "".join(_TEXT_WRITERS[name](_SPARSE))
    assert "None" not in out and "null" not in out
    assert not re.search(
        r"(?m)^(?:[A-Z][A-Z0-9]  - |%\S |[A-Z][A-Z0-9] |\{[^}]+\}: )$", out.replace("ER  - ", "")
    )
    assert not re.search(r"[,，:：]\s*[,，:：.]|\.\s*\.|\[\]|\(\)|（）", out)
    assert "= {}" not in out


def test_record_dicts_may_be_incomplete_or_odd() -> None:
    odd: list[dict[str, Any]] = [
        {"doc_type": "journal_article", "title": "  标题\n换行  ", "authors": [{"name": " "}, {"order": 1}, "x"],
         "year": "2020", "keywords": "单个", "pages": None, "patent": "nonsense"},
        {"title": None, "doc_type": None, "authors": None},
        {},
    ]  # fmt: skip
    for name, writer in _TEXT_WRITERS.items():
        out = "".join(writer(odd))
        assert "None" not in out, name
    assert format_entry(odd[0]) == "标题 换行[J]. 2020."
    assert format_entry({}) == "[无题名][Z]."


_TAG_LINE = {
    "ris": re.compile(r"^(?:[A-Z][A-Z0-9]  - .+|ER  - )$"),
    "endnote": re.compile(r"^%[0-9A-Z@+] .+$"),
    "refworks": re.compile(r"^[A-Z][A-Z0-9] .+$"),
    "noteexpress": re.compile(r"^\{[A-Za-z ]+\}: .+$"),
}


def _hostile() -> dict[str, Any]:
    return _record(
        99,
        doc_type="journal_article",
        title="50% of {x} & y_z #1 $5 ~ ^ \\end\nsecond line",
        authors=_authors("Smith and Sons", "=cmd|' /C calc'!A0", "Ann\rLee"),
        abstract="第一段。\r\n\r\n第二段\u2028第三段\x07。",
        keywords=["a;b", "{k}"],
        venue="J. {Odd}",
        doi="10.1000/{x}_y%",
    )


@pytest.mark.parametrize("name", list(_TAG_LINE))
def test_every_line_is_a_tag_line_even_with_breaks_in_values(name: str) -> None:
    out = "".join(_TEXT_WRITERS[name]([_hostile(), *GOLDEN_RECORDS]))
    for line in out.split("\n"):
        assert not line or _TAG_LINE[name].match(line), line


def test_bibtex_escapes_specials_and_balances_braces() -> None:
    assert tex("50% of {x} & y_z #1 $5 ~ ^ \\") == (
        r"50\% of \{x\} \& y\_z \#1 \$5 \textasciitilde{} \textasciicircum{} \textbackslash{}"
    )
    out = "".join(write_bibtex([_hostile()]))
    assert "author = {{Smith and Sons} and =cmd|' /C calc'!A0 and Ann Lee}" in out
    assert "doi = {10.1000/x_y%}" in out
    depth = 0
    for ch in re.sub(r"\\[{}]", "", out):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0
    assert depth == 0


def test_bibtex_keys_are_stable_and_ascii() -> None:
    assert bibtex_key(GOLDEN_RECORDS[1]) == bibtex_key(dict(GOLDEN_RECORDS[1]))
    assert re.fullmatch(r"myburg2014_[0-9a-f]{10}", bibtex_key(GOLDEN_RECORDS[1]))
    assert re.fullmatch(r"ref2012_[0-9a-f]{10}", bibtex_key(GOLDEN_RECORDS[0]))


# ---- independent parsers -------------------------------------------------------------------------


def test_ris_reads_back_with_rispy() -> None:
    rispy = pytest.importorskip("rispy")
    entries = rispy.loads("".join(write_ris([*GOLDEN_RECORDS, _hostile()])))
    assert len(entries) == len(GOLDEN_RECORDS) + 1
    assert [e["type_of_reference"] for e in entries[:9]] == [
        "JOUR", "JOUR", "THES", "THES", "CONF", "PAT", "STAND", "RPRT", "RPRT"]  # fmt: skip
    myburg = entries[1]
    assert myburg["authors"][0] == "Alexander A. Myburg" and len(myburg["authors"]) == 4
    assert (myburg["journal_name"], myburg["year"], myburg["volume"]) == ("Nature", "2014", "510")
    assert (myburg["start_page"], myburg["end_page"], myburg["doi"]) == ("356", "362", "10.1038/nature13308")
    assert entries[0]["keywords"] == ["药品电子商务", "可信交易", "资质审核"]
    assert entries[-1]["abstract"] == "第一段。 第二段 第三段。"


def test_bibtex_reads_back_with_bibtexparser() -> None:
    bibtexparser = pytest.importorskip("bibtexparser")
    library = bibtexparser.parse_string("".join(write_bibtex([*GOLDEN_RECORDS, _hostile()])))
    assert not library.failed_blocks
    assert len(library.entries) == len(GOLDEN_RECORDS) + 1
    assert len({e.key for e in library.entries}) == len(library.entries)
    myburg = library.entries[1]
    assert myburg.entry_type == "article"
    assert myburg.fields_dict["pages"].value == "356--362"
    assert library.entries[5].entry_type == "patent"
    assert library.entries[5].fields_dict["number"].value == "200610171314.3"


# ---- spreadsheets ----------------------------------------------------------------------------


def test_csv_starts_with_bom_and_has_chinese_header() -> None:
    data = b"".join(FORMATS["csv"].write(GOLDEN_RECORDS))
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == HEADERS and rows[0][:3] == ["文献类型", "题名", "英文题名"]
    assert len(rows) == 1 + len(GOLDEN_RECORDS)
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["作者"] == "于潇; 刘义; 柴跃廷; 孙宏波"
    assert first["作者单位"] == "清华大学自动化系; 国家食品药品监督管理局信息中心"
    assert first["年"] == "2012" and first["页码"] == "1518-1523" and first["中图分类号"] == "F724.6"
    assert first["参考文献（GB/T 7714-2025）"] == _golden("gbt7714-2025.txt").split("\n")[0][4:]


def test_csv_defuses_formulas() -> None:
    rows = list(csv.reader(io.StringIO("".join(write_csv([_hostile()])).lstrip("\ufeff"))))
    assert dict(zip(rows[0], rows[1], strict=True))["作者"].startswith(
        "Smith and Sons; =cmd"
    )  # not at the start
    formula = _minimal("journal_article", title="=1+1")
    rows = list(csv.reader(io.StringIO("".join(write_csv([formula])).lstrip("\ufeff"))))
    assert rows[1][1] == "'=1+1"


def test_xlsx_opens_with_header_rows_and_text_cells() -> None:
    data = b"".join(FORMATS["xlsx"].write([*GOLDEN_RECORDS, _minimal("journal_article", title="=1+1")]))
    ws = openpyxl.load_workbook(io.BytesIO(data), read_only=False)["文献"]
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == HEADERS
    assert len(rows) == 1 + len(GOLDEN_RECORDS) + 1
    assert rows[1][1] == "互联网药品可信交易环境中主体资质审核备案模式" and rows[1][7] == 2012
    assert ws.cell(row=len(rows), column=2).value == "=1+1"
    assert ws.cell(row=len(rows), column=2).data_type == "s"
    assert ws.freeze_panes == "A2"


# ---- registry and scale --------------------------------------------------------------------------


def test_registry() -> None:
    assert list(FORMATS) == ["gbt7714-2025", "gbt7714-2015", "chaxin", "ris", "bibtex", "endnote",
                             "refworks", "noteexpress", "csv", "xlsx"]  # fmt: skip
    for name, fmt in FORMATS.items():
        assert fmt.name == name and fmt.label and "/" in fmt.media_type and not fmt.extension.startswith(".")
    assert FORMATS["xlsx"].extension == "xlsx" and FORMATS["csv"].media_type.startswith("text/csv")


@functools.cache
def _generated(n: int) -> tuple[dict[str, Any], ...]:
    return tuple(_generate(n))


def _generate(n: int) -> Iterator[dict[str, Any]]:
    """Deterministic variety: every type, 0-6 authors, fields present or not, odd characters."""
    rng = random.Random(7714)
    kinds = ["journal_article", "thesis", "conference_paper", "patent", "standard", "tech_report"]
    words = ["数据", "模型", "Deep", "learning", "{brace}", "50%", "a&b", "=SUM(A1)", "换\n行", "\x01ctl",
             "é"]  # fmt: skip
    for i in range(n):
        kind = kinds[i % len(kinds)]

        def maybe(v: Any) -> Any:
            return v if rng.random() < 0.6 else None

        extra: dict[str, Any] = {}
        if kind == "standard":
            extra["standard"] = StandardInfo(standard_number=f"GB/T {i}-2020")
        elif kind == "tech_report":
            extra["tech_report"] = TechReportInfo(report_no=f"R{i}", access_level="public",
                                                  organisation=maybe("某研究所"))  # fmt: skip
        elif kind == "patent":
            extra["patent"] = PatentInfo(publication_number=maybe(f"CN{i}A"), applicants=["某公司"] * (i % 2))
        names = [
            rng.choice(["张三", "李四", "Ann B. Lee", "WANG Wei", "Müller, Jörg"])
            for _ in range(rng.randint(0, 6))
        ]
        yield Record(
            id=f"gen-{i}", source="gen", source_id=str(i), ingested_at=NOW, version=1, doc_type=kind,
            title=" ".join(rng.choices(words, k=rng.randint(1, 6))) or "t", authors=_authors(*names),
            venue=maybe(rng.choice(["期刊", "Journal"])), year=maybe(rng.randint(1950, 2026)),
            volume=maybe(str(rng.randint(1, 99))), issue=maybe(str(rng.randint(1, 12))),
            pages=maybe(f"{i % 90 + 1}-{i % 90 + 9}"), doi=maybe(f"10.1000/{i}"),
            keywords=rng.choices(words, k=rng.randint(0, 4)), abstract=maybe("摘要\n" * rng.randint(1, 3)),
            language=rng.choice(["zh", "en", None]), **extra,
        ).model_dump(mode="json")  # fmt: skip


_COUNTERS = {
    "gbt7714-2025": lambda s: len(re.findall(r"(?m)^\[\d+\] ", s)),
    "gbt7714-2015": lambda s: len(re.findall(r"(?m)^\[\d+\] ", s)),
    "chaxin": lambda s: len(re.findall(r"(?m)^\[\d+\] ", s)),
    "ris": lambda s: s.count("\nER  - \n"),
    "bibtex": lambda s: len(re.findall(r"(?m)^@\w+\{", s)),
    "endnote": lambda s: len(re.findall(r"(?m)^%0 ", s)),
    "refworks": lambda s: len(re.findall(r"(?m)^RT ", s)),
    "noteexpress": lambda s: len(re.findall(r"(?m)^\{Reference Type\}: ", s)),
    "csv": lambda s: len(list(csv.reader(io.StringIO(s.lstrip("\ufeff"))))) - 1,
}

N_GENERATED = 10_000


@pytest.mark.parametrize("name", list(FORMATS))
def test_ten_thousand_records_in_every_format(name: str) -> None:
    data = b"".join(FORMATS[name].write(iter(_generated(N_GENERATED))))
    if name == "xlsx":
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
        rows = wb["文献"].iter_rows(values_only=True)
        assert list(next(rows)) == HEADERS
        assert sum(1 for _ in rows) == N_GENERATED
        wb.close()
        return
    text = data.decode("utf-8")
    assert _COUNTERS[name](text) == N_GENERATED
    assert "None" not in text


@pytest.mark.parametrize("name", [n for n in FORMATS if n != "xlsx"])
def test_text_writers_stream_in_bounded_pieces(name: str) -> None:
    """Pieces of about CHUNK_BYTES, not one per record (a hop to the thread pool and a send each)
    and never the whole file: the writer yields long before it has read everything."""
    read = 0

    def records() -> Iterator[dict[str, Any]]:
        nonlocal read
        while True:
            read += 1
            if read > 5_000:
                raise AssertionError("the writer read 5,000 records without yielding")
            yield GOLDEN_RECORDS[read % len(GOLDEN_RECORDS)]

    pieces = iter(FORMATS[name].write(records()))
    first, second = next(pieces), next(pieces)
    assert len(first) >= CHUNK_BYTES and second
