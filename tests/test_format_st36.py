"""WIPO ST.36 / EPO patent XML (`st36`), on the real samples in ../shared/data/patents and inline cases.

Pure Python: no Elasticsearch needed. Expected counts were taken independently with grep on the
samples (`<patcit`/`<nplcit`, `<inventor `, `<claim `).
"""

from __future__ import annotations

import gzip
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from ingest.errors import RecordError
from ingest.formats import st36
from ingest.identity import record_id
from mappings.model import DocType, Record
from tests.conftest import shared_file

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def parse(path: Path) -> list[Record | RecordError]:
    return list(st36.parse_file(path, now=NOW, version=1))


def sample(name: str) -> Path:
    return shared_file("patents", "grobid_patent_samples", name)


def one(name: str) -> Record:
    (record,) = parse(sample(name))
    assert isinstance(record, Record), str(record)
    return record


# --- the real sample files --------------------------------------------------------------------------


@pytest.mark.shared
def test_wipo_st36_publication() -> None:
    record = one("WO043551A1.st36-sample.xml")
    assert record.doc_type is DocType.patent and record.source == "st36"
    assert record.title == "GOLF TEE DEVICE" and record.title_en is None and record.language == "en"
    assert record.id == record_id(title="GOLF TEE DEVICE", patent_number="WO43551A1")
    assert [a.name for a in record.authors] == ["THIRKETTLE, John", "EMMERSON, Geoffrey"]
    patent = record.patent
    assert patent is not None
    assert (patent.publication_number, patent.kind, patent.country) == ("WO43551A1", "A1", "WO")
    assert patent.applicants == ["WORLD GOLF SYSTEMS LTD (GB)"]
    assert patent.ipc == ["A63B 57/00"]
    assert (patent.application_date, patent.publication_date) == (date(2003, 11, 13), date(2004, 5, 27))
    assert record.year == 2004
    refs = [(r.patent_number, r.category) for r in record.references]
    assert refs == [
        ("GB2364924A", "X"),
        ("US5248144A", "X"),
        ("WO9937368", "cited in description"),
        ("US6083121", "cited in description"),
    ]
    assert record.references[0].authors == ["HILLAN GRAHAM CARLYLE"] and record.references[0].year == 2002
    assert record.abstract and record.abstract.startswith("A golf tee device comprises a tee (4)")
    assert record.full_text is not None
    assert record.full_text.startswith("The present invention relates to a golf tee device.\n")
    assert "GOLF TEE DEVICE" not in record.full_text  # the title repeated inside <description>


@pytest.mark.shared
def test_epo_document_in_french_keeps_english_title() -> None:
    record = one("EP1125942B1.patent-document.xml")
    assert record.title.startswith("Dérivés d'acides 6-amino ou 6-hydrazinosulfonyl-3-quinolinyl")
    assert record.title_en and record.title_en.startswith("Derivatives of 6-amino or 6-hydrazinosulfonyl")
    assert record.language == "fr"
    # Three renderings of the inventors (epo, intermediate, original): the original one is kept.
    assert [a.name for a in record.authors] == ["CORDI, ALEX", "DESOS, PATRICE", "LESTAGE, PIERRE"]
    patent = record.patent
    assert patent is not None and patent.publication_number == "EP1125942B1"
    assert patent.applicants == ["LES LABORATOIRES SERVIER"]
    assert patent.application_number == "EP01400409" and patent.application_date == date(2001, 2, 16)
    assert patent.ipc[:3] == ["A61K 31/675", "A61P 9/00", "A61P 9/10"] and len(patent.ipc) == 11
    assert record.references == []
    assert record.abstract and record.abstract.startswith("Composés de formule (I)")
    assert record.full_text and record.full_text.startswith("La présente invention concerne")
    # Claims in the description's language (French), not the German or English sets.
    assert record.full_text.endswith("la sclérose amyotrophique latérale ou la chorée de Huntington")


@pytest.mark.shared
def test_gzipped_epo_document() -> None:
    record = one("EP1122185B1.patent-document.xml.gz")
    assert record.title == "Cap for container" and record.language == "en"
    assert [a.name for a in record.authors] == ["BROWNE MONTEAGLE, MARTIN"]
    assert record.patent is not None and record.patent.applicants == ["AMERSHAM HEALTH AS"]
    assert record.patent.publication_date == date(2006, 7, 26)
    assert record.full_text and "The package of claim 10" in record.full_text


