"""RIS, EndNote, RefWorks, NoteExpress and WoS tagged exports: real CNKI/WoS exports and inline cases.

The real files are read from ../shared/data/zotero-translators-cn (AGPL; read at test time, never copied).
Pure Python: no Elasticsearch needed.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from ingest.errors import RecordError
from ingest.formats import tagged
from ingest.normalize_text import normalize_doi, parse_year, tidy_title
from mappings.model import AccessLevel, DocType, Record
from tests.conftest import shared_file

NOW = datetime(2026, 11, 1, tzinfo=UTC)
J, T, C, P, S = (DocType.journal_article, DocType.thesis, DocType.conference_paper, DocType.patent,
                 DocType.standard)  # fmt: skip
E = "error"
# What each real export becomes, record by record.
EXPECTED_KINDS: dict[str, list[DocType | str]] = {
    "CNKI_RefWorks__00.txt": [J], "CNKI_RefWorks__01.txt": [J], "CNKI_RefWorks__02.txt": [J],
    "CNKI_RefWorks__03.txt": [T], "CNKI_RefWorks__04.txt": [T], "CNKI_RefWorks__05.txt": [C],
    "CNKI_RefWorks__06.txt": [DocType.newspaper_article],
    "CNKI_RefWorks__07.txt": [E],  # a yearbook entry exported as "Standard", without a number
    "CNKI_RefWorks__08.txt": [S], "CNKI_RefWorks__09.txt": [P],
    "CNKI_RefWorks__10.txt": [E],  # 科技成果 ("Other Article")
    "CNKI_Refer__00.txt": [J], "CNKI_Refer__01.txt": [T], "CNKI_Refer__02.txt": [C], "CNKI_Refer__03.txt": [P],
    "CNKI_Refer__04.txt": [S],  # "Legal Rule or Regulation" from 国家标准
    "CNKI_Refer__05.txt": [DocType.newspaper_article],
    "CNKI_Refer__06.txt": [E],  # "Legal Rule or Regulation" from 年鉴
    "CNKI_Refer__07.txt": [T],
    "Web_of_Science_Tagged__00.txt": [J] * 5, "Web_of_Science_Tagged__01.txt": [J],
    "Web_of_Science_Tagged__02.txt": [J], "Web_of_Science_Tagged__03.txt": [J],
    "Web_of_Science_Tagged__04.txt": [P], "Web_of_Science_Tagged__05.txt": [DocType.book, J, J, J],  # a book first
    "Web_of_Science_Tagged__06.txt": [J], "Web_of_Science_Tagged__07.txt": [P],
    "Web_of_Science_Tagged__08.txt": [C],
}  # fmt: skip


def parse_text(text: str, fmt: str | None = None) -> list[Record | RecordError]:
    return list(tagged.parse_text(text, now=NOW, version=1, fmt=fmt))


def only_records(text: str, fmt: str | None = None) -> list[Record]:
    out = parse_text(text, fmt)
    errors = [str(r) for r in out if isinstance(r, RecordError)]
    assert not errors, errors
    return [r for r in out if isinstance(r, Record)]


def import_file(name: str) -> Path:
    return shared_file("zotero-translators-cn", "import_inputs", name)


def parse_import(name: str) -> list[Record | RecordError]:
    return list(tagged.parse_file(import_file(name), now=NOW, version=1))


def _count_records(path: Path) -> int:
    """Records counted from the raw lines, independently of the parser."""
    lines = path.read_bytes().decode("utf-8-sig").splitlines()
    if path.name.startswith("CNKI_RefWorks"):
        return sum(line.startswith("RT ") for line in lines)
    if path.name.startswith("CNKI_Refer"):
        return sum(line.startswith("%0") for line in lines)
    return sum(line.strip() == "ER" for line in lines)


# --- real exports -----------------------------------------------------------------------------------


@pytest.mark.shared
def test_every_real_export_yields_one_result_per_record() -> None:
    root = shared_file("zotero-translators-cn", "import_inputs")
    files = sorted(root.glob("*.txt"))
    assert [f.name for f in files] == sorted(EXPECTED_KINDS)
    for path in files:
        out = list(tagged.parse_file(path, now=NOW, version=1))
        assert len(out) == _count_records(path), path.name
        kinds = [E if isinstance(r, RecordError) else r.doc_type for r in out]
        assert kinds == EXPECTED_KINDS[path.name], path.name
        for r in out:
            if isinstance(r, RecordError):
                assert str(r).startswith("第 "), str(r)  # positioned, in Chinese


@pytest.mark.shared
def test_results_agree_with_zotero_expected_items() -> None:
    """Titles, DOIs, years and author counts match what Zotero's translators extract from the same files."""
    jsonl = shared_file("zotero-translators-cn", "test_cases.jsonl").read_text(encoding="utf-8")
    cases = [json.loads(line) for line in jsonl.splitlines()]
    checked = produced = 0
    for case in (c for c in cases if c["type"] == "import" and isinstance(c["items"], list)):
        name = Path(case["input_file"]).name
        ours = [r for r in parse_import(name) if isinstance(r, Record)]
        produced += len(ours)
        by_title = {r.title: r for r in ours}
        for item in case["items"]:
            record = by_title.get(tidy_title(item["title"]))
            if record is None:
                continue
            checked += 1
            if item.get("DOI"):
                assert record.doi == normalize_doi(item["DOI"]), name
            if parse_year(item.get("date") or item.get("issueDate")) and record.year:
                assert record.year == parse_year(item.get("date") or item.get("issueDate")), name
            people = [c for c in item["creators"] if c["creatorType"] in ("author", "inventor")]
            if record.doc_type is not DocType.standard:  # Zotero drops a standard's drafting bodies
                assert len(record.authors) == len(people), name
    assert checked == produced == 32  # every Record the exports produce has its Zotero counterpart


