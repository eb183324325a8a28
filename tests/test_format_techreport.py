"""The techreport-1.0 exchange format: the samples in data/samples/techreport, the XSD and bad input.

Pure Python: no Elasticsearch needed.
"""

from __future__ import annotations

import logging
import re
import shutil
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from lxml import etree

from conf.settings import REPO_ROOT
from ingest.errors import RecordError
from ingest.formats import techreport
from mappings.model import AccessLevel, DocType, Record

NOW = datetime(2026, 11, 1, tzinfo=UTC)
SAMPLES = REPO_ROOT / "data" / "samples" / "techreport"
DOC = REPO_ROOT / "docs" / "techreport-format.md"


def parse(path: Path) -> list[Record | RecordError]:
    return list(techreport.parse_file(path, now=NOW, version=1))


def records(path: Path) -> list[Record]:
    out = parse(path)
    errors = [str(r) for r in out if isinstance(r, RecordError)]
    assert not errors, errors
    return [r for r in out if isinstance(r, Record)]


def one(name: str) -> Record:
    (record,) = records(SAMPLES / name)
    return record


def write(tmp_path: Path, text: str | bytes, name: str = "in.xml") -> Path:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return path


def sample_text(name: str = "hebei_public_final.xml") -> str:
    return (SAMPLES / name).read_text(encoding="utf-8")


# --- the shipped samples ----------------------------------------------------------------------------

# <report> elements per file, counted with grep.
SAMPLE_COUNTS = {
    "batch_2024.xml": 3,
    "hebei_public_final.xml": 1,
    "jiangsu_embargoed.xml": 1,
    "shandong_restricted.xml": 1,
}


def test_every_sample_is_listed() -> None:
    assert {p.name for p in SAMPLES.glob("*.xml")} == set(SAMPLE_COUNTS)


@pytest.mark.parametrize(("name", "count"), sorted(SAMPLE_COUNTS.items()))
def test_sample_counts_and_schema(name: str, count: int) -> None:
    path = SAMPLES / name
    tree = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))
    assert techreport.schema().validate(tree), techreport.schema().error_log
    found = records(path)
    assert len(found) == count
    for record in found:
        assert record.doc_type is DocType.tech_report
        assert record.source == "techreport"
        assert record.tech_report is not None
        assert record.source_id == record.tech_report.report_no
        assert record.id.startswith("rpt-")
        assert record.language == "zh"
        assert record.authors and record.abstract and record.clc


def test_access_levels_across_samples() -> None:
    levels = {
        r.tech_report.report_no: (r.tech_report.access_level, r.tech_report.embargo_until)
        for name in SAMPLE_COUNTS
        for r in records(SAMPLES / name)
        if r.tech_report
    }
    assert levels == {
        "401700125-22327001D/01": (AccessLevel.public, None),
        "466007683-BE2022012/02": (AccessLevel.embargoed, date(2027, 6, 30)),
        "49557012X-2021CXGC011205/03": (AccessLevel.restricted, None),
        "470080019-2023C02010/01": (AccessLevel.public, None),
        "455860042-2022B0101070001/02": (AccessLevel.embargoed, date(2026, 12, 31)),
        "450717388-2023YFS0411/01": (AccessLevel.restricted, None),
    }


