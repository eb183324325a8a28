"""parse_reference on GB/T 7714, CSSCI and WoS CR strings, noise, and every reference of the real CSSCI export."""

from __future__ import annotations

import re

from mappings.citations.parse import MAX_RAW, parse_reference
from tests.conftest import shared_file


def test_gbt_7714_journal() -> None:
    ref = parse_reference("[1] 王世伟. 论智慧图书馆的三大特点[J]. 中国图书馆学报, 2012, 38(6): 22-28.")
    assert (ref.authors, ref.title, ref.venue, ref.year) == (
        ["王世伟"],
        "论智慧图书馆的三大特点",
        "中国图书馆学报",
        2012,
    )
    assert (ref.volume, ref.issue, ref.pages, ref.type_code) == ("38", "6", "22-28", "J")


def test_gbt_7714_online_carrier() -> None:
    ref = parse_reference("李明, 张华. 数字图书馆服务研究[J/OL]. 图书情报工作, 2020, 64(3): 5-12.")
    assert ref.type_code == "J" and ref.authors == ["李明", "张华"] and ref.year == 2020


def test_cssci_style() -> None:
    ref = parse_reference("2.严栋.基于物联网的智慧图书馆.图书馆学刊.2010.32(7)")
    assert (ref.authors, ref.title, ref.venue, ref.year, ref.volume, ref.issue) == (
        ["严栋"],
        "基于物联网的智慧图书馆",
        "图书馆学刊",
        2010,
        "32",
        "7",
    )


def test_wos_cr_and_anonymous() -> None:
    ref = parse_reference("Yan EJ, 2012, J AM SOC INF SCI TEC, V63, P1313, DOI 10.1002/asi.22680")
    assert (ref.authors, ref.year, ref.venue, ref.volume, ref.pages, ref.doi) == (
        ["Yan EJ"],
        2012,
        "J AM SOC INF SCI TEC",
        "63",
        "1313",
        "10.1002/asi.22680",
    )
    assert parse_reference("[Anonymous], 1999, NATURE, V1, P2").authors == []


def test_noise_keeps_only_raw() -> None:
    for raw in ("http://example.org/a/b", "12", "--- ;;"):
        ref = parse_reference(raw)
        assert ref.raw == raw
        assert ref.model_dump(exclude_none=True, exclude_defaults=True) == {"raw": raw}
    assert len(parse_reference("x" * (MAX_RAW + 10)).raw or "") == MAX_RAW


def test_every_cssci_reference_parses() -> None:
    text = shared_file("citations", "cssci_smart_library", "LY_20230630122752.txt").read_text(
        encoding="utf-8-sig"
    )
    refs, in_refs = [], False
    for line in text.splitlines():
        if line.startswith("【"):
            in_refs = line.startswith("【参考文献】")
        elif in_refs and re.match(r"\d+\.", line):
            refs.append(parse_reference(line))
    assert text.count("【来源篇名】") == 318
    assert len(refs) == 7020
    with_year = sum(1 for r in refs if r.year)
    with_title = sum(1 for r in refs if r.title)
    # Measured floors; the rest (books without a year, one-field notes) keep fewer fields. A year is read
    # only where the layout puts it, never from inside a title ("发展报告(2021)").
    assert with_year >= 6532 and with_title >= 6887, (with_year, with_title)
