"""论文收录引证报告 (reports/citation_*): the model's counts and checks, its JSON snapshot, and the
DOCX, PDF and XLSX read back (python-docx, poppler, openpyxl).

Pure Python and system fonts: no Elasticsearch, Redis or database. The PDF checks need pdftotext
(poppler-utils, installed by .ci/run) and skip when it is absent.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
import shutil
import subprocess
import tempfile
import zipfile
from datetime import date

import docx
import openpyxl
import pytest
from docx.document import Document as DocxDocument

from reports import citation_content as cc
from reports import (
    compute_code,
    render_citation_docx,
    render_citation_pdf,
    render_citation_xlsx,
    verification,
)
from reports.citation_model import (
    CitationOptions,
    CitationPurpose,
    CitationReportData,
    CitedPaper,
    CitingRecord,
    IndexingEntry,
)
from reports.citation_sample import sample_citation_report
from reports.model import DatabaseSpan, Party, Person, ReportDataError
from reports.sample import sample_report


@pytest.fixture(scope="module", autouse=True)
def services() -> None:
    """Overrides conftest's session fixture that starts Elasticsearch and Redis: nothing here needs them."""


@pytest.fixture(scope="module")
def draft() -> CitationReportData:
    return sample_citation_report()


@pytest.fixture(scope="module")
def issued() -> CitationReportData:
    return sample_citation_report(draft=False)


def squash(text: str) -> str:
    """Text without whitespace: layout breaks lines (and pdftotext spaces) wherever it likes."""
    return re.sub(r"\s+", "", text)


def cite(n: int, own: int = 0, db: str = "CSSCI") -> tuple[CitingRecord, ...]:
    """n citing records, the first `own` of them 自引."""
    return tuple(CitingRecord(f"引用者{i}. 题名{i}[J]. 刊名, 2024.", i < own, db, 2024) for i in range(n))


def small(**changes: object) -> CitationReportData:
    """A hand-built three-paper case whose numbers are easy to state."""
    base = CitationReportData(
        centre=Party("某查新中心"),
        client=Party("李明"),
        client_unit="某大学",
        purpose=CitationPurpose.grant,
        databases=(DatabaseSpan("SCIE", 2000, 2026), DatabaseSpan("CSSCI", 1998, 2026)),
        cutoff=date(2026, 3, 1),
        search_date=date(2026, 3, 2),
        analyst=Person("陈静", "馆员"),
        reviewer=None,
        papers=(
            CitedPaper(1, "李明. 论文一[J]. 情报学报, 2020.", True,
                       (IndexingEntry("CSSCI", "2020001", "论文"),), cite(5, own=2)),
            CitedPaper(2, "LI M. Paper two[J]. Scientometrics, 2021.", True,
                       (IndexingEntry("WoS", "WOS:1", "Article"), IndexingEntry("SCIE", "WOS:2", "Article")),
                       cite(3, own=1, db="SCIE")),
            CitedPaper(3, "李明. 未找到的论文[J]. 某刊, 2019.", False),
        ),
    )  # fmt: skip
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


# --- counts, h-index, certification ------------------------------------------------------------


def test_counts_of_a_small_case() -> None:
    r = small()
    assert [(p.total, p.self_count, p.others_count) for p in r.papers] == [(5, 2, 3), (3, 1, 2), (0, 0, 0)]
    assert (r.total_citations, r.self_total, r.others_total) == (8, 3, 5)
    # Plain "WoS" (an export without an edition field) is not SCIE: only the SCIE entry counts.
    assert r.indexed_count("SCIE") == 1
    assert r.indexed_count("CSSCI") == 1
    assert r.indexed_count("SSCI") == 0
    assert [p.seq for p in r.not_indexed("SCIE")] == [1, 3]
    assert r.papers[1].citations_by_database() == {"SCIE": (3, 2)}


def test_certification_text_is_the_usual_form_from_the_counts() -> None:
    assert small().certification_text() == (
        "经检索，委托人提供的 3 篇论文被 SCIE 收录 1 篇，被 CSSCI 收录 1 篇；"
        "截至 2026 年 03 月 01 日，共被引用 8 次，其中他引 5 次（详见附表）。特此证明。"
    )
    # A requested database that holds none of the papers is still named, with 0 篇.
    with_ei = small(databases=(DatabaseSpan("EI"), DatabaseSpan("CSSCI")))
    assert "被 EI 收录 0 篇，被 CSSCI 收录 1 篇；" in with_ei.certification_text()