@pytest.mark.shared
@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("EP1059354A2.epo-ops-fulltext.xml", "缺少题名：EPO OPS 全文文档只有说明书"),
        ("JP2005518157.wo-ocr.xml", "缺少题名：文档没有著录项目"),
    ],
)
def test_full_text_only_documents_are_rejected_for_want_of_a_title(name: str, reason: str) -> None:
    (error,) = parse(sample(name))
    assert isinstance(error, RecordError) and str(error).startswith("第 1 件专利（第 1 行起）：" + reason)


@pytest.mark.shared
def test_uspto_file_is_the_wrong_format() -> None:
    (error,) = parse(shared_file("patents", "uspto", "cpcScheme", "cpc-scheme-A01L.xml"))
    assert str(error) == "文件不是 ST.36 / EPO 专利 XML：根元素为 <class-scheme>"


@pytest.mark.shared
def test_concatenated_documents(tmp_path: Path) -> None:
    bulk = tmp_path / "bulk.xml"
    bulk.write_bytes(
        sample("WO043551A1.st36-sample.xml").read_bytes()
        + sample("EP1125942B1.patent-document.xml").read_bytes()
    )
    out = parse(bulk)
    assert [r.patent.publication_number for r in out if isinstance(r, Record) and r.patent] == [
        "WO43551A1",
        "EP1125942B1",
    ]


# --- inline cases -------------------------------------------------------------------------------------

DOC = """<?xml version="1.0" encoding="UTF-8"?>
<patent-document country="EP" doc-number="1000001" kind="A1" date="20200101" lang="en">
<bibliographic-data>
<publication-reference><document-id><country>EP</country><doc-number>1000001</doc-number><kind>A1</kind>
<date>20200101</date></document-id></publication-reference>
<invention-title lang="en">{title}</invention-title>
<parties><applicants><applicant><addressbook><orgname>ACME &amp; Co</orgname></addressbook></applicant>
</applicants></parties>
</bibliographic-data>
<search-report-data><srep-for-pub><srep-citations>
<citation><nplcit id="n1"><text>Smith J, Widgets, J. Wid. 3 (2001) 1-9, doi:10.1000/xyz.1</text></nplcit>
<category>Y</category><rel-claims>1</rel-claims></citation>
</srep-citations></srep-for-pub></search-report-data>
</patent-document>
"""


def write(tmp_path: Path, data: bytes | str, name: str = "in.xml") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def test_npl_citation_with_category_and_doi(tmp_path: Path) -> None:
    (record,) = parse(write(tmp_path, DOC.format(title="Widget &ndash; improved")))
    assert isinstance(record, Record)
    assert record.title == "Widget \u2013 improved"
    assert record.patent is not None and record.patent.applicants == ["ACME & Co"]
    (ref,) = record.references
    assert ref.raw == "Smith J, Widgets, J. Wid. 3 (2001) 1-9, doi:10.1000/xyz.1"
    assert (ref.category, ref.doi, ref.year, ref.patent_number) == ("Y", "10.1000/xyz.1", 2001, None)


def test_gzip_of_a_broken_stream(tmp_path: Path) -> None:
    data = gzip.compress(DOC.format(title="x").encode())[:40]
    out = parse(write(tmp_path, data, "broken.xml.gz"))
    assert len(out) == 1 and isinstance(out[0], RecordError)


def test_not_well_formed(tmp_path: Path) -> None:
    (error,) = parse(write(tmp_path, "<patent-document>\n<bibliographic-data>\n</patent-document>"))
    assert isinstance(error, RecordError) and "XML 格式错误（第 3 行）" in str(error)


def test_empty_and_wrong_format(tmp_path: Path) -> None:
    assert [str(e) for e in parse(write(tmp_path, b""))] == ["文件为空"]
    assert [str(e) for e in parse(write(tmp_path, b"TY  - JOUR\nER  -\n"))] == [
        "文件不是 ST.36 / EPO 专利 XML：不是 XML"
    ]


def test_billion_laughs_and_xxe_are_inert(tmp_path: Path) -> None:
    lol = '<!ENTITY lol0 "lol">' + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    subset = f'{lol}<!ENTITY xxe SYSTEM "file:///etc/passwd">'
    doc = DOC.format(title="Laughs &lol9; &xxe;").replace(
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<?xml version="1.0"?>\n<!DOCTYPE patent-document [{subset}]>',
    )
    (out,) = parse(write(tmp_path, doc))
    if isinstance(out, Record):
        assert "lollol" not in out.title and "root:" not in out.title
    else:
        assert "root:" not in str(out)


def test_gbk_bytes_without_declaration(tmp_path: Path) -> None:
    doc = DOC.format(title="一种装置").replace('<?xml version="1.0" encoding="UTF-8"?>\n', "")
    (error,) = parse(write(tmp_path, doc.encode("gbk")))
    assert isinstance(error, RecordError) and "XML 格式错误" in str(error)
