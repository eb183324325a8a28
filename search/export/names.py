"""Personal names as GB/T 7714 writes them: surname first, given names as initials without dots.

Chinese names are written as they are ("张三"). A Latin-script name is split into surname and given
names and written "Surname I I" (`Myburg A A`). The two editions differ only in the surname's case:
7714-2015 writes it in capitals (MYBURG A A, as in its examples KANAMORI H, CALMS R B), 7714-2025
writes it with an initial capital (Myburg A A: 7.1.1 "姓应全部著录，首字母应大写"), so a surname
stored in capitals (CNKI's "ZHANG San") is re-cased for 2025.

Records hold names as free text, so the split is a heuristic, in this order:
  "Myburg, Alexander A."            comma: surname before it
  "Myburg A A", "Myburg AA"         trailing initials: the first word is the surname
  "ZHANG San", "LI Jian-ning"       a word in capitals followed by one that is not: capitals = surname
  "Alexander A. Myburg"             otherwise the last word (with particles: "van der", "De") is the surname
A pinyin name stored given-name-first ("San Zhang") and one stored surname-first in mixed case
("Zhang San") cannot be told apart; the second is read as Western order. That is a limitation of
the data, not of the standard.
"""

from __future__ import annotations

import re

from search.export.fields import clean, has_cjk

_PARTICLES = frozenset(
    {"van", "von", "der", "den", "de", "del", "della", "di", "da", "du", "la", "le", "dos", "das"}
)
_INITIALS = re.compile(r"^(?:[A-Z]\.?-?)+$")  # "A", "A.", "AA", "A.A.", "J.-P."
_SUFFIXES = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"})
_GENERATION = frozenset({"jr", "jr.", "sr", "sr."})


def _is_initials(word: str) -> bool:
    return bool(_INITIALS.match(word)) and len(word.replace(".", "").replace("-", "")) <= 3


def _initials(given: list[str]) -> str:
    """ "Alexander A." -> "A A"; "Jian-ning" -> "J N".

    A hyphenated given name is mostly pinyin here (CNKI writes "XU Ya-qiong"), and GB/T 7714 takes
    one initial per syllable ("LI J N" for 李江宁), so the hyphen becomes a space, "Jean-Pierre" too.
    """
    out: list[str] = []
    for word in given:
        if _is_initials(word):
            out.extend(c for c in word if c.isalpha())
            continue
        out.extend(p[0].upper() for p in re.split(r"[-.]", word) if p and p[0].isalpha())
    return " ".join(out)


def _split(name: str) -> tuple[str, list[str]]:
    """(surname, given-name words)."""
    if "," in name:
        surname, _, rest = name.partition(",")
        given = [w for w in rest.replace(",", " ").split() if w.lower() not in _SUFFIXES]
        return surname.strip(), given
    words = [w for w in name.split() if w.lower() not in _SUFFIXES]
    if len(words) == 1:
        return words[0], []
    # Already surname-first: "Myburg A A", "DES MARAIS D J", "GROSS O."
    tail = len(words)
    while tail > 1 and _is_initials(words[tail - 1]):
        tail -= 1
    if tail < len(words) and not any("." in w or _is_initials(w) and len(w) == 1 for w in words[:tail]):
        return " ".join(words[:tail]), words[tail:]
    # Capitals mark the surname: "ZHANG San", "LI Jian-ning" (CNKI and Wanfang English author fields).
    if not all(w.isupper() for w in words):
        lead = 0
        while lead < len(words) and words[lead].isupper() and "." not in words[lead]:
            lead += 1
        if lead and len(words[0].replace("-", "")) > 1:
            return " ".join(words[:lead]), words[lead:]
    i = len(words) - 1
    while i > 1 and words[i - 1].lower() in _PARTICLES:
        i -= 1
    return " ".join(words[i:]), words[:i]


def _recase(surname: str) -> str:
    """ "MYBURG" -> "Myburg", "WILLIAMS-ELLIS" -> "Williams-Ellis", "O'BRIEN" -> "O'Brien"; a surname
    already in mixed case ("McEliece", "De Morgan") is the source's spelling and stays."""
    if not surname.isupper():
        return surname
    return "".join(w.capitalize() for w in re.split(r"([\s'’-])", surname.lower()))


_BODIES = frozenset(
    {
        "academy", "administration", "agency", "association", "board", "bureau", "center", "centre",
        "college", "commission", "committee", "company", "corporation", "council", "department",
        "foundation", "gmbh", "group", "hospital", "inc", "institute", "institution", "laboratories",
        "laboratory", "llc", "ltd", "ministry", "office", "organisation", "organization", "plc",
        "school", "service", "society", "university",
    }
)  # fmt: skip


def is_corporate(name: str) -> bool:
    """A body, not a person ("World Health Organization", "TRISCO ICAP PTY LTD"): written as it is,
    since GB/T 7714 records a body's name from the source (7.1.4)."""
    words = [w.strip(".,()&").lower() for w in name.split()]
    return len(words) > 4 or any(w in _BODIES for w in words)


def surname(name: str) -> str:
    """The surname of a Latin-script personal name; "" for a CJK name or a body."""
    name = clean(name) or ""
    if not name or has_cjk(name) or is_corporate(name):
        return ""
    return _split(name)[0]


def personal_name(name: str, *, edition: str) -> str:
    """One author as the given edition writes it; CJK names and bodies unchanged (CJK spaces removed)."""
    name = clean(name) or ""
    if not name or has_cjk(name):
        return re.sub(r"(?<=[^\x00-\x7f]) (?=[^\x00-\x7f])", "", name)
    if is_corporate(name):
        return name
    surname, given = _split(name)
    surname = surname.upper() if edition == "2015" else _recase(surname)
    initials = _initials(given)
    out = f"{surname} {initials}" if initials else surname
    # "Jr" stays, after the initials: "PEEBLES P Z, Jr." (2015 4.1 ex. 14, 4.2 ex. 6) and
    # "Peebles P Z Jr" (2025 8.2.2 ex. 6, 8.3.2 ex. 4).
    suffix = next(
        (w.rstrip(".").capitalize() for w in re.split(r"[\s,]+", name) if w.lower() in _GENERATION), None
    )
    if suffix:
        out += f", {suffix}." if edition == "2015" else f" {suffix}"
    return out