def test_sample_numbers(issued: CitationReportData) -> None:
    """The ten-paper sample, counted by hand from reports/citation_sample.py."""
    assert len(issued.papers) == 10
    assert [p.total for p in issued.papers] == [4, 7, 2, 5, 6, 2, 0, 7, 2, 5]
    assert [p.others_count for p in issued.papers] == [3, 5, 1, 3, 4, 1, 0, 5, 1, 3]
    assert (issued.total_citations, issued.others_total) == (40, 26)
    assert [issued.indexed_count(n) for n in ("SCIE", "SSCI", "CSSCI", "EI")] == [5, 0, 4, 1]
    assert issued.h_index() == 5  # sorted 7, 7, 6, 5, 5, 4 …: five papers with at least 5
    assert issued.h_index(others_only=True) == 3  # 他引 sorted 5, 5, 4, 3: three with at least 3


def _with_counts(totals: list[int], others: list[int]) -> CitationReportData:
    papers = tuple(
        CitedPaper(i, f"论文{i}[J].", True, (), cite(t, own=t - o))
        for i, (t, o) in enumerate(zip(totals, others, strict=True), 1)
    )
    return small(papers=papers)


@pytest.mark.parametrize(
    ("totals", "others", "h_all", "h_others"),
    [
        ([10, 8, 5, 4, 3], [6, 2, 2, 1, 0], 4, 2),  # h=4: four papers with at least 4 citations each
        ([3, 3, 3], [3, 3, 3], 3, 3),
        ([100], [0], 1, 0),  # one paper caps h at 1, however often it is cited
        ([0, 0], [0, 0], 0, 0),
        ([5, 1, 5, 1, 5], [1, 1, 1, 1, 1], 3, 1),  # order of the list does not matter
        ([], [], 0, 0),
    ],
)
def test_h_index_worked_examples(totals: list[int], others: list[int], h_all: int, h_others: int) -> None:
    r = _with_counts(totals, others)
    assert r.h_index() == h_all
    assert r.h_index(others_only=True) == h_others


# --- validation -----------------------------------------------------------------------------------


def test_structure_errors_are_chinese_and_name_the_problem() -> None:
    p1 = small().papers[0]
    with pytest.raises(ReportDataError, match="论文序号重复：1"):
        small(papers=(p1, dataclasses.replace(p1, reference="另一篇")))
    with pytest.raises(ReportDataError, match=r"引用截止日期（2026-03-05）不能晚于检索日期（2026-03-02）"):
        small(cutoff=date(2026, 3, 5))
    with pytest.raises(ReportDataError, match="论文 \\[3\\] 标为未收录，却带有收录或引用记录"):
        small(papers=(CitedPaper(3, "某论文", False, (IndexingEntry("EI"),)),))
    with pytest.raises(ReportDataError, match="委托目的不正确：职称"):
        small(purpose="职称")
    with pytest.raises(ReportDataError, match="晚于引用截止日期"):
        small(papers=(CitedPaper(1, "某论文", True, (), (CitingRecord("某引用", False, "CSSCI", 2027),)),))
    with pytest.raises(ReportDataError, match="论文序号必须从 1 开始：0"):
        small(papers=(CitedPaper(0, "某论文", True),))
    with pytest.raises(ReportDataError, match="检索数据库重复：SCIE"):
        small(databases=(DatabaseSpan("SCIE"), DatabaseSpan("SCIE")))
    # A plain string purpose is read as the enum.
    assert small(purpose="报奖").purpose is CitationPurpose.award


def test_issued_report_needs_number_date_code_and_reviewer() -> None:
    with pytest.raises(ReportDataError) as caught:
        small(draft=False)
    message = str(caught.value)
    for missing in ("报告编号", "签发日期", "验证码", "审核人"):
        assert missing in message
    with pytest.raises(ReportDataError, match="至少需要一篇论文"):
        small(papers=(), draft=False, report_number="1", issue_date=date(2026, 3, 3),
              verification_code="0" * 64, reviewer=Person("王", "研究馆员"))  # fmt: skip
    # A draft previews with gaps: no reviewer, no papers.
    assert small(papers=()).papers == ()


