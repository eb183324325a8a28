"""Pinyin of single Chinese characters, without pypinyin's phrase dictionary.

Names are converted one character at a time (`names._parts` passes a list of characters), and for a
one-character item pypinyin reads its character dictionary only: the phrase dictionary (about
400,000 entries, 44 MB in every API and worker process) never decides a syllable here. pypinyin
reads `PYPINYIN_NO_PHRASES` once, when it is first imported, so this module sets it before the
import and is the only place that imports pypinyin. tests/test_pinyin_chars.py checks, in a
separate interpreter that loads the phrases, that every character in the CJK blocks reads the same.
"""

from __future__ import annotations

import os

os.environ.setdefault("PYPINYIN_NO_PHRASES", "1")
# The copy would only protect the dictionaries from pypinyin's own loaders, which are never called.
os.environ.setdefault("PYPINYIN_NO_DICT_COPY", "1")

from pypinyin import Style, lazy_pinyin  # noqa: E402


def syllables(chars: list[str]) -> list[str]:
    """Toneless pinyin of each character, in order (张, 三 → zhang, san)."""
    return list(lazy_pinyin(chars, style=Style.NORMAL))
