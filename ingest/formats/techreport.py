"""Chaxin's own exchange format for 科技报告 (tech reports): techreport-1.0 XML, with optional PDF full text.

The schema is ingest/formats/schemas/techreport-1.0.xsd (namespace urn:chaxin:techreport:1.0), described
in docs/techreport-format.md. A file holds one <report> or a <reports> batch.

The file is validated against the XSD as a whole, and each schema error is charged to the report it sits
in (by its path), so one bad report in a batch is rejected with its line, element and reason in Chinese
while the others still go in. Rules the XSD cannot state (dates in order) are checked here.

A report's PDF (<fulltext href="…"/>, relative to the XML file) becomes Record.full_text. A missing,
unreadable or out-of-folder PDF does not reject the report, whose metadata is the point of the exchange:
the record goes in without full text and the problem is logged.

Batches are metadata only (a few KB per report), so a file is parsed whole; MAX_FILE_BYTES bounds it.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from lxml import etree
from pydantic import ValidationError
from pypdf import PdfReader

from ingest.errors import RecordError, reason
from ingest.formats import xml_safe
from ingest.formats.xml_safe import parser_words, syntax_error
from ingest.identity import record_id
from ingest.normalize_text import clean_or_none, clean_text, join_lines, tidy_title
from mappings.model import AccessLevel, Author, DocType, Record, TechReportInfo

Element = Any  # lxml is untyped

log = logging.getLogger(__name__)

NS = "urn:chaxin:techreport:1.0"
SCHEMA_PATH = Path(__file__).with_name("schemas") / "techreport-1.0.xsd"
SOURCE = "techreport"
MAX_FILE_BYTES = 50_000_000
MAX_PDF_BYTES = 200_000_000
MAX_FULL_TEXT_CHARS = 2_000_000  # a few hundred pages; more is an appendix of tables, not searchable prose

_LEVELS = {
    "public": AccessLevel.public,
    "embargoed": AccessLevel.embargoed,
    "restricted": AccessLevel.restricted,
}
_REPORT_PATH = re.compile(r"^/\*/\*\[(\d+)\]|^/\*/\*(?=/|$)")
_TYPE_NAMES = {
    "xs:date": "日期（YYYY-MM-DD）",
    "xs:dateTime": "日期时间",
    "xs:positiveInteger": "正整数",
    "xs:boolean": "布尔值（true/false）",
    "xs:language": "语言代码（如 zh、en）",
    "xs:anyURI": "URI",
}


@functools.cache
def schema() -> etree.XMLSchema:
    """The techreport-1.0 schema, read once per process."""
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH), xml_safe.parser(remove_comments=True)))


# --- schema errors in Chinese -----------------------------------------------------------------------


def _local_names(text: str) -> str:
    return re.sub(r"\{[^}]*\}", "", text)


def _expected(text: str) -> str:
    names = [n.strip() for n in _local_names(text).split(",") if n.strip()]
    return "、".join(f"<{n}>" for n in names)


_MESSAGES: list[tuple[re.Pattern[str], Any]] = [
    (re.compile(r"The attribute '([^']+)' is required but missing"), lambda m: f"缺少必需的属性 {m[1]}"),
    (re.compile(r"The attribute '([^']+)' is not allowed"), lambda m: f"不允许属性 {m[1]}"),
    (
        re.compile(r"This element is not expected\. Expected is (?:one of )?\( (.*) \)"),
        lambda m: f"此处不应出现该元素，应为 {_expected(m[1])}",
    ),
    (re.compile(r"This element is not expected"), lambda m: "此处不应出现该元素"),
    (
        re.compile(r"Missing child element\(s\)\. Expected is (?:one of )?\( (.*) \)"),
        lambda m: f"缺少子元素 {_expected(m[1])}",
    ),
    (
        re.compile(r"'(.*)' is not a valid value of the (?:atomic|local atomic) type '([^']+)'"),
        lambda m: f"“{m[1]}”不是有效的{_TYPE_NAMES.get(m[2], '值（' + _local_names(m[2]) + '）')}",
    ),
    (
        re.compile(r"\[facet 'enumeration'\] The value '(.*)' is not an element of the set \{(.*)\}"),
        lambda m: f"“{m[1]}”不是允许的取值（可选：{m[2].replace(chr(39), '')}）",
    ),
    (
        re.compile(r"\[facet 'pattern'\] The value '(.*)' is not accepted"),
        lambda m: f"“{m[1]}”不符合规定格式",
    ),
    (
        re.compile(r"\[facet 'maxLength'\] The value has a length of '(\d+)'.*maximum length of '(\d+)'"),
        lambda m: f"长度 {m[1]} 超过上限 {m[2]}",
    ),
    (re.compile(r"\[facet 'minLength'\]"), lambda m: "内容不能为空"),
    (
        re.compile(r"Duplicate key-sequence \['(.*)'\] in unique identity-constraint '([^']+)'"),
        lambda m: f"“{m[1]}”重复（{'报告编号' if 'ReportNo' in m[2] else '作者顺序'}在文件内必须唯一）",
    ),
    (re.compile(r"does not match the fixed value constraint '(.*)'"), lambda m: f"值必须为 {m[1]}"),
    (re.compile(r"Character content other than whitespace is not allowed"), lambda m: "此元素只能包含子元素"),
    (re.compile(r"No matching global declaration"), lambda m: "根元素不是 <reports> 或 <report>"),
]


def schema_message(message: str) -> str:
    """ "元素 <embargoed>：缺少必需的属性 until" from libxml2's English schema message."""
    head = re.match(r"Element '([^']+)'(?:, attribute '([^']+)')?: (.*)", message, re.DOTALL)
    element, attribute, body = (head[1], head[2], head[3]) if head else (None, None, message)
    where = f"元素 <{_local_names(element)}>" if element else "文件"
    if attribute:
        where += f" 的属性 {attribute}"
    for pattern, render in _MESSAGES:
        if m := pattern.search(body):
            return f"{where}：{render(m)}"
    return f"{where}：不符合 techreport-1.0 模式。{parser_words(_local_names(body))}"