# --- the frozen snapshot --------------------------------------------------------------------------


def test_json_round_trip(draft: CitationReportData, issued: CitationReportData) -> None:
    for r in (draft, issued, small()):
        assert CitationReportData.from_dict(r.to_dict()) == r
        text = r.to_json()
        again = CitationReportData.from_json(text)
        assert again == r
        assert again.to_json() == text  # stable text, not just equal values
        assert json.loads(text) == r.to_dict()
    assert issued.to_dict()["kind"] == "citation"
    assert compute_code(CitationReportData.from_json(issued.to_json())) == issued.verification_code


def test_damaged_snapshot_is_refused_in_chinese(issued: CitationReportData) -> None:
    with pytest.raises(ReportDataError, match="不是有效的 JSON"):
        CitationReportData.from_json("{")
    data = issued.to_dict()
    del data["papers"][0]["citing"]
    with pytest.raises(ReportDataError, match="报告快照已损坏"):
        CitationReportData.from_dict(data)
    with pytest.raises(ReportDataError, match="快照版本不受支持"):
        CitationReportData.from_dict({**issued.to_dict(), "version": 99})
    with pytest.raises(ReportDataError, match="应为布尔值"):
        bad = issued.to_dict()
        bad["papers"][0]["found"] = "yes"
        CitationReportData.from_dict(bad)


# --- verification code ---------------------------------------------------------------------------


def test_code_covers_the_content_under_its_own_scheme(issued: CitationReportData) -> None:
    assert issued.verification_code is not None
    assert verification.is_consistent(issued)
    assert b'"scheme":"chaxin-citation-report-v1"' in verification.canonical_bytes(issued)
    # Draft flag, code and verify URL are about the report, not in it.
    as_draft = dataclasses.replace(issued, draft=True, verification_code=None, verify_url="")
    assert compute_code(as_draft) == issued.verification_code
    flipped = list(issued.papers)
    first = flipped[0]
    flipped[0] = dataclasses.replace(
        first,
        citing=(dataclasses.replace(first.citing[0], self_citation=False, flipped=True), *first.citing[1:]),
    )
    assert compute_code(dataclasses.replace(as_draft, papers=tuple(flipped))) != issued.verification_code


def test_existing_novelty_codes_are_unchanged() -> None:
    """The 查新 sample's code as main computed it before the citation scheme was added."""
    assert (
        compute_code(sample_report(draft=False))
        == "a1a974066c13b9b33594435b2988b9350f193c20ad3b8c9c3a7381fb99990a5b"
    )


def test_renderers_refuse_an_issued_report_altered_after_its_code(issued: CitationReportData) -> None:
    altered = dataclasses.replace(issued, notes=())
    for render in (render_citation_docx, render_citation_pdf, render_citation_xlsx):
        with pytest.raises(ReportDataError, match="验证码与报告内容不符"):
            render(altered)


# --- DOCX -----------------------------------------------------------------------------------------


def docx_text(d: DocxDocument) -> str:
    parts = [p.text for p in d.paragraphs]
    for table in d.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


@pytest.fixture(scope="module")
def issued_docx(issued: CitationReportData) -> DocxDocument:
    return docx.Document(io.BytesIO(render_citation_docx(issued)))


def test_docx_sections_in_order(issued_docx: DocxDocument) -> None:
    headings = [p.text for p in issued_docx.paragraphs if p.style is not None and p.style.name == "Heading 1"]
    assert headings == [cc.HEADER_TITLE, cc.CERTIFICATION_TITLE, cc.INDEXING_TITLE, cc.CITATION_TITLE,
                        cc.CITING_LIST_TITLE, cc.NOTES_TITLE, cc.SIGNATURE_TITLE]  # fmt: skip


