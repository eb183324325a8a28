"""MARC 21 bibliographic records: MARCXML (a <collection> or one <record>) and ISO 2709 binary.

The format is decided by content, never by extension: XML starts with "<", ISO 2709 with a five-digit
record length. Both are read into one small neutral shape (`MarcData`), and one mapper turns that into
a Record, so MARCXML inside an OAI-PMH response (`record_from_element`) maps exactly like a file.

Decisions worth knowing:
- Alternate script (880): when the 245 title is linked to an 880 field, the vernacular form (Chinese,
  Japanese, Cyrillic …, as printed on the item) becomes `title`; the romanised 245 goes to `title_en`
  unless the record has a real translated or parallel title (242, 246 ind2=1), which wins. Linked 880
  names replace the romanised 100/700 names for the same reason: names are kept as written.
- ISO 2709 records are split on the record terminator and their directory is rebuilt from the field
  terminators before pymarc decodes them: real files (the Open Library set) carry directories that
  count characters instead of bytes, which would otherwise shift every field. MARC-8 is decoded by
  pymarc when leader/09 is blank.
- UNIMARC / CNMARC (title in 200, leader/08 a hierarchy digit) is rejected with a clear message rather
  than mis-mapped through MARC 21 tags; authority, holdings and classification records are rejected too.
- 999C5 (Invenio / INSPIRE citation fields) become references; MARC 21 itself has no reference field.
- doc_type: 502 -> thesis; a component part (leader/07 a or b) with a 773 host -> journal_article;
  a monograph (leader/07 m, language material) -> book; Invenio records without a leader use their
  980 collection; everything else -> other.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import pymarc
from lxml import etree
from pydantic import ValidationError

from ingest.errors import RecordError, reason
from ingest.formats import xml_safe
from ingest.identity import record_id
from ingest.normalize_text import (
    author_key,
    clean_or_none,
    clean_text,
    find_doi,
    has_cjk,
    normalize_doi,
    normalize_number,
    normalize_pages,
    parse_year,
    tidy_title,
)
from mappings.model import Author, DocType, Record, Reference, ThesisInfo

Element = Any  # lxml is untyped

MARC_NS = "http://www.loc.gov/MARC21/slim"
_RECORD_END = b"\x1d"
_FIELD_END = b"\x1e"
_MAX_RECORD_BYTES = 99_999  # the leader's five digits: anything longer is not one record
_READ_BLOCK = 1 << 16

# ISO 639-2 (bibliographic and terminology codes) -> the two-letter codes the index stores.
_LANGS = {
    "eng": "en", "chi": "zh", "zho": "zh", "jpn": "ja", "kor": "ko", "ger": "de", "deu": "de",
    "fre": "fr", "fra": "fr", "spa": "es", "rus": "ru", "por": "pt", "ita": "it", "dut": "nl",
    "nld": "nl", "ara": "ar", "heb": "he", "gre": "el", "ell": "el", "lat": "la", "pol": "pl",
    "swe": "sv", "dan": "da", "nor": "no", "fin": "fi", "cze": "cs", "ces": "cs", "tur": "tr",
}  # fmt: skip
# Leader/06 values that are not bibliographic records.
_NOT_BIBLIOGRAPHIC = {"z": "规范记录（authority）", "w": "分类记录", "q": "团体记录",
                      "u": "馆藏记录", "v": "馆藏记录", "x": "馆藏记录", "y": "馆藏记录"}  # fmt: skip
_TEXTUAL = set("at")  # leader/06: language material, manuscript language material
# Invenio (CERN) records carry no leader; their 980 collection is the only type they have.
_INVENIO_COLLECTIONS = {
    "ARTICLE": DocType.journal_article, "BOOK": DocType.book, "THESIS": DocType.thesis,
    "PROCEEDINGS": DocType.conference_paper, "CONFERENCEPAPER": DocType.conference_paper,
}  # fmt: skip
_INVENIO_AUTHORITY = {"AUTHORITY", "INSTITUTE"}
_ISBN = re.compile(r"(?<![\dXx])(97[89][\d-]{10,14}|[\d-]{9,12}[\dXx])(?![\dXx])")
_ISSN = re.compile(r"(?<!\d)(\d{4})-?(\d{3}[\dXx])(?![\dXx])")
# "Mon. Not. R. Astron. Soc. 291 (1997) L33": Invenio's normalised journal reference.
_JOURNAL_REF = re.compile(
    r"^(?P<venue>.+?)\s+(?P<volume>[A-Z]?\d[\w-]*)\s+\((?P<year>\d{4})\)\s+(?P<pages>\S+)$"
)
_HOST_VOLUME = re.compile(r"\b(?:v(?:ol)?\.?|band|bd\.?|t\.)\s*(\d[\w-]*)", re.IGNORECASE)
_HOST_ISSUE = re.compile(r"\b(?:no\.?|n[or]\.|issue|heft|h\.)\s*(\d[\w/-]*)", re.IGNORECASE)
_HOST_PAGES = re.compile(r"\b(?:pp?\.|s\.)\s*([A-Za-z]?\d+(?:\s*-\s*[A-Za-z]?\d+)?)", re.IGNORECASE)
# 773 $q "12:3<45": volume, issue and first page in MARC's enumeration shorthand.
_ENUMERATION = re.compile(r"^(?P<volume>[^:<]+)(?::(?P<issue>[^<]+))?(?:<(?P<page>.+))?$")
_ISBD_TRAIL = " /:;,=."
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_GAP = re.compile(f"(?<=[{_CJK}])\\s+(?=[{_CJK}])")
# UTF-8 read as Latin-1 and encoded again ("rÃ¶mische"): a lead byte followed by a continuation byte.
_MOJIBAKE = re.compile("[\u00c2-\u00f4][\u0080-\u00bf]")


@dataclass
class MarcField:
    tag: str
    ind1: str = " "
    ind2: str = " "
    subfields: list[tuple[str, str]] = field(default_factory=list)

    def first(self, *codes: str) -> str | None:
        return next((v for c, v in self.subfields if c in codes and v.strip()), None)

    def all(self, *codes: str) -> list[str]:
        return [v for c, v in self.subfields if c in codes and v.strip()]

    def link(self) -> tuple[str, str] | None:
        """$6 linkage "880-04" or "245-01/$1" as (tag, occurrence); occurrence 00 links nothing."""
        value = self.first("6")
        m = re.match(r"^(\d{3})-(\d{2})", value or "")
        return (m.group(1), m.group(2)) if m and m.group(2) != "00" else None


@dataclass
class MarcData:
    """One record in neutral form, whichever serialisation it came from."""

    leader: str = ""
    control: dict[str, str] = field(default_factory=dict)
    fields: list[MarcField] = field(default_factory=list)

    def get(self, *tags: str) -> list[MarcField]:
        return [f for f in self.fields if f.tag in tags]

    def one(self, *tags: str) -> MarcField | None:
        found = self.get(*tags)
        return found[0] if found else None

    def vernacular(self, original: MarcField) -> MarcField | None:
        """The 880 alternate-script field linked to `original`, if any."""
        link = original.link()
        if original.tag == "880" or link is None:
            return None
        for candidate in self.get("880"):
            if candidate.link() == (original.tag, link[1]):
                return candidate
        return None


# --- reading ---------------------------------------------------------------------------------------


def _local(el: Element) -> str:
    tag = el.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _namespace(el: Element) -> str:
    tag = el.tag
    return tag[1:].split("}", 1)[0] if isinstance(tag, str) and tag.startswith("{") else ""


def plain_text(el: Element) -> str:
    """The element's text; entity references (left unresolved by the parser) are dropped, not expanded."""
    parts = [el.text or ""]
    for child in el:
        if not isinstance(child, etree._Entity):
            parts.append(plain_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _text(el: Element) -> str:
    return _repair(plain_text(el))


def _repair(s: str) -> str:
    """Undo double-encoded UTF-8, which real catalogue exports contain; anything else is left alone."""
    if not _MOJIBAKE.search(s):
        return s
    try:
        return s.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return s


def is_marc_record(el: Element) -> bool:
    return _local(el) == "record" and _namespace(el) in (MARC_NS, "")


def data_from_element(record: Element) -> MarcData:
    """A MARCXML <record> element (any prefix, or none) as MarcData."""
    data = MarcData()
    for child in record:
        name = _local(child)
        if name == "leader":
            data.leader = _text(child)
        elif name == "controlfield":
            data.control.setdefault(child.get("tag") or "", _text(child))
        elif name == "datafield":
            subs = [(s.get("code") or "", _text(s)) for s in child if _local(s) == "subfield"]
            data.fields.append(
                MarcField(child.get("tag") or "", child.get("ind1") or " ", child.get("ind2") or " ", subs)
            )
    return data


def _data_from_pymarc(rec: pymarc.Record) -> MarcData:
    data = MarcData(leader=str(rec.leader))
    for f in rec.fields:
        if f.is_control_field():
            data.control.setdefault(f.tag, f.data or "")
        else:
            subs = [(s.code, _repair(s.value)) for s in f.subfields]
            data.fields.append(MarcField(f.tag, f.indicator1 or " ", f.indicator2 or " ", subs))
    return data


def _rebuild_directory(raw: bytes) -> bytes:
    """The record with leader lengths and directory offsets recomputed from the field terminators."""
    if len(raw) < 25 or not raw[:5].isdigit():
        raise RecordError("不是 ISO 2709 记录（记录头无效）")
    end_of_directory = raw.find(_FIELD_END, 24)
    directory = raw[24:end_of_directory]
    if end_of_directory < 0 or len(directory) % 12:
        raise RecordError("ISO 2709 目录区损坏")
    tags = [directory[i : i + 3] for i in range(0, len(directory), 12)]
    body = raw[end_of_directory + 1 :].rstrip(_RECORD_END)
    values = body.split(_FIELD_END)
    if values and values[-1] == b"":
        values.pop()
    if len(values) != len(tags):
        raise RecordError(f"ISO 2709 目录有 {len(tags)} 个字段，数据区有 {len(values)} 个")
    entries, offset = [], 0
    for tag, value in zip(tags, values, strict=True):
        length = len(value) + 1
        if length > 9999:
            raise RecordError(f"字段 {tag.decode('ascii', 'replace')} 过长")
        entries.append(tag + b"%04d%05d" % (length, offset))
        offset += length
    base = 24 + len(entries) * 12 + 1
    total = base + offset + 1
    if total > _MAX_RECORD_BYTES:
        raise RecordError("ISO 2709 记录超过 99999 字节")
    leader = b"%05d" % total + raw[5:12] + b"%05d" % base + raw[17:24]
    return leader + b"".join(entries) + _FIELD_END + b"".join(v + _FIELD_END for v in values) + _RECORD_END


def data_from_iso2709(raw: bytes) -> MarcData:
    """One ISO 2709 record (bytes up to and including its terminator) as MarcData."""
    fixed = _rebuild_directory(raw)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pymarc warns about odd subfield codes; the data still maps
            rec = pymarc.Record(data=fixed, to_unicode=True, force_utf8=False, utf8_handling="replace")
    except (pymarc.exceptions.PymarcException, ValueError, IndexError) as exc:
        raise RecordError(f"ISO 2709 记录无法解码：{type(exc).__name__}") from None
    return _data_from_pymarc(rec)


def _iso2709_chunks(stream: IO[bytes]) -> Iterator[bytes]:
    """Records split on the terminator; newlines some tools put between records are dropped."""
    pending = b""
    while block := stream.read(_READ_BLOCK):
        pending += block
        while (cut := pending.find(_RECORD_END)) >= 0:
            chunk, pending = pending[: cut + 1].lstrip(b"\r\n\t "), pending[cut + 1 :]
            if chunk.strip(_RECORD_END):
                yield chunk
        if len(pending) > _MAX_RECORD_BYTES:
            raise RecordError("ISO 2709 记录缺少结束符（超过 99999 字节）")
    if pending.strip():
        raise RecordError("文件末尾的 ISO 2709 记录不完整（缺少结束符）")


# --- mapping ---------------------------------------------------------------------------------------


def _trim(s: str | None, *, title: bool = False) -> str:
    """A value without the ISBD punctuation that separates it from the next subfield."""
    # Stripped before clean_text, which would turn "刘宁." into "刘宁。" and hide the separator.
    value = (s or "").strip()
    while value and value[-1] in _ISBD_TRAIL and not value.endswith(".."):
        # Keep a full stop that ends an abbreviation or initial ("Jr.", "J.").
        if value[-1] == "." and re.search(r"\b(?:[A-Za-z]|[A-Z][a-z]{0,2})\.$", value):
            break
        value = value[:-1].rstrip()
    return clean_text(value, title=title)


def _unspace_cjk(s: str) -> str:
    # Catalogues divide vernacular Chinese and Japanese into words ("日本 の 茶書"); print does not.
    return _CJK_GAP.sub("", s)


def _title_of(f: MarcField) -> str:
    text = ""
    # Archival records title a collection by its form ($k) and dates ($f) instead of $a.
    codes = "abnp" if f.first("a") else "kfbnp"
    for code, value in ((c, _trim(v, title=True)) for c, v in f.subfields if c in codes and _trim(v)):
        if not text:
            text = value
        elif code == "b":
            text = f"{text}: {value}"
        elif code == "f":
            text = f"{text}, {value}"
        else:
            text = f"{text}. {value}"
    return tidy_title(_unspace_cjk(text))


def _titles(data: MarcData) -> tuple[str, str | None]:
    main = data.one("245")
    if main is None:
        return "", None
    title = _title_of(main)
    translated = next(
        (t for f in data.get("242", "246") if (f.tag == "242" or f.ind2 == "1") if (t := _title_of(f))), None
    )
    vernacular = data.vernacular(main)
    vernacular_title = _title_of(vernacular) if vernacular is not None else ""
    if vernacular_title and vernacular_title != title:
        return vernacular_title, translated or title or None
    if translated and has_cjk(title):
        return title, translated
    return title, None


def _name(data: MarcData, f: MarcField) -> str:
    source = data.vernacular(f) or f
    codes = "ab" if f.tag in ("110", "710", "111", "711") else "a"
    text = " ".join(_trim(v) for v in source.all(*codes))
    if not text and source is not f:
        text = " ".join(_trim(v) for v in f.all(*codes))
    return clean_text(text)


def _authors(data: MarcData) -> list[Author]:
    authors: list[Author] = []
    seen: set[str] = set()
    for f in data.get("100", "110", "111") + data.get("700", "710", "711"):
        # A name with a title ($t) names another work (an analytical entry), not an author of this one.
        if f.first("t"):
            continue
        name = _name(data, f)
        if not name or name in seen:
            continue
        seen.add(name)
        affiliations = list(dict.fromkeys(t for v in f.all("u") if (t := clean_text(v))))
        authors.append(
            Author(
                name=name,
                affiliation=affiliations[0] if affiliations else None,
                affiliations=affiliations,
                order=len(authors) + 1,
            )
        )
    return authors


# What a cataloguer writes in 260/264 $a when the place is not known: no place, not a place.
_NO_PLACE = re.compile(r"^(?:s\.\s*l\.?|sine loco|出版地不详|出版地不詳|place of publication not identified)$",
                       re.IGNORECASE)  # fmt: skip


def _place(data: MarcData, fields: list[MarcField]) -> str | None:
    """The first place of publication (260/264 $a), for GB/T 7714's 出版地."""
    for f in fields:
        for v in (data.vernacular(f) or f).all("a"):
            place = _trim(v).strip("[]").strip()
            if place and not _NO_PLACE.match(place):
                return place
    return None


def _edition(data: MarcData) -> str | None:
    f = data.one("250")
    value = _trim((data.vernacular(f) or f).first("a")) if f is not None else ""
    return value or None


def _publication(data: MarcData) -> tuple[str | None, int | None]:
    fields = data.get("260") + [f for f in data.get("264") if f.ind2 in ("1", " ")]
    publisher = next(
        (p for f in fields for v in (data.vernacular(f) or f).all("b") if (p := _trim(v).strip("[]"))), None
    )
    year = next((y for f in fields for v in f.all("c") if (y := parse_year(v))), None)
    fixed = data.control.get("008", "")
    if year is None and len(fixed) >= 11:
        year = parse_year(fixed[7:11])
    if year is None:
        year = next((y for f in data.get("269") for v in f.all("c") if (y := parse_year(v))), None)
    return publisher, year


def _isbns(data: MarcData) -> list[str]:
    out: list[str] = []
    for f in data.get("020"):
        for value in f.all("a"):
            m = _ISBN.search(value.replace(" ", ""))
            digits = m.group(1).replace("-", "").upper() if m else ""
            if len(digits) in (10, 13):
                out.append(digits)
    return list(dict.fromkeys(out))


def _issn(value: str | None) -> str | None:
    m = _ISSN.search(value or "")
    return f"{m.group(1)}-{m.group(2).upper()}" if m else None


def _language(data: MarcData) -> str | None:
    codes = [v.strip().lower() for f in data.get("041") for v in f.all("a")]
    fixed = data.control.get("008", "")
    if len(fixed) >= 38:
        codes.append(fixed[35:38].strip().lower())
    for code in codes:
        code = code[:3]  # old records run several codes together: "engfre"
        if len(code) == 3 and code.isalpha() and code not in ("und", "zxx", "mul"):
            return _LANGS.get(code, code)
    return None


def _doi(data: MarcData) -> str | None:
    # 024 $a with $2 doi, and Invenio's 773 $a; normalize_doi rejects every other identifier shape.
    candidates = [f.first("a") for f in data.get("024", "773")]
    candidates += [u for f in data.get("856") for u in f.all("u")]
    return next((d for c in candidates if (d := normalize_doi(c) or find_doi(c))), None)


def _url(data: MarcData) -> str | None:
    return next(
        (
            u.strip()
            for f in data.get("856")
            for u in f.all("u")
            if u.strip().startswith(("http://", "https://"))
        ),
        None,
    )


def _keywords(data: MarcData) -> list[str]:
    words: list[str] = []
    for f in data.get("650", "653"):
        source = data.vernacular(f) or f
        words.extend(t for v in source.all("a") if (t := _trim(v)))
    return list(dict.fromkeys(words))


def _abstract(data: MarcData) -> str | None:
    parts = [" ".join(f.all("a", "b")) for f in data.get("520")]
    return clean_or_none(" ".join(dict.fromkeys(p for p in parts if p.strip())))


def _thesis(data: MarcData) -> ThesisInfo | None:
    note = data.one("502")
    if note is None:
        return None
    degree, institution = note.first("b"), note.first("c")
    if note.first("a") and re.fullmatch(r"\s*\d{4}\.?\s*", note.first("c") or ""):
        # Invenio's own layout: $a degree, $b institution, $c year.
        degree, institution = note.first("a"), note.first("b")
    elif not (degree or institution) and (text := note.first("a")):
        # The older single-string form: "Ph.D. : Univ. Central Florida : 1999", "Thesis (M.A.)--Univ., 1990".
        pieces = [p.strip() for p in re.split(r"\s+:\s+|--", text) if p.strip()]
        pieces = [p for p in pieces if not re.fullmatch(r"\d{4}\.?", p)]
        degree = pieces[0] if pieces else None
        institution = pieces[1] if len(pieces) > 1 else None
    degree, institution = _trim(degree), _trim(institution)
    return ThesisInfo(degree=degree or None, institution=institution or None)


@dataclass
class _Host:
    venue: str | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    year: int | None = None
    issn: str | None = None


def _host(data: MarcData) -> _Host | None:
    """The containing journal or book of a component part (773), or Invenio's 909C4 journal field."""
    f = data.one("773")
    if f is not None:
        related = " ".join(f.all("g"))
        host = _Host(
            venue=_trim(f.first("t") or f.first("p") or f.first("a")) or None,
            volume=normalize_number(f.first("v")) or _match(_HOST_VOLUME, related),
            issue=normalize_number(f.first("n")) or _match(_HOST_ISSUE, related),
            pages=normalize_pages(f.first("c")) or normalize_pages(_match(_HOST_PAGES, related)),
            year=parse_year(f.first("y")) or parse_year(related) or parse_year(f.first("d")),
            issn=_issn(f.first("x")),
        )
        if (q := f.first("q")) and (m := _ENUMERATION.match(q.strip())):
            host.volume = host.volume or normalize_number(m.group("volume"))
            host.issue = host.issue or normalize_number(m.group("issue"))
            host.pages = host.pages or normalize_pages(m.group("page"))
        return host
    journal = next(
        (j for j in data.get("909") if j.ind1 == "C" and j.ind2 == "4" and j.first("v", "c")), None
    )
    if journal is None:
        return None
    return _Host(
        venue=_trim(journal.first("p")) or None,
        volume=normalize_number(journal.first("v")),
        issue=normalize_number(journal.first("n")),
        pages=normalize_pages(journal.first("c")),
        year=parse_year(journal.first("y")),
    )


def _match(pattern: re.Pattern[str], text: str) -> str | None:
    m = pattern.search(text)
    return m.group(1) if m else None


def _collections(data: MarcData) -> set[str]:
    return {v.strip().upper() for f in data.get("980") for v in f.all("a")}


def _doc_type(data: MarcData, host: _Host | None) -> DocType:
    leader = data.leader
    if data.get("502"):
        return DocType.thesis
    if len(leader) >= 8:
        if leader[7] in "ab" and data.get("773"):
            return DocType.journal_article
        if leader[7] == "m" and leader[6] in _TEXTUAL:
            return DocType.book
        return DocType.other
    for collection in sorted(_collections(data)):
        if collection in _INVENIO_COLLECTIONS:
            return _INVENIO_COLLECTIONS[collection]
    return DocType.journal_article if host is not None and host.venue else DocType.other


def _check_bibliographic(data: MarcData) -> None:
    leader = data.leader
    # An authority or holdings record has no 245; one that has a title only has a damaged leader.
    if len(leader) >= 7 and leader[6] in _NOT_BIBLIOGRAPHIC and not data.get("245"):
        raise RecordError(f"{_NOT_BIBLIOGRAPHIC[leader[6]]}，不是书目记录")
    if not leader and _collections(data) & _INVENIO_AUTHORITY:
        raise RecordError("规范记录（authority），不是书目记录")
    if not data.get("245") and data.get("200") and (len(leader) < 9 or leader[8] in "012 "):
        raise RecordError("UNIMARC/CNMARC 记录（题名在 200 字段）不受支持，请转换为 MARC 21")


def _reference(f: MarcField) -> Reference | None:
    """One 999C5 citation: $x/$m raw text, $s normalised journal ref, $r report number, $t/$v/$p/$y."""
    # $m often ends with the comma that led into the journal part: "Allen S.W.," + "Mon. Not. …".
    raw_parts = [clean_text(v).rstrip(",;") for v in f.all("x", "m", "s", "r")]
    raw_parts = raw_parts or [clean_text(v) for v in f.all("u")]
    raw = clean_or_none(", ".join(dict.fromkeys(p for p in raw_parts if p)))
    normalised = f.first("s")
    parsed = _JOURNAL_REF.match(clean_text(normalised)) if normalised else None
    venue = clean_or_none(f.first("t")) or (clean_text(parsed.group("venue")) if parsed else None)
    if not (raw or venue or f.first("a", "h")):
        return None
    return Reference(
        raw=raw,
        authors=[n for v in f.all("h") for p in re.split(r";| and ", v) if (n := clean_text(p))],
        venue=venue,
        year=parse_year(f.first("y")) or (int(parsed.group("year")) if parsed else None),
        volume=normalize_number(f.first("v")) or (parsed.group("volume") if parsed else None),
        issue=normalize_number(f.first("n")),
        pages=normalize_pages(f.first("p")) or (normalize_pages(parsed.group("pages")) if parsed else None),
        doi=normalize_doi(f.first("a")) or find_doi(raw),
    )


def _references(data: MarcData) -> list[Reference]:
    cited = (f for f in data.get("999") if f.ind1 == "C" and f.ind2 == "5")
    return [r for f in cited if (r := _reference(f)) is not None]


def control_number(data: MarcData) -> str | None:
    """001, qualified by the 003 agency as in a 035: "(OCoLC)ocn613515810"; else the first 035 or 037.

    Invenio exports have no 001 (the system assigns it on load) but keep other systems' numbers in 035
    ("$9 arXiv $a oai:arXiv.org:1001.1674") and report numbers in 037.
    """
    number = clean_text(data.control.get("001"))
    agency = clean_text(data.control.get("003"))
    if number:
        return f"({agency}){number}" if agency else number
    for f in data.get("035", "037"):
        if value := clean_text(f.first("a")):
            scheme = clean_text(f.first("9"))
            return f"({scheme}){value}" if scheme and not value.startswith("(") else value
    return None


def record_from_data(
    data: MarcData, *, source: str, source_id: str | None, now: datetime, version: int
) -> Record:
    """Map one MARC record; raises RecordError for records that are not bibliographic or lack a title."""
    _check_bibliographic(data)
    title, title_en = _titles(data)
    if not title:
        raise RecordError("缺少题名（245）")
    authors = _authors(data)
    publisher, year = _publication(data)
    host = _host(data)
    doi = _doi(data)
    year = year or (host.year if host else None)
    issn = [i for f in data.get("022") if (i := _issn(f.first("a")))]
    if host and host.issn:
        issn.append(host.issn)
    identifier = source_id or control_number(data) or doi
    if not identifier:
        raise RecordError("缺少控制号（001）")
    try:
        return Record(
            id=record_id(
                title=title,
                year=year,
                doi=doi,
                first_author=author_key(authors[0].name) if authors else None,
            ),
            source=source,
            source_id=identifier,
            doc_type=_doc_type(data, host),
            title=title,
            title_en=title_en,
            authors=authors,
            abstract=_abstract(data),
            keywords=_keywords(data),
            venue=host.venue if host else None,
            year=year,
            volume=host.volume if host else None,
            issue=host.issue if host else None,
            pages=host.pages if host else None,
            doi=doi,
            issn=list(dict.fromkeys(issn)),
            isbn=_isbns(data),
            publisher=publisher,
            place=_place(data, data.get("260") + [f for f in data.get("264") if f.ind2 in ("1", " ")]),
            edition=_edition(data),
            url=_url(data),
            language=_language(data),
            references=_references(data),
            thesis=_thesis(data),
            ingested_at=now,
            version=version,
        )
    except ValidationError as exc:
        raise RecordError(reason(exc)) from None


def record_from_element(
    element: Element, *, source: str = "marc", source_id: str | None = None, now: datetime, version: int
) -> Record:
    """One MARCXML <record> element as a Record (used by the OAI-PMH parser for `marcxml` metadata)."""
    return record_from_data(
        data_from_element(element), source=source, source_id=source_id, now=now, version=version
    )


# --- files -----------------------------------------------------------------------------------------


def _sniff(path: Path) -> str:
    with path.open("rb") as f:
        head = f.read(64).lstrip(b"\xef\xbb\xbf\r\n\t ")
    if not head:
        return "empty"
    if head.startswith(b"<"):
        return "xml"
    # The record length and base address are digits in every ISO 2709 leader, even a damaged one.
    if len(head) >= 24 and head[:5].isdigit() and head[12:17].strip().isdigit():
        return "iso2709"
    return "other"


def _marcxml_records(stream: IO[bytes]) -> Iterator[Element]:
    for _, element in xml_safe.iterparse(stream, tag="{*}record"):
        if not is_marc_record(element):
            continue
        yield element
        xml_safe.drop_before(element)


def _one(n: int, data: MarcData, *, fallback: str, now: datetime, version: int) -> Record | RecordError:
    position = f"第 {n} 条记录"
    try:
        source_id = None if control_number(data) else fallback
        return record_from_data(data, source="marc", source_id=source_id, now=now, version=version)
    except (RecordError, ValidationError) as exc:
        return RecordError(f"{position}：{reason(exc)}")


def _parse_xml(path: Path, *, now: datetime, version: int) -> Iterator[Record | RecordError]:
    with path.open("rb") as stream:  # closed even when the caller stops early
        yield from _xml_items(stream, path.name, now=now, version=version)


def _xml_items(
    stream: IO[bytes], name: str, *, now: datetime, version: int
) -> Iterator[Record | RecordError]:
    n = 0
    try:
        for element in _marcxml_records(stream):
            n += 1
            data = data_from_element(element)
            yield _one(n, data, fallback=f"{name}#{n}", now=now, version=version)
    except etree.XMLSyntaxError as exc:
        yield RecordError(f"第 {n + 1} 条记录：{xml_safe.describe(exc)}")
        return
    if n == 0:
        yield RecordError("文件中没有 MARCXML <record> 元素")


def _parse_iso2709(path: Path, *, now: datetime, version: int) -> Iterator[Record | RecordError]:
    n = 0
    with path.open("rb") as stream:
        try:
            for chunk in _iso2709_chunks(stream):
                n += 1
                try:
                    data = data_from_iso2709(chunk)
                except (RecordError, ValidationError) as exc:
                    yield RecordError(f"第 {n} 条记录：{reason(exc)}")
                    continue
                yield _one(n, data, fallback=f"{path.name}#{n}", now=now, version=version)
        except (RecordError, ValidationError) as exc:
            yield RecordError(f"第 {n + 1} 条记录：{reason(exc)}")
            return
    if n == 0:
        yield RecordError("文件中没有 ISO 2709 MARC 记录")


def parse_file(path: Path, *, now: datetime, version: int) -> Iterator[Record | RecordError]:
    """One Record per MARC record in a MARCXML or ISO 2709 file; a RecordError for each that fails."""
    kind = _sniff(path)
    if kind == "empty":
        yield RecordError("文件为空")
    elif kind == "xml":
        yield from _parse_xml(path, now=now, version=version)
    elif kind == "iso2709":
        yield from _parse_iso2709(path, now=now, version=version)
    else:
        yield RecordError("文件不是 MARCXML 或 ISO 2709 MARC 记录")