@pytest.mark.shared
def test_cnki_refworks_journal_article() -> None:
    (r,) = parse_import("CNKI_RefWorks__00.txt")
    assert isinstance(r, Record)
    assert r.source == "refworks" and r.doc_type is DocType.journal_article
    assert r.title == "黄瓜胚性愈伤组织的诱导保存和再生"
    assert [a.name for a in r.authors] == ["薛婉钰", "刘娜", "苑鑫", "张婷婷", "曹云娥", "陈书霞"]
    assert r.authors[0].affiliation == "西北农林科技大学园艺学院陕西省蔬菜工程技术研究中心"
    assert r.venue == "西北农林科技大学学报（自然科学版）"
    assert (r.year, r.issue, r.pages) == (2024, "7", "1-7")
    assert r.doi == "10.13207/j.cnki.jnwafu.2024.07.011" and r.id.startswith("doi-")
    assert r.keywords == ["黄瓜", "遗传转化", "胚性愈伤组织", "离体保存"]
    assert r.abstract is not None and r.abstract.startswith(
        "【目的】对黄瓜胚性愈伤组织的诱导保存和再生进行研究，"
    )
    assert r.language == "zh"


@pytest.mark.shared
def test_cnki_refworks_quirks() -> None:
    (old,) = parse_import("CNKI_RefWorks__02.txt")  # comma-joined authors, "!"-marked postcodes
    assert isinstance(old, Record)
    assert [a.name for a in old.authors] == ["颜宏", "石德成", "尹尚军", "赵伟"]
    assert old.authors[2].affiliation == "浙江农业技术师范专科学校，宁波315101"
    assert old.title == "外施Ca~(2+)、ABA及H_3PO_4对盐碱胁迫的缓解效应"
    assert "脱落酸（ABA）" in old.keywords
    assert old.abstract is not None and "处理。结果表明，外施" in old.abstract
    (vol,) = parse_import("CNKI_RefWorks__01.txt")  # lowercase "vo" tag, "+" page range, wrapped abstract
    assert isinstance(vol, Record)
    assert (vol.volume, vol.pages) == ("49", "1106-1111+1117")
    assert vol.abstract is not None and "关系。方法基因表达汇编" in vol.abstract
    (thesis,) = parse_import("CNKI_RefWorks__03.txt")  # "A1林行众": no space after the tag
    assert isinstance(thesis, Record)
    assert [a.name for a in thesis.authors] == ["林行众"]  # supervisors (A3) are not authors
    assert (thesis.doc_type, thesis.venue, thesis.year) == (DocType.thesis, "南京农业大学", 2015)
    assert thesis.abstract is not None and "蔬菜作物，也是植物" in thesis.abstract


