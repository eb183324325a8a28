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


def fold(text: str) -> str:
    """NFKC (full-width to half-width), traditional to simplified, lowercase; length kept when possible."""
    text = unicodedata.normalize("NFKC", text)
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
