"""Tokens of the analyst query language.

Full-width forms that Chinese input methods produce (（）＝％＊＋－＞＜，＃ and the full-width
space) are read as their ASCII operators, so `TI＝‘石墨烯’` works as typed. Token positions are
offsets into the original text; quoted content is kept verbatim (the compiler folds it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from search.query.errors import QuerySyntaxError

TokenKind = Literal[
    "LPAREN", "RPAREN", "EQ", "PCT", "STAR", "PLUS", "MINUS", "CMP", "COMMA", "HISTORY", "STRING", "WORD", "EOF"
]  # fmt: skip

_SINGLE: dict[str, TokenKind] = {
    "(": "LPAREN", "（": "LPAREN", ")": "RPAREN", "）": "RPAREN",
    "=": "EQ", "＝": "EQ", "%": "PCT", "％": "PCT",
    "*": "STAR", "＊": "STAR", "+": "PLUS", "＋": "PLUS", "-": "MINUS", "－": "MINUS",
    ",": "COMMA", "，": "COMMA",
}  # fmt: skip
_ANGLE = {">": ">", "＞": ">", "<": "<", "＜": "<"}
_ANGLE_WITH_EQ = {"≥": ">=", "≤": "<="}
# A quote closes on any quote of its family, because input methods mix ' ‘ ’ freely.
# Doubling a quote of the family inside the value stands for that character itself.
SINGLE_QUOTES = "'‘’＇"
DOUBLE_QUOTES = '"“”＂'
# Inside a bare (unquoted) word these join alphanumerics: 10.1000/x-1, 2015-2020, TP391.4.
_JOINERS = "._/:-·"
MAX_HISTORY_DIGITS = 6


@dataclass(frozen=True)
class Token:
    kind: TokenKind
    pos: int
    end: int
    text: str = ""  # STRING: content; WORD: the word; CMP: the operator; HISTORY: the digits
    offsets: tuple[int, ...] = ()  # STRING: the original offset of each content character


def _is_digit(ch: str) -> bool:
    return ch.isdecimal()


def _string(text: str, start: int) -> Token:
    family = SINGLE_QUOTES if text[start] in SINGLE_QUOTES else DOUBLE_QUOTES
    chars: list[str] = []
    offsets: list[int] = []
    i = start + 1
    n = len(text)
    while i < n:
        ch = text[i]
        if ch in family:
            if i + 1 < n and text[i + 1] == ch:
                chars.append(ch)
                offsets.append(i)
                i += 2
                continue
            return Token("STRING", start, i + 1, "".join(chars), tuple(offsets))
        chars.append(ch)
        offsets.append(i)
        i += 1
    raise QuerySyntaxError(f"第 {start + 1} 个字符处的引号没有闭合", start, [text[start]])


def _word_end(text: str, start: int) -> int:
    i = start + 1
    n = len(text)
    while i < n:
        ch = text[i]
        if ch.isalnum():
            i += 1
        elif ch in _JOINERS and i + 1 < n and text[i + 1].isalnum():
            i += 2
        else:
            break
    return i


def tokenize(text: str) -> list[Token]:
    """The tokens of `text`, ending with EOF; raises QuerySyntaxError on a character it cannot read."""
    tokens: list[Token] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in _SINGLE:
            tokens.append(Token(_SINGLE[ch], i, i + 1, ch))
            i += 1
        elif ch in _ANGLE:
            op = _ANGLE[ch]
            if i + 1 < n and text[i + 1] in "=＝":
                tokens.append(Token("CMP", i, i + 2, op + "="))
                i += 2
            else:
                tokens.append(Token("CMP", i, i + 1, op))
                i += 1
        elif ch in _ANGLE_WITH_EQ:
            tokens.append(Token("CMP", i, i + 1, _ANGLE_WITH_EQ[ch]))
            i += 1
        elif ch in SINGLE_QUOTES or ch in DOUBLE_QUOTES:
            tok = _string(text, i)
            tokens.append(tok)
            i = tok.end
        elif ch in "#＃":
            j = i + 1
            while j < n and _is_digit(text[j]):
                j += 1
            if j == i + 1:
                raise QuerySyntaxError("'#' 后需要检索历史的编号，如 #1", i + 1, ["编号"])
            if j - i - 1 > MAX_HISTORY_DIGITS:
                raise QuerySyntaxError("检索历史编号过大", i + 1, ["编号"])
            tokens.append(Token("HISTORY", i, j, text[i + 1 : j]))
            i = j
        elif ch.isalnum():
            j = _word_end(text, i)
            tokens.append(Token("WORD", i, j, text[i:j]))
            i = j
        else:
            raise QuerySyntaxError(f"无法识别的字符 '{ch}'，检索值请用引号括起", i, ["检索项", "检索值"])
    tokens.append(Token("EOF", n, n))
    return tokens
