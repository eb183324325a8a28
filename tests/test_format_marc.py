"""MARC 21 parsing (MARCXML and ISO 2709) on the real samples in ../shared/data/oai_pmh_marc and inline cases.

Pure Python: no Elasticsearch needed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from ingest.errors import RecordError
from ingest.formats import marc
from mappings.model import DocType, Record
from tests.conftest import shared_file

NOW = datetime(2026, 11, 1, tzinfo=UTC)
MARC_NS = "http://www.loc.gov/MARC21/slim"


def parse(path: Path) -> list[Record | RecordError]:
    return list(marc.parse_file(path, now=NOW, version=1))


def split(path: Path) -> tuple[list[Record], list[str]]:
    out = parse(path)
    return [r for r in out if isinstance(r, Record)], [str(e) for e in out if isinstance(e, RecordError)]


def records(path: Path) -> list[Record]:
    found, errors = split(path)
    assert not errors, errors
    return found


def sample(*parts: str) -> Path:
    return shared_file("oai_pmh_marc", *parts)


def write(tmp_path: Path, data: bytes | str, name: str = "in.xml") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


# --- the real sample files --------------------------------------------------------------------------


@pytest.mark.shared
def test_invenio_demo_records_authorities_and_999c5_references() -> None:
    path = sample("invenio_demo", "demobibdata.wellformed.xml")
    root = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
    ns = {"m": MARC_NS}
    assert len(root.findall("m:record", ns)) == 141
    cited = root.xpath("//m:datafield[@tag='999'][@ind1='C'][@ind2='5']", namespaces=ns)
    assert len(cited) == 2804
    # 733 citation fields hold only an ordinal ($o) and no cited work: they are not references.
    with_content = [d for d in cited if any(s.get("code") != "o" for s in d)]
    assert len(with_content) == 2071

    found, errors = split(path)
    assert len(found) == 115
    assert len(errors) == 26  # 25 authority records (980 AUTHORITY) and one PROCEEDINGS entry without 245
    assert sum("规范记录" in e for e in errors) == 25
    assert sum("缺少题名（245）" in e for e in errors) == 1
    assert sum(len(r.references) for r in found) == 2071
    assert all(ref.raw for r in found for ref in r.references)

    by_id = {r.source_id: r for r in found}
    article = by_id["hep-th/0606038"]
    assert article.doc_type is DocType.journal_article
    first = article.references[0]
    assert (
        first.venue == "Phys. Rep." and first.volume == "282" and first.year == 1997 and first.pages == "159"
    )
    assert "hep-th/9604090" in (first.raw or "")
    # $t/$v/$p/$y structured citations keep those fields and put $m then $s in raw.
    structured = next(
        ref for r in found for ref in r.references if ref.raw and ref.raw.startswith("Bond J.R., Ef")
    )
    assert structured.venue == "Mon. Not. R. Astron. Soc." and structured.volume == "291"
    assert structured.pages == "L33" and structured.year == 1997
    assert (
        structured.raw
        == "Bond J.R., Efstathiou G., Tegmark M., 1997, Mon. Not. R. Astron. Soc. 291 (1997) L33"
    )

    theses = [r for r in found if r.doc_type is DocType.thesis]
    assert len(theses) == 10
    video = next(r for r in theses if r.title == "A High-performance Video Browsing System")
    assert video.thesis is not None
    assert (video.thesis.degree, video.thesis.institution) == ("Ph.D.", "Univ. Central Florida")
    london = next(r for r in theses if r.title.startswith("A W mass measurement"))
    assert london.thesis is not None and london.thesis.institution == "London U."  # Invenio's $a/$b/$c 502
    chinese = next(r for r in found if r.language == "zh")
    assert chinese.title == "敬亭獨坐"
    assert sum(r.doc_type is DocType.book for r in found) == 14


@pytest.mark.shared
def test_invenio_raw_file_is_not_well_formed() -> None:
    found, errors = split(sample("invenio_demo", "demobibdata.raw.xml"))
    assert found == []
    assert len(errors) == 1 and "XML 格式错误（第 12 行）" in errors[0]


@pytest.mark.shared
@pytest.mark.parametrize("name", ["bibsword_Test_marcxml_file_1.xml", "bibsword_Test_marcxml_file_2.xml",
                                  "bibsword_Test_marcxml_file_3.xml"])  # fmt: skip
def test_bibsword_single_records(name: str) -> None:
    (record,) = records(sample("invenio_demo", name))
    assert record.title and record.authors and record.source == "marc"


@pytest.mark.shared
def test_chinese_880_alternate_script() -> None:
    (record,) = records(sample("openlibrary_marc_test_data", "bin_input", "880_alternate_script.mrc"))
    assert record.title == "乔布斯的秘密日记"
    assert record.title_en == "Qiaobusi de mi mi ri ji"  # the romanised 245
    assert [a.name for a in record.authors] == ["Lyons, Daniel", "刘宁"]
    assert record.publisher == "中信出版社"
    assert record.isbn == ["9787508617725", "750861772X"]
    assert (record.year, record.language, record.doc_type) == (2010, "zh", DocType.book)
    assert record.source_id == "(OCoLC)ocn613515810"


@pytest.mark.shared
def test_japanese_and_arabic_880() -> None:
    (japanese,) = records(sample("openlibrary_marc_test_data", "bin_input", "880_Nihon_no_chasho.mrc"))
    assert japanese.title == "日本の茶書" and japanese.title_en == "Nihon no chasho"
    assert japanese.publisher == "平凡社" and japanese.language == "ja"
    assert [a.name for a in japanese.authors][:2] == ["林屋 辰三郎", "横井 清"]
    (arabic,) = records(
        sample("openlibrary_marc_test_data", "bin_input", "880_arabic_french_many_linkages.mrc")
    )
    assert (
        arabic.title.startswith("انتقال الأفكار")
        and arabic.title_en
        and arabic.title_en.startswith("Intiqāl")
    )


@pytest.mark.shared
def test_openlibrary_binary_and_xml_sets() -> None:
    binary = sorted(sample("openlibrary_marc_test_data", "bin_input").glob("*.mrc"))
    assert len(binary) == 60
    found: list[Record] = []
    errors: dict[str, list[str]] = {}
    for path in binary:
        assert path.read_bytes().count(b"\x1d") == 1  # one record per file
        good, bad = split(path)
        found += good
        if bad:
            errors[path.name] = bad
    assert len(found) == 55
    # The Talis cases have no usable 245 at all (Open Library's "no title" tests).
    assert sorted(errors) == ["talis_740.mrc", "talis_empty_245.mrc", "talis_multi_work_tiles.mrc",
                              "talis_no_title.mrc", "talis_no_title2.mrc"]  # fmt: skip
    assert all(e == ["第 1 条记录：缺少题名（245）"] for e in errors.values())
    xml = sorted(sample("openlibrary_marc_test_data", "xml_input").glob("*.xml"))
    assert len(xml) == 22 and sum(len(records(p)) for p in xml) == 22


@pytest.mark.shared
def test_binary_records_whose_directory_counts_characters() -> None:
    # The leader says 1040 bytes, the record has 1052: the directory is rebuilt from the terminators,
    # and the double-encoded UTF-8 in the file is repaired.
    (record,) = records(sample("openlibrary_marc_test_data", "bin_input", "dasrmischepriv00rein_meta.mrc"))
    assert record.title.startswith("Das römische Privatrecht und der Civilprocess")
    assert "Hülfsbuch" in record.title
    assert record.authors[0].name == "Rein, Wilhelm" and record.year == 1836
    # Leader/06 "x" with a 245: a damaged leader, not a holdings record.
    (record,) = records(sample("openlibrary_marc_test_data", "bin_input", "lesabndioeinas00sche_meta.mrc"))
    assert record.title


@pytest.mark.shared
def test_pymarc_samples() -> None:
    counts = {"batch.xml": 2, "utf8.xml": 1, "bad_tag.xml": 1, "marc.dat": 20, "test.dat": 10,
              "marc8.dat": 1, "diacritic.dat": 1}  # fmt: skip
    for name, n in counts.items():
        assert len(records(sample("pymarc", name))) == n, name
    (marc8,) = records(sample("pymarc", "marc8.dat"))
    assert marc8.title == "Escape from loneliness" and marc8.publisher == "Westminster Press"
    assert [a.name for a in marc8.authors] == ["Tournier, Paul"] and marc8.year == 1962


@pytest.mark.shared
def test_unimarc_and_marc_json_are_rejected() -> None:
    found, errors = split(sample("pymarc", "testunimarc.dat"))
    assert found == [] and errors == [
        "第 1 条记录：UNIMARC/CNMARC 记录（题名在 200 字段）不受支持，请转换为 MARC 21"
    ]
    for name in ("batch.json", "one.json", "test.json"):
        assert split(sample("pymarc", name)) == ([], ["文件不是 MARCXML 或 ISO 2709 MARC 记录"])


# --- inline cases -----------------------------------------------------------------------------------

_RECORD = """<record xmlns="http://www.loc.gov/MARC21/slim">
  <leader>00000naa a2200000 a 4500</leader>
  <controlfield tag="001">42</controlfield>
  <controlfield tag="003">CN-BJ</controlfield>
  <controlfield tag="008">200101s2020    cc            000 0 chi d</controlfield>
  <datafield tag="022" ind1=" " ind2=" "><subfield code="a">1000-0054</subfield></datafield>
  <datafield tag="024" ind1="7" ind2=" "><subfield code="a">10.1234/ABC.5</subfield><subfield code="2">doi</subfield></datafield>
  <datafield tag="100" ind1="1" ind2=" "><subfield code="6">880-01</subfield><subfield code="a">Zhang, San,</subfield><subfield code="u">Tsinghua University</subfield></datafield>
  <datafield tag="245" ind1="1" ind2="0"><subfield code="6">880-02</subfield><subfield code="a">Shen jing wang luo /</subfield><subfield code="c">Zhang San.</subfield></datafield>
  <datafield tag="520" ind1=" " ind2=" "><subfield code="a">本文研究神经网络。</subfield></datafield>
  <datafield tag="650" ind1=" " ind2="0"><subfield code="a">Neural networks.</subfield></datafield>
  <datafield tag="653" ind1=" " ind2=" "><subfield code="a">深度学习</subfield></datafield>
  <datafield tag="773" ind1="0" ind2=" "><subfield code="t">清华大学学报</subfield><subfield code="g">Vol. 60, no. 3 (2020), p. 12-18</subfield><subfield code="x">1000-0054</subfield></datafield>
  <datafield tag="856" ind1="4" ind2="0"><subfield code="u">https://example.org/a/42</subfield></datafield>
  <datafield tag="880" ind1="1" ind2=" "><subfield code="6">100-01/$1</subfield><subfield code="a">张三.</subfield></datafield>
  <datafield tag="880" ind1="1" ind2="0"><subfield code="6">245-02/$1</subfield><subfield code="a">神经网络 /</subfield></datafield>
  <datafield tag="999" ind1="C" ind2="5"><subfield code="o">1</subfield></datafield>
  <datafield tag="999" ind1="C" ind2="5"><subfield code="x">Li S. Deep nets. J. AI 3 (2019) 7</subfield><subfield code="a">doi:10.5555/X1</subfield></datafield>