@pytest.mark.shared
def test_cnki_standard_and_patent() -> None:
    (std,) = parse_import("CNKI_RefWorks__08.txt")
    assert isinstance(std, Record) and std.standard is not None
    assert std.title == "信息与文献 参考文献著录规则"
    assert std.standard.standard_number == "GB/T 7714-2015"
    assert (std.standard.issue_date, std.standard.implementation_date) == (
        date(2015, 5, 15),
        date(2015, 12, 1),
    )
    assert std.id.startswith("std-")
    (refer_std,) = parse_import("CNKI_Refer__04.txt")
    assert isinstance(refer_std, Record) and refer_std.standard is not None
    assert refer_std.standard.standard_number == "GB/T 43109-2023" and refer_std.volume is None
    (pat,) = parse_import("CNKI_RefWorks__09.txt")
    assert isinstance(pat, Record) and pat.patent is not None
    assert pat.patent.publication_number == "CN111020404A" and pat.id.startswith("pat-")
    assert pat.patent.applicants == ["扬中市旭禾管业制造有限公司"]
    assert [a.name for a in pat.authors] == ["施吉庆", "杨亮华"]
    assert all(a.affiliation is None for a in pat.authors)  # AD is the applicant's address


@pytest.mark.shared
def test_cnki_endnote_exports() -> None:
    (article,) = parse_import("CNKI_Refer__00.txt")
    assert isinstance(article, Record) and article.source == "endnote"
    assert article.title == "黄芪多糖复合酶提取工艺优化及其α-葡萄糖苷酶抑制活性"
    assert len(article.authors) == 6 and article.authors[0].affiliation == "长春中医药大学人参科学研究院"
    assert (article.venue, article.pages, article.doi) == (
        "食品工业科技",
        "1-15",
        "10.13386/j.issn1002-0306.2023090315",
    )
    (conf,) = parse_import("CNKI_Refer__02.txt")
    assert isinstance(conf, Record)
    assert (conf.venue, conf.pages) == ("2013年中国药学大会暨第十三届中国药师周", "269-273")
    (thesis,) = parse_import("CNKI_Refer__07.txt")  # traditional Chinese, blank lines inside the abstract
    assert isinstance(thesis, Record)
    assert (thesis.venue, thesis.year, thesis.language) == ("大連理工大學", 2006, "zh")
    assert thesis.abstract is not None and "論文第一部分" in thesis.abstract
    (news,) = parse_import("CNKI_Refer__05.txt")  # CNKI writes the paper's name in %I
    assert isinstance(news, Record) and news.doc_type is DocType.newspaper_article
    assert (news.venue, news.date, news.publisher) == ("科技日报", "2023-09-21", None)
    (rule,) = parse_import("CNKI_Refer__06.txt")
    assert isinstance(rule, RecordError)
    assert str(rule).startswith("第 1 条记录（第 1 行）：文献类型「Legal Rule or Regulation」不在收录范围（")


