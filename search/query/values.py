"""Reading one value string: plain text, proximity (`/NEAR n`, `/PREV n`), truncation, years.

Errors point at the offending character of the original expression, through the offset map the
lexer kept for each quoted value.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from search.query.ast import Leaf, Proximity, Text, Truncation
from search.query.errors import QuerySyntaxError
from search.query.fields import FieldSpec, Kind

MAX_DISTANCE = 100

# A position operator stands alone between spaces, so 'TCP/IP' and 'and/or' stay literal.
_POSITION_OP = re.compile(r"(?<!\S)[/／]([A-Za-z]+)(?![A-Za-z])")
_DISTANCE = re.compile(r"\s*(\d+)(?!\S)")
# CNKI's same-sentence (#, %) and frequency ($) operators, also standing alone.
_OTHER_POSITION = re.compile(r"(?<!\S)[#%$＃％＄](?!\S)")
_PROXIMITY = {"NEAR": False, "PREV": True}
_UNSUPPORTED_POSITION = {"AFT", "SEN", "PRG"}
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_YEAR = re.compile(r"(\d{4})")
_YEAR_RANGE = re.compile(r"(\d{4})\s*-\s*(\d{4})")
_COUNT = re.compile(r"(\d+)")
_COUNT_RANGE = re.compile(r"(\d+)\s*-\s*(\d+)")
# The stored counts are Elasticsearch integers.
MAX_COUNT = 2**31 - 1


def is_wildcard(ch: str) -> bool:
    return unicodedata.normalize("NFKC", ch) in ("*", "?")


def _latin_alnum(ch: str) -> bool:
    folded = unicodedata.normalize("NFKC", ch)
    return folded != "" and all(c.isascii() and c.isalnum() for c in folded)


class ValueReader:
    """Classifies one value of one field; `offsets[i]` is where character i sat in the expression."""

    def __init__(self, spec: FieldSpec, raw: str, offsets: Sequence[int], fallback: int) -> None:
        self.spec = spec
        self.raw = raw
        self.offsets = offsets
        self.fallback = fallback  # where an empty value sits

    def at(self, i: int) -> int:
        if not self.offsets:
            return self.fallback
        return self.offsets[min(max(i, 0), len(self.offsets) - 1)]

    def error(self, message: str, i: int, expected: Sequence[str] = ()) -> QuerySyntaxError:
        return QuerySyntaxError(message, self.at(i), expected)

    def read(self) -> Leaf:
        raw = self.raw
        if not raw.strip():
            raise self.error("检索值为空", 0, ["检索值"])
        if self.spec.kind is Kind.YEAR:
            year_span(raw, self.at(0))
            return Text(raw.strip(), self.at(0))
        if self.spec.kind is Kind.COUNT:
            count_span(raw, self.at(0))
            return Text(raw.strip(), self.at(0))
        other = _OTHER_POSITION.search(raw)
        if other:
            raise self.error(f"暂不支持位置算符 '{other.group()}'，可用 /NEAR n 或 /PREV n", other.start())
        for m in _POSITION_OP.finditer(raw):
            word = m.group(1).upper()
            if word in _UNSUPPORTED_POSITION:
                raise self.error(f"暂不支持位置算符 /{word}，可用 /NEAR n 或 /PREV n", m.start())
            if word in _PROXIMITY:
                return self._proximity(m)
        if self.spec.truncation and any(is_wildcard(ch) for ch in raw):
            self._check_truncation()
            return Truncation(raw.strip(), self.at(0))
        return Text(raw.strip(), self.at(0))

    def _proximity(self, m: re.Match[str]) -> Proximity:
        word = m.group(1).upper()
        if not self.spec.proximity:
            raise self.error(f"{self.spec.code}（{self.spec.label}）不支持位置检索 /{word}", m.start())
        left = self.raw[: m.start()]
        if not left.strip():
            raise self.error(f"/{word} 前缺少检索词", m.start(), ["检索词"])
        dist = _DISTANCE.match(self.raw, m.end())
        if dist is None:
            raise self.error(f"/{word} 后需要词距（整数），如 '石墨烯 /{word} 5 电池'", m.end(), ["词距"])
        distance = int(dist.group(1)) if len(dist.group(1)) <= 4 else MAX_DISTANCE + 1
        if distance > MAX_DISTANCE:
            raise self.error(f"词距不能超过 {MAX_DISTANCE}", dist.start(1))
        right = self.raw[dist.end() :]
        if not right.strip():
            raise self.error(f"/{word} {distance} 后缺少检索词", dist.end(), ["检索词"])
        for again in _POSITION_OP.finditer(self.raw, dist.end()):
            if again.group(1).upper() in (_PROXIMITY.keys() | _UNSUPPORTED_POSITION):
                raise self.error("一个检索值中只能有一个位置算符", again.start())
        for i, ch in enumerate(self.raw):
            if is_wildcard(ch):
                raise self.error("位置检索中不能使用截词符", i)
        return Proximity(left.strip(), right.strip(), distance, _PROXIMITY[word], self.at(0))

    def _check_truncation(self) -> None:
        # Wildcards act on whole jieba tokens (or whole names), which are only predictable for
        # Latin words; a Chinese run is cut by the dictionary, so '石墨*' would mean nothing stable.
        for word in re.finditer(r"\S+", self.raw):
            chars = word.group()
            if not any(is_wildcard(ch) for ch in chars):
                continue
            first = word.start() + next(i for i, ch in enumerate(chars) if is_wildcard(ch))
            if _CJK.search(chars):
                raise self.error("截词符不能用于中文，中文请用精确（=）或模糊（%）检索", first)
            if is_wildcard(chars[0]):
                raise self.error("截词符不能出现在词首", word.start())
            for i, ch in enumerate(chars):
                if not is_wildcard(ch) and not _latin_alnum(ch):
                    raise self.error("截词符只能用于由字母和数字组成的西文词", word.start() + i)


def year_span(raw: str, pos: int) -> tuple[int, int]:
    """The years a PY value covers: '2018' or the WoS-style '2015-2020'."""
    text = unicodedata.normalize("NFKC", raw).strip()
    single = _YEAR.fullmatch(text)
    if single:
        year = int(single.group(1))
        return year, year
    span = _YEAR_RANGE.fullmatch(text)
    if span:
        low, high = int(span.group(1)), int(span.group(2))
        if low > high:
            raise QuerySyntaxError(f"年份范围的起点 {low} 晚于终点 {high}", pos)
        return low, high
    raise QuerySyntaxError("年份应为四位数字，如 '2018' 或 '2015-2020'", pos, ["年份"])


def year(raw: str, pos: int) -> int:
    low, high = year_span(raw, pos)
    if low != high:
        raise QuerySyntaxError("此处只能写一个年份，如 2018", pos, ["年份"])
    return low


def count_span(raw: str, pos: int) -> tuple[int, int]:
    """The counts a CF value covers: '10', or the range '5-20' (both ends included)."""
    text = unicodedata.normalize("NFKC", raw).strip()
    single = _COUNT.fullmatch(text)
    span = _COUNT_RANGE.fullmatch(text)
    if single:
        low = high = _bounded(single.group(1), pos)
    elif span:
        low, high = _bounded(span.group(1), pos), _bounded(span.group(2), pos)
        if low > high:
            raise QuerySyntaxError(f"被引频次范围的起点 {low} 大于终点 {high}", pos)
    else:
        raise QuerySyntaxError("被引频次应为非负整数，如 CF>=10、CF=0 或 CF='5-20'", pos, ["被引频次"])
    return low, high


def count(raw: str, pos: int) -> int:
    low, high = count_span(raw, pos)
    if low != high:
        raise QuerySyntaxError("此处只能写一个被引频次，如 10", pos, ["被引频次"])
    return low


def _bounded(digits: str, pos: int) -> int:
    if len(digits) > 10 or int(digits) > MAX_COUNT:
        raise QuerySyntaxError(f"被引频次过大（上限 {MAX_COUNT}）", pos, ["被引频次"])
    return int(digits)