def _report_index(path: str | None, single: bool) -> int | None:
    """1-based index of the report an error path points into; None for the <reports> element itself."""
    if single:
        return 1
    m = _REPORT_PATH.match(path or "")
    if not m:
        return None
    return int(m[1]) if m[1] else 1


# --- mapping ----------------------------------------------------------------------------------------


def _q(name: str) -> str:
    return f"{{{NS}}}{name}"


def _text(el: Element | None, *, title: bool = False) -> str | None:
    """Text without entity references: a declared or undeclared entity contributes nothing."""
    if el is None:
        return None
    parts = [el.text or ""]
    for child in el:
        if isinstance(child.tag, str):
            parts.append(_text(child) or "")
        parts.append(child.tail or "")
    return clean_or_none("".join(parts), title=title)


def _find_text(el: Element, path: str, *, title: bool = False) -> str | None:
    return _text(el.find(path, {"t": NS}), title=title)


def _all_text(el: Element, path: str) -> list[str]:
    return [t for e in el.findall(path, {"t": NS}) if (t := _text(e))]


def _date(value: str | None) -> date | None:
    # The schema has already checked xs:date; a timezone suffix ("2024-01-20+08:00") is dropped.
    return date.fromisoformat(value[:10]) if value else None


def _authors(report: Element) -> list[Author]:
    people = []
    for el in report.findall("t:authors/t:author", {"t": NS}):
        affiliations = list(dict.fromkeys(_all_text(el, "t:affiliation")))
        people.append(
            Author(
                name=_find_text(el, "t:name") or "",
                affiliation=affiliations[0] if affiliations else None,
                affiliations=affiliations,
                order=int(el.get("order")),
                corresponding=el.get("corresponding") in ("true", "1"),
            )
        )
    return sorted(people, key=lambda a: a.order)


def _access(report: Element, completed: date | None) -> tuple[AccessLevel, date | None]:
    access = report.find(_q("access"))
    chosen = next((c for c in access if isinstance(c.tag, str)), None) if access is not None else None
    if chosen is None or (level := _LEVELS.get(etree.QName(chosen).localname)) is None:
        raise RecordError("缺少公开范围（<access>）")
    until = _date(chosen.get("until")) if level is AccessLevel.embargoed else None
    # The XSD already requires it; kept so the rule holds even if the schema is loosened.
    if level is AccessLevel.embargoed and until is None:
        raise RecordError('延期公开的报告必须给出延期截止日期（<embargoed until="YYYY-MM-DD"/>）')
    if until is not None and completed is not None and until <= completed:
        raise RecordError(f"延期公开截止日期 {until} 不晚于编制日期 {completed}")
    return level, until


