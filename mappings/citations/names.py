"""Author-name normalisation for 自引 and matching (domain brief Part A §4).

Names are reduced to (surname, initials) in Latin letters: Chinese characters go to pinyin with
pypinyin, so 张三 = Zhang San = Zhang, S. = San Zhang = ZHANG S. When both names are written in
Chinese characters the characters themselves are compared (张三 ≠ 章三 though both read Zhang San).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from mappings.analysis.normalize import fold
from mappings.citations.pinyin import syllables

_HAN = re.compile(r"[\u3400-\u9fff]")
# Name parts are split at spaces, commas and full stops; a hyphen or an apostrophe stays inside its part
# (Smith-Keune, O'Brien, Jean-Pierre) and is then dropped, so "Smith-Keune" = "SmithKeune" and
# "O'Brien" = "OBrien", while "J.-P." still reads as the initials J, P.
_SEP = re.compile(r"[\s,.·・]+")
_INNER = re.compile(r"[\-‐‑'’`]")
# Lower-case words that begin a surname in Dutch, German, French, Italian, Spanish and Portuguese
# names ("van der Linden", "de Witte", "dos Santos"). They belong to the surname, but the particle
# alone is no surname: "de Witte L" and "de Vries L" are two people.
PARTICLES = frozenset(
    "van von der den de da di le la du dos das del della des ten ter vom zu zur d l el al".split()
)


def _strip_accents(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def is_han(name: str) -> bool:
    return bool(_HAN.search(name))


def han_form(name: str) -> str:
    """Characters only, folded (NFKC, simplified); for comparing two names written in characters."""
    return "".join(_HAN.findall(fold(name)))


def _part(token: str) -> str:
    return _INNER.sub("", _strip_accents(token)).lower()


@lru_cache(maxsize=65536)
def latin_parts(name: str) -> tuple[str, ...]:
    """The name's parts in Latin letters, lowercased; a Chinese name becomes (surname, given-name pinyin)."""
    folded = fold(name.strip())
    if is_han(folded):
        chars = _HAN.findall(folded)
        if not chars:
            return ()
        syl = syllables(chars)
        # Two-character compound surnames are rare; the first character is the surname.
        return (syl[0], "".join(syl[1:])) if len(syl) > 1 else (syl[0],)
    if "," in folded:
        family, _, given = folded.partition(",")
        parts = [*_SEP.split(family.strip()), *_SEP.split(given.strip())]
    else:
        parts = _SEP.split(folded)
    return tuple(p for p in (_part(x) for x in parts) if p)


@dataclass(frozen=True)
class _Unit:
    """One word of a name, with the particles written before it ("van der" + "linden")."""

    bare: str
    full: str
    initials: bool  # written as initials ("JA", "J."), so never a surname

    def surnames(self) -> set[str]:
        return {self.bare, self.full}


def _tokens(text: str) -> list[tuple[str, bool, bool]]:
    """(part, written as initials, written in lower case) for each part of a Latin name as written."""
    raw = [t for t in _SEP.split(_strip_accents(unicodedata.normalize("NFKC", text.strip()))) if t]
    all_caps = "".join(raw).isupper()
    out: list[tuple[str, bool, bool]] = []
    for t in raw:
        p = _INNER.sub("", t)
        if not p:
            continue
        # "JA", "ACHF" after a surname are initials; in an all-capitals name up to three letters are
        # ("ZHANG SX"; "ZHANG SAN" then reads as Zhang S, which still meets "Zhang San").
        # The first of several parts in capitals is the surname ("HAO LF").
        caps_limit = (2 if not out and len(raw) > 1 else 3) if all_caps else 4
        short = len(p) == 1 or (p.isupper() and len(p) <= caps_limit)
        out.append((p.lower(), short, p.islower()))
    return out


def _units(tokens: list[tuple[str, bool, bool]], *, surname: bool = False) -> list[_Unit]:
    """Words with their particles joined. A capitalised particle counts as one only in a surname or
    beside initials ("Van Eldik LJ", "De Witte L"): "Da Wei" is a given name and a surname."""
    particles_here = surname or any(short for _, short, _ in tokens)
    units: list[_Unit] = []
    pending: list[str] = []
    for i, (p, short, lower) in enumerate(tokens):
        later_word = any(not s and q not in PARTICLES for q, s, _ in tokens[i + 1 :])
        if p in PARTICLES and (lower or particles_here) and later_word:
            pending.append(p)  # a particle joins the next full word
            continue
        units.append(_Unit(p, "".join(pending) + p, short and not pending))
        pending = []
    units.extend(_Unit(p, p, False) for p in pending)  # "Linden, S. van der": left as words
    return units