</record>"""


def test_analytic_with_host_item_and_linked_cjk(tmp_path: Path) -> None:
    (record,) = records(write(tmp_path, _RECORD))
    assert record.doc_type is DocType.journal_article
    assert (record.title, record.title_en) == ("神经网络", "Shen jing wang luo")
    assert record.authors[0].name == "张三" and record.authors[0].affiliation == "Tsinghua University"
    assert (record.venue, record.volume, record.issue, record.pages, record.year) == (
        "清华大学学报",
        "60",
        "3",
        "12-18",
        2020,
    )
    assert record.doi == "10.1234/abc.5" and record.id.startswith("doi-")
    assert record.issn == ["1000-0054"] and record.url == "https://example.org/a/42"
    assert record.keywords == ["Neural networks", "深度学习"] and record.language == "zh"
    assert record.source_id == "(CN-BJ)42"
    (ref,) = record.references
    assert ref.raw == "Li S. Deep nets. J. AI 3 (2019) 7" and ref.doi == "10.5555/x1"


def test_record_from_element_is_reusable() -> None:
    element = etree.fromstring(_RECORD.encode())
    record = marc.record_from_element(element, source="oai:test", source_id="oai:test:1", now=NOW, version=3)
    assert (record.source, record.source_id, record.version) == ("oai:test", "oai:test:1", 3)


def test_iso2709_round_trip_and_bad_records(tmp_path: Path) -> None:
    import pymarc

    rec = pymarc.Record(force_utf8=True)
    rec.leader = pymarc.Leader("00000nam a2200000 a 4500")
    rec.fields.append(pymarc.Field(tag="001", data="b1"))
    rec.fields.append(pymarc.Field(tag="245", indicators=pymarc.Indicators("0", "0"),
                               subfields=[pymarc.Subfield("a", "图书馆学概论 /")]))  # fmt: skip
    rec.fields.append(pymarc.Field(tag="502", indicators=pymarc.Indicators(" ", " "),
                               subfields=[pymarc.Subfield("b", "博士"), pymarc.Subfield("c", "北京大学")]))  # fmt: skip
    good = rec.as_marc()
    path = write(tmp_path, good + b"\n" + b"00042nam a2200025 a 4500garbage\x1d" + good, "x.mrc")
    out = parse(path)
    assert isinstance(out[0], Record) and out[0].title == "图书馆学概论"
    assert out[0].doc_type is DocType.thesis and out[0].thesis is not None and out[0].thesis.degree == "博士"
    assert isinstance(out[1], RecordError) and str(out[1]).startswith("第 2 条记录：")
    assert isinstance(out[2], Record)
    truncated = write(tmp_path, good[:-40], "t.dat")
    assert [str(e) for e in parse(truncated)] == ["第 1 条记录：文件末尾的 ISO 2709 记录不完整（缺少结束符）"]


def test_bad_input(tmp_path: Path) -> None:
    assert [str(e) for e in parse(write(tmp_path, b""))] == ["文件为空"]
    assert [str(e) for e in parse(write(tmp_path, "hello world"))] == [
        "文件不是 MARCXML 或 ISO 2709 MARC 记录"
    ]
    assert [str(e) for e in parse(write(tmp_path, "<article><title>x</title></article>"))] == [
        "文件中没有 MARCXML <record> 元素"
    ]
    broken = "<collection xmlns='http://www.loc.gov/MARC21/slim'>" + _RECORD + "\n<record><leader>"
    out = parse(write(tmp_path, broken))
    assert isinstance(out[0], Record)
    assert isinstance(out[1], RecordError) and "第 2 条记录：XML 格式错误（第 2" in str(out[1])
    # GBK bytes with no encoding declaration are not UTF-8: an error, not mojibake.
    gbk = _RECORD.replace("神经网络 /", "神经网络 /").encode("gbk")
    (error,) = parse(write(tmp_path, gbk))
    assert isinstance(error, RecordError) and "XML 格式错误" in str(error)


def test_entities_are_never_expanded(tmp_path: Path) -> None:
    laughs = """<?xml version="1.0"?>
<!DOCTYPE record [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY xxe SYSTEM "file:///etc/passwd">
]>
<record xmlns="http://www.loc.gov/MARC21/slim"><controlfield tag="001">1</controlfield>
<datafield tag="245" ind1="0" ind2="0"><subfield code="a">T &lol3; &xxe;</subfield></datafield>
<datafield tag="520" ind1=" " ind2=" "><subfield code="a">&xxe;</subfield></datafield></record>"""
    (record,) = records(write(tmp_path, laughs))
    assert record.title == "T" and "lol" not in record.title
    assert record.abstract is None or "root:" not in record.abstract
