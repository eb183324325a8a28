"""Deep paging: the opaque cursor a search hands out for its next page.

A cursor walks one point in time (PIT) with `search_after`, so the pages of one walk read one frozen
view of the index: records an ingest writes meanwhile neither push hits onto the next page twice nor
past it. The cursor holds the PIT id, the sort values of the last hit, how many hits came before the
next page, the exact total of the first page, and a fingerprint of the policed query, sort and index:
a cursor only continues the search that made it, for a caller with the same access.

The cursor is not signed. Tampering buys nothing: the fingerprint is recomputed from the request, the
access policy is applied to every page, and a forged PIT id or position only moves within what the
caller may see anyway.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from search.errors import BadQuery

# What a client sends to open a walk (as Solr's cursorMark=*): the first page under a new PIT.
CURSOR_START = "*"
# Each page renews the PIT for this long; a walk idle longer must start again (410).
CURSOR_KEEP_ALIVE = "5m"
_VERSION = 1
# A PIT id over one shard is about 150 bytes and grows with the shards; this bounds a forged one.
MAX_CURSOR_CHARS = 16_384

STALE_MESSAGE = "翻页标记已过期（超过 5 分钟未翻页，或索引已重建），请重新检索后从第一页翻起"


class CursorExpired(BadQuery):
    """The cursor's point in time is gone: the caller must search again (HTTP 410)."""


def fingerprint(query: dict[str, Any], sort: list[dict[str, Any]] | Any, index: str) -> str:
    """Names one search as run for one caller: its policed query, its order and the index alias."""
    text = json.dumps({"q": query, "s": sort, "i": index}, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class Cursor:
    pit: str
    after: list[Any]  # sort values of the last hit handed out
    offset: int  # hits handed out before the next page
    total: int  # exact total, counted on the first page
    fingerprint: str

    def encode(self) -> str:
        payload = {"v": _VERSION, "p": self.pit, "a": self.after, "o": self.offset, "t": self.total,
                   "f": self.fingerprint}  # fmt: skip
        raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """BadQuery (400) for anything that is not a cursor this platform handed out."""
        bad = BadQuery("翻页标记（cursor）无效：请使用上一页结果中的 cursor，或用 cursor=* 从第一页开始")
        if not text or len(text) > MAX_CURSOR_CHARS:
            raise bad
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            payload = json.loads(raw.decode("utf-8"))
        except (binascii.Error, ValueError, UnicodeDecodeError):
            raise bad from None
        if not isinstance(payload, dict) or payload.get("v") != _VERSION:
            raise bad
        pit, after, offset = payload.get("p"), payload.get("a"), payload.get("o")
        total, fp = payload.get("t"), payload.get("f")
        scalars = (str, int, float, type(None))
        if not (
            isinstance(pit, str) and pit and isinstance(fp, str)
            and isinstance(after, list) and after and all(isinstance(v, scalars) for v in after)
            and isinstance(offset, int) and isinstance(total, int) and 0 <= offset <= total
        ):  # fmt: skip
            raise bad
        return cls(pit=pit, after=after, offset=offset, total=total, fingerprint=fp)

    def check(self, expected: str) -> None:
        if self.fingerprint != expected:
            raise BadQuery(
                "翻页标记（cursor）属于另一次检索：检索词、筛选条件、排序或访问权限已改变。"
                "请重新检索，再用新结果中的 cursor 翻页"
            )
