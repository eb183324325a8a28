"""GROBID TEI parsing, on the real files in ../shared/data/grobid_tei and on inline cases.

Pure Python: no Elasticsearch needed.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from ingest.errors import RecordError
from ingest.formats import tei
from mappings.model import DocType, Record, Reference
from tests.conftest import shared_file

NOW = datetime(2026, 11, 1, tzinfo=UTC)
TEI_NS = {"t": "http://www.tei-c.org/ns/1.0"}
SPECTER = ("grobid_tei", "s2orc_doc2json", "2020.acl-main.207.tei.xml")
LITGRAPH = ("grobid_tei", "s2orc_doc2json", "N18-3011.tei.xml")
JNER = ("grobid_tei", "grobid_client_python", "0046d83a-edd6-4631-b57c-755cdcce8b7f.tei.xml")
CMJ = ("grobid_tei", "grobid_client_python", "0f318087-b211-4ace-8ac9-3d9372a73c1c.tei.xml")
XSLT = ("grobid_tei", "grobid_core_xslt")
TRAINING = ("grobid_tei", "grobid_training_citation_corpus")


def parse(path: Path) -> list[Record | RecordError]:
    return list(tei.parse_file(path, now=NOW, version=1))


def one(path: Path) -> Record:
    (record,) = parse(path)
    assert isinstance(record, Record), record
    return record


def errors(path: Path) -> list[str]:
    out = parse(path)
    assert all(isinstance(r, RecordError) for r in out), out
    return [str(r) for r in out]


def _xpath_count(path: Path, expr: str) -> int:
    root = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))
    return int(root.xpath(f"count({expr})", namespaces=TEI_NS))


# --- GROBID full-text output ------------------------------------------------------------------------

# file -> (references, references with a raw string): hard-coded, and checked against an xpath count.
GROBID_FILES: dict[tuple[str, ...], tuple[int, int]] = {
    SPECTER: (57, 57),
    LITGRAPH: (27, 27),
    JNER: (49, 0),
    CMJ: (27, 0),
    (*XSLT, "sample2.tei.fulltext.xml"): (47, 0),
    (*XSLT, "sample1.tei.header.xml"): (0, 0),
}


@pytest.mark.shared
@pytest.mark.parametrize("parts", list(GROBID_FILES), ids=lambda p: p[-1][:20])
def test_grobid_output_is_one_record_with_every_reference(parts: tuple[str, ...]) -> None:
    path = shared_file(*parts)
    refs, raws = GROBID_FILES[parts]
    assert _xpath_count(path, "//t:text//t:listBibl/t:biblStruct") == refs
    assert _xpath_count(path, "//t:listBibl/t:biblStruct/t:note[@type='raw_reference']") == raws
    record = one(path)
    assert record.source == "grobid"
    assert len(record.references) == refs
    assert sum(1 for r in record.references if r.raw) == raws
    assert record.authors and record.abstract and record.language == "en"
    if record.full_text is not None:
        assert "\n" not in record.full_text and "  " not in record.full_text


@pytest.mark.shared
def test_specter_header_body_and_references() -> None:
    r = one(shared_file(*SPECTER))
    assert r.title == "SPECTER: Document-level Representation Learning using Citation-informed Transformers"
    assert r.doc_type is DocType.other  # the header names no journal and no meeting
    assert r.doi is None and r.year is None and r.id.startswith("ttl-")
    assert r.source_id == "2020.acl-main.207.tei.xml"
    # The sixth <author> holds only a stray affiliation ("Introduction"): not a person.
    assert [a.name for a in r.authors] == [
        "Cohan, Arman", "Feldman, Sergey", "Beltagy, Iz", "Downey, Doug", "Weld, Daniel S",
    ]  # fmt: skip
    aff = (
        "Allen Institute for Artificial Intelligence ‡ Paul G. Allen School of Computer Science & Engineering"
    )
    assert r.authors[0].affiliations == [f"{aff}, University of Washington"]
    assert r.abstract is not None and r.abstract.startswith("Representation learning is a critical")
    assert r.full_text is not None and r.full_text.startswith("Introduction As the pace of scientific")
    assert "citation graph" in r.full_text
    arora = r.references[2]
    assert arora.authors == ["Sanjeev Arora", "Yingyu Liang", "Tengyu Ma"]
    assert (arora.title, arora.venue, arora.year) == (
        "A simple but tough-to-beat baseline for sentence embeddings", "ICLR", 2017,
    )  # fmt: skip


@pytest.mark.shared
def test_specter_shifted_author_lists_give_way_to_the_raw_string() -> None:
    refs = one(shared_file(*SPECTER)).references
    # b1: PDF hyphenation "Hsu- Han Ooi" shifted every later forename onto the wrong surname.
    ammar = refs[1]
    assert ammar.raw is not None and ammar.raw.startswith(
        "Waleed Ammar, Dirk Groeneveld, Chandra Bha- gavatula"
    )
    assert ammar.authors == []
    assert (ammar.title, ammar.year) == ("Construction of the literature graph in semantic scholar", 2018)
    # b0: "Anant K. Agarwal, Ivan Zaitsev …" parsed as "K Anant", "Ivan Agarwal" …
    assert (
        refs[0].authors == [] and refs[0].title == "Estimating position bias without intrusive interventions"
    )
    # b52: "Quoc V Le, Mohammad Norouzi" parsed as "V Quoc", "Mohammad Le": each name matches the raw string
    # in some order, but not all in the same one.
    assert refs[52].authors == []
    # 13 of the 57 structured author lists are not borne out by their raw strings.
    assert sum(1 for ref in refs if not ref.authors) == 13
    # b6: GROBID found no title at all; the year is kept because the raw string has it.
    assert refs[6].title is None and refs[6].year == 2014
    # b25: GROBID gave no year; the raw string has exactly one.
    assert refs[25].year == 2015


@pytest.mark.shared
def test_consolidated_journal_article_jner() -> None:
    r = one(shared_file(*JNER))
    assert r.doi == "10.1186/s12984-016-0129-6" and r.source_id == r.doi and r.id.startswith("doi-")
    assert r.doc_type is DocType.journal_article
    assert (r.venue, r.year, r.volume, r.issue) == (
        "Journal of NeuroEngineering and Rehabilitation",
        2016,
        "13",
        "1",
    )
    assert r.issn == ["1743-0003"]
    assert r.publisher == "Springer Science and Business Media LLC"
    assert r.keywords[:2] == ["Neuromuscular electrical stimulation", "Multi-contact stimulation"]
    first = r.authors[0]
    assert first.name == "De Marchis, Cristiano"
    assert first.affiliation == (
        "Division of Functional and Restorative Neurosurgery, Department of Neurosurgery, "
        "Eberhard Karls University, Tübingen, Germany"
    )
    assert r.authors[1].name == "Santos Monteiro, Thiago" and r.authors[1].affiliations == []
    assert r.abstract is not None and r.abstract.startswith("Background: Functional Electrical Stimulation")
    # 47 of the 49 references carry a DOI (SOURCE.md counts 48 idno elements: one reference has two);
    # none has a raw string, so all structure is kept.
    assert _xpath_count(shared_file(*JNER), "//t:listBibl/t:biblStruct[.//t:idno[@type='DOI']]") == 47
    assert sum(1 for ref in r.references if ref.doi) == 47
    quandt = r.references[0]
    assert quandt == Reference(
        authors=["Fanny Quandt", "Friedhelm C Hummel"],
        title="The influence of functional electrical stimulation on hand motor recovery in stroke patients: "
        "a review",
        venue="Experimental & Translational Stroke Medicine",  # the full title, not GROBID's abbreviation
        year=2014, volume="6", issue="1", pages="9", doi="10.1186/2040-7378-6-9",
    )  # fmt: skip


@pytest.mark.shared
def test_chinese_medical_journal_single_affiliation_goes_to_every_author() -> None:
    r = one(shared_file(*CMJ))
    assert r.doi == "10.4103/0366-6999.209897"
    assert (r.venue, r.year, r.volume, r.issue, r.pages) == (
        "Chinese Medical Journal",
        2017,
        "130",
        "14",
        "1683-1688",
    )
    assert r.authors[-1].name == "Huang, Xu-Sheng"  # the roleName "Dr" is not part of the name
    # GROBID left both affiliation blocks unattached; once the label is resolved they are the same text.
    expected = "Department of Neurology, Chinese People's Liberation Army General Hospital, Beijing, China"
    assert all(a.affiliations == [expected] for a in r.authors)


@pytest.mark.shared
def test_corresponding_author_and_unattached_affiliations_in_litgraph() -> None:
    r = one(shared_file(*LITGRAPH))
    assert r.authors[0].name == "Ammar, Waleed" and r.authors[0].corresponding
    assert not any(a.corresponding for a in r.authors[1:])
    assert all(a.affiliations == [] for a in r.authors)  # three candidates: no guessing


@pytest.mark.shared
def test_old_grobid_header_and_fulltext_are_the_same_paper() -> None:
    header = one(shared_file(*XSLT, "sample1.tei.header.xml"))
    full = one(shared_file(*XSLT, "sample2.tei.fulltext.xml"))
    assert header.title == "A Virtual Machine Introspection Based Architecture for Intrusion Detection"
    assert header.id == full.id  # title + year + first author
    assert header.full_text is None and full.full_text is not None and len(full.full_text) > 60_000
    assert [a.affiliation for a in full.authors] == ["Computer Science Department, Stanford University"] * 2
    gold = full.references[12]
    assert (gold.title, gold.venue, gold.year, gold.pages) == (
        "KVM/370 in retrospect", "Proc. of the 1984 IEEE Symposium on Security and Privacy", 1984, "13-23",
    )  # fmt: skip


# --- GROBID training corpus and plain reference strings ---------------------------------------------

# header-reference files whose citation names the paper itself (a level="a" title)
TITLED_HEADER_FILES = {
    "55001662.header-reference.xml", "55003474.header-reference.xml", "55005036.header-reference.xml",
    "55005082.header-reference.xml", "55005159.header-reference.xml", "55007406.header-reference.xml",
    "55008052.header-reference.xml", "55008266.header-reference.xml",
}  # fmt: skip


@pytest.mark.shared
def test_training_corpus_files() -> None:
    files = sorted(shared_file(*TRAINING).iterdir())
    assert len(files) == 468
    records: list[str] = []
    header_rejects = 0
    listed = 0
    for path in files:
        out = parse(path)
        assert len(out) == 1, path.name
        (result,) = out
        if isinstance(result, Record):
            records.append(path.name)
            assert result.source_id == path.name
        elif "header" in path.name:
            header_rejects += 1
            assert "引文没有文献题名" in str(result), path.name
        else:
            m = re.fullmatch(r"文件是 GROBID 引文训练语料（(\d+) 条标注引文），不含文献题录", str(result))
            assert m, (path.name, str(result))
            assert int(m.group(1)) == len(re.findall(rb"<bibl[\s>]", path.read_bytes())), path.name
            listed += int(m.group(1))
    assert set(records) == TITLED_HEADER_FILES
    assert header_rejects == 332 - 8
    assert listed == 8324  # with the 354 header-reference lines, SOURCE.md's 8,678 labelled references


@pytest.mark.shared
def test_titled_header_reference_becomes_a_record() -> None:
    r = one(shared_file(*TRAINING, "55008052.header-reference.xml"))
    assert r.title == "Epoxidation of Methyl Oleate usingHeterogeneous Catalyst"
    assert [a.name for a in r.authors] == ["Suarez, P.A.", "Pereira, M.S.", "Doll, K.M.", "Sharma, B.K.",
                                           "Erhan, S.Z."]  # fmt: skip
    assert (r.venue, r.year, r.volume, r.pages) == (
        "Journal of Industrial and Engineering Chemical Research", 2009, "48", "3268-3270",
    )  # fmt: skip
    assert r.doc_type is DocType.journal_article
    liu = one(shared_file(*TRAINING, "55005036.header-reference.xml"))
    assert [a.name for a in liu.authors] == ["Z. Liu", "A. Davidson"]
    assert liu.venue == "Exp. Cell. Res."  # a venue keeps its closing full stop


@pytest.mark.shared
def test_training_file_with_non_ncname_xml_id_is_read() -> None:
    # `<fileDesc xml:id="0"/>`: libxml2 complains, the file is otherwise sound and is recognised.
    (msg,) = errors(shared_file(*TRAINING, "0506081.training.references.tei.xml"))
    assert msg == "文件是 GROBID 引文训练语料（11 条标注引文），不含文献题录"


@pytest.mark.shared
def test_plain_reference_strings_and_json_are_rejected() -> None:
    folder = shared_file("grobid_tei", "reference_strings")
    files = sorted(folder.glob("*.txt"))
    assert len(files) == 7
    for path in files:
        assert errors(path) == ["文件不是 GROBID TEI XML（不是 XML，看起来是纯文本，例如一行一条的引文列表）"]
    for path in sorted(shared_file("grobid_tei", "s2orc_doc2json").glob("*.json")):
        assert errors(path) == ["文件不是 GROBID TEI XML（不是 XML，看起来是JSON）"]


# --- inline cases -----------------------------------------------------------------------------------


def _tei(header: str = "", back: str = "", body: str = "", title: str = "A Test Paper") -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<TEI xmlns="http://www.tei-c.org/ns/1.0"><teiHeader xml:lang="en"><fileDesc>
<titleStmt><title level="a" type="main">{title}</title></titleStmt>
<sourceDesc><biblStruct><analytic><author><persName><forename type="first">Jane</forename>
<surname>Doe</surname></persName></author></analytic>{header}</biblStruct></sourceDesc>
</fileDesc></teiHeader><text><body>{body}</body><back><listBibl>{back}</listBibl></back></text></TEI>"""