def test_public_report_fields_and_pdf_text() -> None:
    r = one("hebei_public_final.xml")
    assert r.title == "设施番茄水肥一体化智能调控关键技术研究与示范"
    assert r.title_en and r.title_en.startswith("Key technologies and demonstration")
    assert [(a.name, a.order, a.corresponding) for a in r.authors] == [
        ("王建华", 1, True),
        ("李晓燕", 2, False),
        ("赵志强", 3, False),
        ("刘芳", 4, False),
    ]
    assert r.authors[3].affiliations == ["河北农业大学园艺学院", "河北省蔬菜种质资源利用重点实验室"]
    assert r.authors[3].affiliation == "河北农业大学园艺学院"
    assert r.keywords[:2] == ["设施番茄", "水肥一体化"] and "fertigation" in r.keywords
    assert r.clc == ["S641.2", "S275.6"]
    assert (r.discipline, r.category, r.year) == ("园艺学", "最终报告", 2025)  # year of publication
    assert r.funds == ["河北省重点研发计划：设施蔬菜水肥高效利用技术集成与示范（22327001D）"]
    info = r.tech_report
    assert info is not None
    assert (info.plan, info.project_no, info.organisation) == (
        "河北省重点研发计划",
        "22327001D",
        "河北农业大学",
    )
    assert r.abstract and "示范区节水 32.6%" in r.abstract
    # The PDF (2 pages, Noto Sans CJK) comes through as text, lines wrapped at the margin joined again.
    assert r.full_text is not None
    assert "日光温室番茄" in r.full_text
    assert "示范区节水 32.6%" in r.full_text
    assert "Penman-Monteith" in r.full_text
    assert "\x00" not in r.full_text


def test_embargoed_and_restricted_samples() -> None:
    embargoed = one("jiangsu_embargoed.xml")
    assert embargoed.tech_report is not None
    assert embargoed.tech_report.embargo_until == date(2027, 6, 30)
    assert embargoed.year == 2024 and embargoed.full_text is None
    restricted = one("shandong_restricted.xml")
    assert restricted.tech_report is not None
    assert restricted.tech_report.access_level is AccessLevel.restricted
    assert restricted.authors[1].affiliation == "中国石油大学（华东）储运与建筑工程学院"
    assert restricted.title_en is None


def test_batch_report_without_optional_parts() -> None:
    last = records(SAMPLES / "batch_2024.xml")[2]
    assert last.discipline is None and last.title_en is None
    assert last.funds == ["四川省科技计划（重点研发项目）（2023YFS0411）"]
    assert last.category == "试验报告"


def test_docs_example_is_valid() -> None:
    text = DOC.read_text(encoding="utf-8")
    example = re.search(r"```xml\n(.*?)```", text, re.DOTALL)
    assert example is not None
    root = etree.fromstring(example.group(1).encode("utf-8"), etree.XMLParser(resolve_entities=False))
    assert techreport.schema().validate(etree.ElementTree(root)), techreport.schema().error_log


# --- the embargo rule and schema errors -------------------------------------------------------------


def test_embargoed_without_date_is_rejected_with_position(tmp_path: Path) -> None:
    text = sample_text("jiangsu_embargoed.xml").replace(
        '<embargoed until="2027-06-30" reason="涉及发明专利申请"/>', "<embargoed/>"
    )
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "<embargoed/>" in row)
    (err,) = parse(write(tmp_path, text))
    assert isinstance(err, RecordError)
    assert (
        str(err)
        == f"第 1 份报告（466007683-BE2022012/02）：第 {line} 行，元素 <embargoed>：缺少必需的属性 until"
    )


def test_embargo_must_end_after_completion(tmp_path: Path) -> None:
    text = sample_text("jiangsu_embargoed.xml").replace('until="2027-06-30"', 'until="2023-12-31"')
    (err,) = parse(write(tmp_path, text))
    assert (
        str(err)
        == "第 1 份报告（466007683-BE2022012/02）：延期公开截止日期 2023-12-31 不晚于编制日期 2024-01-20"
    )


def test_embargo_date_on_public_report_is_not_allowed(tmp_path: Path) -> None:
    text = sample_text().replace("<public/>", '<public until="2027-01-01"/>')
    (err,) = parse(write(tmp_path, text))
    assert re.fullmatch(
        r"第 1 份报告（401700125-22327001D/01）：第 \d+ 行，元素 <public> 的属性 until：不允许属性 until",
        str(err),
    )


