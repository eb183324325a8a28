"""Chinese standard (GB, sector, association) metadata: Relaton XML and YAML, and openstd.samr.gov.cn pages.

Three shapes reach us, told apart by content, not by file name:

- Relaton `<bibdata>` / `<bibitem>` XML (relaton-gb) and a `<relaton-collection>` of them; the YAML form
  of the same bibitem.
- openstd 国家标准全文公开系统 detail pages (`newGbInfo?hcno=…`): one standard each.
- openstd search result pages (`std_list?p.p2=…`): one thinner record per result row (number, title,
  status, dates); a page with no hits is a RecordError.

Decisions:
- One record per concrete standard. A Relaton "GB/T 5606 (all parts)" item names a series, not a
  document (its title is one part's title), so it yields the parts it embeds and nothing for itself.
- Every shape keys the record on the canonical standard number, so the same standard from Relaton and
  from openstd gets the same id and the pipeline merges them. Their `source_id`s differ per shape
  (relaton:…, openstd:…, openstd-list:…) so a thin result row never replaces a detail page as
  "a newer version of the same source".
- Relaton stages are mapped onto openstd's Chinese statuses (现行 / 废止 / 即将实施).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import lxml.html
import yaml
from lxml import etree
from pydantic import ValidationError

from ingest.errors import RecordError, reason
from ingest.formats import xml_safe
from ingest.formats._file import read_limited
from ingest.formats.xml_safe import syntax_error
from ingest.formats.xml_tree import Element, child, children, local
from ingest.identity import record_id
from ingest.normalize_text import (
    clean_or_none,
    clean_text,
    looks_like_standard_number,
    normalize_standard_number,
    parse_date,
    tidy_title,
)
from mappings.model import DocType, Record, StandardInfo

MAX_FILE_BYTES = 20_000_000
SOURCE = "gbstd"
_OPENSTD_URL = "https://openstd.samr.gov.cn/bzgk/gb/newGbInfo?hcno={}"

_STATUS = {
    "现行": "现行",
    "废止": "废止",
    "即将实施": "即将实施",
    # Relaton / generic lifecycle words
    "activated": "现行",
    "active": "现行",
    "published": "现行",
    "valid": "现行",
    "current": "现行",
    "in force": "现行",
    "obsoleted": "废止",
    "obsolete": "废止",
    "withdrawn": "废止",
    "abolished": "废止",
    "cancelled": "废止",
    "replaced": "废止",
    "superseded": "废止",
    "to be implemented": "即将实施",
    "tobe-activated": "即将实施",
    "to-be-activated": "即将实施",
    "upcoming": "即将实施",
    "approved": "即将实施",
}
_REPLACES_RELATIONS = {"obsoletes", "replaces", "supersedes"}
_REPLACED_BY_RELATIONS = {"obsoletedby", "replacedby", "supersededby"}
_PART_RELATIONS = {"instanceof", "hasinstance", "haspart"}
_ALL_PARTS = re.compile(r"\s*[(（]\s*(?:all parts|所有部分)\s*[)）]\s*$", re.IGNORECASE)
# A standard number inside free text (openstd 备注 "2005-03-01实施,代替GB/T 5606.1-1996").
_NUMBER_IN_TEXT = re.compile(
    r"(?<![A-Za-z])[A-Z]{1,8}\d{0,2}(?:/[A-Z]{1,8})?\s*\d+(?:\.\d+)*(?:\s*[-—–－]+\s*(?:19|20)\d\d)?"
)
_LIST_COLUMNS = ("标准号", "标准名称", "状态", "发布日期", "实施日期")
_CODE_SPLIT = re.compile(r"[\s,;，；、]+")
_HCNO = re.compile(r"(?:hcno=|showInfo\(')([0-9A-Fa-f]{32})")


class _WrongFormat(RecordError):
    """The whole file is not one of the shapes this module reads."""


@dataclass
class _Std:
    """What any of the shapes says about one standard, before it becomes a Record."""

    number: str
    source_id: str
    title: str | None = None
    title_en: str | None = None
    status: str | None = None
    issue_date: date | None = None
    implementation_date: date | None = None
    ics: list[str] = field(default_factory=list)
    ccs: list[str] = field(default_factory=list)
    replaces: list[str] = field(default_factory=list)
    replaced_by: list[str] = field(default_factory=list)
    publisher: str | None = None
    url: str | None = None


# --- shared helpers ---------------------------------------------------------------------------------


def standard_number(value: str | None, id_type: str | None = None) -> str | None:
    """The canonical number, stricter than normalize_standard_number about what counts as one.

    Relaton YAML/XML from relaton-gb can split the prefix off ("type: JB", "id: T13368"); it is joined
    back. A series marker "(all parts)" is not part of the number and is dropped (see `is_all_parts`).
    Values that still do not look like a standard number give None.
    """
    text = clean_text(value)
    if not text:
        return None
    text = _ALL_PARTS.sub("", text)
    prefix = clean_text(id_type).upper()
    if prefix and prefix not in ("CHINESE STANDARD", "GB STANDARD") and not text.upper().startswith(prefix):
        # "T13368" under type "JB" is JB/T 13368; "13368" under "JB" is JB 13368.
        text = f"{prefix}/{text}" if re.match(r"^[TZ]\s*\d", text, re.IGNORECASE) else f"{prefix} {text}"
    number = normalize_standard_number(text)
    return number if looks_like_standard_number(number) else None


def is_all_parts(value: str | None) -> bool:
    return bool(value) and _ALL_PARTS.search(clean_text(value)) is not None


def status_zh(value: str | None) -> str | None:
    """openstd's Chinese status for a Relaton stage or a Chinese status; unknown values kept as given."""
    text = clean_text(value)
    if not text:
        return None
    return _STATUS.get(text.lower(), text)