def _write(tmp_path: Path, text: str | bytes, name: str = "doc.tei.xml") -> Path:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return path


def _ref(tmp_path: Path, bibl: str) -> Reference:
    (ref,) = one(_write(tmp_path, _tei(back=bibl))).references
    return ref


def _struct(title: str, year: str, raw: str | None, people: str = "", doi: str = "") -> str:
    note = f'<note type="raw_reference">{raw}</note>' if raw is not None else ""
    return f"""<biblStruct><analytic><title level="a" type="main">{title}</title>{people}{doi}</analytic>
<monogr><title level="j">J Test</title><imprint><date type="published" when="{year}"/></imprint></monogr>
{note}</biblStruct>"""


def _person(forename: str, surname: str) -> str:
    return f'<author><persName><forename type="first">{forename}</forename><surname>{surname}</surname></persName></author>'


def test_raw_year_replaces_a_structured_year_it_does_not_contain(tmp_path: Path) -> None:
    ref = _ref(tmp_path, _struct("Deep nets", "2015", "J. Smith. 2019. Deep nets. J Test."))
    assert ref.year == 2019


def test_year_is_dropped_when_the_raw_string_is_ambiguous(tmp_path: Path) -> None:
    ref = _ref(tmp_path, _struct("Deep nets", "2015", "J. Smith. 2019. Deep nets. J Test, 2020."))
    assert ref.year is None