@pytest.mark.shared
def test_wos_exports() -> None:
    records = [r for r in parse_import("Web_of_Science_Tagged__00.txt") if isinstance(r, Record)]
    first = records[0]
    assert (
        first.title
        == "Anaplerotic Role for Cytosolic Malic Enzyme in Engineered Saccharomyces cerevisiae Strains"
    )
    assert [a.name for a in first.authors][-1] == "van Maris, Antonius J. A."
    assert (first.venue, first.year, first.volume, first.issue, first.pages) == (
        "APPLIED AND ENVIRONMENTAL MICROBIOLOGY",
        2011,
        "77",
        "3",
        "732-738",
    )
    assert first.doi == "10.1128/aem.02132-10" and first.source == "wos"
    (review,) = parse_import("Web_of_Science_Tagged__03.txt")
    assert isinstance(review, Record)
    mccormick, litt = review.authors[:2]
    assert mccormick.corresponding and not litt.corresponding
    assert mccormick.affiliation is not None and mccormick.affiliation.startswith("Harvard Univ")
    assert litt.affiliation == (
        "Beth Israel Deaconess Med Ctr, Dept Neonatol, Boston, MA 02215 USA; "
        "Childrens Hosp Boston, Div Newborn Med, Boston, MA 02115 USA"
    )
    assert review.keywords == ["infant mortality", "childhood morbidity", "prevention"]
    (unwrapped,) = parse_import("Web_of_Science_Tagged__06.txt")  # continuation lines without indent
    assert isinstance(unwrapped, Record)
    assert [a.name for a in unwrapped.authors] == ["Medvedeff, Cassandra A.", "Hershey, Anne E."]
    assert unwrapped.title.endswith("benthic consumers in arctic lakes")
    (patent,) = parse_import("Web_of_Science_Tagged__07.txt")
    assert isinstance(patent, Record) and patent.patent is not None
    assert patent.patent.publication_number == "CN110836969-A"
    (conf,) = parse_import("Web_of_Science_Tagged__08.txt")
    assert isinstance(conf, Record) and conf.doc_type is DocType.conference_paper
    assert conf.keywords[-1] == "conference control protocol"  # a keyword wrapped over two lines


# --- inline examples, one per format ----------------------------------------------------------------

RIS = """TY  - JOUR
TI  - 基于深度学习的河流识别
AU  - 张三
AU  - 李四
AD  - 河海大学水文水资源学院
PY  - 2021/05/12
JO  - 水利学报
VL  - 52
IS  - 03
SP  - 10
EP  - 20
KW  - 深度学习
KW  - 河流识别
AB  - 提出一种方法,用于
  河流识别.
DO  - https://doi.org/10.13243/J.CNKI.SLXB.2021.03.002
ER  -

TY  - THES
TI  - A thesis
AU  - Smith, John
PB  - Tsinghua University
PY  - 2019
M3  - 博士
ER  - 
TY  - PAT
TI  - 一种检测装置
AU  - 王五;赵六
A2  - 某某公司
M1  - CN123456789A
PY  - 2020
ER  -
TY  - RPRT
TI  - 某型处理器研制年度报告
AU  - 孙七
SN  - 2015ZX01028101
PB  - 某研究所
PY  - 2016
ER  -
TY  - RPRT
TI  - 没有编号的报告
ER  -
TY  - BOOK
TI  - 一本书
ER  -
"""


