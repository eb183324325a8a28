"""Author-name normalisation for 自引 and matching (domain brief Part A §4).

Names are reduced to (surname, initials) in Latin letters: Chinese characters go to pinyin with
pypinyin, so 张三 = Zhang San = Zhang, S. = San Zhang = ZHANG S. When both names are written in
Chinese characters the characters themselves are compared (张三 ≠ 章三 though both read Zhang San).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

from pypinyin import Style, lazy_pinyin

from mappings.analysis.normalize import fold

_HAN = re.compile(r"[\u3400-\u9fff]")
_SEP = re.compile(r"[\s,.\-‐‑·・'’]+")


def _strip_accents(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def is_han(name: str) -> bool:
    return bool(_HAN.search(name))


def han_form(name: str) -> str:
    """Characters only, folded (NFKC, simplified); for comparing two names written in characters."""
    return "".join(_HAN.findall(fold(name)))


@lru_cache(maxsize=65536)
def latin_parts(name: str) -> tuple[str, ...]:
    """The name's parts in Latin letters, lowercased; a Chinese name becomes (surname, given-name pinyin)."""
    folded = fold(name.strip())
    if is_han(folded):
        chars = _HAN.findall(folded)
        if not chars:
            return ()
        syl = lazy_pinyin(chars, style=Style.NORMAL)
        # Two-character compound surnames are rare; the first character is the surname.
        return (syl[0], "".join(syl[1:])) if len(syl) > 1 else (syl[0],)
    if "," in folded:
        family, _, given = folded.partition(",")
        parts = [family.strip(), *(_SEP.split(given.strip()))]
    else:
        parts = _SEP.split(folded)
    return tuple(p for p in (_strip_accents(x).replace("-", "") for x in parts) if p)


def _keys(name: str) -> set[tuple[str, str]]:
    """(surname, first initial) readings of a name: both orders, since 'San Zhang' and 'Zhang San' occur."""
    parts = latin_parts(name)
    if not parts:
        return set()
    if len(parts) == 1:
        return {(parts[0], "")}
    out = {(parts[0], parts[1][0])}
    # WoS "Zhang S" and "ZHANG SX": initials glued after the surname.
    out.add((parts[-1], parts[0][0]))
    return out


def same_author(a: str, b: str) -> bool:
    """Whether two written names can be the same person, at the precision a self-citation needs."""
    if not a.strip() or not b.strip():
        return False
    if is_han(a) and is_han(b):
        return han_form(a) == han_form(b)
    ka, kb = _keys(a), _keys(b)
    if not ka or not kb:
        return False
    for sa, ia in ka:
        for sb, ib in kb:
            if sa == sb and (ia == ib or not ia or not ib):
                return True
    return False


def first_surname(name: str) -> str | None:
    """The surname in Latin letters (pinyin for Chinese), for blocking keys; None when unreadable."""
    parts = latin_parts(name)
    if not parts:
        return None
    if is_han(name) or "," in name:
        return parts[0]
    # "Smith J", "Smith JA": a trailing run of capitals is initials. "John Smith": last part.
    raw = _SEP.split(name.strip())
    if len(raw) >= 2 and raw[-1].isupper() and len(raw[-1]) <= 3:
        return parts[0]
    return parts[-1] if len(parts) > 1 else parts[0]


def shares_any_author(citing: Sequence[str], cited: Sequence[str]) -> bool:
    return any(same_author(a, b) for a in citing for b in cited)
