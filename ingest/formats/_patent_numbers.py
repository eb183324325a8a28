"""Patent numbers in one canonical form: country + number + kind code, no separators ("US6970935B2").

Offices and their data write the same publication many ways: "US 6,970,935 B2", "06970935" with the
country and kind in sibling elements, "2007/0140112" for a US pre-grant publication, "D. 271298" for a
design patent. Citations and records only match across sources when they are written one way.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

# Separators that never carry meaning inside a publication number.
_SEPARATORS = re.compile(r"[\s,./\-_]+")
# Optional country, optional series letters (US design, reissue, plant, SIR, defensive publication),
# the digits, then an optional kind code ("A", "B2", "S1"). US "X" patents and "AI" additions count too.
_BODY = r"(?P<series>RE|PP|AI|D|H|T|X)?(?P<digits>\d{3,})(?P<kind>[A-Z]\d?)?$"
_BARE = re.compile("^" + _BODY)
_WITH_COUNTRY = re.compile(r"^(?P<country>[A-Z]{2})" + _BODY)
_KIND = re.compile(r"^[A-Z]\d?$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_IPC = re.compile(r"^([A-H]\d\d[A-Z])\s*0*(\d{1,4})\s*/\s*(\d{2,6})$")


def _fold(value: str | None) -> str:
    return unicodedata.normalize("NFKC", value or "").strip().upper()


def canonical_patent_number(
    number: str | None, country: str | None = None, kind: str | None = None
) -> str | None:
    """ "US" + "6970935" + "B2" from any of the usual spellings; None when it is no patent number.

    `country` and `kind` are used when the number itself does not carry them (USPTO and ST.36 XML put
    them in sibling elements). Leading zeros of the serial part go ("06970935" -> "6970935"), as in
    DOCDB, so a zero-padded grant and a citation of it come out the same.
    """
    text = _SEPARATORS.sub("", _fold(number))
    # A bare number first, so the series "RE" of "RE38000" is not taken for a country code.
    match = _BARE.match(text) or _WITH_COUNTRY.match(text)
    if not match:
        return None
    cc = match.groupdict().get("country") or _fold(country)
    if not _COUNTRY.match(cc):
        return None
    kind_code = match.group("kind") or _fold(kind)
    if kind_code and not _KIND.match(kind_code):
        kind_code = ""
    digits = match.group("digits").lstrip("0") or "0"
    return f"{cc}{match.group('series') or ''}{digits}{kind_code}"


def canonical_application_number(number: str | None, country: str | None = None) -> str | None:
    """Application numbers keep their zeros ("US09342866"): a series code is part of them."""
    text = _SEPARATORS.sub("", _fold(number))
    if not text:
        return None
    cc = _fold(country)
    if _COUNTRY.match(cc) and not text.startswith(cc):
        text = cc + text
    return text


def compact_date(value: str | None) -> date | None:
    """A date from the YYYYMMDD form patent XML uses; None for partial dates such as "20101100"."""
    text = _fold(value)
    if not re.fullmatch(r"\d{8}", text):
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def compact_year(value: str | None) -> int | None:
    """The year of a YYYYMMDD or YYYYMM00 date, which citations use when the day is unknown."""
    text = _fold(value)
    if not re.fullmatch(r"\d{4}(\d{2}(\d{2})?)?", text):
        return None
    year = int(text[:4])
    return year if 1700 <= year <= 2100 else None


def normalize_ipc(value: str | None) -> str | None:
    """IPC symbols as "H01J 1/62" from "H01J001/62" or "H01J 1/62"; other shapes only tidied."""
    text = " ".join(_fold(value).split())
    if not text:
        return None
    match = _IPC.match(text)
    return f"{match.group(1)} {match.group(2)}/{match.group(3)}" if match else text


def classification_symbol(
    section: str, klass: str, subclass: str, main_group: str, subgroup: str
) -> str | None:
    """An IPC/CPC symbol from the split fields of ST.36 `classification-ipcr` / `classification-cpc`."""
    head = _fold(section) + _fold(klass) + _fold(subclass)
    group, sub = _fold(main_group).lstrip("0") or "0", _fold(subgroup)
    if len(head) != 4 or not group.isdigit():
        return None
    return f"{head} {group}/{sub or '00'}"
