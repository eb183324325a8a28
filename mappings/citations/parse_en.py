"""English raw reference strings (Vancouver, APA-like, Springer and BMC layouts) to structured fields.

Written by hand. PyPI offers no parser that serves offline: refextract (GPL-2.0, INSPIRE) is built
for high-energy-physics journal references, returns no title and cuts a Vancouver string in two at
its year; refparse reads only WoS, Scopus and CSSCI export fields; GROBID, CERMINE and anystyle need
model files or a server this project cannot fetch or run. The common English layouts differ in only
a few places (where the year stands, what ends the author list), so a few anchored patterns read
them:

    Vancouver  Kawai K, Akasaka Y. Title. Gastrointest Endosc. 1974;20:148-51.
    Springer   Ko JH, Paul BC (2009) Title. Plast Reconstr Surg 124:836-847
    BMC        Neely JD, Agre P: Title. Biochemistry 1999, 38:11156-11163.
    APA        Nettle, D., & Pollet, T. (2008). Title. American Naturalist, 172, 658-666.
    JCB        Ban, T., and D.C. Chan. 2010. Title. Hum. Mol. Genet. 19:2113-2122.

A field is set only when its place in the layout is found; otherwise it stays empty (the matcher
then needs more agreement from the other fields, never a guess).
"""

from __future__ import annotations

import re

from mappings.citations.doi import DOI_IN_TEXT, dois_in
from mappings.model import Reference

_YEAR = r"(?:1[6-9]\d\d|20\d\d)"
_PAGE = r"[A-Za-z]{0,2}\d+[A-Za-z]?"
_PAGES = rf"{_PAGE}(?:\s*[-–—]\s*{_PAGE})?"
# Word split over a PDF line break ("sig-\nnificantly"): joined without the hyphen, which the title
# comparison ignores anyway.
_BROKEN_WORD = re.compile(r"(?<=[a-z])-\s*\n\s*(?=[a-z])")
# The next entry's number on a line of its own, caught from the other PDF column ("…Thomforde GM, \n5. \nDinneen S").
_STRAY_NUMBER = re.compile(r"\n[ \t]*\d{1,3}\.[ \t]*\n")
_DOI_TAIL = re.compile(r"\b(?:doi|DOI)\s*:?\s*(?:10\.\S+(?:\s+\S+)?)?\s*$|\bhttps?://\S+|\bwww\.\S+")
_NUMBERING = re.compile(r"^\s*(?:\[\d+\]|\d+[.)]\s|\d+\s+(?=[A-Z]))\s*")
_PAREN_YEAR = re.compile(rf"\(\s*({_YEAR})[a-z]?\s*\)\.?")
# Vancouver and BMC: "1974;20:148-51", "1999, 38:11156", "2009;120(13):e96-7", "2005;12" (no pages).
_YEAR_VOL = re.compile(
    rf"(?:^|[.,;]\s*|\s)({_YEAR})[a-z]?\s*(?:[A-Z][a-z]{{2}}(?:\s*\d{{1,2}})?)?\s*[;,]\s*"
    rf"(\d+[A-Za-z]?)\s*(?:\(\s*([^)]{{1,20}})\s*\))?\s*(?::\s*({_PAGES}))?"
)
# Springer, JCB: "124:836-847", "17 (11):1163-1168", "19:2113-2122".
_VOL_PAGES = re.compile(rf"(?:^|[\s.,])(\d+[A-Za-z]?)\s*(?:\(\s*([^)]{{1,20}})\s*\))?\s*:\s*({_PAGES})")
# APA: ", 172, 658-666" and ", 111(6 Pt 1), e676-e682"; the "(1974)" variant: "49, 129-148 (1974)".
_APA_TAIL = re.compile(rf",\s*(\d+[A-Za-z]?)\s*(?:\(\s*([^)]{{1,20}})\s*\))?\s*,\s*({_PAGES})")
# Royal Society, Springer LNCS: "Mar. Biotechnol. 10, 166-180.", "Pharmacoeconomics 20(12), 855-867 (2002)"
# at the very end of the string.
_TAIL_END = re.compile(
    rf"(?:[,.]\s*|\s+)(\d+[A-Za-z]?)\s*(?:\(\s*([^)]{{1,20}})\s*\))?\s*,\s*({_PAGES})"
    rf"\s*(?:\(\s*{_YEAR}[a-z]?\s*\))?\s*\.?\s*$"
)
_ANY_YEAR = re.compile(rf"(?<![\d/.-])({_YEAR})(?![\d/-])")
# The end of a title: a full stop, question or exclamation mark after a word of two letters or more
# (so the "V." of "V. cholerae" is not taken for one).
_SENTENCE_END = re.compile(
    r"(?<!\bvs)(?<!\bsp)(?<!\bspp)(?<!\bcf)(?<!\bno)(?<!\be\.g)(?<!\bi\.e)(?<!\bal)(?<!\bSt)(?<!\bDr)"
    r"(?<=[A-Za-z0-9\]\)'\"”’]{2})[.?!]\s+|[?!]\s+"
)
# CSSCI's dotted layout ("…Proceedings of the USA.2005.102(46)"): not English prose punctuation.
_CSSCI_YEAR = re.compile(rf"[^\s.]\.{_YEAR}(?:\.|$)")
_ET_AL = re.compile(r",?\s*\bet\.?\s*al\b\.?", re.IGNORECASE)
_INITIALS = re.compile(r"^(?:[A-Z][a-z]?\.?[\s-]*){1,4}$")


