"""Print an AST back as text.

`normalized` is the reading shown to the analyst: every place where two different operators meet
is bracketed, so the effect of the left-to-right rule is explicit and the text reads the same under
any precedence convention. A run of one operator stays flat, `(A OR B OR C) AND D`: its grouping
cannot change the result, and nesting it would bury a 40-synonym list in brackets.

`cnki` is for the search-strategy section of a report: between fields it writes only the brackets
CNKI's own left-to-right rule needs (domain decision A.1); inside values it brackets like
`normalized`, because CNKI's precedence there is unverified. Both parse back to the same AST.
"""

from __future__ import annotations

from search.query.ast import (
    Between,
    BoolOp,
    Compare,
    History,
    Proximity,
    Query,
    Term,
    Text,
    Truncation,
    ValueExpr,
    ValueOp,
)
from search.query.lexer import DOUBLE_QUOTES, SINGLE_QUOTES


def normalized(q: Query) -> str:
    """The explicitly bracketed reading shown to the analyst."""
    return _query(q, full=True)


def cnki(q: Query) -> str:
    """CNKI 专业检索 syntax for reports (history references stay as `#n`)."""
    return _query(q, full=False)


def quote(text: str) -> str:
    """Quote a value so the lexer reads back exactly `text`."""
    if not any(ch in SINGLE_QUOTES for ch in text):
        return f"'{text}'"
    if not any(ch in DOUBLE_QUOTES for ch in text):
        return f'"{text}"'
    return "'" + "".join(ch * 2 if ch in SINGLE_QUOTES else ch for ch in text) + "'"


def _wrap(text: str, op: str, parent: str | None, *, left: bool, minimal: bool) -> str:
    if parent is None or (left and (minimal or op == parent)):
        return text
    return f"({text})"


def _query(q: Query, *, full: bool, parent: str | None = None, left: bool = False) -> str:
    if isinstance(q, BoolOp):
        text = f"{_query(q.left, full=full, parent=q.op, left=True)} {q.op} {_query(q.right, full=full, parent=q.op)}"
        return _wrap(text, q.op, parent, left=left, minimal=not full)
    if isinstance(q, Term):
        # A compound value is always bracketed, as CNKI's own examples do: AU%('陈'+'王').
        return f"{q.field}{q.mode}{_value(q.value, parent='TERM')}"
    if isinstance(q, Compare):
        return f"{q.field}{q.op}{q.value}"
    if isinstance(q, Between):
        return f"{q.field} BETWEEN ('{q.low}','{q.high}')"
    assert isinstance(q, History)
    return f"#{q.number}"


def _value(v: ValueExpr, *, parent: str, left: bool = False) -> str:
    if isinstance(v, ValueOp):
        text = f"{_value(v.left, parent=v.op, left=True)}{v.op}{_value(v.right, parent=v.op)}"
        return _wrap(text, v.op, parent, left=left, minimal=False)
    if isinstance(v, Proximity):
        return quote(f"{v.left} /{'PREV' if v.ordered else 'NEAR'} {v.distance} {v.right}")
    assert isinstance(v, Text | Truncation)
    return quote(v.text)
