"""`#n` spelt out: the text a history reference stands for, so that a saved strategy, the 系统解读
column and a re-run keep their meaning when the history changes (entries deleted, cleared, renumbered
in another session).

A history entry's `#n` are spelt out from the entries' own stored text (their 系统解读, spelt out
when they were added), never from the compiled query: the text is what people read and what runs
again. The case log has its own numbering and its own spelling (casework/searching.py).
"""

from __future__ import annotations

from collections.abc import Callable

from search.errors import BadQuery
from search.history import HistoryEntry, HistoryStore, NotFound
from search.query.lexer import tokenize

# A chain of #n within #n deeper than this is refused rather than followed (history only points back,
# so a real chain is as long as the history; this bounds the work a crafted history can cause).
MAX_DEPTH = 50


def has_references(expression: str) -> bool:
    return any(t.kind == "HISTORY" for t in tokenize(expression))


def spell_out(expression: str, text_of: Callable[[int], str | None], *, _depth: int = 0) -> str:
    """`expression` with each `#n` replaced by `(text of n)`, itself spelt out; BadQuery (Chinese)
    for a number `text_of` does not know."""
    if _depth > MAX_DEPTH:
        raise BadQuery(f"检索历史的 #n 嵌套超过 {MAX_DEPTH} 层")
    parts: list[str] = []
    last = 0
    for token in tokenize(expression):
        if token.kind != "HISTORY":
            continue
        number = int(token.text)
        text = text_of(number)
        if text is None:
            raise BadQuery(f"检索历史中没有 #{number}")
        parts += [expression[last : token.pos], f"({spell_out(text, text_of, _depth=_depth + 1)})"]
        last = token.end
    return "".join(parts) + expression[last:]


def texts_of(store: HistoryStore, owner: str) -> Callable[[int], str | None]:
    """`#n` -> the 系统解读 of `owner`'s entry n (already spelt out when it was added), looked up as needed."""

    def text_of(number: int) -> str | None:
        try:
            return store.get(owner, number).normalized
        except NotFound:
            return None

    return text_of


def spelt_expression(entry: HistoryEntry, text_of: Callable[[int], str | None]) -> str:
    """The entry's expression with every `#n` spelt out: what a strategy saved from it stores and what
    a re-run runs. Its 系统解读 serves when an entry it points at has since been deleted."""
    if not has_references(entry.expression):
        return entry.expression
    try:
        return spell_out(entry.expression, text_of)
    except BadQuery:
        return spell_out(entry.normalized, text_of)
