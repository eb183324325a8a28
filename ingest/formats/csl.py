"""CSL (Chinese Scientific Literature) JSONL: one paper per line.

Fields: id, title, abstract, keywords (list), category (门类), discipline (学科).
"""

from __future__ import annotations

import json
from datetime import datetime

from pydantic import ValidationError

from ingest.errors import RecordError, reason
from ingest.formats.xml_safe import parser_words
from ingest.identity import record_id
from mappings.model import DocType, Record

MAX_LINE_BYTES = 1_000_000


def parse_line(line: str, *, now: datetime, version: int) -> Record:
    if len(line) > MAX_LINE_BYTES:
        raise RecordError(f"行过长（{len(line)} 字符，上限 {MAX_LINE_BYTES}）")
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        raise RecordError(f"不是合法的 JSON（第 {exc.colno} 列）。{parser_words(exc.msg)}") from None
    if not isinstance(raw, dict):
        raise RecordError("每行应为一个 JSON 对象")
    title = raw.get("title")
    if not isinstance(title, str) or not title.strip():
        raise RecordError("缺少题名（title）")
    keywords = raw.get("keywords") or []
    if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
        raise RecordError("关键词（keywords）应为字符串列表")
    source_id = str(raw.get("id") or "")
    try:
        return Record(
            id=record_id(title=title),
            source="csl",
            source_id=source_id or record_id(title=title),
            doc_type=DocType.journal_article,
            title=title.strip(),
            abstract=(raw.get("abstract") or None),
            keywords=[k.strip() for k in keywords if k.strip()],
            category=raw.get("category") or None,
            discipline=raw.get("discipline") or None,
            language="zh",
            ingested_at=now,
            version=version,
        )
    except ValidationError as exc:
        raise RecordError(reason(exc)) from None