def test_title_the_raw_string_does_not_contain_is_dropped(tmp_path: Path) -> None:
    ref = _ref(tmp_path, _struct("Shallow nets", "2019", "J. Smith. 2019. Deep nets. J Test."))
    assert ref.title is None and ref.raw == "J. Smith. 2019. Deep nets. J Test."
    hyphenated = _ref(tmp_path, _struct("Deep networks", "2019", "J. Smith. 2019. Deep net- works. J Test."))
    assert hyphenated.title == "Deep networks"  # PDF line-break hyphens do not count as disagreement


def test_shifted_authors_are_dropped_and_sound_ones_kept(tmp_path: Path) -> None:
    raw = "Yonghui Wu, Quoc V Le, Mohammad Norouzi. 2016. Deep nets."
    shifted = _person("Yonghui", "Wu") + _person("V", "Quoc") + _person("Mohammad", "Le")
    assert _ref(tmp_path, _struct("Deep nets", "2016", raw, shifted)).authors == []
    sound = _person("Yonghui", "Wu") + _person("Quoc V", "Le") + _person("Mohammad", "Norouzi")
    kept = _ref(tmp_path, _struct("Deep nets", "2016", raw, sound)).authors
    assert kept == ["Yonghui Wu", "Quoc V Le", "Mohammad Norouzi"]
    initials = _person("A K", "Agarwal")  # "Agarwal, A. K." in the raw string: surname first, initials
    ref = _ref(tmp_path, _struct("Deep nets", "2016", "Agarwal, A. K. (2016) Deep nets.", initials))
    assert ref.authors == ["A K Agarwal"]


