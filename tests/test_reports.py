"""科技查新报告 generation (reports/): DOCX read back with python-docx, PDF read back with poppler.

Pure Python and system fonts: no Elasticsearch, Redis or database. The PDF checks need pdftotext
and pdffonts (poppler-utils, installed by .ci/run) and skip when they are absent.
"""

from __future__ import annotations

import dataclasses
import io
import re
import shutil
import subprocess
import tempfile
import time
from datetime import date

import docx
import pytest
from docx.document import Document as DocxDocument
from docx.oxml.ns import qn
from lxml import etree

from reports import content, render_docx, render_pdf, verification
from reports.model import (
    Document,
    NoveltyPoint,
    Origin,
    PointConclusion,
    Relevance,
    ReportData,
    ReportDataError,
    Scope,
)
from reports.pdf_report import css_string, render_html
from reports.sample import sample_report

SECTIONS = content.SECTION_TITLES


@pytest.fixture(scope="module")
def draft() -> ReportData:
    return sample_report()


@pytest.fixture(scope="module")
def issued() -> ReportData:
    return sample_report(draft=False)


def squash(text: str) -> str:
    """Text without whitespace: layout breaks lines (and pdftotext spaces) wherever it likes."""
    return re.sub(r"\s+", "", text)


# --- DOCX ---------------------------------------------------------------------------------------


def open_docx(data: bytes) -> DocxDocument:
    return docx.Document(io.BytesIO(data))


def docx_text(d: DocxDocument) -> str:
    parts = [p.text for p in d.paragraphs]
    for table in d.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


@pytest.fixture(scope="module")
def issued_docx(issued: ReportData) -> DocxDocument:
    return open_docx(render_docx(issued))


@pytest.fixture(scope="module")
def draft_docx(draft: ReportData) -> DocxDocument:
    return open_docx(render_docx(draft))


def test_docx_has_every_section_heading_in_order(issued_docx: DocxDocument) -> None:
    headings = [p.text for p in issued_docx.paragraphs if p.style is not None and p.style.name == "Heading 1"]
    assert headings == [content.HEADER_TABLE_TITLE, *SECTIONS, content.SIGNATURE_TITLE]
    title = [p.text for p in issued_docx.paragraphs if p.style is not None and p.style.name == "Title"]
    assert title == ["科技查新报告"]


def test_docx_sections_carry_their_content(issued_docx: DocxDocument, issued: ReportData) -> None:
    text = docx_text(issued_docx)
    paragraphs = [p.text for p in issued_docx.paragraphs]

    def section(i: int) -> str:
        """The paragraph text between heading i and the next Heading 1."""
        start = paragraphs.index(SECTIONS[i])
        end = paragraphs.index(SECTIONS[i + 1]) if i + 1 < len(SECTIONS) else len(paragraphs)
        return "\n".join(paragraphs[start:end])

    # cover and header table
    assert issued.report_no is not None
    for expected in (issued.report_no, issued.project_name_zh, issued.project_name_en, "2026年10月12日"):
        assert expected in text
    for value in (issued.client.address, issued.client.email, issued.centre.postcode, issued.centre.fax):
        assert value in text
    assert "立项查新" in section(0) and issued.purpose_text in section(0)
    assert "知识蒸馏压缩模型" in section(1)
    for i, point in enumerate(issued.novelty_points, 1):
        assert f"{i}. {point.text}" in section(2)
    assert issued.requirements in section(2) and "查新范围要求：国内外" in section(2)
    for db in issued.databases:
        assert db.name in text
    for s in issued.strategies:
        assert s.expression in text and s.cnki_expression in text and str(s.hits) in text
    assert "绝缘子；缺陷检测" in section(3)
    results = section(4)
    for d in issued.documents:
        assert f"[{d.seq}]\u2002{d.reference}" in results
        if d.relevance is Relevance.close:
            assert d.excerpt in results
    # Section 五 opens once: the analyst's own summary replaces the generated count sentence.
    assert issued.results_summary in results and "共检出与本查新项目相关的文献" not in results
    # 密切相关 before 一般相关, 国内 before 国外 within each
    order = [
        results.index(h)
        for h in ("国内密切相关文献", "国外密切相关文献", "国内一般相关文献", "国外一般相关文献")
    ]
    assert order == sorted(order)
    for pc in issued.point_conclusions:
        assert pc.comparison in section(5) and pc.conclusion in section(5)
    assert issued.overall_conclusion in section(5)
    for clause in issued.declarations:
        assert clause in section(6)
    # Signatures are printed once, in the closing 签字与盖章 table, not again under 七.
    assert "周敏" not in section(6) and text.count("查新员（签字）") == 1
    for item in issued.attachments:
        assert item in section(7)
    assert issued.remarks in section(8)
    for expected in ("副研究馆员", "2026年10月20日", "2026年10月21日", "查新机构（科技查新专用章）"):
        assert expected in text


