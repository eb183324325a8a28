"""CSSCI (中文社会科学引文索引) text downloads: one block of 【标签】 fields per paper, its 参考文献 below.

A file starts with a short header (南京大学中国社会科学研究评价中心 …), then blocks separated by a line of
dashes, each `【来源篇名】 【英文篇名】 【来源作者】 【基    金】 【期    刊】 【第一机构】 【机构名称】 【第一作者】
【中图类号】 【年代卷期】 【关 键 词】 【基金类别】 【参考文献】`, the last followed by one reference per line.
Labels are recognised only from this list and only at the start of a line, because a reference may
itself contain a bracketed 【…】 string. CSSCI indexes journal papers only, so every record is one.

Files come in UTF-8 or, from older clients, GB18030 without any declaration; tagged.read_text tells them
apart. A block that stops before 【参考文献】 is a truncated download: it is reported, not half-indexed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from ingest.errors import RecordError, reason
from ingest.formats.tagged import read_text
from ingest.identity import record_id
from ingest.normalize_text import (
    author_key,
    clean_or_none,
    clean_text,
    has_cjk,
    normalize_number,
    normalize_pages,
    tidy_title,
)
from mappings.citations.parse import parse_cssci_reference
from mappings.model import Author, DocType, Record

# Label (spaces removed) -> field name. The ID labels are those of CSSCI's later clients; the 2.1 client
# writes none, and the record ID stands in for the accession number then.
_LABELS = {
    "来源篇名": "title", "英文篇名": "title_en", "来源作者": "authors", "基金": "funds", "期刊": "venue",
    "第一机构": "first_institution", "机构名称": "institutions", "第一作者": "first_author",
    "中图类号": "clc", "年代卷期": "issue_info", "关键词": "keywords", "基金类别": "fund_kind",
    "参考文献": "references", "CSSCIID": "cssci_id", "来源文献ID": "cssci_id", "文献编号": "cssci_id",
}  # fmt: skip
_LABEL_LINE = re.compile(r"^【([^】]{1,12})】(.*)$")
_SEPARATOR = re.compile(r"^-{20,}\s*$")
_HEADER = "中国社会科学研究评价中心"
# "2022,42(1):69-79", "2019,(6):12-18,25".
_ISSUE_INFO = re.compile(
    r"^\s*(\d{4})\s*[,，]?\s*(\d*)\s*(?:[(（]\s*([^)）]*?)\s*[)）])?\s*(?:[:：]\s*(.*?))?[,，\s]*$"
)
_INSTITUTION = re.compile(r"\[([^\]]+)\]([^/\[]*)")
_ID_SHAPE = re.compile(r"^[A-Za-z0-9\-]{6,40}$")


@dataclass
class _Block:
    number: int
    start_line: int
    fields: dict[str, str] = field(default_factory=dict)
    references: list[str] = field(default_factory=list)


def _label(raw: str) -> str | None:
    key = re.sub(r"[\s\u3000]+", "", raw)
    return _LABELS.get(key) or _LABELS.get(key.upper())


def _blocks(text: str) -> Iterator[_Block]:
    current: _Block | None = None
    last: str | None = None
    number = 0
    for lineno, line in enumerate(text.split("\n"), 1):
        line = line.rstrip()
        if _SEPARATOR.match(line):
            if current is not None:
                yield current
            current, last = None, None
            continue
        m = _LABEL_LINE.match(line)
        name = _label(m.group(1)) if m else None
        if m and name:
            if current is None or (name == "title" and "title" in current.fields):
                if current is not None:
                    yield current  # a new paper without the dashed line between them
                number += 1
                current = _Block(number, lineno)
            current.fields[name] = m.group(2).strip()
            last = name
        elif current is None or not line.strip():
            continue  # the file header, blank lines
        elif last == "references":
            current.references.append(line.strip())
        elif last is not None:
            current.fields[last] = f"{current.fields[last]} {line.strip()}".strip()
    if current is not None:
        yield current


def _slash_list(value: str | None) -> list[str]:
    return list(dict.fromkeys(v for p in (value or "").split("/") if (v := clean_text(p))))


def _institution(text: str) -> str:
    # "华中师范大学.信息管理学院": the dot separates levels; Chinese names join without it.
    parts = [p.strip() for p in text.split(".") if p.strip()]
    out = ""
    for p in parts:
        out += p if not out or (has_cjk(out[-1]) and has_cjk(p[0])) else ", " + p
    return clean_text(out)


def _affiliations(value: str | None, names: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for who, where in _INSTITUTION.findall(value or ""):
        if (inst := _institution(where)) and inst not in found.setdefault(clean_text(who), []):
            found[clean_text(who)].append(inst)
    return {n: found.get(n, []) for n in names}


def _record(block: _Block, *, now: datetime, version: int) -> Record:
    f = block.fields
    title = tidy_title(f.get("title"))
    if not title:
        raise RecordError("缺少题名（【来源篇名】为空）")
    if "references" not in f:
        raise RecordError("记录不完整，在【参考文献】之前中断（文件可能被截断），未入库")
    # Not deduplicated: two co-authors may both be called 王伟.
    names = [n for p in (f.get("authors") or "").split("/") if (n := clean_text(p))]
    first = clean_text(f.get("first_author"))
    if not names and first:
        names = [first]
    affs = _affiliations(f.get("institutions"), names)
    if first and names and not affs.get(names[0]) and f.get("first_institution"):
        affs[names[0]] = [clean_text(f["first_institution"])]
    authors = [
        Author(name=n, affiliation=affs[n][0] if affs[n] else None, affiliations=affs[n], order=i)
        for i, n in enumerate(names, 1)
    ]
    info = _ISSUE_INFO.match(f.get("issue_info") or "")
    year = int(info.group(1)) if info else None
    venue = clean_or_none(f.get("venue"))
    rid = record_id(title=title, year=year, first_author=author_key(names[0]) if names else None)
    cssci_id = clean_text(f.get("cssci_id"))
    try:
        return Record(
            id=rid,
            source="cssci",
            source_id=cssci_id if _ID_SHAPE.match(cssci_id) else rid,
            doc_type=DocType.journal_article,
            title=title,
            title_en=tidy_title(f.get("title_en")) or None,
            authors=authors,
            keywords=_slash_list(f.get("keywords")),
            venue=venue,
            year=year,
            volume=normalize_number(info.group(2)) if info else None,
            issue=normalize_number(info.group(3)) if info else None,
            pages=normalize_pages(info.group(4)) if info and info.group(4) else None,
            clc=_slash_list(f.get("clc")),
            language="zh" if has_cjk(title) else "en",
            funds=_slash_list(f.get("funds")),
            references=[parse_cssci_reference(line) for line in block.references],
            ingested_at=now,
            version=version,
        )
    except ValidationError as exc:
        raise RecordError(reason(exc)) from None


def parse_text(text: str, *, now: datetime, version: int) -> Iterator[Record | RecordError]:
    """Records from a CSSCI download's text; one RecordError (numbered, with its line) per bad block."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    n = 0
    for block in _blocks(text):
        n += 1
        try:
            yield _record(block, now=now, version=version)
        except RecordError as exc:
            yield RecordError(f"第 {block.number} 条记录（第 {block.start_line} 行）：{exc}")
    if n == 0:
        hint = "" if _HEADER in text[:500] else "（文件开头不是 CSSCI 下载文件的格式，请确认导出格式）"
        yield RecordError(f"CSSCI 文件中没有找到任何记录（【来源篇名】）{hint}")


def parse_file(path: Path, *, now: datetime, version: int) -> Iterator[Record | RecordError]:
    try:
        text = read_text(path)
    except RecordError as exc:
        yield exc
        return
    yield from parse_text(text, now=now, version=version)