def _funds(report: Element) -> list[str]:
    funding = report.find(_q("funding"))
    if funding is None:
        return []
    plan, number, name = (_find_text(funding, f"t:{n}") for n in ("plan", "projectNo", "projectName"))
    label = "：".join(p for p in (plan, name) if p)
    return [f"{label}（{number}）" if number else label] if label or number else []


def _record(report: Element, *, base: Path, now: datetime, version: int) -> Record:
    report_no = _find_text(report, "t:reportNo") or ""
    title = tidy_title(_find_text(report, "t:title", title=True))
    completed = _date(_find_text(report, "t:dates/t:completed"))
    published = _date(_find_text(report, "t:dates/t:published"))
    if published is not None and completed is not None and published < completed:
        raise RecordError(f"发布日期 {published} 早于编制日期 {completed}")
    level, until = _access(report, completed)
    funding = report.find(_q("funding"))
    fulltext = report.find(_q("fulltext"))
    full_text = _pdf_text(base, fulltext.get("href"), report_no) if fulltext is not None else None
    year_date = published or completed
    keywords = _all_text(report, "t:keywords/t:keyword") + _all_text(report, "t:keywords/t:keywordEn")
    try:
        return Record(
            id=record_id(title=title, report_no=report_no),
            source=SOURCE,
            source_id=report_no,
            doc_type=DocType.tech_report,
            title=title,
            title_en=tidy_title(_find_text(report, "t:titleEn", title=True)) or None,
            authors=_authors(report),
            abstract=_find_text(report, "t:abstract"),
            keywords=list(dict.fromkeys(keywords)),
            year=year_date.year if year_date else None,
            date=year_date.isoformat() if year_date else None,  # GB/T 7714-2025 8.8.3 发布日期
            clc=list(dict.fromkeys(_all_text(report, "t:clc"))),
            discipline=_find_text(report, "t:discipline"),
            category=_find_text(report, "t:reportType"),
            language=(_find_text(report, "t:language") or "zh").lower(),
            funds=_funds(report),
            full_text=full_text,
            ingested_at=now,
            version=version,
            tech_report=TechReportInfo(
                report_no=report_no,
                access_level=level,
                embargo_until=until,
                plan=_find_text(funding, "t:plan") if funding is not None else None,
                project_no=_find_text(funding, "t:projectNo") if funding is not None else None,
                organisation=_find_text(report, "t:organisation"),
            ),
        )
    except ValidationError as exc:
        raise RecordError(reason(exc)) from None


# --- PDF full text ----------------------------------------------------------------------------------


def _pdf_text(folder: Path, href: str | None, report_no: str) -> str | None:
    """The PDF's text, or None (logged) when it is missing, outside the folder or unreadable."""
    base = folder.resolve()
    target = (base / (href or "")).resolve()
    # A symlink or "../" must not let an uploaded batch read files elsewhere on the server.
    if not href or not target.is_relative_to(base):
        log.warning("科技报告 %s：全文路径 %r 不在报告文件所在目录内，未读取全文", report_no, href)
        return None
    if not target.is_file():
        log.warning("科技报告 %s：全文 PDF 不存在（%s），仅导入元数据", report_no, target.name)
        return None
    if target.stat().st_size > MAX_PDF_BYTES:
        log.warning("科技报告 %s：全文 PDF 过大（%s），仅导入元数据", report_no, target.name)
        return None
    try:
        reader = PdfReader(target, strict=False)
        if reader.is_encrypted:
            reader.decrypt("")  # many reports are "protected" with an empty user password
        pages = [page.extract_text() or "" for page in reader.pages]
    except Exception as exc:  # noqa: BLE001 - pypdf raises many types on damaged files; metadata still counts
        log.warning("科技报告 %s：全文 PDF 无法读取（%s：%s），仅导入元数据", report_no, target.name, exc)
        return None
    text = "\n\n".join(_page_text(p) for p in pages).strip()
    if not text:
        log.warning("科技报告 %s：全文 PDF 没有可提取的文字（可能是扫描件）", report_no)
        return None
    return text[:MAX_FULL_TEXT_CHARS]


