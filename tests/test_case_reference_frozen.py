"""A 查新 report keeps the references its documents had when they were added (issue 17 §6).

A case stores each document's record snapshot and its GB/T 7714 reference at add time
(casework.evidence.add_document), and the report prints the stored reference. So a report issued
before the formatter learnt a thesis's place and institution prints, and renders, exactly what it did;
a document added now gets the corrected reference. Application database only (SQLite, or PostgreSQL
when CI provides one); no Elasticsearch.
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from appdb import accounts
from appdb.models import CaseDocument, NoveltyCase
from appdb.session import session_factory
from casework import evidence, service
from casework.report import build_report
from mappings.model import Author, Record, ThesisInfo
from reports import render_docx
from search.export.gbt7714 import format_entry
from search.principal import Principal, Role
from tests.conftest import new_prefix

# What the formatter printed for this thesis before issue 17: no place, the university from `venue`.
BEFORE = "王琦. 融合星载 GNSS-R 和 SAR 数据的高时空分辨率土壤湿度反演方法研究[D]. 武汉大学，2022."
NOW = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture(scope="module", autouse=True)
def services() -> None:
    """Overrides conftest's session fixture that starts Elasticsearch and Redis: nothing here needs them."""


def _thesis(rid: str, **fields: object) -> dict[str, object]:
    record = Record(id=rid, source="test", source_id=rid, doc_type="thesis", ingested_at=NOW, version=1,
                    title="融合星载 GNSS-R 和 SAR 数据的高时空分辨率土壤湿度反演方法研究",
                    authors=[Author(name="王琦", order=1)], year=2022, language="zh", **fields)  # fmt: skip
    return record.model_dump(mode="json")


def test_a_report_prints_the_references_stored_when_its_documents_were_added(database_url: str) -> None:
    db = session_factory(database_url)
    tag = new_prefix("ref").replace("-", "")
    with db.begin() as s:
        accounts.create_centre(s, code=tag, name="参考文献分中心", province_code="52", institution_no="009",
                               pattern="most")  # fmt: skip
        ana = accounts.create_user(
            s, username=f"a{tag}", password="Test-pass-1", centre=tag, roles=["analyst"]
        )
        analyst = Principal(
            user_id=ana.id, roles=frozenset({Role.analyst}), centre=tag, owner=f"user:{ana.id}"
        )
        case = service.create_case(s, analyst, {
            "project_name_zh": "参考文献冻结测试", "client_name": "测试委托人", "commission_date": "2026-01-05",
            "purpose": "成果", "scope": "国内", "purpose_text": "鉴定", "technical_points": "要点",
            "requirements": "有无相同研究", "overall_conclusion": "未见相同报道"})  # fmt: skip
        service.add_point(s, analyst, case.id, "查新点")
        # Added before the change: the record as the index held it then, the reference as printed then.
        old = evidence.add_document(
            s, analyst, case.id, _thesis("t-old", venue="武汉大学"), {"points": ["NP-1"]}
        )
        old.reference = BEFORE
        new_record = _thesis("t-new", place="武汉", thesis=ThesisInfo(institution="武汉大学"))
        new = evidence.add_document(s, analyst, case.id, new_record, {"points": ["NP-1"]})
        case_id, old_id, new_id = case.id, old.id, new.id

    with db() as s:
        case = s.get(NoveltyCase, case_id)
        assert case is not None
        first = build_report(s, case)
        printed = {d.reference for d in first.documents}
        stored = {
            d.id: d.reference for d in s.scalars(select(CaseDocument).where(CaseDocument.case_id == case_id))
        }
        assert stored[old_id] == BEFORE and BEFORE in printed  # not re-formatted from its snapshot
        assert format_entry(_thesis("t-old", venue="武汉大学")) != BEFORE  # …which would now read differently
        corrected = (
            "王琦. 融合星载 GNSS-R 和 SAR 数据的高时空分辨率土壤湿度反演方法研究[D]. 武汉：武汉大学，2022."
        )
        assert stored[new_id] == corrected and corrected in printed
        again = build_report(s, case)
        assert again == first
        # The same text, byte for byte (the zip container itself carries the time it was written).
        assert _parts(render_docx(again)) == _parts(render_docx(first))
        assert BEFORE.encode("utf-8") in _parts(render_docx(first))["word/document.xml"]


def _parts(docx: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(docx)) as z:
        return {name: z.read(name) for name in z.namelist()}