def test_ris_inline() -> None:
    out = parse_text(RIS)
    assert len(out) == 6
    article, thesis, patent, report, unnumbered, book = out
    assert isinstance(article, Record) and article.source == "ris"
    assert [a.name for a in article.authors] == ["张三", "李四"]
    assert article.authors[0].affiliation == article.authors[1].affiliation == "河海大学水文水资源学院"
    assert (article.venue, article.year, article.volume, article.issue, article.pages) == (
        "水利学报",
        2021,
        "52",
        "3",
        "10-20",
    )
    assert article.doi == "10.13243/j.cnki.slxb.2021.03.002"
    assert article.keywords == ["深度学习", "河流识别"]
    assert article.abstract == "提出一种方法，用于河流识别。"
    assert isinstance(thesis, Record) and thesis.doc_type is DocType.thesis
    assert (thesis.venue, thesis.language) == ("Tsinghua University", "en")
    assert isinstance(patent, Record) and patent.patent is not None
    assert patent.patent.publication_number == "CN123456789A" and patent.patent.applicants == ["某某公司"]
    assert [a.name for a in patent.authors] == ["王五", "赵六"]
    assert isinstance(report, Record) and report.tech_report is not None
    assert report.doc_type is DocType.tech_report and report.id.startswith("rpt-")
    assert (report.tech_report.report_no, report.tech_report.access_level) == (
        "2015ZX01028101",
        AccessLevel.public,
    )
    assert report.tech_report.organisation == "某研究所"
    # Without a number it is a report, not a 科技报告: [R] all the same, with no 公开范围.
    assert isinstance(unnumbered, Record) and unnumbered.doc_type is DocType.report
    assert isinstance(book, Record) and book.doc_type is DocType.book  # books are held since mapping v3


ENDNOTE = """%0 Journal Article
%A Zhang, San
%A Smith, J. A.
%T Deep learning for river
detection in remote sensing images
%J Journal of Hydrology
%D 2019
%V 7
%N 2
%P 1—5
%K river
remote sensing
deep learning
%R doi:10.1000/ABC
%@ 0022-1694

%0 Thesis
%A 钱七
%T 某某研究
%I 清华大学
%9 硕士
%D 2020
%K 研究；方法
"""


def test_endnote_inline() -> None:
    article, thesis = only_records(ENDNOTE)
    assert article.title == "Deep learning for river detection in remote sensing images"
    assert [a.name for a in article.authors] == ["Zhang, San", "Smith, J. A."]
    assert (article.venue, article.year, article.volume, article.issue, article.pages) == (
        "Journal of Hydrology",
        2019,
        "7",
        "2",
        "1-5",
    )
    assert article.keywords == ["river", "remote sensing", "deep learning"]  # one per line
    assert article.doi == "10.1000/abc" and article.source_id == "10.1000/abc"
    assert (thesis.doc_type, thesis.venue, thesis.keywords) == (DocType.thesis, "清华大学", ["研究", "方法"])


REFWORKS = """RT Journal Article
SR 1
A1 张三;李四;Zhang San;Li Si
AD 清华大学!北京100084,北京大学!北京100871
T1 一种新方法
JF 计算机学报
YR 2018
vo 41
IS 05
SP 100
OP 110
K1 方法；计算
AB 摘要第一行,
第二行.
DO 10.11897/SP.J.1016.2018.00100
RT Conference Proceeding
A1王五
T1 会议论文
JF 第十届会议论文集
YR 2017
OP 5-9
"""


def test_refworks_inline() -> None:
    article, conference = only_records(REFWORKS)
    # Wanfang-style bilingual author lists keep the Chinese names only.
    assert [a.name for a in article.authors] == ["张三", "李四"]
    assert [a.affiliation for a in article.authors] == ["清华大学，北京100084", "北京大学，北京100871"]
    assert (article.volume, article.issue, article.pages) == ("41", "5", "100-110")
    assert article.keywords == ["方法", "计算"]
    assert article.abstract == "摘要第一行，第二行。"
    assert [a.name for a in conference.authors] == ["王五"]
    assert (conference.doc_type, conference.venue, conference.pages) == (
        DocType.conference_paper,
        "第十届会议论文集",
        "5-9",
    )