def _joined(units: list[_Unit]) -> set[str]:
    """A surname of several words read as one, with and without its leading particles
    ("van Marken Lichtenbelt" = "vanmarkenlichtenbelt" = "markenlichtenbelt"); empty for one word."""
    words = [u for u in units if not u.initials]
    if len(words) < 2:
        return set()
    rest = "".join(u.full for u in words[1:])
    out = {words[0].full + rest, words[0].bare + rest}
    if words[0].full in PARTICLES and len(words) >= 3:
        # A leading particle the parse could not join ("De Jong Gierveld", no initials) is dropped
        # too, but only where two words remain ("Da Wei" is no particle and a surname).
        out.add(rest)
    return out


@lru_cache(maxsize=65536)
def _readings(name: str) -> frozenset[tuple[str, str]]:
    """(surname, first initial) readings of a name; the initial is "" when the name gives none.

    Chinese and "Given Family" names are read in both orders, since "San Zhang" and "Zhang San" both
    occur; a part written as initials is never read as a surname."""
    folded = fold(name.strip())
    if is_han(folded):
        parts = latin_parts(name)
        if not parts:
            return frozenset()
        if len(parts) == 1:
            return frozenset({(parts[0], "")})
        return frozenset({(parts[0], parts[1][0]), (parts[1], parts[0][0])})
    out: set[tuple[str, str]] = set()
    if "," in folded:
        family, _, given = name.partition(",")
        fam = _units(_tokens(family), surname=True)
        if not fam:
            return frozenset()
        given_parts = [p for p, _, _ in _tokens(given)]
        initial = given_parts[0][0] if given_parts else ""
        # Family words after the first, particles aside, are further surnames ("Garcia Lopez").
        for s in fam[-1].surnames() | fam[0].surnames() | _joined(fam):
            out.add((s, initial))
        return frozenset(out)
    units = _units(_tokens(name))
    full = [u for u in units if not u.initials]
    if not full:
        return frozenset()
    if len(units) == 1:
        return frozenset((s, "") for s in units[0].surnames())
    first, last = units[0], units[-1]
    if last.initials:  # "Smith JA", "van der Linden S", "Dorhout Mees SM" (two words, one surname)
        names = full[0].surnames() | _joined(full)
        return frozenset((s, last.bare[0]) for s in names)
    if first.initials:  # "J.A. Heymann", "AM Kuris"
        return frozenset((s, first.bare[0]) for s in last.surnames())
    out |= {(s, first.bare[0]) for s in last.surnames()}  # "John Smith"
    out |= {(s, units[1].full[0]) for s in first.surnames()}  # "Zhang San"
    # "Dorhout Mees", "El Maghraoui", "De Jong Gierveld": a surname of several words, as NLM writes one.
    out |= {(s, "") for s in _joined(units)}
    return frozenset(out)


def same_author(a: str, b: str) -> bool:
    """Whether two written names can be the same person, at the precision a self-citation needs."""
    if not a.strip() or not b.strip():
        return False
    if is_han(a) and is_han(b):
        return han_form(a) == han_form(b)
    ka, kb = _readings(a), _readings(b)
    for sa, ia in ka:
        for sb, ib in kb:
            if sa == sb and (ia == ib or not ia or not ib):
                return True
    return False


def first_surname(name: str) -> str | None:
    """The surname in Latin letters (pinyin for Chinese), for blocking keys; None when unreadable.

    Particles are left out ("van der Linden S" gives "linden"), so the key meets a record that
    writes only "Linden", as NLM does."""
    if is_han(name):
        parts = latin_parts(name)
        return parts[0] if parts else None
    if "," in name:
        fam = _units(_tokens(name.partition(",")[0]), surname=True)
        return fam[0].bare if fam else None
    units = _units(_tokens(name))
    full = [u for u in units if not u.initials]
    if not full:
        return None
    if len(units) == 1 or units[-1].initials:
        return full[0].bare
    return units[-1].bare


def shares_any_author(citing: Sequence[str], cited: Sequence[str]) -> bool:
    return any(same_author(a, b) for a in citing for b in cited)
