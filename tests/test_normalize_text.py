"""Record-level text and identifier normalisation. Pure Python: no Elasticsearch needed."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.identity import record_id
from ingest.normalize_text import (
    author_key,
    clean_text,
    find_doi,
    join_lines,
    looks_like_patent_number,
    looks_like_standard_number,
    normalize_doi,
    normalize_number,
    normalize_pages,
    normalize_standard_number,
    parse_date,
    parse_year,
    split_values,
    tidy_title,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # CNKI's old abstracts: half-width marks with stray spaces inside Chinese sentences.
        ("处理 .结果表明 ,外施Ca2 +、ABA", "处理。结果表明，外施Ca2 +、ABA"),
        ("目的:探讨", "目的：探讨"),
        ("黄瓜;遗传转化", "黄瓜；遗传转化"),
        ("是吗?对!", "是吗？对！"),
        ("学报(自然科学版)", "学报（自然科学版）"),
        ("黄瓜(Cucumis sativus L.)是我国", "黄瓜（Cucumis sativus L.）是我国"),
        ("Toll样受体4 (TLR4)作为", "Toll样受体4（TLR4）作为"),
        ("平面(SP).方法", "平面（SP）。方法"),
        ("外源(ABA(脱落酸))处理", "外源（ABA（脱落酸））处理"),
        ("GSE85426数据集,获得", "GSE85426数据集，获得"),
        # Numbers and Latin text keep their half-width marks, even inside Chinese text.
        ("附加 1.5 mg/L 2,4-D,进行", "附加 1.5 mg/L 2,4-D，进行"),
        ("30,60,90和150 g/L", "30,60,90和150 g/L"),
        ("比例为1:2时", "比例为1:2时"),
        ("2.方法", "2.方法"),
        ("结果等...", "结果等..."),
        ("外施Ca~(2+)、ABA及H_3PO_4", "外施Ca~(2+)、ABA及H_3PO_4"),
        ("网址:http://www.cnki.net/a?b=1", "网址：http://www.cnki.net/a?b=1"),
        ("e.g. 3.5 mg, (see Fig. 1)", "e.g. 3.5 mg, (see Fig. 1)"),
        ("Why? Because (a) and (b).", "Why? Because (a) and (b)."),
        # NFKC and whitespace.
        ("２０１９年\u3000ＡＢＣ", "2019年 ABC"),
        ("信息与文献\u3000参考文献著录规则", "信息与文献 参考文献著录规则"),
        ("临床检验杂志（电子版）", "临床检验杂志（电子版）"),
        ("  a \n\t b\r\n", "a b"),
        ("a\u200bb\x07c", "abc"),
        ("", ""),
        (None, ""),
    ],
)
def test_clean_text(raw: str | None, expected: str) -> None:
    assert clean_text(raw) == expected


@given(st.text())
def test_clean_text_is_idempotent(text: str) -> None:
    once = clean_text(text)
    assert clean_text(once) == once


@given(st.from_regex(r"[A-Za-z0-9 .,;:?!()\-]{0,40}", fullmatch=True))
def test_clean_text_leaves_text_without_chinese_alone_but_for_spaces(text: str) -> None:
    assert clean_text(text) == " ".join(text.split())


def test_tidy_title_drops_one_closing_full_stop() -> None:
    assert tidy_title("Inhaled Budesonide in Mild Asthma.") == "Inhaled Budesonide in Mild Asthma"
    assert tidy_title("Wait...") == "Wait..."
    assert tidy_title("什么是复杂性?") == "什么是复杂性？"


@pytest.mark.parametrize(
    ("head", "tail", "expected"),
    [
        ("保护地栽培蔬菜作物", ",也是植物", "保护地栽培蔬菜作物,也是植物"),
        ("黄瓜基因组序列", "图谱已经构建", "黄瓜基因组序列图谱已经构建"),
        ("pyruvate", "   carboxylase", "pyruvate carboxylase"),
        ("", "text", "text"),
        ("text", "   ", "text"),
    ],
)
def test_join_lines(head: str, tail: str, expected: str) -> None:
    assert join_lines(head, tail) == expected


def test_split_values() -> None:
    assert split_values("黄瓜;遗传转化；胚性愈伤组织;;") == ["黄瓜", "遗传转化", "胚性愈伤组织"]
    assert split_values(None) == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("10.1000/ABC", "10.1000/abc"),
        ("https://doi.org/10.1000/ABC", "10.1000/abc"),
        ("http://dx.doi.org/10.1000/x.y", "10.1000/x.y"),
        ("https://dx.doi.org/10.1000/x", "10.1000/x"),
        ("doi:10.1000/X", "10.1000/x"),
        ("DOI: 10.1000/x.", "10.1000/x"),
        ("doi：10.13207/j.cnki.jnwafu.2024.07.011", "10.13207/j.cnki.jnwafu.2024.07.011"),
        ("doi: https://doi.org/10.1000/x", "10.1000/x"),
        ("10.1000%2Fabc", "10.1000/abc"),
        ("１０.１０００/ＡＢＣ", "10.1000/abc"),
        ("10.1016/S0022-2836(05)80360-2", "10.1016/s0022-2836(05)80360-2"),
        ("not a doi", None),
        ("https://doi.org/", None),
        ("", None),
        (None, None),
    ],
)
def test_normalize_doi(raw: str | None, expected: str | None) -> None:
    assert normalize_doi(raw) == expected


def test_find_doi_in_links_and_citations() -> None:
    assert find_doi("https://link.cnki.net/doi/10.13207/j.cnki.jnwafu.2024.07.011") == (
        "10.13207/j.cnki.jnwafu.2024.07.011"
    )
    assert find_doi("Br J Cancer 2011 105 S77 doi:10.1038/bjc.2011.489 22158327") == "10.1038/bjc.2011.489"
    assert find_doi("https://link.cnki.net/urlid/21.1227.R.20201202.1234.022") is None


@pytest.mark.parametrize(
    "raw",
    ["GB/T 7714—2015", "GB/T 7714——2015", "GB/T7714-2015", "GB／T 7714－2015", "gb/t 7714 - 2015",
     "GB/T 7714–2015", "GB/T\u30007714-2015", "GB / T 7714 — 2015"],
)  # fmt: skip
def test_standard_number_variants_agree(raw: str) -> None:
    assert normalize_standard_number(raw) == "GB/T 7714-2015"
    assert looks_like_standard_number(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("GB7714-2015", "GB 7714-2015"),
        ("GB 50016-2014", "GB 50016-2014"),
        ("GB/T 1.1-2020", "GB/T 1.1-2020"),
        ("GB/Z 20986-2007", "GB/Z 20986-2007"),
        ("DB11/T 1234-2020", "DB11/T 1234-2020"),
        ("ISO/IEC 27001:2013", "ISO/IEC 27001:2013"),
        ("iso 9001:2015", "ISO 9001:2015"),
        ("IEEE Std 802.11-2016", "IEEE Std 802.11-2016"),
    ],
)
def test_normalize_standard_number(raw: str, expected: str) -> None:
    assert normalize_standard_number(raw) == expected


def test_what_looks_like_a_standard_or_patent_number() -> None:
    assert not looks_like_standard_number("7-203-03520-4")  # an ISBN in CNKI's %V
    assert not looks_like_standard_number("1671-9387")  # an ISSN
    assert not looks_like_standard_number(None)
    for number in ("CN111020404A", "US11651140", "US 07967789", "CN110836969-A", "ZL201910000001.X"):
        assert looks_like_patent_number(number), number
    for number in ("发明公开", "1671-9387", "GB/T 7714-2015", "1"):
        assert not looks_like_patent_number(number), number


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Smith, John A.", "smith ja"),
        ("John A. Smith", "smith ja"),
        ("Smith JA", "smith ja"),
        ("Smith, J.-P.", "smith jp"),
        ("Smith, John A., Jr.", "smith ja"),
        ("van Maris, Antonius J. A.", "van maris aja"),
        ("Antonius J. A. van Maris", "van maris aja"),
        ("Zupancic, JAF", "zupancic jaf"),
        ("Zupancic, John A. F.", "zupancic jaf"),
        ("YANG Y", "yang y"),
        ("LI W", "li w"),
        ("LI Wei", "li w"),
        ("ZHANG Yin-ping", "zhang yp"),
        ("J. Mark Smith", "smith jm"),
        ("Müller, Hans", "muller h"),
        ("O'Byrne, Paul M", "obyrne pm"),
        ("Medvedeff, Cassandra A. (medvedeff22@ufl.edu)", "medvedeff ca"),
        ("Plato", "plato"),
        ("张 三", "张三"),
        ("董鋒", "董锋"),  # traditional and simplified forms match
        ("", ""),
        (None, ""),
    ],
)
def test_author_key(raw: str | None, expected: str) -> None:
    assert author_key(raw) == expected


def test_author_key_matches_full_and_abbreviated_forms() -> None:
    assert (
        author_key("McCormick, Marie C.") == author_key("McCormick, MC") == author_key("Marie C. McCormick")
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("2019-05-12", 2019), ("2019", 2019), ("FEB 2011", 2011), ("1998, thesis publ. 1997", 1998),
     ("2013年5月", 2013), ("1995/01/01", 1995), ("Vol 12345", None), ("", None), (None, None)],
)  # fmt: skip
def test_parse_year(raw: str | None, expected: int | None) -> None:
    assert parse_year(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("2015-05-15", date(2015, 5, 15)), ("1995/01/01", date(1995, 1, 1)), ("2015年5月15日", date(2015, 5, 15)),
     ("JUN 28 2011", date(2011, 6, 28)), ("June 28, 2011", date(2011, 6, 28)), ("2015-02-30", None),
     ("2015", None), (None, None)],
)  # fmt: skip
def test_parse_date(raw: str | None, expected: date | None) -> None:
    assert parse_date(raw) == expected


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        ("12-18", None, "12-18"),
        ("12－18", None, "12-18"),
        ("12—18", None, "12-18"),
        ("12~18", None, "12-18"),
        ("12 - 18", None, "12-18"),
        ("12", "18", "12-18"),
        ("17082", "6", "17082-17086"),
        ("1865-76", None, "1865-1876"),
        ("174", "174", "174"),
        ("004", None, "4"),
        ("1106-1111+1117", None, "1106-1111+1117"),
        ("e217", None, "e217"),
        ("S77", "S81", "S77-S81"),
        ("", None, None),
        (None, "5", None),
    ],
)
def test_normalize_pages(first: str | None, last: str | None, expected: str | None) -> None:
    assert normalize_pages(first, last) == expected


def test_normalize_number() -> None:
    assert normalize_number("07") == "7"
    assert normalize_number("0") == "0"
    assert normalize_number("Suppl 2") == "Suppl 2"
    assert normalize_number(" ") is None


def test_a_title_keeps_a_full_stop_between_chinese_words_and_its_id() -> None:
    """GB/T 7714 records a title as its source gives it (issue 17); the ID is the one it always had."""
    source = "医用电气设备.光电X射线影像增强器特性.第4部分:影像失真的测定"
    assert tidy_title(source) == "医用电气设备.光电X射线影像增强器特性.第4部分：影像失真的测定"
    assert clean_text(source).startswith("医用电气设备。光电")  # outside titles, as before
    assert tidy_title("题名.") == "题名。"  # a closing stop is still Chinese punctuation
    assert record_id(title=tidy_title(source), year=2003) == record_id(title=clean_text(source), year=2003)