def test_doi_the_raw_string_contradicts_is_replaced(tmp_path: Path) -> None:
    doi = '<idno type="DOI">10.1000/wrong</idno>'
    ref = _ref(tmp_path, _struct("Deep nets", "2016", "Smith J. Deep nets. 2016. doi:10.1000/right", "", doi))
    assert ref.doi == "10.1000/right"


def test_without_a_raw_string_structure_is_kept(tmp_path: Path) -> None:
    ref = _ref(tmp_path, _struct("Deep nets", "2015", None, _person("V", "Quoc")))
    assert (ref.raw, ref.title, ref.year, ref.authors, ref.venue) == (
        None,
        "Deep nets",
        2015,
        ["V Quoc"],
        "J Test",
    )


def test_doc_types(tmp_path: Path) -> None:
    journal = '<monogr><title level="j">J Test</title><imprint/></monogr>'
    meeting = '<monogr><title level="m">Proc. X</title><meeting>X 2020</meeting><imprint/></monogr>'
    assert one(_write(tmp_path, _tei(header=journal))).doc_type is DocType.journal_article
    conference = one(_write(tmp_path, _tei(header=meeting)))
    assert conference.doc_type is DocType.conference_paper and conference.venue == "X 2020"
    assert one(_write(tmp_path, _tei())).doc_type is DocType.other