def test_docx_content(issued_docx: DocxDocument, issued: CitationReportData) -> None:
    text = docx_text(issued_docx)
    assert issued.certification_text() in text
    for value in ("20263300100123", "张伟", "浙江大学公共管理学院", "职称评审", "SCIE（1900—2026）",
                  "2026年11月3日", "陈静（副研究馆员）", "王海涛（研究馆员）", "h 指数：按全部引用计为 5，按他引计为 3。"):  # fmt: skip
        assert value in text, value
    header, indexing, citations, signatures = issued_docx.tables
    # 附表一: paper 6 (SCIE and EI) is one merged row over two lines; paper 7 prints as 未收录.
    rows = [[c.text for c in row.cells] for row in indexing.rows]
    six = [r for r in rows if r[0] == "6"]
    assert [r[2] for r in six] == ["SCIE", "EI"]
    assert indexing.rows[6].cells[1]._tc is indexing.rows[7].cells[1]._tc
    assert [r[2:] for r in rows if r[0] == "7"] == [["未收录", "—", "—"]]
    # CNKI holds the Chinese papers but was not requested: the report certifies requested databases only.
    assert not any(r[2] == "CNKI" for r in rows)
    # 附表二: one row per paper and the totals row.
    last = [c.text for c in citations.rows[-1].cells]
    assert last == ["", "合计", "40", "14", "26"]
    assert len(citations.rows) == 1 + 10 + 1
    assert "验证码：" + verification.display_code(issued.verification_code or "") in text


def test_docx_draft_watermark_and_issued_footer(draft: CitationReportData, issued_docx: DocxDocument) -> None:
    d = docx.Document(io.BytesIO(render_citation_docx(draft)))
    header_xml = d.sections[0].header._element.xml
    assert "PowerPlusWaterMarkObject" in header_xml and 'string="草稿"' in header_xml
    assert "草稿，未经签发" in d.sections[0].footer.paragraphs[0].text
    issued_header = issued_docx.sections[0].header._element.xml
    assert "PowerPlusWaterMarkObject" not in issued_header
    footer = issued_docx.sections[0].footer.paragraphs[0].text
    assert re.search(r"报告编号：20263300100123　验证码：[0-9A-F]{4}(-[0-9A-F]{4}){3}", footer)


# --- PDF ------------------------------------------------------------------------------------------


def pdf_text(data: bytes) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(data)
        f.flush()
        done = subprocess.run(["pdftotext", "-enc", "UTF-8", f.name, "-"], capture_output=True, check=True,
                              timeout=60)  # fmt: skip
    return done.stdout.decode("utf-8")


@pytest.fixture(scope="module")
def issued_pdf(issued: CitationReportData) -> bytes:
    return render_citation_pdf(issued)


def test_pdf_shows_every_section_and_the_certification(issued_pdf: bytes, issued: CitationReportData) -> None:
    text = squash(pdf_text(issued_pdf))
    titles = [cc.HEADER_TITLE, cc.CERTIFICATION_TITLE, cc.INDEXING_TITLE, cc.CITATION_TITLE, cc.CITING_LIST_TITLE,
              cc.NOTES_TITLE, cc.SIGNATURE_TITLE]  # fmt: skip
    positions = [text.find(squash(t)) for t in titles]
    assert -1 not in positions, dict(zip(titles, positions, strict=True))
    assert positions == sorted(positions)
    assert (
        squash(
            "经检索，委托人提供的 10 篇论文被 SCIE 收录 5 篇，被 SSCI 收录 0 篇，被 CSSCI 收录 4 篇，被 EI 收录 1 篇；"
            "截至 2026 年 10 月 31 日，共被引用 40 次，其中他引 26 次（详见附表）。特此证明。"
        )
        in text
    )
    for value in ("报告编号", "委托人单位", "浙江大学公共管理学院", "检索数据库及年限", "CSSCI（1998—2026）",
                  "检索日期", "2026年11月3日", "检索人", "陈静（副研究馆员）", "审核人", "王海涛（研究馆员）",
                  "未收录", "合计", "WOS:000400000000006", "201900000006", "h指数：按全部引用计为5，按他引计为3。",
                  "由自引改判为他引", "经委托人确认后排除"):  # fmt: skip
        assert squash(value) in text, value
    assert "自引；CSSCI" in text and "他引；SCIE" in text
    assert issued.verification_code is not None
    assert text.count(squash("验证码：" + verification.display_code(issued.verification_code))) >= 2
    assert "草稿" not in text


def test_pdf_draft_is_watermarked(draft: CitationReportData) -> None:
    text = pdf_text(render_citation_pdf(draft))
    assert "草稿" in text and "草稿，未经签发" in squash(text)
    assert "验证码" not in text