def _codes(values: Iterable[str | None]) -> list[str]:
    out = [c for v in values for c in _CODE_SPLIT.split(clean_text(v)) if c]
    return list(dict.fromkeys(out))


def _numbers(values: Iterable[str | None]) -> list[str]:
    return list(dict.fromkeys(n for v in values if (n := standard_number(v))))


def _remark_links(remark: str | None) -> tuple[list[str], list[str]]:
    """(replaces, replaced_by) from an openstd 备注 such as "2005-03-01实施,代替GB/T 5606.1-1996"."""
    replaces: list[str] = []
    replaced_by: list[str] = []
    text = unicodedata.normalize("NFKC", remark or "")
    for clause in re.split(r"[,;，；。]", text):
        if not re.search(r"代替|替代|取代", clause):
            continue
        found = [n for m in _NUMBER_IN_TEXT.finditer(clause) if (n := standard_number(m.group(0)))]
        # "被GB/T x-2020代替" / "被代替": this standard is the one replaced.
        (replaced_by if "被" in clause else replaces).extend(found)
    return list(dict.fromkeys(replaces)), list(dict.fromkeys(replaced_by))


def _record(std: _Std, *, now: datetime, version: int) -> Record:
    title = tidy_title(std.title)
    if not title:
        raise RecordError(f"{std.number}：缺少中文标准名称")
    try:
        return Record(
            id=record_id(title=title, standard_number=std.number),
            source=SOURCE,
            source_id=std.source_id,
            doc_type=DocType.standard,
            title=title,
            title_en=tidy_title(std.title_en) or None,
            year=std.issue_date.year if std.issue_date else None,
            publisher=std.publisher,
            url=std.url,
            language="zh",
            ingested_at=now,
            version=version,
            standard=StandardInfo(
                standard_number=std.number,
                status=std.status,
                issue_date=std.issue_date,
                implementation_date=std.implementation_date,
                ics=std.ics,
                ccs=std.ccs,
                replaces=[n for n in std.replaces if n != std.number],
                replaced_by=[n for n in std.replaced_by if n != std.number],
            ),
        )
    except ValidationError as exc:
        raise RecordError(f"{std.number}：{reason(exc)}") from None


# --- Relaton XML ------------------------------------------------------------------------------------