def _collapse(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


def _clean(s: str) -> str:
    return s.strip().strip(".,;: ").strip()


def clean_raw(raw: str) -> str:
    """One line: PDF line breaks removed, split words joined, numbering dropped."""
    text = _BROKEN_WORD.sub("", _STRAY_NUMBER.sub("\n", raw))
    return _NUMBERING.sub("", _collapse(text))


def split_authors(part: str) -> list[str]:
    """Author names of an author list, each as written ("Kawai K", "Nettle, D.", "J.A. Heymann")."""
    return [n for n in _names(part) if re.search(r"[A-Za-z\u00c0-\u024f]{2}", n) and len(n) <= 80]


def _names(part: str) -> list[str]:
    part = _ET_AL.sub("", part).replace(";", ",")
    part = re.sub(r"\s*(?:&|\band\b)\s*", ", ", part)
    pieces = [p.strip() for p in part.split(",") if p.strip()]
    names: list[str] = []
    for p in pieces:
        # "Nettle, D." (APA): the initials after a comma belong to the surname before it.
        if names and _INITIALS.match(p) and "," not in names[-1] and " " not in names[-1]:
            names[-1] = f"{names[-1]}, {p}"
            continue
        names.append(p)
    return names


def _looks_like_authors(part: str) -> bool:
    names = _names(part)
    if not names:
        return False
    # A name has at most a few words; a title fragment has more, and longer lower-case words.
    for n in names:
        words = n.replace(",", " ").split()
        if (
            len(words) > 7
            or not re.search(r"[A-Za-z]", n)
            or any(len(w) > 3 and w[:1].islower() for w in words)
        ):
            return False
    return True


_PARTICLE = r"(?:van|von|de|der|den|da|di|le|la|del|dos|du|el|al)"


def _vancouver_author_end(text: str) -> int | None:
    """Where a Vancouver author list ends: the first ". " after a run of "Surname AB" names."""
    m = re.match(
        rf"((?:(?:{_PARTICLE}\s+)*[A-Z][\w'’\-]*(?:\s+(?:{_PARTICLE}|e|y|[A-Z][\w'’\-]*))*,?\s+"
        r"[A-Z]{1,4}(?:-[A-Z]{1,2})?(?:[\s,]+|(?=[.:])))+(?:et\s+al\.?)?)",
        text,
    )
    if m and text[m.end() :].startswith((". ", ": ")) or (m and m.group(1).rstrip().endswith("al.")):
        return m.end()
    return None


# Initials first, names and title all parted by commas (Elsevier): "A. Al-Azemi, J. Bahl, G.J.D. Smith,
# Avian influenza …", "JM Cavanaugh, Y Lu, S Kallakuri, Pain generation …", "…, E. Couacy-Hymann et al., Title".
_INITIAL_NAME = rf"(?:(?:[A-Z]\.\s?-?){{1,4}}|[A-Z]{{1,3}}\s)\s?(?:{_PARTICLE}\s+|[A-Z][a-z]{{1,2}}\s+)*[A-Z][\w'’\-]+"
_INITIALS_FIRST = re.compile(
    rf"^((?:{_INITIAL_NAME}(?:,\s+|\s+(?:and|&)\s+))+(?:{_INITIAL_NAME}\s+et\s+al\.?,\s+)?)(?=[A-Z0-9\"“(])"
)


def _title_like(piece: str) -> bool:
    """A piece of prose, not a venue: venues are capitalised abbreviations ("J Biol Chem", "Proc. Natl.
    Acad. Sci."), while a subtitle has a lower-case word of four letters or more."""
    words = piece.split()
    return len(words) >= 2 and any(len(w) >= 4 and w[0].islower() and w.isalpha() for w in words)


def _split_title_venue(middle: str) -> tuple[str | None, str | None]:
    middle = middle.strip()
    ends = list(_SENTENCE_END.finditer(middle))
    if ends:
        # A title of two sentences ("GIS or GPS? A comparison of two methods …", "Bench to bedside. The
        # quest for quality …"): a piece of prose that another piece still follows belongs to the title.
        k = 0
        while k + 1 < len(ends) and _title_like(middle[ends[k].end() : ends[k + 1].start()]):
            k += 1
        cut = ends[k]
        title = (
            _clean(middle[: cut.end()].rstrip())
            if middle[cut.start()] != "?"
            else middle[: cut.start() + 1].strip()
        )
        venue = _clean(middle[cut.end() :])
        return title or None, venue or None
    # One piece: a short one is a venue ("J Med Chem"), a long one a title.
    words = middle.split()
    if len(words) <= 5:
        return None, _clean(middle) or None
    return _clean(middle) or None, None


def parse_english(raw: str) -> Reference | None:
    """Structured fields of an English reference string; None when no known layout fits."""
    text = clean_raw(raw)
    dois = dois_in(text)
    # DOIs out first: their dots and digits ("j.1365-294X.2009.04419.x") read as a year or pages.
    text = _collapse(_DOI_TAIL.sub("", DOI_IN_TEXT.sub(" ", text)))
    if not re.search(r"[A-Za-z]{3}", text) or _CSSCI_YEAR.search(text):
        return None
    authors_part: str | None = None
    rest = text
    year: int | None = None
    py = _PAREN_YEAR.search(text)
    if py and py.start() > 0 and _looks_like_authors(text[: py.start()]):
        # Springer / APA: "Authors (2009) Title ..." or "Authors (2008). Title ...".
        authors_part, rest, year = text[: py.start()], text[py.end() :], int(py.group(1))
    else:
        jcb = re.match(rf"(.+?)[.,]?\s+\(?({_YEAR})[a-z]?\)?\.?\s+(?=[A-Z\d\"“])(.*)$", text)
        colon = text.find(": ")
        van = _vancouver_author_end(text)
        if jcb and _looks_like_authors(jcb.group(1)) and len(jcb.group(1)) < 400:
            authors_part, rest, year = jcb.group(1), jcb.group(3), int(jcb.group(2))
        elif van is not None:
            authors_part, rest = text[:van], text[van:].lstrip(".: ")
        elif 0 < colon < 300 and _looks_like_authors(text[:colon]):
            authors_part, rest = text[:colon], text[colon + 2 :]
        elif (ini := _INITIALS_FIRST.match(text)) and ini.group(1).count(",") >= 2:
            authors_part, rest = ini.group(1).rstrip(", "), text[ini.end() :]
        else:
            lead = re.match(r"((?:[A-Z]{1,3}\s+)?[A-Z][\w'’\-]+(?:\s+[A-Z]{1,3})?),\s+", text)
            if lead and _looks_like_authors(lead.group(1)):
                # "AM Kuris, Title. Journal. 49, 129-148 (1974)."
                authors_part, rest = lead.group(1), text[lead.end() :]
    if authors_part is None:
        return None
    volume = issue = pages = None
    middle = rest
    tail = None
    for pattern in (_YEAR_VOL, _VOL_PAGES, _APA_TAIL, _TAIL_END):
        for m in pattern.finditer(rest):
            if pattern is _YEAR_VOL:
                y, volume, issue, pages = m.group(1), m.group(2), m.group(3), m.group(4)
                year = year or int(y)
            else:
                volume, issue, pages = m.group(1), m.group(2), m.group(3)
            tail = m
            # The bibliographic tail follows the venue: take the first one after some text.
            if m.start() > 3:
                break
        if tail is not None and tail.start() > 3:
            break
        tail = None
        volume = issue = pages = None
    if tail is not None:
        middle = rest[: tail.start()]
        if pattern is not _YEAR_VOL and year is None:
            ay = _ANY_YEAR.findall(rest[tail.start() :]) or _ANY_YEAR.findall(middle[-12:])
            year = int(ay[-1]) if ay else None
            if ay and middle.rstrip(" .;,").endswith(ay[-1]):
                middle = middle.rstrip(" .;,")[: -len(ay[-1])]
    else:
        ay = _ANY_YEAR.findall(rest)
        if year is None and ay:
            year = int(ay[-1])
            middle = rest[: rest.rfind(ay[-1])]
    title, venue = _split_title_venue(middle)
    if venue:
        venue = re.sub(rf"[\s.,;]*{_YEAR}[a-z]?\s*(?:[A-Z][a-z]{{2}}(?:\s*\d{{1,2}})?)?$", "", venue).strip(
            " .,;"
        )
        venue = venue or None
    if title and len(title) < 4:
        title = None
    return Reference(
        raw=raw,
        authors=split_authors(authors_part),
        title=title,
        venue=venue,
        year=year,
        volume=volume,
        issue=issue.strip() if issue else None,
        pages=re.sub(r"\s+", "", pages).replace("–", "-").replace("—", "-") if pages else None,
        doi=dois[0] if dois else None,
        language="en",
    )