def test_pdf_others_only_lists_no_self_citations(issued: CitationReportData) -> None:
    r = sample_citation_report(options=CitationOptions(others_only=True, include_citing_list=True))
    text = squash(pdf_text(render_citation_pdf(r)))
    assert "本清单仅列他引文献" in text
    assert "自引；" not in text and "他引；" in text
    assert "h指数" not in text  # not chosen
    # 附表二 still gives 自引 and the certification 他引 of all records.
    assert squash(r.certification_text()) in text


def test_pdf_without_citing_list(issued: CitationReportData) -> None:
    r = sample_citation_report(options=CitationOptions(include_citing_list=False))
    text = squash(pdf_text(render_citation_pdf(r)))
    assert squash(cc.CITING_LIST_TITLE) not in text
    assert squash(cc.CITATION_TITLE) in text


def test_pdf_prints_client_text_literally() -> None:
    paper = CitedPaper(1, "<b>李明</b> & 王\x01芳. </style>论文[J].", True, (IndexingEntry("CSSCI", "1"),))
    text = pdf_text(render_citation_pdf(small(papers=(paper,))))
    assert "<b>李明</b> & 王\ufffd芳. </style>论文[J]." in text


# --- determinism and the snapshot ----------------------------------------------------------------


def test_same_report_gives_the_same_bytes(issued: CitationReportData, issued_pdf: bytes) -> None:
    rebuilt = CitationReportData.from_json(issued.to_json())
    assert render_citation_pdf(rebuilt) == issued_pdf
    for render in (render_citation_docx, render_citation_xlsx):
        first = render(issued)
        assert render(rebuilt) == first
        # Zip members carry one fixed timestamp, so the bytes cannot depend on the clock.
        assert {i.date_time for i in zipfile.ZipFile(io.BytesIO(first)).infolist()} == {(1980, 1, 1, 0, 0, 0)}


# --- XLSX -----------------------------------------------------------------------------------------


def test_xlsx_has_both_tables(issued: CitationReportData) -> None:
    wb = openpyxl.load_workbook(io.BytesIO(render_citation_xlsx(issued)))
    assert wb.sheetnames == ["报告信息", "附表一 收录", "附表二 引证"]
    indexing = [[c.value for c in row] for row in wb["附表一 收录"].iter_rows()]
    assert indexing[0] == list(cc.INDEXING_HEADERS)
    assert [r[2] for r in indexing if r[0] == 6] == ["SCIE", "EI"]
    assert [r[2] for r in indexing if r[0] == 7] == ["未收录"]
    citations = [[c.value for c in row] for row in wb["附表二 引证"].iter_rows()]
    assert citations[0] == list(cc.CITATION_HEADERS)
    assert citations[1][2:] == [4, 1, 3]
    assert citations[-1] == [None, "合计", 40, 14, 26]
    info = {row[0].value: row[1].value for row in wb["报告信息"].iter_rows()}
    assert info["检索结论"] == issued.certification_text()
    assert wb.properties.modified.date() == date(2026, 11, 5)


def test_xlsx_text_is_never_a_formula() -> None:
    paper = CitedPaper(1, '=HYPERLINK("http://x")', True, (IndexingEntry("CSSCI", "1"),))
    wb = openpyxl.load_workbook(io.BytesIO(render_citation_xlsx(small(papers=(paper,)))))
    cell = wb["附表二 引证"]["B2"]
    assert cell.data_type == "s" and cell.value == '=HYPERLINK("http://x")'


def test_an_early_draft_renders_with_gaps_shown() -> None:
    """No papers, no databases, no reviewer yet: the preview works and says what is missing."""
    r = small(papers=(), databases=())
    assert r.certification_text() == (
        "经检索，委托人提供的 0 篇论文，截至 2026 年 03 月 01 日，共被引用 0 次，其中他引 0 次（详见附表）。特此证明。"
    )
    text = squash(pdf_text(render_citation_pdf(r)))
    assert "（待填写）" in text and "审核人（待填写）" in text
    d = docx.Document(io.BytesIO(render_citation_docx(r)))
    assert "（待填写）" in docx_text(d)
    assert (
        openpyxl.load_workbook(io.BytesIO(render_citation_xlsx(r)))["附表二 引证"].max_row == 2
    )  # header, 合计
