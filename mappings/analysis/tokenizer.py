"""jieba tokenization with Chaxin's versioned user dictionary.

Two backends cut with the same dictionary and algorithm: `rjieba` (jieba-rs, the default,
fast enough to keep pace with bulk indexing) and `jieba` (the reference Python code).
An index records which backend and dictionary built it, so queries can use the same.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from mappings.analysis.normalize import fold, normalize

DICT_DIR = Path(__file__).resolve().parent / "dict"
USER_DICT = DICT_DIR / "userdict-v1.txt"


class _Cutter(Protocol):
    def __call__(self, text: str) -> Iterable[str]: ...


@dataclass(frozen=True)
class DictEntry:
    word: str
    freq: int | None
    tag: str | None


def read_user_dict(path: Path = USER_DICT) -> list[DictEntry]:
    entries: list[DictEntry] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        # Dictionary words are folded like any text, so 石墨烯 and 石墨烯 in traditional form agree.
        word = normalize(parts[0])
        freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        tag = parts[2] if len(parts) > 2 else None
        entries.append(DictEntry(word, freq, tag))
    return entries


def dictionary_version(path: Path = USER_DICT) -> str:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return f"{path.stem}-{digest}"


class Tokenizer:
    """Normalise then cut text into jieba tokens, dropping whitespace and punctuation-only tokens."""

    def __init__(self, backend: str = "rjieba", user_dict: Path = USER_DICT) -> None:
        self.backend = backend
        self.dict_version = dictionary_version(user_dict)
        self._lock = threading.Lock()
        entries = read_user_dict(user_dict)
        self._cut = self._load(backend, entries)

    @property
    def fingerprint(self) -> str:
        return f"{self.backend}:{self.dict_version}:{RULES_VERSION}"

    @staticmethod
    def _load(backend: str, entries: list[DictEntry]) -> _Cutter:
        if backend == "rjieba":
            import rjieba

            jb = rjieba.Jieba()
            for e in entries:
                jb.add_word(e.word, e.freq, e.tag)
            return lambda text: jb.cut(text, True)
        if backend == "jieba":
            import logging

            import jieba

            jieba.setLogLevel(logging.WARNING)
            pj = jieba.Tokenizer()
            for e in entries:
                pj.add_word(e.word, e.freq, e.tag)
            return lambda text: pj.lcut(text, HMM=True)
        raise ValueError(f"unknown tokenizer backend: {backend}")

    def joined_folded(self, folded: str) -> str:
        """Space-joined tokens of text that fold() already produced: the value of the jieba fields."""
        # Drops whitespace and punctuation-only tokens. A token holds a [^\W_] character exactly when
        # one of its characters isalnum() (that is how `re` defines \w, less "_"), so the cheap
        # isalnum() of the whole token keeps most words (every character a letter or digit) without
        # a regex match; only the rest are searched.
        tokens: Iterable[str] = self._cut(folded)
        if "°" in folded:
            tokens = _degrees(list(tokens))
        search = _WORD_CHAR.search
        return " ".join([t for t in tokens if t.isalnum() or search(t)])

    def tokens(self, text: str) -> list[str]:
        """Tokens of already normalised text."""
        return self.joined_folded(text).split()

    def analyze(self, text: str) -> list[str]:
        """Normalise, then cut."""
        return self.tokens(normalize(text))

    def joined(self, text: str) -> str:
        """The value written to (and searched in) the whitespace-analysed jieba fields."""
        return self.joined_folded(fold(text))


# A token counts if it holds at least one letter, digit or CJK character ([^\W_]: \w without "_").
_WORD_CHAR = re.compile(r"[^\W_]")
# NFKC writes ℃ as "°C" and jieba cuts it into "°" and "c"; the "°" is then dropped as punctuation and
# 4℃ would be found by the letter C. Glued back, the unit is a token of its own that C never meets.
_DEGREE_UNITS = frozenset({"c", "f"})


def _degrees(tokens: list[str]) -> list[str]:
    out: list[str] = []
    for tok in tokens:
        if out and out[-1] == "°" and tok in _DEGREE_UNITS:
            out[-1] = "°" + tok
        else:
            out.append(tok)
    return out


# Bump when the token rules above change: it is part of the fingerprint an index records.
# r3: ℃ / ℉ ("°c" / "°f") are tokens of their own.
RULES_VERSION = "r3"


@lru_cache(maxsize=4)
def get_tokenizer(backend: str = "rjieba") -> Tokenizer:
    return Tokenizer(backend)