def test_docx_page_setup_is_a4_with_the_template_margins(issued_docx: DocxDocument) -> None:
    for s in issued_docx.sections:
        assert s.page_width is not None and s.page_height is not None
        assert (round(s.page_width.mm), round(s.page_height.mm)) == (210, 297)
        margins = (s.left_margin, s.right_margin, s.top_margin, s.bottom_margin)
        assert all(m is not None for m in margins)
        assert [round(m.mm, 1) for m in margins if m is not None] == [28.0, 28.0, 30.0, 30.0]


def test_docx_fonts_are_song_and_times(issued_docx: DocxDocument) -> None:
    for name in ("Normal", "Body Text", "Title", "Heading 1", "Heading 2", "Heading 3"):
        fonts = issued_docx.styles[name].element.rPr.find(qn("w:rFonts"))
        assert fonts.get(qn("w:eastAsia")) == "宋体", name
        assert fonts.get(qn("w:ascii")) == fonts.get(qn("w:hAnsi")) == "Times New Roman", name
        # A theme attribute would override the explicit name in Word.
        assert not any(k.endswith("Theme") for k in fonts.attrib), name
    defaults = issued_docx.styles.element.find(qn("w:docDefaults"))
    default_fonts = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr")).find(qn("w:rFonts"))
    assert default_fonts.get(qn("w:eastAsia")) == "宋体"
    assert issued_docx.styles["Normal"].font.size.pt == 12  # 小四


def header_xml(d: DocxDocument) -> str:
    return str(etree.tostring(d.sections[0].header._element, encoding="unicode"))


def footer_text(d: DocxDocument) -> str:
    element = d.sections[0].footer._element
    fields = [f.get(qn("w:instr")) for f in element.iter(qn("w:fldSimple"))]
    return "".join(t.text or "" for t in element.iter(qn("w:t"))) + "|" + ",".join(fields)


def test_docx_draft_is_watermarked_and_issued_is_not(
    draft_docx: DocxDocument, issued_docx: DocxDocument
) -> None:
    assert 'string="草稿"' in header_xml(draft_docx)
    assert "草稿" in draft_docx.sections[0].header.paragraphs[0].text
    assert "草稿" in footer_text(draft_docx)
    assert "草稿" not in header_xml(issued_docx)
    assert "草稿" not in docx_text(issued_docx) + footer_text(issued_docx)


def test_docx_issued_footer_has_number_code_and_page_fields(
    issued_docx: DocxDocument, issued: ReportData
) -> None:
    assert issued.verification_code is not None
    footer = footer_text(issued_docx)
    assert f"报告编号：{issued.report_no}" in footer
    assert f"验证码：{verification.display_code(issued.verification_code)}" in footer
    assert footer.endswith("|PAGE,NUMPAGES")
    # One section, so this footer is on every page, the cover included.
    assert len(issued_docx.sections) == 1


def test_docx_with_100_references(draft: ReportData) -> None:
    big = dataclasses.replace(sample_report(references=100), results_summary="")
    d = open_docx(render_docx(big))
    text = docx_text(d)
    assert all(f"[{doc.seq}]\u2002" in text for doc in big.documents)
    assert "共检出与本查新项目相关的文献 100 篇" in text


def test_domestic_search_has_no_foreign_groups() -> None:
    r = sample_report()
    domestic_only = dataclasses.replace(
        r,
        scope=Scope.domestic,
        documents=tuple(d for d in r.documents if d.origin is Origin.domestic),
        databases=tuple(db for db in r.databases if db.origin is Origin.domestic),
    )
    text = docx_text(open_docx(render_docx(domestic_only)))
    assert "国内密切相关文献" in text and "国外" not in text.split("五、检索结果")[1].split("六、")[0]


def test_draft_shows_placeholders_for_unwritten_parts() -> None:
    r = dataclasses.replace(sample_report(), point_conclusions=(), overall_conclusion="", technical_points="")
    text = docx_text(open_docx(render_docx(r)))
    assert text.count(content.TO_FILL) >= 2 * len(r.novelty_points) + 2


# --- PDF ----------------------------------------------------------------------------------------


def test_docx_bytes_depend_on_the_content_alone(issued: ReportData) -> None:
    # The archive zip re-renders issued reports: its copy must equal the issued file byte for byte,
    # so no zip member may carry the clock (python-docx stamps each with the current time).
    first = render_docx(issued)
    time.sleep(2.1)  # zip timestamps have a two-second resolution
    assert render_docx(issued) == first


def poppler(tool: str, *args: str, data: bytes) -> str:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} (poppler-utils) is not installed")
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(data)
        f.flush()
        to_stdout = ["-"] if tool == "pdftotext" else []
        done = subprocess.run([tool, *args, f.name, *to_stdout], capture_output=True, check=True, timeout=60)
    return done.stdout.decode("utf-8")