NOTEEXPRESS = """{Reference Type}: Journal Article
{Title}: 乳腺癌术后患者婚姻质量与社会支持的相关性
{Translated Title}: Relationship between marital quality and social support.
{Author}: 许雅琼
{Author}: 张银萍
{Translated Author}: XU Ya-qiong
{Author Address}: 西安交通大学医学部公共卫生学院,陕西 西安,710061
{Author Address}: 西安交通大学第二附属医院
{Journal}: 临床医学研究与实践
{Year}: 2020
{Volume}: 5
{Issue}: 1
{Pages}: 49-51
{Keywords}: 乳腺癌
{Keywords}:  婚姻质量
{Abstract}: 目的 调查患者婚姻质量.方法 选取
110例患者.
{DOI}: 10.19347/j.cnki.2096-1413.202001019
{Database Provider}: 北京万方数据股份有限公司
{Language}: chi

{Reference Type}: Thesis
{Title}: 基于深度学习的图像识别研究
{Author}: 张三;
{Publisher}: 清华大学
{Type of Work}: 硕士
{Year}: 2020
{Keywords}: 深度学习;图像识别
"""


def test_noteexpress_inline() -> None:
    article, thesis = only_records(NOTEEXPRESS)
    assert article.source == "noteexpress"
    assert article.title_en == "Relationship between marital quality and social support"
    assert [a.affiliation for a in article.authors] == ["西安交通大学医学部公共卫生学院，陕西 西安，710061",
                                                        "西安交通大学第二附属医院"]  # fmt: skip
    assert (article.year, article.volume, article.issue, article.pages) == (2020, "5", "1", "49-51")
    assert article.keywords == ["乳腺癌", "婚姻质量"]
    assert article.abstract == "目的 调查患者婚姻质量。方法 选取110例患者。"
    assert article.language == "zh"
    assert [a.name for a in thesis.authors] == ["张三"]
    assert (thesis.doc_type, thesis.venue, thesis.keywords) == (
        DocType.thesis,
        "清华大学",
        ["深度学习", "图像识别"],
    )


WOS = """FN Clarivate Analytics Web of Science
VR 1.0
PT J
AU Li, W
   Zhang, SN
AF Li, Wei
   Zhang, San-Ning
TI A study of
   things
SO JOURNAL OF THINGS
DE thing one; thing
   two
C1 [Li, Wei] Zhejiang Univ, Hangzhou, Peoples R China.
   [Zhang, San-Ning] Tsinghua Univ, Beijing, Peoples R China.
RP Zhang, SN (corresponding author), Tsinghua Univ, Beijing, Peoples R China.
FU National Natural Science Foundation of China [61772345]; Zhejiang Fund
PY 2020
VL 3
BP 10
EP 12
DI 10.1000/THINGS
UT WOS:000000000000001
ER

EF
"""


def test_wos_inline() -> None:
    (r,) = only_records(WOS)
    assert r.title == "A study of things"
    assert [(a.name, a.corresponding) for a in r.authors] == [("Li, Wei", False), ("Zhang, San-Ning", True)]
    assert [a.affiliation for a in r.authors] == ["Zhejiang Univ, Hangzhou, Peoples R China.",
                                                  "Tsinghua Univ, Beijing, Peoples R China."]  # fmt: skip
    assert r.keywords == ["thing one", "thing two"]
    assert r.funds == ["National Natural Science Foundation of China [61772345]", "Zhejiang Fund"]
    assert (r.pages, r.doi, r.source_id) == ("10-12", "10.1000/things", "10.1000/things")


def test_detect_format() -> None:
    assert tagged.detect_format(RIS) == "ris"
    assert tagged.detect_format(ENDNOTE) == "endnote"
    assert tagged.detect_format(REFWORKS) == "refworks"
    assert tagged.detect_format(NOTEEXPRESS) == "noteexpress"
    assert tagged.detect_format(WOS) == "wos"
    assert tagged.detect_format("\ufeffPT J\nTI x\nER\n") == "wos"
    assert tagged.detect_format("hello\nworld") is None
    (err,) = parse_text("hello\nworld")
    assert isinstance(err, RecordError) and "无法识别的文献导出格式" in str(err)
    (none,) = parse_text("", fmt="ris")
    assert isinstance(none, RecordError) and "RIS 文件中没有找到任何记录" in str(none)


