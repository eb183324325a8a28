"""The report's 国内/国外 statements follow the databases searched, never the scope alone.

One test per scope: a 国内 case, a 国内外 case with a foreign database searched, and a 国内外 case
without one (which the check at submit refuses; its draft still must not claim a foreign search).
Also: the fields added for external searches leave old verification codes unchanged, and an issued
report prints its verification URL on every page and as the cover's QR code.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re

import docx

from reports import content, render_docx, render_html, verification
from reports.model import DatabaseSpan, Origin, ReportData, Scope
from reports.sample import sample_report


def _text(r: ReportData) -> str:
    d = docx.Document(io.BytesIO(render_docx(r)))
    parts = [p.text for p in d.paragraphs]
    for table in d.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


def _between(text: str, start: str, end: str) -> str:
    return text.split(start, 1)[1].split(end, 1)[0]


def _sections(r: ReportData) -> tuple[str, str]:
    """Sections 五 and 六 of the DOCX."""
    text = _text(r)
    return _between(text, "五、检索结果", "六、查新结论"), _between(text, "六、查新结论", "七、")


def _domestic_dbs(r: ReportData) -> tuple[DatabaseSpan, ...]:
    return tuple(db for db in r.databases if db.origin is Origin.domestic)


def test_domestic_scope_makes_no_foreign_statement() -> None:
    r = sample_report()
    domestic = dataclasses.replace(
        r,
        scope=Scope.domestic,
        databases=_domestic_dbs(r),
        documents=tuple(d for d in r.documents if d.origin is Origin.domestic),
    )
    five, six = _sections(domestic)
    assert "国外" not in five and "国外" not in six
    assert "国内密切相关文献" in five and "国内文献检索范围：" in six


def test_foreign_statement_when_a_foreign_database_was_searched() -> None:
    r = sample_report()
    assert r.scope is Scope.domestic_and_foreign and r.searched(Origin.foreign)
    five, six = _sections(r)
    assert "国外密切相关文献" in five and "国外一般相关文献" in five
    assert "国外文献检索范围：Web of Science Core Collection。" in six


def test_no_foreign_statement_in_a_domestic_and_foreign_case_without_a_foreign_search() -> None:
    r = sample_report()
    unsearched = dataclasses.replace(
        r,
        databases=_domestic_dbs(r),
        documents=tuple(d for d in r.documents if d.origin is Origin.domestic),
        results_summary="",
    )
    five, six = _sections(unsearched)
    # No "未检出国外文献" either: nothing foreign was searched, so nothing foreign can be claimed.
    assert "国外" not in five and "国外" not in six
    assert content.results_summary(unsearched).count("篇") == 3


def test_summary_is_printed_once_with_spaced_counts() -> None:
    r = dataclasses.replace(sample_report(), results_summary="")
    five, _ = _sections(r)
    sentence = content.results_summary(r)
    assert five.count("经检索，共检出") == 1
    # Every count is written "N 篇", with one space before 篇 and a space or bracket before N.
    assert re.findall(r"\d+篇", sentence) == [] and len(re.findall(r" \d+ 篇", sentence)) == 7


def test_added_fields_at_their_defaults_leave_the_code_unchanged() -> None:
    r = sample_report()
    plain = json.loads(verification.canonical_bytes(r))["report"]
    for db in plain["databases"]:
        assert ("origin" in db) is (db["name"] == "Web of Science Core Collection")
    assert all("external" not in s and "database_origin" not in s for s in plain["strategies"])
    assert all("database" not in d for d in plain["documents"]) and "verify_url" not in plain


def test_issued_report_prints_its_verification_url_and_qr_code() -> None:
    url = "https://chaxin.example.org/verify/20265200100001"
    r = dataclasses.replace(sample_report(draft=False), verify_url=url)
    html = render_html(r)
    assert f"核验网址：{url}" in html and 'src="data:image/svg+xml;base64,' in html
    d = docx.Document(io.BytesIO(render_docx(r)))
    assert url in "\n".join(p.text for p in d.sections[0].header.paragraphs)
    assert d.inline_shapes, "the QR code picture on the cover"
    draft = dataclasses.replace(sample_report(), verify_url=url)
    assert "核验网址" not in render_html(draft), "a draft has nothing to verify"
