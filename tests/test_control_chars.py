"""Control characters never make a report unprintable (issue 14, break 4).

`\\x00`, `\\x0b` or `\\x1f` in a case field once made report.docx answer 500 for good, and the centre's
zip of the period with it. Inputs are now cleaned of what XML 1.0 forbids; what stored data may still
hold is printed as U+FFFD; and one report that cannot be rendered is named in the zip's index while
the others are still in it. Pure rendering here; the API side is in test_cases.py.
"""

from __future__ import annotations

import dataclasses
import io
import zipfile

import pytest
from docx import Document as DocxDocument
from openpyxl import load_workbook

from casework.archive import ArchivedReport, write_zip
from casework.core import CaseError, clean_text, string_list
from conf.xml_chars import xml_clean
from reports import compute_code, render_docx, render_pdf
from reports.sample import sample_report

HOSTILE = "委托\x00人\x0b名称\x1f\ufffe"


def _issued_with(**changes: str) -> object:
    report = sample_report(draft=False)
    signed = dataclasses.replace(report, draft=True, verification_code=None, **changes)
    return dataclasses.replace(signed, draft=False, verification_code=compute_code(signed))


def test_inputs_are_cleaned_of_what_xml_forbids() -> None:
    assert xml_clean(HOSTILE) == "委托人名称"
    assert xml_clean("tab\tnew\nline\r") == "tab\tnew\nline\r"
    assert clean_text(HOSTILE, "委托人", 100) == "委托人名称"
    assert string_list(["\x00", "石墨烯\x1f"], "检索词") == ["石墨烯"]
    with pytest.raises(CaseError):
        clean_text(1, "委托人", 100)


def test_stored_control_characters_still_render() -> None:
    report = _issued_with(remarks="备注\x00内容\x0b结束", technical_points="要点\x1f")
    docx = render_docx(report)  # type: ignore[arg-type]
    text = "\n".join(p.text for p in DocxDocument(io.BytesIO(docx)).paragraphs)
    assert "备注\ufffd内容\ufffd结束" in text
    assert render_pdf(report).startswith(b"%PDF")  # type: ignore[arg-type]


def test_one_broken_report_never_breaks_the_zip() -> None:
    good = _issued_with(remarks="正常\x00备注")
    broken = dataclasses.replace(sample_report(draft=False), verification_code="0" * 64)  # tampered
    items = [ArchivedReport("GOOD-1", good), ArchivedReport("BAD-2", broken)]  # type: ignore[arg-type]
    with write_zip(items) as out:
        zf = zipfile.ZipFile(io.BytesIO(out.read()))
    assert sorted(zf.namelist()) == ["GOOD-1.docx", "GOOD-1.pdf", "index.xlsx"]
    rows = list(
        load_workbook(io.BytesIO(zf.read("index.xlsx")), read_only=True).active.iter_rows(values_only=True)
    )
    assert rows[1][-2:] == ("GOOD-1.pdf", "GOOD-1.docx")
    assert rows[2][0] == "BAD-2" and "无法" in rows[2][-2]