def _xml_text(el: Element | None) -> str | None:
    """Element text without entity references: an undeclared or hostile entity contributes nothing."""
    if el is None:
        return None
    parts: list[str] = [el.text or ""]
    for sub in el:
        if isinstance(sub.tag, str):
            parts.append(_xml_text(sub) or "")
        parts.append(sub.tail or "")
    return clean_or_none("".join(parts))


def _pick_title(titles: list[tuple[str, str, str]], lang: str) -> str | None:
    """(language, type, text) triples; "main" is the full title, "title-main" the main element only."""
    mine = [(kind, text) for language, kind, text in titles if language.startswith(lang) and text]
    for wanted in ("main", "title-main", ""):
        for kind, text in mine:
            if kind == wanted or not wanted:
                return text
    return None


def _xml_std(item: Element) -> tuple[_Std, bool]:
    """The item as a _Std, and whether its identifier names a whole series ("all parts")."""
    ids = children(item, "docidentifier")
    primary = [i for i in ids if i.get("primary") == "true"] or ids
    raw_id = _xml_text(primary[0]) if primary else None
    id_type = primary[0].get("type") if primary else None
    number = standard_number(raw_id, id_type)
    if number is None:
        raise RecordError(f"缺少或无法识别标准号（{raw_id or '空'}）")
    titles = [
        (t.get("language") or "", t.get("type") or "", _xml_text(t) or "") for t in children(item, "title")
    ]
    dates = {d.get("type"): _xml_text(child(d, "on")) or _xml_text(d) for d in children(item, "date")}
    publishers = [
        org
        for c in children(item, "contributor")
        if any(r.get("type") == "publisher" for r in children(c, "role"))
        for org in children(c, "organization")
    ]
    names = [(n.get("language") or "", _xml_text(n)) for o in publishers for n in children(o, "name")]
    publisher = next((t for lang, t in names if lang == "zh" and t), None) or next(
        (t for _, t in names if t), None
    )
    ext = child(item, "ext")
    replaces, replaced_by = [], []
    for rel in children(item, "relation"):
        kind = (rel.get("type") or "").lower()
        targets = [child(b, "docidentifier") for b in children(rel, "bibitem", "bibdata")]
        values = [_xml_text(t) for t in targets if t is not None]
        if kind in _REPLACES_RELATIONS:
            replaces += values
        elif kind in _REPLACED_BY_RELATIONS:
            replaced_by += values
    std = _Std(
        number=number,
        source_id=f"relaton:{number}",
        title=_pick_title(titles, "zh"),
        title_en=_pick_title(titles, "en"),
        status=status_zh(_xml_text(child(child(item, "status"), "stage"))),
        issue_date=parse_date(dates.get("published") or dates.get("issued")),
        implementation_date=parse_date(dates.get("implemented") or dates.get("effective")),
        ics=_codes(_xml_text(child(i, "code")) for i in children(ext, "ics")),
        ccs=_codes(_xml_text(child(c, "code")) for c in children(ext, "ccs")),
        replaces=_numbers(replaces),
        replaced_by=_numbers(replaced_by),
        publisher=publisher,
        url=next((_xml_text(u) for u in children(item, "uri") if u.get("type") == "src"), None),
    )
    return std, is_all_parts(raw_id)


def _xml_items(root: Element) -> list[Element]:
    """The bibitems a file holds: the root itself, or a collection's members."""
    name = local(root)
    if name in ("bibdata", "bibitem"):
        return [root]
    if name in ("relaton-collection", "collection"):
        direct = children(root, "bibdata", "bibitem")
        nested = [b for rel in children(root, "relation") for b in children(rel, "bibdata", "bibitem")]
        return direct + nested
    raise _WrongFormat(f"文件不是 relaton 标准 XML（根元素为 <{name or '?'}>）")


def _xml_stds(item: Element) -> Iterator[_Std]:
    std, series = _xml_std(item)
    if not series:
        yield std
        return
    parts = [b for rel in children(item, "relation") if (rel.get("type") or "").lower() in _PART_RELATIONS
             for b in children(rel, "bibitem", "bibdata")]  # fmt: skip
    if not parts:
        raise RecordError(f"{std.number}（所有部分）是系列标准的总称，文件中没有具体部分")
    for part in parts:
        part_std, _ = _xml_std(part)
        yield part_std