def test_body_is_whitespace_collapsed_without_table_grids(tmp_path: Path) -> None:
    body = """<div><head n="1">Intro</head><p>First
    line <ref type="bibr" target="#b0">(Doe, 2020)</ref>.</p>
    <figure type="table"><head>Table 1</head><figDesc>Scores.</figDesc><table><row><cell>0.93</cell></row></table></figure></div>"""
    r = one(_write(tmp_path, _tei(body=body)))
    assert r.full_text == "Intro First line (Doe, 2020). Table 1 Scores."


def test_tei_corpus_yields_each_document_and_names_the_bad_one(tmp_path: Path) -> None:
    good = _tei().split("?>", 1)[1]
    bad = _tei(title="").split("?>", 1)[1]
    corpus = f'<teiCorpus xmlns="http://www.tei-c.org/ns/1.0">{good}{bad}</teiCorpus>'
    out = parse(_write(tmp_path, corpus))
    assert isinstance(out[0], Record) and out[0].source_id == "doc.tei.xml#1"
    assert [str(e) for e in out[1:]] == ["第 2 篇文档：缺少题名"]


def test_not_well_formed_xml(tmp_path: Path) -> None:
    text = _tei().replace("</titleStmt>", "</titleStm>")
    (msg,) = errors(_write(tmp_path, text))
    assert msg.startswith(
        "XML 格式错误（第 3 行）：文件不符合 XML 语法。〔解析器原文：Opening and ending tag mismatch"
    )