def test_bad_report_in_batch_leaves_the_others(tmp_path: Path) -> None:
    text = (
        sample_text("batch_2024.xml")
        .replace("<reportType>中期报告</reportType>", "<reportType>结题</reportType>")
        .replace("<completed>2024-10-08</completed>", "<completed>2024-10-32</completed>")
    )
    out = parse(write(tmp_path, text))
    assert [type(r).__name__ for r in out] == ["Record", "RecordError", "RecordError"]
    second, third = str(out[1]), str(out[2])
    assert second.startswith("第 2 份报告（455860042-2022B0101070001/02）：第 ")
    assert "元素 <reportType>：“结题”不是允许的取值（可选：最终报告, 年度报告" in second
    assert third.startswith("第 3 份报告（450717388-2023YFS0411/01）：第 ")
    assert "元素 <completed>：“2024-10-32”不是有效的日期（YYYY-MM-DD）" in third


def test_duplicate_report_number_in_batch(tmp_path: Path) -> None:
    text = sample_text("batch_2024.xml").replace("450717388-2023YFS0411/01", "470080019-2023C02010/01")
    out = parse(write(tmp_path, text))
    assert [type(r).__name__ for r in out] == ["Record", "Record", "RecordError"]
    assert "“470080019-2023C02010/01”重复（报告编号在文件内必须唯一）" in str(out[2])


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("<title>设施番茄水肥一体化智能调控关键技术研究与示范</title>", "<name>设施番茄</name>",
         "元素 <name>：此处不应出现该元素，应为 <title>"),
        ("<reportNo>401700125-22327001D/01</reportNo>", "<reportNo>第一号</reportNo>", "元素 <reportNo>：“第一号”不符合规定格式"),
        ("<pageCount>86</pageCount>", "<pageCount>八十六</pageCount>", "元素 <pageCount>：“八十六”不是有效的正整数"),
        ('<author order="2">', '<author order="1">', "“1”重复（作者顺序在文件内必须唯一）"),
        ('href="hebei_public_final.pdf"', 'href="/etc/passwd.pdf"', "元素 <fulltext> 的属性 href：“/etc/passwd.pdf”不符合规定格式"),
        ("<access>\n    <public/>\n  </access>", "", "元素 <language>：此处不应出现该元素，应为 <access>"),
    ],
)  # fmt: skip
def test_schema_errors_in_chinese(tmp_path: Path, old: str, new: str, expected: str) -> None:
    text = sample_text()
    assert old in text
    (err,) = parse(write(tmp_path, text.replace(old, new)))
    assert isinstance(err, RecordError)
    assert re.match(r"第 1 份报告（.*）：第 \d+ 行，", str(err)), str(err)
    assert expected in str(err)


def test_schema_message_fallback() -> None:
    assert techreport.schema_message("Element '{urn:chaxin:techreport:1.0}x': Something new.") == (
        "元素 <x>：不符合 techreport-1.0 模式。〔解析器原文：Something new.〕"
    )


# --- PDF full text problems keep the record ---------------------------------------------------------


def copy_sample(tmp_path: Path, pdf: bytes | None = None) -> Path:
    xml = tmp_path / "report.xml"
    shutil.copy(SAMPLES / "hebei_public_final.xml", xml)
    if pdf is not None:
        (tmp_path / "hebei_public_final.pdf").write_bytes(pdf)
    return xml


def test_missing_pdf_keeps_record(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="ingest.formats.techreport"):
        (r,) = records(copy_sample(tmp_path))
    assert r.full_text is None and r.title
    assert "全文 PDF 不存在" in caplog.text


def test_broken_pdf_keeps_record(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="ingest.formats.techreport"):
        (r,) = records(copy_sample(tmp_path, b"%PDF-1.7\nthis is not really a pdf\n%%EOF"))
    assert r.full_text is None
    assert "全文 PDF" in caplog.text


def test_copied_pdf_is_read(tmp_path: Path) -> None:
    (r,) = records(copy_sample(tmp_path, (SAMPLES / "hebei_public_final.pdf").read_bytes()))
    assert r.full_text and "水肥一体化智能调控系统运行稳定" in r.full_text


def test_fulltext_dir_for_a_stored_copy(tmp_path: Path) -> None:
    stored = tmp_path / "ab" / "ab12"  # the raw store keeps bytes under their hash, without the PDF
    stored.parent.mkdir()
    shutil.copy(SAMPLES / "hebei_public_final.xml", stored)
    (r,) = list(techreport.parse_file(stored, now=NOW, version=1, fulltext_dir=SAMPLES))
    assert isinstance(r, Record) and r.full_text and "日光温室番茄" in r.full_text