def _parse_xml(data: bytes, *, now: datetime, version: int) -> Iterator[Record | RecordError]:
    # No encoding declaration and not UTF-8: a Chinese file saved as GBK; read it as GB18030.
    head = data[:200]
    encoding = None
    if b"encoding=" not in head:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            encoding = "gb18030"
    try:
        root = etree.fromstring(data, xml_safe.parser(remove_comments=True, encoding=encoding))
    except etree.XMLSyntaxError as exc:
        line = f"第 {exc.lineno} 行" if exc.lineno else "文件"
        yield RecordError(syntax_error(line, exc.msg))
        return
    items = _xml_items(root)
    if not items:
        yield RecordError("relaton 集合中没有 bibitem/bibdata")
    for n, item in enumerate(items, 1):
        position = f"第 {n} 条标准" if len(items) > 1 else "标准"
        try:
            for std in _xml_stds(item):
                yield _record(std, now=now, version=version)
        except (RecordError, ValidationError) as exc:
            yield RecordError(f"{position}：{reason(exc)}")


# --- Relaton YAML -----------------------------------------------------------------------------------


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _str(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("content", value.get("value"))
    return clean_or_none(str(value)) if value is not None and not isinstance(value, (dict, list)) else None


def _yaml_std(item: dict[str, Any]) -> _Std:
    ids = [d for d in _as_list(item.get("docid")) if isinstance(d, dict)]
    primary = [d for d in ids if d.get("primary")] or ids
    raw_id = _str(primary[0].get("id")) if primary else _str(item.get("id"))
    id_type = _str(primary[0].get("type")) if primary else None
    number = standard_number(raw_id, id_type) or standard_number(_str(item.get("id")))
    if number is None:
        raise RecordError(f"缺少或无法识别标准号（{raw_id or '空'}）")
    if is_all_parts(raw_id):
        raise RecordError(f"{number}（所有部分）是系列标准的总称，不是单个标准")
    titles = [
        (_str(t.get("language")) or "", _str(t.get("type")) or "", _str(t) or "")
        for t in _as_list(item.get("title"))
        if isinstance(t, dict)
    ]
    dates = {
        _str(d.get("type")): _str(d.get("value")) for d in _as_list(item.get("date")) if isinstance(d, dict)
    }
    status = item.get("docstatus")
    stage = _str(status.get("stage")) if isinstance(status, dict) else None
    publisher = None
    for contributor in _as_list(item.get("contributor")):
        if isinstance(contributor, dict) and "publisher" in [
            _str(r) for r in _as_list(contributor.get("role"))
        ]:
            org = contributor.get("organization")
            names = [n for n in _as_list(org.get("name")) if n] if isinstance(org, dict) else []
            zh = [_str(n) for n in names if isinstance(n, dict) and n.get("language") == "zh"]
            publisher = next((n for n in zh + [_str(n) for n in names] if n), None)
            break
    ext: dict[str, Any] = item["ext"] if isinstance(item.get("ext"), dict) else {}
    relations = [r for r in _as_list(item.get("relation")) if isinstance(r, dict)]

    def related(kinds: set[str]) -> list[str]:
        out: list[str | None] = []
        for rel in relations:
            target = rel.get("bibitem")
            if (_str(rel.get("type")) or "").lower() in kinds and isinstance(target, dict):
                out += [_str(d.get("id")) for d in _as_list(target.get("docid")) if isinstance(d, dict)]
        return _numbers(out)

    links = [lk for lk in _as_list(item.get("link")) if isinstance(lk, dict)]
    return _Std(
        number=number,
        source_id=f"relaton:{number}",
        title=_pick_title(titles, "zh"),
        title_en=_pick_title(titles, "en"),
        status=status_zh(stage),
        issue_date=parse_date(dates.get("published") or dates.get("issued")),
        implementation_date=parse_date(dates.get("implemented") or dates.get("effective")),
        ics=_codes(_str(i.get("code")) for i in _as_list(ext.get("ics")) if isinstance(i, dict)),
        ccs=_codes(_str(c.get("code")) for c in _as_list(ext.get("ccs")) if isinstance(c, dict)),
        replaces=related(_REPLACES_RELATIONS),
        replaced_by=related(_REPLACED_BY_RELATIONS),
        publisher=publisher,
        url=next((_str(lk.get("content")) for lk in links if lk.get("type") == "src"), None),
    )


def _parse_yaml(text: str, *, now: datetime, version: int) -> Iterator[Record | RecordError]:
    try:
        # safe_load builds plain data only; aliases are shared, never copied, so no alias bomb expands.
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"第 {mark.line + 1} 行" if mark is not None else "文件"
        raise _WrongFormat(f"文件不是 GB 标准元数据（YAML 无法解析，{where}）") from None
    items = data if isinstance(data, list) else [data]
    if not items or not all(isinstance(i, dict) and ("docid" in i or "title" in i) for i in items):
        raise _WrongFormat("文件不是 GB 标准元数据（不是 relaton XML/YAML，也不是 openstd 页面）")
    for n, item in enumerate(items, 1):
        try:
            yield _record(_yaml_std(item), now=now, version=version)
        except (RecordError, ValidationError) as exc:
            yield RecordError(f"第 {n} 条标准：{reason(exc)}")


# --- openstd HTML -----------------------------------------------------------------------------------


def _html_text(el: Element | None) -> str | None:
    return None if el is None else clean_or_none(el.text_content())


def _after_label(text: str | None, label: str) -> str | None:
    text = clean_text(text)
    if label not in text:
        return None
    return clean_or_none(re.sub(rf"^.*?{label}\s*[：:]", "", text, count=1))


def _labelled_cells(doc: Element) -> dict[str, str]:
    """openstd's "title" / "content" div pairs (CCS, ICS, dates, 发布单位, 备注)."""
    cells: dict[str, str] = {}
    for title in doc.xpath("//div[contains(concat(' ', @class, ' '), ' title ')]"):
        following = title.xpath("following-sibling::div[1]")
        if not following or "content" not in (following[0].get("class") or "").split():
            continue
        label = clean_text(title.text_content())
        if label:
            cells[label] = clean_text(following[0].text_content())
    return cells


def _cell(cells: dict[str, str], *labels: str) -> str | None:
    return next((v for k, v in cells.items() for label in labels if label in k and v), None)


def _detail(doc: Element, html_source: str) -> _Std:
    h1 = next(iter(doc.xpath("//h1")), None)
    # The h1's own text is "标准号：GB/T 1.1-2000"; the 采 badge is a child span.
    raw = _after_label(h1.text if h1 is not None else None, "标准号")
    number = standard_number(raw)
    if number is None:
        raise RecordError(f"详情页缺少或无法识别标准号（{raw or '空'}）")
    tds = [clean_text(td.text_content()) for td in doc.xpath("//td")]
    title_cell = next((t for t in tds if t.startswith("中文标准名称")), None)
    title_en_cell = next((t for t in tds if t.startswith("英文标准名称")), None)
    status_cell = next((t for t in tds if t.startswith("标准状态")), None)
    status = _after_label(status_cell, "标准状态")
    cells = _labelled_cells(doc)
    remark = _cell(cells, "备注")
    replaces, replaced_by = _remark_links(remark)
    # The feedback button carries the page's own hcno; the first hcno in the page source is the fallback.
    fk = doc.xpath("//button[contains(@class, 'fk_btn')]/@data-value")
    hcno = str(fk[0]).upper() if fk and re.fullmatch(r"[0-9A-Fa-f]{32}", str(fk[0])) else None
    hcno = hcno or (m.group(1).upper() if (m := _HCNO.search(html_source)) else None)
    return _Std(
        number=number,
        source_id=f"openstd:{hcno or number}",
        title=_after_label(title_cell, "中文标准名称"),
        title_en=_after_label(title_en_cell, "英文标准名称"),
        status=status_zh(status.split()[0]) if status else None,
        issue_date=parse_date(_cell(cells, "发布日期")),
        implementation_date=parse_date(_cell(cells, "实施日期")),
        ics=_codes([_cell(cells, "国际标准分类号", "ICS")]),
        ccs=_codes([_cell(cells, "中国标准分类号", "CCS")]),
        replaces=replaces,
        replaced_by=replaced_by,
        publisher=_cell(cells, "发布单位"),
        url=_OPENSTD_URL.format(hcno) if hcno else None,
    )


def _result_row(row: Element, col: dict[str, int]) -> _Std:
    value = [clean_text(c.text_content()) for c in row.xpath("./td")]
    if len(value) <= max(col[name] for name in _LIST_COLUMNS):
        raise RecordError("检索结果行的列数不对")
    number = standard_number(value[col["标准号"]])
    if number is None:
        raise RecordError(f"无法识别标准号（{value[col['标准号']] or '空'}）")
    link = " ".join(str(a) for a in row.xpath(".//@onclick"))
    hcno = m.group(1).upper() if (m := _HCNO.search(link)) else None
    return _Std(
        number=number,
        source_id=f"openstd-list:{hcno or number}",
        title=value[col["标准名称"]],
        status=status_zh(value[col["状态"]]),
        issue_date=parse_date(value[col["发布日期"]]),
        implementation_date=parse_date(value[col["实施日期"]]),
        url=_OPENSTD_URL.format(hcno) if hcno else None,
    )


def _result_list(tables: list[Element], *, now: datetime, version: int) -> Iterator[Record | RecordError]:
    n = 0
    for table in tables:
        header = [clean_text(th.text_content()) for th in table.xpath(".//th")]
        col = {name: i for i, name in enumerate(header)}
        if any(name not in col for name in _LIST_COLUMNS):
            raise _WrongFormat("openstd 检索结果表缺少标准号、标准名称等列")
        for row in table.xpath(".//tr[td]"):
            n += 1
            try:
                yield _record(_result_row(row, col), now=now, version=version)
            except (RecordError, ValidationError) as exc:
                yield RecordError(f"检索结果第 {n} 行：{reason(exc)}")
    if n == 0:
        yield RecordError("openstd 检索结果页没有命中任何标准（0 条结果）")


def _decode_html(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace")


def _parse_html(data: bytes, *, now: datetime, version: int) -> Iterator[Record | RecordError]:
    text = _decode_html(data)
    # lxml refuses a str that carries an XML declaration; an XHTML save may have one.
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)
    try:
        doc = lxml.html.document_fromstring(
            text, parser=xml_safe.html_parser()
        )
    except (etree.ParserError, ValueError) as exc:
        raise _WrongFormat(f"HTML 无法解析：{exc}") from None
    headings = [clean_text(h.text) for h in doc.xpath("//h1")]
    if any(h.startswith("标准号") for h in headings):
        yield _record(_detail(doc, text), now=now, version=version)
        return
    tables = doc.xpath("//table[contains(concat(' ', @class, ' '), ' result_list ')]")
    if tables:
        yield from _result_list(tables, now=now, version=version)
        return
    title = clean_text(next(iter(doc.xpath("//title/text()")), ""))
    raise _WrongFormat(f"HTML 页面不是 openstd 标准详情页或检索结果页（页面标题：{title or '无'}）")


# --- entry point ------------------------------------------------------------------------------------


def _sniff(data: bytes) -> str:
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    lower = head.lower()
    if lower.startswith(b"<"):
        html_markers = (b"<!doctype html", b"<html", b"<head", b"<body")
        return "html" if any(m in lower for m in html_markers) else "xml"
    return "yaml"


def parse_file(path: Path, *, now: datetime, version: int) -> Iterator[Record | RecordError]:
    """Records for the standards in one Relaton XML/YAML file or one saved openstd page."""
    try:
        data = read_limited(path, MAX_FILE_BYTES)
    except RecordError as exc:
        yield exc
        return
    kind = _sniff(data)
    try:
        if kind == "xml":
            yield from _parse_xml(data, now=now, version=version)
        elif kind == "html":
            yield from _parse_html(data, now=now, version=version)
        else:
            yield from _parse_yaml(_decode_html(data), now=now, version=version)
    except (RecordError, ValidationError) as exc:
        yield exc if isinstance(exc, RecordError) else RecordError(reason(exc))