def test_empty_file(tmp_path: Path) -> None:
    assert errors(_write(tmp_path, b"")) == ["文件为空"]
    assert errors(_write(tmp_path, b"  \n")) == ["文件为空"]


def test_other_xml_is_not_tei(tmp_path: Path) -> None:
    (msg,) = errors(_write(tmp_path, "<article><front/></article>"))
    assert msg == "文件不是 GROBID TEI XML（根元素是 <article>，没有 teiHeader 题录）"


def test_billion_laughs_is_not_expanded(tmp_path: Path) -> None:
    lol = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
    )
    text = _tei(title="Laughs &lol9; here").replace(
        '<?xml version="1.0" encoding="UTF-8"?>', f'<?xml version="1.0"?><!DOCTYPE TEI [{lol}]>'
    )
    start = time.monotonic()
    out = parse(_write(tmp_path, text))
    assert time.monotonic() - start < 2
    # libxml2 refuses the document outright (its amplification limit) even though nothing is expanded.
    (error,) = out
    assert isinstance(error, RecordError) and str(error).startswith("XML 格式错误（第 1 行）：")
    assert "lollol" not in str(error)


def test_internal_entities_are_not_expanded(tmp_path: Path) -> None:
    text = _tei(title="Before &e; after").replace(
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<?xml version="1.0"?><!DOCTYPE TEI [<!ENTITY e "EXPANDED">]>',
    )
    assert one(_write(tmp_path, text)).title == "Before after"


def test_external_entity_is_not_read(tmp_path: Path) -> None:
    text = _tei(title="Secret &xxe; end").replace(
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<?xml version="1.0"?><!DOCTYPE TEI [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    )
    r = one(_write(tmp_path, text))
    assert r.title == "Secret end" and "root" not in r.model_dump_json()


def test_undeclared_html_entities_are_read(tmp_path: Path) -> None:
    r = one(_write(tmp_path, _tei(title="The &lsquo;small&rsquo; fibre &amp; nerve")))
    assert r.title == "The \u2018small\u2019 fibre & nerve"


def test_gbk_bytes_without_declaration(tmp_path: Path) -> None:
    text = _tei(title="小纤维神经病的临床特点").replace('<?xml version="1.0" encoding="UTF-8"?>', "")
    r = one(_write(tmp_path, text.encode("gbk")))
    assert r.title == "小纤维神经病的临床特点"


def test_declared_encoding_is_honoured(tmp_path: Path) -> None:
    text = _tei(title="小纤维神经病").replace('encoding="UTF-8"', 'encoding="GB18030"')
    assert one(_write(tmp_path, text.encode("gb18030"))).title == "小纤维神经病"


def test_chinese_names_run_together(tmp_path: Path) -> None:
    person = '<author><persName><forename type="first">春</forename><surname>刘</surname></persName></author>'
    text = _tei(header="<monogr><title level='j'>北京舞蹈学院学报</title><imprint/></monogr>")
    text = text.replace("<analytic>", f"<analytic>{person}").replace(
        '<author><persName><forename type="first">Jane</forename>\n<surname>Doe</surname></persName></author>',
        "",
    )
    r = one(_write(tmp_path, text))
    assert r.authors[0].name == "刘春" and r.venue == "北京舞蹈学院学报"


def test_training_reference_list_without_header(tmp_path: Path) -> None:
    text = (
        '<citations><bibl><author>A. B</author>. <title level="j">J</title></bibl><bibl>x</bibl></citations>'
    )
    assert errors(_write(tmp_path, text)) == ["文件是 GROBID 引文训练语料（2 条标注引文），不含文献题录"]