def _page_text(raw: str) -> str:
    """A page's lines re-joined into paragraphs.

    PDF text comes out one layout line at a time, so a Chinese word broken at the margin ("番\n茄") has to
    be joined again for phrase search. A line nearly as long as the page's longest is taken to wrap; a
    shorter one (a heading, a paragraph's last line) or one closing a Chinese sentence ends its paragraph.
    """
    lines = [line for raw_line in raw.splitlines() if (line := clean_text(raw_line))]
    full = max((len(line) for line in lines), default=0)
    paragraphs: list[str] = []
    current = ""
    for line in lines:
        current = join_lines(current, line)
        if len(line) < 0.8 * full or line.endswith(("。", "！", "？", "：")):
            paragraphs.append(current)
            current = ""
    if current:
        paragraphs.append(current)
    return "\n".join(paragraphs)


# --- entry point ------------------------------------------------------------------------------------


def _parse(data: bytes) -> Element:
    encoding = None
    if b"encoding=" not in data[:200]:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            encoding = "gb18030"  # a Chinese file saved as GBK without saying so
    return etree.fromstring(data, xml_safe.parser(remove_comments=True, encoding=encoding))


def parse_file(
    path: Path, *, now: datetime, version: int, fulltext_dir: Path | None = None
) -> Iterator[Record | RecordError]:
    """One Record per valid <report>; a positioned Chinese RecordError for each invalid one.

    `fulltext_dir` is where <fulltext href> names are looked up, the XML file's own folder by default;
    a caller that parses a copy of the file (the raw store) passes the folder it was submitted from.
    """
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        yield RecordError(f"文件过大（{size} 字节，上限 {MAX_FILE_BYTES}）")
        return
    data = path.read_bytes()
    if not data.strip(b"\xef\xbb\xbf \t\r\n"):
        yield RecordError("文件为空")
        return
    if data.startswith(b"%PDF"):
        yield RecordError(
            "这是 PDF 文件，不是 techreport XML；全文 PDF 由引用它的报告（<fulltext href>）读取"
        )
        return
    try:
        root = _parse(data)
    except etree.XMLSyntaxError as exc:
        line = f"第 {exc.lineno} 行" if exc.lineno else "文件"
        yield RecordError(syntax_error(line, exc.msg))
        return
    name = etree.QName(root)
    if name.namespace != NS or name.localname not in ("reports", "report"):
        yield RecordError(
            f"文件不是科技报告交换格式 techreport-1.0（根元素为 <{name.localname}>，"
            f"命名空间 {name.namespace or '无'}；应为 {NS} 中的 <reports> 或 <report>）"
        )
        return
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        # The format has no DTD; entity declarations only ever serve XXE or entity-expansion attacks.
        yield RecordError("文件含有实体声明（<!ENTITY>），techreport-1.0 不允许 DTD 实体")
        return
    single = name.localname == "report"
    reports = [root] if single else [c for c in root if c.tag == _q("report")]
    validator = schema()
    try:
        valid = validator.validate(etree.ElementTree(root))
    except etree.XMLSchemaValidateError as exc:
        yield RecordError(f"文件无法按 techreport-1.0 模式校验。{parser_words(str(exc))}")
        return
    problems: dict[int | None, list[str]] = {}
    for err in [] if valid else validator.error_log:
        problems.setdefault(_report_index(err.path, single), []).append(
            f"第 {err.line} 行，{schema_message(err.message)}"
        )
    if None in problems:
        yield RecordError("文件不符合 techreport-1.0 模式：" + "；".join(problems[None]))
        return
    for n, report in enumerate(reports, 1):
        label = _find_text(report, "t:reportNo")
        position = f"第 {n} 份报告" + (f"（{label}）" if label else "")
        if n in problems:
            yield RecordError(f"{position}：" + "；".join(problems[n]))
            continue
        try:
            yield _record(report, base=fulltext_dir or path.parent, now=now, version=version)
        except (RecordError, ValidationError) as exc:
            yield RecordError(f"{position}：{reason(exc)}")
