"""USPTO patent parsing (`uspto`), on the real samples in ../shared/data/patents/uspto and inline cases.

Pure Python: no Elasticsearch needed. Expected counts were taken independently with grep on the
samples (`<patcit`, `<nplcit`, `<B561>`, `<B562>`, `^UREF`, "cited by examiner").
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from ingest.errors import RecordError
from ingest.formats import uspto
from ingest.formats._patent_numbers import (
    canonical_application_number,
    canonical_patent_number,
    compact_date,
    compact_year,
    normalize_ipc,
)
from ingest.identity import record_id
from mappings.model import DocType, Record
from tests.conftest import shared_file

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def parse(path: Path) -> list[Record | RecordError]:
    return list(uspto.parse_file(path, now=NOW, version=1))


def errors(out: list[Record | RecordError]) -> list[str]:
    return [str(r) for r in out if isinstance(r, RecordError)]


def one(*parts: str) -> Record:
    out = parse(shared_file("patents", "uspto", *parts))
    assert not errors(out), errors(out)
    (record,) = out
    assert isinstance(record, Record)
    return record


# file -> publication number, patent citations, NPL citations, "cited by examiner", inventors
SAMPLES = {
    ("xml2014", "US08926509.xml"): ("US8926509B2", 130, 30, 14, 5),
    ("xml2014", "US08927118.xml"): ("US8927118B2", 76, 28, 4, 5),
    ("xml2014", "US08930553.xml"): ("US8930553B2", 16, 5, 6, 3),
    ("xml2006", "US07272630B2.xml"): ("US7272630B2", 78, 38, 5, 4),
    ("xml2004", "US06859910.xml"): ("US6859910B2", 8, 0, 8, 1),
    ("xml2004", "US06970935.xml"): ("US6970935B1", 11, 0, 11, 1),
    ("xmlApp2004", "US20050004437A1.xml"): ("US20050004437A1", 0, 0, 0, 2),
    ("xmlApp2004", "US20050004974A1.xml"): ("US20050004974A1", 0, 0, 0, 12),
    ("pap", "US20010000044A1.xml"): ("US20010000044A1", 0, 0, 0, 1),
    ("pap", "US20010000943A1.xml"): ("US20010000943A1", 0, 0, 0, 2),
    ("pap", "US20010009014A1.xml"): ("US20010009014A1", 0, 0, 0, 2),
    ("sgml", "US06336130.xml"): ("US6336130B1", 6, 3, 5, 1),
    ("sgml", "US06337117.xml"): ("US6337117B1", 2, 0, 2, 5),
    ("sgml", "USD435854S1.xml"): ("USD435854S", 10, 0, 10, 8),
    ("greenbook", "US03932709.greenbook"): ("US3932709A", 9, 0, 0, 2),
    ("greenbook", "US03937375.greenbook"): ("US3937375A", 5, 0, 0, 1),
    ("greenbook", "US04347903.greenbook"): ("US4347903A", 3, 0, 0, 8),
}


# --- the real sample files --------------------------------------------------------------------------


@pytest.mark.shared
@pytest.mark.parametrize(
    ("parts", "expected"), SAMPLES.items(), ids=lambda v: v[-1] if isinstance(v, tuple) else ""
)
def test_every_patent_sample_gives_one_full_record(
    parts: tuple[str, str], expected: tuple[str, int, int, int, int]
) -> None:
    number, patents, npl, examiner, inventors = expected
    record = one(*parts)
    assert record.doc_type is DocType.patent and record.source == "uspto"
    assert record.patent is not None and record.patent.publication_number == number
    assert record.source_id == number
    assert record.id == record_id(title=record.title, patent_number=number)
    assert record.patent.country == "US" and record.patent.kind and number.endswith(record.patent.kind)
    assert sum(1 for r in record.references if r.patent_number) == patents
    assert sum(1 for r in record.references if not r.patent_number) == npl
    assert sum(1 for r in record.references if r.category == "cited by examiner") == examiner
    assert all(r.raw for r in record.references)
    assert len(record.authors) == inventors
    assert [a.order for a in record.authors] == list(range(1, inventors + 1))
    assert (
        record.year and record.patent.publication_date and record.year == record.patent.publication_date.year
    )
    assert record.patent.application_number and record.patent.application_date
    assert record.full_text and len(record.full_text) > 900
    assert record.language == "en"


@pytest.mark.shared
def test_v45_grant_fields() -> None:
    record = one("xml2014", "US08930553.xml")
    assert record.title == "Managing mid-dialog session initiation protocol (SIP) messages"
    assert [a.name for a in record.authors] == ["Nissim, Nitzan", "Pulito, Brian", "Zinger, Asaf"]
    assert record.patent is not None
    assert record.patent.applicants == ["International Business Machines Corporation"]
    assert record.patent.kind == "B2"
    assert record.patent.application_number == "US13648029"
    assert record.patent.application_date == date(2012, 10, 9)
    assert record.patent.publication_date == date(2015, 1, 6)
    assert record.patent.ipc == ["G06F 15/16"]
    assert record.abstract and record.abstract.startswith("Processing mid-dialog SIP messages")
    first, fifth, last = record.references[0], record.references[4], record.references[-1]
    assert (first.patent_number, first.category, first.year) == ("US7844851B2", "cited by applicant", 2010)
    assert first.authors == ["Cosmadopoulos et al."]
    assert (fifth.patent_number, fifth.category) == ("US20070220302A1", "cited by examiner")
    assert last.raw == "U.S. Appl. No. 14/026,198, Notice of Allowance, Sep. 5, 2014, 11 pg."
    assert record.full_text is not None
    assert record.full_text.startswith("FIELD OF THE INVENTION\n")
    assert "8. A computer program product for processing mid-dialog SIP messages" in record.full_text


@pytest.mark.shared
def test_post_aia_applicant_inventors_are_not_listed_as_applicants() -> None:
    record = one("xml2014", "US08926509.xml")
    assert record.patent is not None
    assert record.patent.applicants == ["Hmicro, Inc."]
    assert record.authors[0].name == "Magar, Surendar"
    assert "A61B 5/0205" in record.patent.cpc and len(record.patent.cpc) > 10


@pytest.mark.shared
def test_v40_grant_and_application() -> None:
    grant = one("xml2004", "US06970935.xml")
    assert grant.patent is not None and grant.patent.ipc == ["G06F 15/16"]  # written "G06F015/16"
    assert grant.authors[0].name == "Maes, Stephane H."
    app = one("xmlApp2004", "US20050004974A1.xml")
    assert app.title == "Device model agent"
    assert app.authors[1].name == "Furst, Michael R."
    assert app.patent is not None and app.patent.applicants == ["Xerox Corporation"]
    assert app.patent.kind == "A1" and app.year == 2005


@pytest.mark.shared
def test_dtd_only_entities_become_characters() -> None:
    record = one("pap", "US20010000943A1.xml")
    assert record.title == "Organic electroluminescence device and method of manufacturing same"
    assert record.abstract and "Min\u221220 nm<t<Min+20 nm" in record.abstract
    assert record.full_text and "called \u201corganic EL device\u201d" in record.full_text
    assert record.patent is not None and record.patent.applicants == ["IDEMITSU KOSAN CO., LTD."]
    assert record.patent.ipc == ["H01J 1/62"]
    sgml = one("sgml", "US06336130.xml")
    npl = [r for r in sgml.references if not r.patent_number]
    assert npl[0].raw and "Enabling \u2018Intelligence on Demand\u2019" in npl[0].raw
    assert npl[0].category == "cited by other" and npl[0].year == 1996
    assert "Handeg\u00e5ard" in (npl[2].raw or "")


@pytest.mark.shared
def test_sgml_grant_fields() -> None:
    record = one("sgml", "US06336130.xml")
    assert record.title == "Arrangement for improving availability of services in a communication system"
    assert [a.name for a in record.authors] == ["Do, Thanh Van"]
    assert record.patent is not None
    assert record.patent.applicants == ["Telefonaktiebolaget LM Ericsson (publ)"]
    assert record.patent.application_number == "US09413215"
    assert [r.patent_number for r in record.references[:6]] == [
        "US5825759A", "US5974441A", "US6049819A", "US6076099A", "US6085086A", "WO9625012",
    ]  # fmt: skip
    design = one("sgml", "USD435854S1.xml")
    assert design.title == "Disc cartridge" and design.patent is not None
    assert design.patent.ipc == []  # B511 holds the Locarno class of a design, not an IPC symbol
    assert design.references[0].patent_number == "USD271298"


@pytest.mark.shared
def test_greenbook_fields() -> None:
    record = one("greenbook", "US03937375.greenbook")
    assert record.title == "Bumper support for a boat loader"
    assert [a.name for a in record.authors] == ["Daniels, Everette E."]
    assert record.patent is not None
    assert record.patent.publication_date == date(1976, 2, 10)
    assert record.patent.application_date == date(1974, 10, 29)
    assert record.references[0].patent_number == "US2542907" and record.references[0].authors == [
        "Dayton et al."
    ]
    assert record.abstract and record.abstract.startswith("A unit mountable on a rear bumper of a vehicle")
    assert record.full_text and record.full_text.startswith("This invention relates generally to automotive")
    assert one("greenbook", "US03932709.greenbook").patent.applicants == [  # type: ignore[union-attr]
        "General Teletronics Incorporated"
    ]


@pytest.mark.shared
@pytest.mark.parametrize(
    ("parts", "reason"),
    [
        (("cpcMaster", "cpcMaster.xml"), "根元素为 <CPCMasterClassificationFile>"),
        (("cpcScheme", "cpc-scheme-A01L.xml"), "根元素为 <class-scheme>"),
        (("css_brs", "css_brs_sample.txt"), "既不是 XML 也不是 APS Green Book 文本"),
        (("xml4ip", "sample_XML4IP.ZIP"), "ZIP 压缩包"),
    ],
)
def test_files_that_are_not_patent_documents_give_one_clear_error(
    parts: tuple[str, str], reason: str
) -> None:
    out = parse(shared_file("patents", "uspto", *parts))
    assert len(out) == 1 and isinstance(out[0], RecordError)
    assert str(out[0]).startswith("文件不是 USPTO 专利文献：") and reason in str(out[0])


@pytest.mark.shared
def test_concatenated_bulk_file(tmp_path: Path) -> None:
    """A weekly bulk file: whole documents, each with its own declaration and DOCTYPE, back to back."""
    base = shared_file("patents", "uspto")
    bulk = tmp_path / "ipg150106.xml"
    parts = [
        base / "xml2014" / "US08930553.xml",
        base / "sgml" / "US06336130.xml",
        base / "xml2004" / "US06859910.xml",
    ]
    bulk.write_bytes(b"".join(p.read_bytes().rstrip(b"\n") + b"\n" for p in parts))
    out = parse(bulk)
    assert not errors(out)
    numbers = [r.patent.publication_number for r in out if isinstance(r, Record) and r.patent]
    assert numbers == ["US8930553B2", "US6336130B1", "US6859910B2"]


@pytest.mark.shared
def test_a_broken_document_in_a_bulk_file_does_not_stop_the_others(tmp_path: Path) -> None:
    base = shared_file("patents", "uspto")
    good = (base / "xml2014" / "US08930553.xml").read_bytes()
    bulk = tmp_path / "bulk.xml"
    bulk.write_bytes(good + b'<?xml version="1.0"?>\n<us-patent-grant><oops></us-patent-grant>\n' + good)
    out = parse(bulk)
    assert [type(r).__name__ for r in out] == ["Record", "RecordError", "Record"]
    start = good.count(b"\n") + 1
    assert str(out[1]).startswith(f"第 2 件专利（第 {start} 行起）：XML 格式错误（第 {start + 1} 行）")


# --- inline bad input ------------------------------------------------------------------------------

MINIMAL = """<?xml version="1.0" encoding="UTF-8"?>
<us-patent-grant lang="EN" country="US"><us-bibliographic-data-grant>
<publication-reference><document-id><country>US</country><doc-number>09000001</doc-number><kind>B2</kind>
<date>20150106</date></document-id></publication-reference>
<invention-title>{title}</invention-title>
</us-bibliographic-data-grant></us-patent-grant>
"""


def write(tmp_path: Path, data: bytes | str, name: str = "in.xml") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def test_minimal_grant_without_doctype_keeps_undeclared_entities(tmp_path: Path) -> None:
    (record,) = parse(write(tmp_path, MINIMAL.format(title="A &lsquo;smart&rsquo; widget &lsqb;1&rsqb;")))
    assert isinstance(record, Record)
    assert record.title == "A \u2018smart\u2019 widget [1]"
    assert record.patent is not None and record.patent.publication_number == "US9000001B2"


def test_missing_title_is_a_record_error(tmp_path: Path) -> None:
    (error,) = parse(write(tmp_path, MINIMAL.format(title="")))
    assert isinstance(error, RecordError) and str(error) == "第 1 件专利（第 1 行起）：缺少题名"


def test_not_well_formed(tmp_path: Path) -> None:
    (error,) = parse(write(tmp_path, '<?xml version="1.0"?>\n<us-patent-grant>\n<a></b>\n</us-patent-grant>'))
    assert isinstance(error, RecordError)
    assert str(error).startswith("第 1 件专利（第 1 行起）：XML 格式错误（第 3 行）")


@pytest.mark.parametrize("data", [b"", b"  \n\n"])
def test_empty_file(tmp_path: Path, data: bytes) -> None:
    assert [str(e) for e in parse(write(tmp_path, data))] == ["文件为空"]


def test_wrong_format(tmp_path: Path) -> None:
    (error,) = parse(write(tmp_path, '{"title": "not a patent"}\n', "x.json"))
    assert isinstance(error, RecordError) and str(error).startswith("文件不是 USPTO 专利文献：")
    (error,) = parse(write(tmp_path, "<article><front/></article>"))
    assert str(error) == "文件不是 USPTO 专利文献：根元素为 <article>，不是 USPTO 专利 XML"


def test_billion_laughs_is_not_expanded(tmp_path: Path) -> None:
    lol = '<!ENTITY lol0 "lol">' + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    doc = MINIMAL.format(title="Laughs &lol9;").replace(
        '<?xml version="1.0" encoding="UTF-8"?>', f'<?xml version="1.0"?>\n<!DOCTYPE us-patent-grant [{lol}]>'
    )
    out = parse(write(tmp_path, doc))
    assert len(out) == 1
    record = out[0]
    if isinstance(record, Record):
        assert "lollol" not in record.title and len(record.title) < 50


def test_xxe_is_not_read(tmp_path: Path) -> None:
    doc = MINIMAL.format(title="Secret &xxe; here").replace(
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<?xml version="1.0"?>\n<!DOCTYPE us-patent-grant [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    )
    out = parse(write(tmp_path, doc))
    assert len(out) == 1
    assert "root:" not in str(out[0]) and (not isinstance(out[0], Record) or "root" not in out[0].title)


def test_gbk_bytes_without_declaration(tmp_path: Path) -> None:
    doc = MINIMAL.format(title="一种装置").replace('<?xml version="1.0" encoding="UTF-8"?>\n', "")
    (error,) = parse(write(tmp_path, doc.encode("gbk")))
    assert isinstance(error, RecordError) and "XML 格式错误" in str(error)


def test_greenbook_without_title(tmp_path: Path) -> None:
    (error,) = parse(write(tmp_path, "PATN\nWKU  039999994\nISD  19760113\n", "x.greenbook"))
    assert str(error) == "第 1 件专利（第 1 行起）：缺少题名"


# --- patent numbers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("US 6,970,935 B2",), "US6970935B2"),
        (("US06970935", "US", "B2"), "US6970935B2"),
        (("06970935", "US", "B2"), "US6970935B2"),
        (("US20050004437A1",), "US20050004437A1"),
        (("2007/0140112", "US", "A1"), "US20070140112A1"),
        (("D. 271298", "US"), "USD271298"),
        (("RE38000", "US", "E"), "USRE38000E"),
        (("EP 1 125 942 B1",), "EP1125942B1"),
        (("PCT/JP00/02182", "US"), None),
        (("", "US", "B2"), None),
        (("6970935",), None),  # no country anywhere
    ],
)
def test_canonical_patent_number(args: tuple[str, ...], expected: str | None) -> None:
    assert canonical_patent_number(*args) == expected


def test_number_helpers() -> None:
    assert canonical_application_number("09342866", "US") == "US09342866"
    assert compact_date("20150106") == date(2015, 1, 6)
    assert compact_date("20101100") is None and compact_year("20101100") == 2010
    assert normalize_ipc("H01J001/62") == "H01J 1/62" and normalize_ipc("G06F 1516") == "G06F 1516"
