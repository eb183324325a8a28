"""OAI-PMH: saved responses (ListRecords / GetRecord with oai_dc, marcxml, arXiv) and the harvester,
the latter against a real HTTP server on 127.0.0.1 (http.server in a thread; httpx is not mocked).

Pure Python: no Elasticsearch needed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from lxml import etree

from ingest.errors import RecordError
from ingest.formats import oai
from ingest.oai_harvest import HarvestPage, harvest
from mappings.model import DocType, Record
from tests.conftest import shared_file

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def parse(path: Path) -> list[Record | RecordError]:
    return list(oai.parse_file(path, now=NOW, version=1))


def split(path: Path) -> tuple[list[Record], list[str]]:
    out = parse(path)
    return [r for r in out if isinstance(r, Record)], [str(e) for e in out if isinstance(e, RecordError)]


def sample(*parts: str) -> Path:
    return shared_file("oai_pmh_marc", *parts)


def _live_records(path: Path) -> int:
    """OAI records that are not deleted, counted with a plain (equally hardened) lxml parse."""
    root = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
    records = root.xpath(
        "//*[local-name()='ListRecords' or local-name()='GetRecord']/*[local-name()='record']"
    )
    return sum(1 for r in records if not r.xpath("*[local-name()='header'][@status='deleted']"))


# --- saved responses --------------------------------------------------------------------------------


@pytest.mark.shared
@pytest.mark.parametrize(
    ("name", "count"),
    [("sample_arxiv_response_listrecords_cs.xml", 46), ("sample_arxiv_response_listrecords_physics.xml", 150),
     ("sample_arxiv_response.xml", 1), ("sample_arxiv_response_no_namespace.xml", 1),
     ("sample_arxiv_response_utf8.xml", 1), ("sample_arxiv_response_with_namespace.xml", 1),
     ("sample_oai_dc_response.xml", 1)],
)  # fmt: skip
def test_arxiv_responses(name: str, count: int) -> None:
    path = sample("invenio_oaiharvester_arxiv", name)
    found, errors = split(path)
    assert not errors
    assert len(found) == count == _live_records(path)
    assert all(r.source == "oai:arXiv.org" and r.source_id.startswith("oai:arXiv.org:") for r in found)


@pytest.mark.shared
def test_arxiv_fields() -> None:
    found, _ = split(sample("invenio_oaiharvester_arxiv", "sample_arxiv_response_listrecords_cs.xml"))
    first = found[0]
    assert first.source_id == "oai:arXiv.org:1101.4388"
    assert first.title == "Reproducing Kernel Banach Spaces with the l1 Norm"
    assert [a.name for a in first.authors] == ["Song, Guohui", "Zhang, Haizhang", "Hickernell, Fred J."]
    assert first.doi == "10.1016/j.acha.2012.03.009" and first.doc_type is DocType.journal_article
    assert first.year == 2011 and first.category == "stat.ML cs.LG math.FA"
    assert first.abstract and first.abstract.startswith("Targeting at sparse learning, we construct Banach")
    assert "\n" not in first.abstract and first.url == "https://arxiv.org/abs/1101.4388"
    (bare,) = split(sample("invenio_oaiharvester_arxiv", "sample_arxiv_response_no_namespace.xml"))[0]
    assert bare.title == "Object Re-Use & Exchange: A Resource-Centric Approach"
    assert len(bare.authors) == 6 and bare.doc_type is DocType.other  # a preprint


@pytest.mark.shared
def test_dspace_oai_dc() -> None:
    path = sample("pyoai_eur_dspace_2004", "fake2", "00002.xml")
    found, errors = split(path)
    assert not errors
    assert len(found) == 79 == _live_records(path)  # 81 records, 2 of them deleted
    assert {r.source for r in found} == {"oai:dspace.ubib.eur.nl"}
    first = next(r for r in found if r.source_id == "hdl:1765/9")
    assert [a.name for a in first.authors] == [
        "Jong, G. de",
        "Nooteboom, B.",
    ]  # creators, not contributors too
    assert first.year == 2001 and first.language == "en" and first.url == "http://hdl.handle.net/1765/9"
    assert first.abstract and first.abstract.count("This study examines") == 1  # repeated description
    assert sum(r.doc_type is DocType.thesis for r in found) == 20
    assert len(records_of("fake1", "00005.xml")) == 16
    assert len(records_of("fake1", "00004.xml")) == 1
    assert len(records_of("fake2", "00001.xml")) == 1
    assert parse(sample("pyoai_eur_dspace_2004", "fake2", "00000.xml")) == []  # GetRecord of a deleted record


def records_of(*parts: str) -> list[Record]:
    found, errors = split(sample("pyoai_eur_dspace_2004", *parts))
    assert not errors
    return found


@pytest.mark.shared
def test_responses_without_records_and_broken_ones() -> None:
    def errors(*parts: str) -> list[str]:
        found, errs = split(sample(*parts))
        assert found == []
        return errs

    fake1 = ("pyoai_eur_dspace_2004", "fake1")
    assert errors(*fake1, "00000.xml") == ["ListSets 响应不含记录（需要 ListRecords 或 GetRecord 响应）"]
    assert errors(*fake1, "00001.xml") == ["Identify 响应不含记录（需要 ListRecords 或 GetRecord 响应）"]
    assert errors(*fake1, "00003.xml") == [
        "ListIdentifiers 响应不含记录（需要 ListRecords 或 GetRecord 响应）"
    ]
    assert errors(*fake1, "00006.xml") == ["文件不是 OAI-PMH 响应（根元素是 dc）"]
    (fake3,) = errors("pyoai_eur_dspace_2004", "malformed_fake3", "00001.xml")
    assert fake3.startswith(
        "第 1 条记录：XML 格式错误（第 1 行）：文件不符合 XML 语法。〔解析器原文：Opening and ending tag mismatch: bogus"
    )
    assert errors("pyoai_eur_dspace_2004", "malformed_fake4", "00001.xml") == [
        "第 1 条记录：XML 格式错误（第 1 行）：文件不符合 XML 语法。〔解析器原文：Entity 'bogus' not defined〕"
    ]
    assert errors("pyoai_eur_dspace_2004", "malformed_fake5", "00001.xml") == [
        "Identify 响应的 earliestDatestamp 无效：aaaa-bb-cc"
    ]
    (empty,) = errors("invenio_oaiharvester_arxiv", "sample_empty_response.xml")
    assert empty.startswith("OAI-PMH 错误 noRecordsMatch")
    # INSPIRE conference records (111 meeting names) have no 245: MARCXML metadata, rejected per record.
    assert errors("invenio_oaiharvester_arxiv", "sample_inspire_response_listrecords.xml") == [
        "第 1 条记录：oai:inspirehep.net:972855：缺少题名（245）",
        "第 2 条记录：oai:inspirehep.net:974318：缺少题名（245）",
    ]


# --- inline responses -------------------------------------------------------------------------------

_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
_REQUEST = '<responseDate>2026-01-01T00:00:00Z</responseDate><request verb="ListRecords">{url}</request>'


def _dc(identifier: str, title: str, extra: str = "") -> str:
    return (
        f"<record><header><identifier>{identifier}</identifier><datestamp>2026-01-01</datestamp></header>"
        '<metadata><oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
        f'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{title}</dc:title>'
        f"<dc:creator>王五</dc:creator><dc:date>2020-05-01</dc:date>{extra}</oai_dc:dc></metadata></record>"
    )


def _marcxml(identifier: str) -> str:
    return (
        f"<record><header><identifier>{identifier}</identifier><datestamp>2026-01-01</datestamp></header>"
        '<metadata><marc:record xmlns:marc="http://www.loc.gov/MARC21/slim">'
        "<marc:leader>00000nam a2200000 a 4500</marc:leader>"
        '<marc:datafield tag="245" ind1="0" ind2="0"><marc:subfield code="6">880-01</marc:subfield>'
        '<marc:subfield code="a">Ji suan ji /</marc:subfield></marc:datafield>'
        '<marc:datafield tag="880" ind1="0" ind2="0"><marc:subfield code="6">245-01/$1</marc:subfield>'
        '<marc:subfield code="a">计算机 /</marc:subfield></marc:datafield>'
        "</marc:record></metadata></record>"
    )


def page(body: str, token: str | None = None, url: str = "http://repo.example.cn/oai") -> str:
    tail = (
        f"<resumptionToken>{token}</resumptionToken>"
        if token
        else "<resumptionToken/>"
        if token == ""
        else ""
    )
    return f"{_HEAD}{_REQUEST.format(url=url)}<ListRecords>{body}{tail}</ListRecords></OAI-PMH>"


def test_marcxml_and_deleted_and_errors_inline(tmp_path: Path) -> None:
    deleted = '<record><header status="deleted"><identifier>oai:x.cn:3</identifier></header></record>'
    body = (
        _marcxml("oai:ir.cas.cn:1")
        + deleted
        + _dc("hdl:1/2", "")
        + _dc("hdl:1/4", "中文题名", "<dc:type>Thesis</dc:type>")
    )
    path = tmp_path / "p.xml"
    path.write_text(page(body), encoding="utf-8")
    out = parse(path)
    first, error, last = out
    assert isinstance(first, Record) and first.title == "计算机" and first.title_en == "Ji suan ji"
    assert (first.source, first.source_id, first.doc_type) == (
        "oai:ir.cas.cn",
        "oai:ir.cas.cn:1",
        DocType.book,
    )
    assert str(error) == "第 3 条记录：hdl:1/2：缺少题名"
    assert (
        isinstance(last, Record) and last.source == "oai:repo.example.cn" and last.doc_type is DocType.thesis
    )


def test_bad_input_inline(tmp_path: Path) -> None:
    def run(data: bytes) -> list[str]:
        path = tmp_path / "in.xml"
        path.write_bytes(data)
        return [str(e) for e in parse(path)]

    assert run(b"") == ["文件为空"]
    assert run(b"not xml at all") == [
        "第 1 条记录：XML 格式错误（第 1 行）：文件不符合 XML 语法。〔解析器原文：Start tag expected, '<' not found〕"
    ]
    assert run(b"<html><body/></html>") == ["文件不是 OAI-PMH 响应（根元素是 html）"]
    cut = page(_dc("oai:a.cn:1", "One") + _dc("oai:a.cn:2", "Two"))[:-60].encode()
    out = parse(tmp_path / "in.xml") if run(cut) else []
    assert (
        isinstance(out[0], Record) and len(out) == 2 and str(out[1]).startswith("第 2 条记录：XML 格式错误")
    )
    error = f'{_HEAD}<error code="badResumptionToken">expired</error></OAI-PMH>'
    assert run(error.encode()) == ["OAI-PMH 错误 badResumptionToken：expired"]
    gbk = page(_dc("oai:a.cn:1", "中文")).replace(' encoding="UTF-8"', "").encode("gbk")
    (gbk_error,) = run(gbk)
    assert "XML 格式错误" in gbk_error


def test_entities_are_never_expanded(tmp_path: Path) -> None:
    doc = (
        '<?xml version="1.0"?><!DOCTYPE OAI-PMH [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        + page(_dc("oai:a.cn:1", "T &b; &xxe;")).split("?>", 1)[1]
    )
    path = tmp_path / "e.xml"
    path.write_text(doc, encoding="utf-8")
    (record,) = parse(path)
    assert isinstance(record, Record) and record.title == "T" and "root:" not in record.model_dump_json()


# --- the harvester against a real local server -----------------------------------------------------

Responder = Callable[[dict[str, str], int], tuple[int, dict[str, str], bytes]]


class _Server:
    def __init__(self, respond: Responder) -> None:
        self.requests: list[dict[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = dict(parse_qsl(urlsplit(self.path).query))
                server.requests.append(query)
                status, headers, body = respond(query, len(server.requests))
                self.send_response(status)
                for key, value in {"Content-Type": "text/xml; charset=utf-8", **headers}.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/oai"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> _Server:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve() -> Iterator[Callable[[Responder], _Server]]:
    servers: list[_Server] = []

    def start(respond: Responder) -> _Server:
        server = _Server(respond).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def _ok(text: str) -> tuple[int, dict[str, str], bytes]:
    return 200, {}, text.encode("utf-8")


def run(url: str, **kwargs: Any) -> tuple[list[HarvestPage], list[float]]:
    """All pages of a harvest through a real httpx client; waits are recorded instead of slept."""
    waits: list[float] = []
    with httpx.Client(timeout=10) as client:
        pages = list(harvest(url, "oai_dc", client=client, now=NOW, sleep=waits.append, **kwargs))
    return pages, waits


def test_harvester_follows_tokens_retries_503_and_sends_from_until(
    serve: Callable[[Responder], _Server],
) -> None:
    def respond(query: dict[str, str], n: int) -> tuple[int, dict[str, str], bytes]:
        token = query.get("resumptionToken")
        if token is None:
            return _ok(page(_dc("oai:a.cn:1", "One") + _dc("oai:a.cn:2", "Two"), token="t1"))
        if token == "t1" and n == 2:
            return 503, {"Retry-After": "0"}, b"busy"
        if token == "t1":
            return _ok(page(_dc("oai:a.cn:3", "Three"), token="t2"))
        return _ok(page(_dc("oai:a.cn:4", "Four"), token=""))

    server = serve(respond)
    pages, waits = run(server.url, from_="2020-01-01", until="2020-12-31", set_="physics")
    assert [p.number for p in pages] == [1, 2, 3]
    assert [[r.source_id for r in p.records] for p in pages] == [["oai:a.cn:1", "oai:a.cn:2"], ["oai:a.cn:3"],
                                                                   ["oai:a.cn:4"]]  # fmt: skip
    assert all(not p.errors for p in pages) and pages[0].body and pages[0].resumption_token == "t1"
    assert server.requests[0] == {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2020-01-01",
                                  "until": "2020-12-31", "set": "physics"}  # fmt: skip
    # After the first page only the (exclusive) token is sent; the 503 was retried once, after Retry-After.
    assert server.requests[1:] == [{"verb": "ListRecords", "resumptionToken": t} for t in ("t1", "t1", "t2")]
    assert waits == [0.0]


@pytest.mark.shared
def test_harvester_on_the_recorded_dspace_responses(serve: Callable[[Responder], _Server]) -> None:
    root = sample("pyoai_eur_dspace_2004", "fake1")
    lines = (root / "mapping.txt").read_text().split()
    # mapping.txt pairs a query string (as pyoai sent it) with the response file recorded for it.
    recorded = {frozenset(parse_qsl(q)): root / f for q, f in zip(lines[::2], lines[1::2], strict=True)}

    def respond(query: dict[str, str], n: int) -> tuple[int, dict[str, str], bytes]:
        path = recorded.get(frozenset(query.items()))
        return (200, {}, path.read_bytes()) if path else (404, {}, b"")

    server = serve(respond)
    (only,), _ = run(server.url, from_="2003-04-10T00:00:00Z")
    assert len(only.records) == 16 and not only.errors
    assert server.requests == [
        {"from": "2003-04-10T00:00:00Z", "metadataPrefix": "oai_dc", "verb": "ListRecords"}
    ]


def test_harvester_turns_bad_pages_into_errors(serve: Callable[[Responder], _Server]) -> None:
    def respond(query: dict[str, str], n: int) -> tuple[int, dict[str, str], bytes]:
        if query.get("resumptionToken") == "bad":
            return _ok(f'{_HEAD}<error code="badResumptionToken">expired</error></OAI-PMH>')
        if query.get("set") == "cut":
            return _ok(page(_dc("oai:a.cn:1", "One") + _dc("oai:a.cn:2", "Two"), token="t")[:-80])
        if query.get("set") == "busy":
            return 503, {"Retry-After": "5"}, b""
        if query.get("set") == "none":
            return _ok(f'{_HEAD}<error code="noRecordsMatch">none</error></OAI-PMH>')
        if query.get("set") == "loop" or query.get("resumptionToken") == "same":
            return _ok(page(_dc("oai:a.cn:9", "Nine"), token="same"))
        return _ok(page(_dc("oai:a.cn:1", "One"), token="bad"))

    server = serve(respond)
    (first, second), _ = run(server.url)
    assert len(first.records) == 1 and not first.errors
    assert [str(e) for e in second.errors] == ["第 2 页：OAI-PMH 错误 badResumptionToken：expired"]

    (cut,), _ = run(server.url, set_="cut")
    assert len(cut.records) == 1 and "第 1 页：第 2 条记录：XML 格式错误" in str(cut.errors[0])

    (busy,), waits = run(server.url, set_="busy", max_retries=2)
    assert [str(e) for e in busy.errors] == ["第 1 页：HTTP 503（服务器忙），重试 2 次后仍不可用"]
    assert waits == [5.0, 5.0]

    (empty,), _ = run(server.url, set_="none")
    assert empty.items == []  # an empty selective harvest is not an error

    loop, _ = run(server.url, set_="loop")
    assert len(loop) == 2 and "resumptionToken 重复" in str(loop[-1].errors[0])

    closed = "http://127.0.0.1:9/oai"  # the discard port: nothing listens
    (down,), _ = run(closed, max_retries=0)
    assert str(down.errors[0]).startswith("第 1 页：网络错误")
