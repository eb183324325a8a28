"""Chinese standard metadata: Relaton XML/YAML and openstd pages in ../shared/data/gb_standards_relaton.

Pure Python: no Elasticsearch needed.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from ingest.errors import RecordError
from ingest.formats import gbstd
from ingest.identity import record_id
from mappings.model import DocType, Record
from tests.conftest import shared_file

NOW = datetime(2026, 11, 1, tzinfo=UTC)
ROOT = ("gb_standards_relaton",)


def parse(path: Path) -> list[Record | RecordError]:
    return list(gbstd.parse_file(path, now=NOW, version=1))


def records(path: Path) -> list[Record]:
    out = parse(path)
    errors = [str(r) for r in out if isinstance(r, RecordError)]
    assert not errors, errors
    return [r for r in out if isinstance(r, Record)]


def errors(path: Path) -> list[str]:
    return [str(r) for r in parse(path) if isinstance(r, RecordError)]


def one(*parts: str) -> Record:
    (record,) = records(shared_file(*ROOT, *parts))
    return record


def write(tmp_path: Path, text: str | bytes, name: str = "in.xml") -> Path:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return path


# --- the real sample files --------------------------------------------------------------------------

# Counted by hand: one standard per Relaton file (the all-parts file yields its embedded part), one per
# detail page (<h1>标准号), one per search-result row ("查看详细" buttons, grep -c).
SAMPLE_COUNTS = {
    "relaton_xml/from_yaml.xml": 1,
    "relaton_xml/gb_bib_item.yml": 1,
    "relaton_xml/gbt_20223_2006.xml": 1,
    "relaton_xml/gbt_5606_1_2004.xml": 1,
    "relaton_xml/gbt_5606_2004_all_parts.xml": 1,
    "relaton_xml/jbt_13368_2018.xml": 1,
    "relaton_xml/tgzaepi_001_2018.xml": 1,
    "openstd_http_responses/gb_t_1_1__01.html": 3,
    "openstd_http_responses/gb_t_1_1__06.html": 1,
    "openstd_http_responses/gb_t_1_1__09.html": 1,
    "openstd_http_responses/gb_t_1_1__10.html": 1,
    "openstd_http_responses/gb_t_20223_2006__01.html": 1,
    "openstd_http_responses/gb_t_20223_2006__04.html": 1,
    "openstd_http_responses/gb_t_5606_1_2004__01.html": 1,
    "openstd_http_responses/gb_t_5606_1_2004__04.html": 1,
    "openstd_http_responses/gb_t_5606_2004_all_parts__01.html": 1,
    "openstd_http_responses/gb_t_5606_2004_all_parts__04.html": 1,
}


@pytest.mark.shared
@pytest.mark.parametrize(("name", "count"), sorted(SAMPLE_COUNTS.items()))
def test_sample_counts(name: str, count: int) -> None:
    found = records(shared_file(*ROOT, *name.split("/")))
    assert len(found) == count
    for record in found:
        assert record.doc_type is DocType.standard
        assert record.source == "gbstd"
        assert record.language == "zh"
        assert record.standard is not None
        assert record.id == record_id(title="", standard_number=record.standard.standard_number)
        assert record.sources == []


@pytest.mark.shared
def test_every_sample_file_is_accounted_for() -> None:
    root = shared_file(*ROOT)
    files = {str(p.relative_to(root)) for p in root.rglob("*") if p.suffix in (".xml", ".yml", ".html")}
    assert files == set(SAMPLE_COUNTS) | {"openstd_http_responses/gb_t_20223_2014__01.html"}


@pytest.mark.shared
def test_search_page_without_hits_is_an_error() -> None:
    out = parse(shared_file(*ROOT, "openstd_http_responses", "gb_t_20223_2014__01.html"))
    assert [str(e) for e in out] == ["openstd 检索结果页没有命中任何标准（0 条结果）"]


@pytest.mark.shared
@pytest.mark.parametrize("name", ["gb_prefixes.yaml", "openstd_http_responses/index.json"])
def test_side_files_are_rejected_as_wrong_format(name: str) -> None:
    out = parse(shared_file(*ROOT, *name.split("/")))
    assert len(out) == 1 and isinstance(out[0], RecordError)
    assert "不是 GB 标准元数据" in str(out[0])


@pytest.mark.shared
def test_relaton_xml_fields() -> None:
    r = one("relaton_xml", "gbt_20223_2006.xml")
    assert r.title == "棉短绒"
    assert r.title_en == "Cotton linter"
    assert r.year == 2006
    assert r.source_id == "relaton:GB/T 20223-2006"
    assert r.publisher == "中华人民共和国国家质量监督检验检疫总局 中国国家标准化管理委员会"
    assert r.url == "http://openstd.samr.gov.cn/bzgk/gb/newGbInfo?hcno=083B48FA72DBD3B9BDE74507BC31736A"
    std = r.standard
    assert std is not None
    assert std.standard_number == "GB/T 20223-2006"
    assert std.status == "废止"  # relaton "obsoleted"
    assert std.issue_date == date(2006, 3, 10)
    assert std.implementation_date is None
    assert std.ics == ["59.060.10"]
    assert std.ccs == ["B32"]


@pytest.mark.shared
def test_association_standard_with_em_dash_number() -> None:
    r = one("relaton_xml", "tgzaepi_001_2018.xml")
    assert r.standard is not None
    assert r.standard.standard_number == "T/GZAEPI 001-2018"  # "T/GZAEPI 001—2018" in the file
    assert r.standard.status == "现行"
    assert r.standard.ccs == ["Y68"]
    assert r.publisher is None


@pytest.mark.shared
def test_all_parts_item_yields_its_part() -> None:
    (part,) = records(shared_file(*ROOT, "relaton_xml", "gbt_5606_2004_all_parts.xml"))
    single = one("relaton_xml", "gbt_5606_1_2004.xml")
    assert part.standard is not None and part.standard.standard_number == "GB/T 5606.1-2004"
    assert part.title == "卷烟 第1部分：抽样"  # double space and half-width colon normalised
    assert part.title_en == "Cigarettes"
    assert part.id == single.id


@pytest.mark.shared
def test_yaml_and_its_xml_rendering_agree() -> None:
    from_yaml = one("relaton_xml", "gb_bib_item.yml")
    from_xml = one("relaton_xml", "from_yaml.xml")
    # relaton-gb splits the prefix: docid type "JB", id "T13368".
    assert from_yaml.standard is not None and from_yaml.standard.standard_number == "JB/T 13368"
    assert from_yaml.id == from_xml.id
    assert from_yaml.standard == from_xml.standard
    assert (from_yaml.title, from_yaml.title_en, from_yaml.year) == (
        "叉车属具 软包夹",
        "Forklift attachment",
        2009,
    )
    assert from_yaml.publisher == "State Economic and Trade Commission"


@pytest.mark.shared
def test_detail_page_fields() -> None:
    r = one("openstd_http_responses", "gb_t_5606_1_2004__04.html")
    assert r.title == "卷烟 第1部分：抽样"
    assert r.title_en == "Cigarettes--Part 1:Sampling"
    assert r.source_id == "openstd:B32027E7AEF4CB6D1515A02985FC5B40"
    assert r.publisher == "中华人民共和国国家质量监督检验检疫总局、中国国家标准化管理委员会"
    assert r.year == 2004
    std = r.standard
    assert std is not None
    assert std.standard_number == "GB/T 5606.1-2004"
    assert std.status == "现行"
    assert (std.issue_date, std.implementation_date) == (date(2004, 12, 14), date(2005, 3, 1))
    assert (std.ics, std.ccs) == (["65.160"], ["X87"])
    assert std.replaces == ["GB/T 5606.1-1996"]  # from 备注 "2005-03-01实施,代替GB/T 5606.1-1996"
    assert std.replaced_by == []


@pytest.mark.shared
def test_detail_page_obsolete_standard_without_publisher() -> None:
    r = one("openstd_http_responses", "gb_t_1_1__06.html")
    assert r.standard is not None
    assert r.standard.standard_number == "GB/T 1.1-2000"
    assert r.standard.status == "废止"
    assert r.title == "标准化工作导则 第1部分：标准的结构和编写规则"
    assert r.publisher is None  # 发布单位 is empty on this page
    assert r.standard.ccs == ["A00"] and r.standard.ics == ["01.120"]


@pytest.mark.shared
def test_search_result_rows() -> None:
    rows = records(shared_file(*ROOT, "openstd_http_responses", "gb_t_1_1__01.html"))
    assert [r.standard.standard_number for r in rows if r.standard] == [
        "GB/T 1.1-2000",
        "GB/T 1.1-2009",
        "GB/T 1.1-2020",
    ]
    assert [r.standard.status for r in rows if r.standard] == ["废止", "废止", "现行"]
    newest = rows[2]
    assert newest.title == "标准化工作导则 第1部分：标准化文件的结构和起草规则"
    assert newest.source_id == "openstd-list:C4BFD981E993C417EF475F2A19B681F1"
    assert newest.standard is not None
    assert newest.standard.implementation_date == date(2020, 10, 1)
    # The detail page of the same standard keys the same record, under a different source_id.
    detail = one("openstd_http_responses", "gb_t_1_1__09.html")
    assert detail.id == newest.id and detail.source_id != newest.source_id


@pytest.mark.shared
@pytest.mark.parametrize(
    "names",
    [
        ("relaton_xml/gbt_20223_2006.xml", "openstd_http_responses/gb_t_20223_2006__04.html",
         "openstd_http_responses/gb_t_20223_2006__01.html"),
        ("relaton_xml/gbt_5606_1_2004.xml", "relaton_xml/gbt_5606_2004_all_parts.xml",
         "openstd_http_responses/gb_t_5606_1_2004__04.html", "openstd_http_responses/gb_t_5606_1_2004__01.html"),
    ],
)  # fmt: skip
def test_same_standard_same_id_across_shapes(names: tuple[str, ...]) -> None:
    found = [one(*name.split("/")) for name in names]
    assert len({r.id for r in found}) == 1
    assert len({r.title for r in found}) == 1
    # Each shape has its own source_id, so a thin one is never taken for "a newer version" of a rich one.
    assert {r.source_id.split(":")[0] for r in found} == {"relaton", "openstd", "openstd-list"}


# --- helpers ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "id_type", "expected"),
    [
        ("GB/T 7714—2015", None, "GB/T 7714-2015"),
        ("GB/T 7714——2015", None, "GB/T 7714-2015"),
        ("GB／T7714－2015", None, "GB/T 7714-2015"),
        ("T13368", "JB", "JB/T 13368"),
        ("13368", "JB", "JB 13368"),
        ("GB/T 5606 (all parts)", "Chinese Standard", "GB/T 5606"),
        ("T/GZAEPI 001—2018", "Chinese Standard", "T/GZAEPI 001-2018"),
        ("not a number", None, None),
        ("", None, None),
    ],
)
def test_standard_number(value: str, id_type: str | None, expected: str | None) -> None:
    assert gbstd.standard_number(value, id_type) == expected


@pytest.mark.parametrize(
    ("stage", "expected"),
    [("activated", "现行"), ("obsoleted", "废止"), ("withdrawn", "废止"), ("即将实施", "即将实施"),
     ("upcoming", "即将实施"), ("draft", "draft"), ("", None)],
)  # fmt: skip
def test_status_mapping(stage: str, expected: str | None) -> None:
    assert gbstd.status_zh(stage) == expected


# --- inline cases -----------------------------------------------------------------------------------

BIBITEM = """<bibitem type="standard">
  <title type="main" language="zh">{title}</title>
  <title type="main" language="en">Information and documentation—Rules for bibliographic references</title>
  <docidentifier type="Chinese Standard" primary="true">{number}</docidentifier>
  <date type="published"><on>2015-05-15</on></date>
  <date type="implemented"><on>2015-12-01</on></date>
  <status><stage>{stage}</stage></status>
  <relation type="obsoletes"><bibitem><docidentifier>GB/T 7714－2005</docidentifier></bibitem></relation>
  <relation type="obsoletedBy"><bibitem><docidentifier>GB/T 7714—2025</docidentifier></bibitem></relation>
  <ext><ics><code>01.140.20</code></ics><ccs><code>A14</code></ccs></ext>