def test_the_pdf_itself_is_not_a_report() -> None:
    (err,) = parse(SAMPLES / "hebei_public_final.pdf")
    assert str(err).startswith("这是 PDF 文件，不是 techreport XML")


def test_pdf_outside_the_folder_is_not_read(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    inner = tmp_path / "in"
    inner.mkdir()
    shutil.copy(SAMPLES / "hebei_public_final.pdf", tmp_path / "secret.pdf")
    text = sample_text().replace('href="hebei_public_final.pdf"', 'href="../secret.pdf"')
    with caplog.at_level(logging.WARNING, logger="ingest.formats.techreport"):
        (r,) = records(write(inner, text))
    assert r.full_text is None
    assert "不在报告文件所在目录内" in caplog.text


# --- bad files --------------------------------------------------------------------------------------


def test_empty_file(tmp_path: Path) -> None:
    assert [str(e) for e in parse(write(tmp_path, ""))] == ["文件为空"]


def test_not_well_formed(tmp_path: Path) -> None:
    text = sample_text().replace("</organisation>", "</organization>")
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "</organization>" in row)
    (err,) = parse(write(tmp_path, text))
    assert str(err).startswith(
        f"XML 格式错误（第 {line} 行）：文件不符合 XML 语法。〔解析器原文：Opening and ending tag mismatch"
    )


def test_wrong_format(tmp_path: Path) -> None:
    (err,) = parse(write(tmp_path, "<article><front/></article>"))
    assert str(err) == (
        "文件不是科技报告交换格式 techreport-1.0（根元素为 <article>，命名空间 无；"
        "应为 urn:chaxin:techreport:1.0 中的 <reports> 或 <report>）"
    )


def test_reports_root_error_rejects_file(tmp_path: Path) -> None:
    text = sample_text("batch_2024.xml").replace('1.0" version="1.0"', '1.0" version="2.0"')
    (err,) = parse(write(tmp_path, text))
    assert str(err).startswith("文件不符合 techreport-1.0 模式：第 3 行，元素 <reports> 的属性 version：")


def test_gbk_without_declaration(tmp_path: Path) -> None:
    text = sample_text().replace('<?xml version="1.0" encoding="UTF-8"?>\n', "")
    (r,) = records(write(tmp_path, text.encode("gbk")))
    assert r.title == "设施番茄水肥一体化智能调控关键技术研究与示范"


def test_billion_laughs(tmp_path: Path) -> None:
    entities = "\n".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    body = sample_text().split("\n", 1)[1].replace("<title>设施番茄", "<title>&lol9;设施番茄")
    doc = f'<?xml version="1.0"?>\n<!DOCTYPE report [\n<!ENTITY lol0 "lol">\n{entities}\n]>\n{body}'
    started = time.monotonic()
    (err,) = parse(write(tmp_path, doc))
    assert time.monotonic() - started < 5
    # libxml2 refuses the amplification itself; where it does not, the DTD is refused.
    assert str(err).startswith(("XML 格式错误", "文件含有实体声明"))
    assert "lollol" not in str(err)


def test_xxe_not_resolved(tmp_path: Path) -> None:
    body = sample_text().split("\n", 1)[1].replace("<abstract>", "<abstract>&xxe;")
    doc = f'<?xml version="1.0"?>\n<!DOCTYPE report [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n{body}'
    (err,) = parse(write(tmp_path, doc))
    assert str(err) == "文件含有实体声明（<!ENTITY>），techreport-1.0 不允许 DTD 实体"


def test_external_dtd_is_not_loaded(tmp_path: Path) -> None:
    body = sample_text().split("\n", 1)[1]
    doc = f'<?xml version="1.0"?>\n<!DOCTYPE report SYSTEM "file:///etc/passwd">\n{body}'
    (r,) = records(write(tmp_path, doc))
    assert "root:" not in r.model_dump_json()