def test_per_format_entry_points() -> None:
    (r,) = tagged.parse_ris("TY  - JOUR\nTI  - T\nER  -\n", now=NOW, version=2)
    assert isinstance(r, Record) and r.version == 2
    assert len(list(tagged.parse_endnote(ENDNOTE, now=NOW, version=1))) == 2
    assert len(list(tagged.parse_refworks(REFWORKS, now=NOW, version=1))) == 2
    assert len(list(tagged.parse_noteexpress(NOTEEXPRESS, now=NOW, version=1))) == 2
    assert len(list(tagged.parse_wos(WOS, now=NOW, version=1))) == 1


def test_missing_title_is_a_positioned_error() -> None:
    out = parse_text("%0 Journal Article\n%A 张三\n\n%0 Journal Article\n%T 有题名\n")
    missing, fine = out
    assert isinstance(missing, RecordError) and str(missing) == "第 1 条记录（第 1 行）：缺少题名"
    assert isinstance(fine, Record) and fine.title == "有题名"


# --- encodings --------------------------------------------------------------------------------------


def _parse_bytes(tmp_path: Path, data: bytes) -> list[Record | RecordError]:
    path = tmp_path / "export.txt"
    path.write_bytes(data)
    return list(tagged.parse_file(path, now=NOW, version=1))


@pytest.mark.parametrize(
    "encode",
    [
        lambda s: s.encode("utf-8"),
        lambda s: b"\xef\xbb\xbf" + s.encode("utf-8"),
        lambda s: s.encode("gb18030"),
        lambda s: s.encode("utf-16"),  # with BOM, as Windows EndNote writes it
        lambda s: s.replace("\n", "\r\n").encode("gbk"),
    ],
    ids=["utf8", "utf8-bom", "gb18030", "utf16", "gbk-crlf"],
)
def test_file_encodings(tmp_path: Path, encode: object) -> None:
    assert callable(encode)
    (r,) = _parse_bytes(tmp_path, encode("RT Journal Article\nA1 张三;李四\nT1 黄瓜胚性愈伤组织\nYR 2024\n"))
    assert isinstance(r, Record)
    assert (r.title, [a.name for a in r.authors], r.year) == ("黄瓜胚性愈伤组织", ["张三", "李四"], 2024)


def test_undecodable_file_is_a_clear_error(tmp_path: Path) -> None:
    (err,) = _parse_bytes(tmp_path, b"RT Journal Article\nT1 \x80\x80\xff\n")
    assert isinstance(err, RecordError)
    assert "既不是 UTF-8，也不是 GB18030" in str(err)
    (binary,) = _parse_bytes(tmp_path, b"RT \x00\x01\x02")
    assert isinstance(binary, RecordError) and "空字节" in str(binary)


def test_author_lists_keep_real_co_authors() -> None:
    text = "RT Journal Article\nA1 张三;John Smith\nT1 甲\n\nRT Journal Article\nA1 王伟;王伟;李娜\nT1 乙\n"
    mixed, namesakes = only_records(text)
    assert [a.name for a in mixed.authors] == ["张三", "John Smith"]
    assert [a.name for a in namesakes.authors] == ["王伟", "王伟", "李娜"]  # two people, one name


def test_issue_is_not_taken_for_a_report_number_and_clc_is_kept() -> None:
    (r,) = only_records("TY  - RPRT\nTI  - 报告\nIS  - 3\nER  -\n")
    assert r.doc_type is DocType.report and r.tech_report is None
    (a,) = only_records("RT Journal Article\nT1 甲\nCL TP391.4;R737.9\n")
    assert a.clc == ["TP391.4", "R737.9"]
    (t,) = only_records("RT Dissertation/Thesis\nT1 乙\nCL 硕士\nPB 某大学\n")
    assert (t.clc, t.venue) == ([], "某大学")