</bibitem>"""


def bibitem(
    title: str = "信息与文献 参考文献著录规则", number: str = "GB/T 7714——2015", stage: str = "obsoleted"
) -> str:
    return BIBITEM.format(title=title, number=number, stage=stage)


def test_relations_and_dates(tmp_path: Path) -> None:
    (r,) = records(write(tmp_path, bibitem()))
    std = r.standard
    assert std is not None
    assert std.standard_number == "GB/T 7714-2015"
    assert std.replaces == ["GB/T 7714-2005"]
    assert std.replaced_by == ["GB/T 7714-2025"]
    assert std.implementation_date == date(2015, 12, 1)
    assert (std.ics, std.ccs) == (["01.140.20"], ["A14"])


def test_collection_one_record_per_member_and_bad_member_reported(tmp_path: Path) -> None:
    doc = (
        "<relaton-collection><title>GB 选集</title>"
        f'<relation type="partOf">{bibitem()}</relation>'
        f'<relation type="partOf">{bibitem(title="", number="GB 3100-1993")}</relation>'
        f'<relation type="partOf">{bibitem(title="国际单位制及其应用", number="GB 3100—1993", stage="activated")}'
        "</relation></relaton-collection>"
    )
    out = parse(write(tmp_path, doc))
    assert [type(r).__name__ for r in out] == ["Record", "RecordError", "Record"]
    assert str(out[1]) == "第 2 条标准：GB 3100-1993：缺少中文标准名称"
    assert isinstance(out[2], Record) and out[2].standard is not None
    assert out[2].standard.status == "现行"


def test_all_parts_without_parts_is_an_error(tmp_path: Path) -> None:
    out = parse(write(tmp_path, bibitem(number="GB/T 5606 (all parts)")))
    assert [str(e) for e in out] == ["标准：GB/T 5606（所有部分）是系列标准的总称，文件中没有具体部分"]


def test_detail_remark_replaced_by(tmp_path: Path) -> None:
    page = shared_file(*ROOT, "openstd_http_responses", "gb_t_5606_1_2004__04.html").read_text(
        encoding="utf-8"
    )
    page = page.replace(
        "2005-03-01实施,代替GB/T 5606.1-1996",
        "被GB/T 5606.1—2023代替；代替GB/T 5606.1-1996、GB/T 5606.2-1996",
    )
    (r,) = records(write(tmp_path, page, "page.html"))
    assert r.standard is not None
    assert r.standard.replaced_by == ["GB/T 5606.1-2023"]
    assert r.standard.replaces == ["GB/T 5606.1-1996", "GB/T 5606.2-1996"]


def test_gbk_html_without_declaration(tmp_path: Path) -> None:
    page = shared_file(*ROOT, "openstd_http_responses", "gb_t_20223_2006__04.html").read_text(
        encoding="utf-8"
    )
    page = page.replace("charset=utf-8", "").replace("charset=UTF-8", "")
    (r,) = records(write(tmp_path, page.encode("gb18030"), "page.html"))
    assert r.title == "棉短绒"
    assert r.publisher == "中华人民共和国国家质量监督检验检疫总局、中国国家标准化管理委员会"


def test_gbk_xml_without_declaration(tmp_path: Path) -> None:
    (r,) = records(write(tmp_path, bibitem().encode("gbk")))
    assert r.title == "信息与文献 参考文献著录规则"


def test_not_well_formed_xml(tmp_path: Path) -> None:
    out = parse(write(tmp_path, "<bibdata>\n<title>未闭合\n</bibdata>"))
    assert len(out) == 1 and isinstance(out[0], RecordError)
    assert str(out[0]).startswith("XML 格式错误（第 3 行）")


def test_empty_file(tmp_path: Path) -> None:
    assert [str(e) for e in parse(write(tmp_path, " \n"))] == ["文件为空"]


def test_wrong_xml(tmp_path: Path) -> None:
    out = parse(write(tmp_path, "<article><front/></article>"))
    assert [str(e) for e in out] == ["文件不是 relaton 标准 XML（根元素为 <article>）"]


def test_other_html_page(tmp_path: Path) -> None:
    out = parse(
        write(tmp_path, "<html><head><title>系统维护中</title></head><body>请稍后</body></html>", "x.html")
    )
    assert [str(e) for e in out] == ["HTML 页面不是 openstd 标准详情页或检索结果页（页面标题：系统维护中）"]


def test_missing_number(tmp_path: Path) -> None:
    out = parse(write(tmp_path, bibitem(number="")))
    assert [str(e) for e in out] == ["标准：缺少或无法识别标准号（空）"]


def billion_laughs(body: str, root: str) -> str:
    entities = "\n".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    return f'<?xml version="1.0"?>\n<!DOCTYPE {root} [\n<!ENTITY lol0 "lol">\n{entities}\n]>\n{body}'


def test_billion_laughs_not_expanded(tmp_path: Path) -> None:
    started = time.monotonic()
    (out,) = parse(write(tmp_path, billion_laughs(bibitem(title="标准&lol9;名称"), "bibitem")))
    assert time.monotonic() - started < 5
    # libxml2 refuses the amplification outright; older builds keep the reference unexpanded.
    if isinstance(out, Record):
        assert out.title == "标准名称"
    else:
        assert str(out).startswith("XML 格式错误")
        assert "lollol" not in str(out)


def test_xxe_not_resolved(tmp_path: Path) -> None:
    doc = '<?xml version="1.0"?>\n<!DOCTYPE bibitem [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n' + bibitem(
        title="标准&xxe;"
    )
    (r,) = records(write(tmp_path, doc))
    assert r.title == "标准"
    assert "root:" not in r.model_dump_json()


def test_yaml_alias_bomb_is_harmless(tmp_path: Path) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8)
    )
    out = parse(write(tmp_path, bomb, "bomb.yml"))
    assert len(out) == 1 and isinstance(out[0], RecordError)
    assert "不是 GB 标准元数据" in str(out[0])


def test_yaml_list_of_items(tmp_path: Path) -> None:
    text = """
- docid: {id: GB/T 7714-2015, type: Chinese Standard, primary: true}
  title: [{content: 信息与文献 参考文献著录规则, language: zh, type: main}]
  docstatus: {stage: activated}
  date: [{type: published, value: "2015-05-15"}]
  relation: [{type: obsoletes, bibitem: {docid: {id: GB/T 7714-2005}}}]
- docid: {id: "", type: Chinese Standard}
  title: [{content: 无号, language: zh}]
"""
    out = parse(write(tmp_path, text, "two.yaml"))
    assert isinstance(out[0], Record) and out[0].standard is not None
    assert out[0].standard.replaces == ["GB/T 7714-2005"] and out[0].year == 2015
    assert [str(e) for e in out[1:]] == ["第 2 条标准：缺少或无法识别标准号（空）"]