def pdf_text(data: bytes) -> str:
    return poppler("pdftotext", "-enc", "UTF-8", data=data)


def pdf_fonts(data: bytes) -> str:
    return poppler("pdffonts", data=data)


@pytest.fixture(scope="module")
def issued_pdf(issued: ReportData) -> bytes:
    return render_pdf(issued)


@pytest.fixture(scope="module")
def draft_pdf(draft: ReportData) -> bytes:
    return render_pdf(draft)


def test_pdf_is_a4(issued_pdf: bytes) -> None:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(issued_pdf))
    for page in reader.pages:
        width_mm = float(page.mediabox.width) / 72 * 25.4
        height_mm = float(page.mediabox.height) / 72 * 25.4
        assert (round(width_mm), round(height_mm)) == (210, 297)


def test_pdf_headings_are_extractable_chinese_text_in_order(issued_pdf: bytes) -> None:
    text = squash(pdf_text(issued_pdf))
    positions = [text.index(squash(h)) for h in ("科技查新报告", content.HEADER_TABLE_TITLE, *SECTIONS)]
    assert positions == sorted(positions)
    assert squash(content.SIGNATURE_TITLE) in text


def test_pdf_chinese_round_trips_and_is_set_in_a_cjk_serif(issued_pdf: bytes, issued: ReportData) -> None:
    text = squash(pdf_text(issued_pdf))
    samples = [
        issued.project_name_zh,
        issued.client.name,
        issued.overall_conclusion,
        issued.declarations[2],
        issued.documents[0].reference,
        issued.documents[0].excerpt,
        # a table cell: pdftotext interleaves its lines with the row's other cells
        issued.strategies[0].expression.split(" AND (")[0],
        "中文检索词：绝缘子；缺陷检测；深度学习",
    ]
    for sample in samples:
        assert squash(sample) in text, sample
    # No tofu: a missing glyph would be drawn from a fallback font or as .notdef; the only fonts
    # embedded are the Song-style CJK serif and the Times-compatible Latin serif.
    fonts = pdf_fonts(issued_pdf)
    names = [line.split()[0].split("+")[-1] for line in fonts.splitlines()[2:] if line.strip()]
    assert any("CJK" in n or "Sung" in n or "Ming" in n for n in names), fonts
    assert all(re.search(r"Serif|Sung|Ming|Times|Termes", n) for n in names), fonts
    assert "\ufffd" not in pdf_text(issued_pdf)


def test_pdf_draft_watermark_only_in_drafts(draft_pdf: bytes, issued_pdf: bytes) -> None:
    draft_pages = pdf_text(draft_pdf).split("\f")
    assert all("草稿" in page for page in draft_pages if page.strip())
    assert "草稿" not in pdf_text(issued_pdf)


def test_pdf_issued_footer_on_every_page(issued_pdf: bytes, issued: ReportData) -> None:
    assert issued.verification_code is not None and issued.report_no is not None
    code = verification.display_code(issued.verification_code)
    pages = [p for p in pdf_text(issued_pdf).split("\f") if p.strip()]
    assert len(pages) >= 4
    for n, page in enumerate(pages, 1):
        flat = squash(page)
        assert f"报告编号：{issued.report_no}" in flat and f"验证码：{code}" in flat, n
        assert f"第{n}页共{len(pages)}页" in flat


def test_pdf_prints_client_text_literally() -> None:
    hostile = '<b>粗体</b> "引号" \\ </style><script>x</script>'
    r = dataclasses.replace(sample_report(), purpose_text=hostile, report_no='A"B\\C</style>')
    html = render_html(r)
    assert "<b>粗体</b>" not in html and "<script>" not in html
    text = pdf_text(render_pdf(r))
    assert squash(hostile) in squash(text)
    assert 'A"B\\C</style>' in text  # the footer's CSS string survived the quote and backslash


def test_css_string_escapes_everything_that_could_end_it() -> None:
    s = css_string('a"b\\c</style>\n第 ')
    assert s.startswith('"') and s.endswith('"')
    assert '"' not in s[1:-1] and "\\\\" not in s and "<" not in s and "\n" not in s


# --- verification code --------------------------------------------------------------------------


def test_code_is_stable_for_the_same_content(issued: ReportData) -> None:
    again = sample_report(draft=False)
    assert again == issued
    assert verification.compute_code(again) == verification.compute_code(issued)
    assert re.fullmatch(r"[0-9a-f]{64}", verification.compute_code(issued))
    # The draft flag and the code itself are not content.
    as_draft = dataclasses.replace(issued, draft=True, verification_code=None)
    assert verification.compute_code(as_draft) == issued.verification_code
    # Line endings as a browser may submit them do not change the content.
    crlf = dataclasses.replace(as_draft, technical_points=as_draft.technical_points.replace("\n", "\r\n"))
    assert verification.compute_code(crlf) == issued.verification_code


