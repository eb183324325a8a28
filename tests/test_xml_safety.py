"""Every XML format reads through `ingest.formats.xml_safe`, and none expands hostile entities."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.formats import FILE_FORMATS, xml_safe

FORMATS_DIR = Path(xml_safe.__file__).resolve().parent
# The root element each XML format expects, so the hostile part is read, not refused at the door.
XML_ROOTS = {
    "jats": "<article><front><article-meta><title-group><article-title>{body}</article-title>"
    "</title-group></article-meta></front></article>",
    "tei": '<TEI xmlns="http://www.tei-c.org/ns/1.0"><teiHeader><fileDesc><titleStmt><title>{body}</title>'
    "</titleStmt></fileDesc></teiHeader></TEI>",
    "marc": '<collection xmlns="http://www.loc.gov/MARC21/slim"><record><leader>00000nam a2200000 a 4500</leader>'
    '<datafield tag="245" ind1="0" ind2="0"><subfield code="a">{body}</subfield></datafield></record></collection>',
    "oai": '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListRecords><record><header>'
    "<identifier>oai:x:1</identifier></header><metadata>"
    '<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{body}</dc:title></oai_dc:dc>'
    "</metadata></record></ListRecords></OAI-PMH>",
    "uspto": "<us-patent-grant><us-bibliographic-data-grant><invention-title>{body}</invention-title>"
    "</us-bibliographic-data-grant></us-patent-grant>",
    "st36": "<wo-patent-document><bibliographic-data><invention-title>{body}</invention-title>"
    "</bibliographic-data></wo-patent-document>",
    "gbstd": "<bibitem><title>{body}</title><docidentifier>GB/T 1-2020</docidentifier></bibitem>",
    "techreport": '<report xmlns="urn:chaxin:techreport:1.0"><title>{body}</title></report>',
}
LAUGHS = '<!ENTITY lol0 "lol">' + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))


def _root_name(template: str) -> str:
    match = re.match(r"<([\w-]+)", template)
    assert match
    return match.group(1)


def _outputs(fmt: str, path: Path) -> str:
    parse = FILE_FORMATS[fmt]
    return " ".join(str(item) for item in parse(path, now=datetime(2026, 12, 1, tzinfo=UTC), version=1))


def test_every_xml_format_is_covered() -> None:
    xml_modules = {p.stem for p in FORMATS_DIR.glob("*.py") if "etree" in p.read_text(encoding="utf-8")}
    assert set(XML_ROOTS) <= set(FILE_FORMATS)
    assert xml_modules - {"xml_safe"} <= set(XML_ROOTS) | {"_patent_xml"}


def test_only_xml_safe_builds_parsers() -> None:
    unsafe = re.compile(r"etree\.(XMLParser|XMLPullParser|iterparse|HTMLParser)\(|html\.HTMLParser\(")
    offenders = [
        p.name for p in FORMATS_DIR.glob("*.py") if p.name != "xml_safe.py" and unsafe.search(p.read_text("utf-8"))
    ]
    assert offenders == []


@pytest.mark.parametrize("fmt", sorted(XML_ROOTS))
def test_external_entities_are_never_read(fmt: str, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-4711", encoding="utf-8")
    template = XML_ROOTS[fmt]
    doc = (
        f'<?xml version="1.0"?>\n<!DOCTYPE {_root_name(template)} [<!ENTITY xxe SYSTEM "file://{secret}">]>\n'
        + template.format(body="A &xxe; B")
    )
    path = tmp_path / f"{fmt}.xml"
    path.write_text(doc, encoding="utf-8")
    assert "TOP-SECRET-4711" not in _outputs(fmt, path)


@pytest.mark.parametrize("fmt", sorted(XML_ROOTS))
def test_billion_laughs_never_expand(fmt: str, tmp_path: Path) -> None:
    template = XML_ROOTS[fmt]
    doc = f'<?xml version="1.0"?>\n<!DOCTYPE {_root_name(template)} [{LAUGHS}]>\n' + template.format(body="&lol9;")
    path = tmp_path / f"{fmt}.xml"
    path.write_text(doc, encoding="utf-8")
    out = _outputs(fmt, path)
    # 10^9 "lol"s would be 3 GB; anything expanded even one level shows up as a run of them.
    assert "lollol" not in out
