"""Text folding applied before tokenization, identically to documents and queries."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

_WS = re.compile(r"\s+")


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    # Character-level folding (not the phrase-level Taiwan/HK variants): it keeps the text
    # length, which lets highlights found on the folded text map back onto the original.
    return opencc.OpenCC("t2s")


# The full-width ASCII forms and the ideographic space, each mapped to what NFKC makes of it alone.
_FULL_WIDTH = re.compile("[\uff01-\uff5e\u3000]")
_HALF_WIDTH = {chr(c): unicodedata.normalize("NFKC", chr(c)) for c in (*range(0xFF01, 0xFF5F), 0x3000)}


def _half_width(m: re.Match[str]) -> str:
    return _HALF_WIDTH[m.group()]


def nfkc(text: str) -> str:
    """unicodedata's NFKC, faster on Chinese text.

    Chinese text nearly always holds full-width punctuation (，（）：), and one such character sends
    NFKC down its slow path through the whole string. Written half-width first, most texts pass
    NFKC's quick check and come back as they are. The result is the same: putting a character's own
    NFKC form in its place never changes the NFKC of the string around it (the decompositions, and
    so the composed result, are the same).
    """
    return unicodedata.normalize("NFKC", _FULL_WIDTH.sub(_half_width, text))


def fold(text: str) -> str:
    """NFKC (full-width to half-width), traditional to simplified, lowercase; length kept when possible."""
    text = nfkc(text)
    text = _t2s().convert(text)
    return text.lower()


def fold_with_offsets(text: str) -> tuple[str, list[int]] | None:
    """fold(text) plus, for each folded character, the index of the original character it came from.

    None when the folding cannot be aligned character by character (then callers show folded text).
    """
    pieces = [unicodedata.normalize("NFKC", ch).lower() for ch in text]
    joined = "".join(pieces)
    converted = _t2s().convert(joined)
    if len(converted) != len(joined) or converted != fold(text):
        return None
    origin = [i for i, piece in enumerate(pieces) for _ in piece]
    return converted, origin


def normalize(text: str) -> str:
    """Fold and collapse whitespace: the form that both index and query analysis start from."""
    return _WS.sub(" ", fold(text)).strip()


_NAME_PUNCT = re.compile(r"[.,，、·•・]+")
_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff]) (?=[\u3400-\u9fff])")


def fold_name(name: str) -> str:
    """The form author names are matched in: folded, name punctuation dropped, "张 三" joined.

    "Smith, J." and "smith j" meet, as do 張三 and 张三; the name as written is kept beside it.
    """
    text = normalize(_NAME_PUNCT.sub(" ", fold(name)))
    return _CJK_GAP.sub("", text)