@pytest.mark.parametrize(
    "change",
    [
        {"project_name_zh": "基于深度学习的输电线路绝缘子缺陷智能检测方法。"},
        {"report_no": "20263300100043"},
        {"issue_date": date(2026, 10, 22)},
        {"overall_conclusion": "综上所述。"},
        {"remarks": ""},
    ],
)
def test_code_changes_when_content_changes(issued: ReportData, change: dict[str, object]) -> None:
    changed = dataclasses.replace(issued, draft=True, verification_code=None, **change)  # type: ignore[arg-type]
    assert verification.compute_code(changed) != issued.verification_code


def test_code_changes_with_one_document_character(issued: ReportData) -> None:
    docs = list(issued.documents)
    docs[3] = dataclasses.replace(docs[3], description=docs[3].description + "。")
    changed = dataclasses.replace(issued, draft=True, verification_code=None, documents=tuple(docs))
    assert verification.compute_code(changed) != issued.verification_code
    reordered = dataclasses.replace(
        issued, draft=True, verification_code=None, terms_zh=tuple(reversed(issued.terms_zh))
    )
    assert verification.compute_code(reordered) != issued.verification_code


def test_display_code_and_matching(issued: ReportData) -> None:
    assert issued.verification_code is not None
    shown = verification.display_code(issued.verification_code)
    assert re.fullmatch(r"[0-9A-F]{4}(-[0-9A-F]{4}){3}", shown)
    assert verification.code_matches(shown, issued.verification_code)
    assert verification.code_matches(shown.lower().replace("-", " "), issued.verification_code)
    assert verification.code_matches(issued.verification_code, issued.verification_code)
    assert not verification.code_matches(
        shown[:-1] + ("0" if shown[-1] != "0" else "1"), issued.verification_code
    )
    assert not verification.code_matches(shown[:9], issued.verification_code)  # too short to mean anything
    assert not verification.code_matches("", issued.verification_code)


def test_renderers_refuse_an_issued_report_altered_after_its_code(issued: ReportData) -> None:
    altered = dataclasses.replace(issued, overall_conclusion="国内外未见任何相关报道。")
    with pytest.raises(ReportDataError, match="验证码与报告内容不符"):
        render_docx(altered)
    with pytest.raises(ReportDataError, match="验证码与报告内容不符"):
        render_pdf(altered)


# --- the model's own checks ---------------------------------------------------------------------


def test_structure_errors_are_chinese_and_name_the_problem(draft: ReportData) -> None:
    bad_link = Document(1, "某文献[J].", Relevance.general, Origin.domestic, "简介", points=("NP-9",))
    with pytest.raises(ReportDataError, match="关联的查新点不存在：NP-9"):
        dataclasses.replace(draft, documents=(bad_link,))
    doc = draft.documents[0]
    with pytest.raises(ReportDataError, match="文献序号重复：1"):
        dataclasses.replace(draft, documents=(doc, doc))
    with pytest.raises(ReportDataError, match="查新点编号重复：NP-1"):
        dataclasses.replace(draft, novelty_points=(NoveltyPoint("NP-1", "甲"), NoveltyPoint("NP-1", "乙")))
    with pytest.raises(ReportDataError, match="对比分析所指的查新点不存在"):
        dataclasses.replace(draft, point_conclusions=(PointConclusion("X", "比", "结"),))


def test_issued_report_must_be_complete(issued: ReportData) -> None:
    docs = list(issued.documents)
    close = next(i for i, d in enumerate(docs) if d.relevance is Relevance.close)
    docs[close] = dataclasses.replace(docs[close], excerpt="")
    with pytest.raises(ReportDataError, match="必须有原文摘录"):
        dataclasses.replace(issued, documents=tuple(docs))
    with pytest.raises(ReportDataError, match="查新点 2 尚无查新结论"):
        dataclasses.replace(issued, point_conclusions=issued.point_conclusions[:1])
    with pytest.raises(ReportDataError, match="正式报告必须有报告编号"):
        dataclasses.replace(issued, report_no=None)
    # The same gaps are fine in a draft, which shows them as 待填写.
    dataclasses.replace(issued, draft=True, documents=tuple(docs), point_conclusions=())


def test_a_case_without_relevant_documents_still_has_every_group() -> None:
    r = dataclasses.replace(sample_report(), documents=(), results_summary="")
    text = docx_text(open_docx(render_docx(r)))
    assert "共检出与本查新项目相关的文献 0 篇" in text
    assert text.count("未检出此类文献。") == 4  # 密切/一般 × 国内/国外
