"""The typed AST of the analyst query language.

Every node is a frozen dataclass. `pos` (offset into the expression) serves error messages only:
it is left out of equality, so `parse(normalized(q)) == q` holds although offsets move.
Binary nodes are left-deep chains, mirroring CNKI's left-to-right reading.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

MatchMode = Literal["=", "%"]
ValueOperator = Literal["*", "+", "-"]
BoolOperator = Literal["AND", "OR", "NOT"]
Comparison = Literal[">", ">=", "<", "<="]


def _pos() -> Any:
    return dataclasses.field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class Text:
    """A quoted (or bare) value, surrounding whitespace removed."""

    text: str
    pos: int = _pos()


@dataclass(frozen=True)
class Truncation:
    """A value with `*`/`?` wildcards inside Latin words: `'graph*'`, `'wom?n'`."""

    text: str
    pos: int = _pos()


@dataclass(frozen=True)
class Proximity:
    """`'A /NEAR n B'` (either order) or `'A /PREV n B'` (A first), at most n words apart."""

    left: str
    right: str
    distance: int
    ordered: bool
    pos: int = _pos()


@dataclass(frozen=True)
class ValueOp:
    """In-value boolean: `*` and, `+` or, `-` not."""

    op: ValueOperator
    left: ValueExpr
    right: ValueExpr
    pos: int = _pos()


Leaf: TypeAlias = Text | Truncation | Proximity
ValueExpr: TypeAlias = Leaf | ValueOp


@dataclass(frozen=True)
class Term:
    """`TI='石墨烯'`: a canonical field code (aliases resolved), match mode and value expression."""

    field: str
    mode: MatchMode
    value: ValueExpr
    pos: int = _pos()


@dataclass(frozen=True)
class Compare:
    """`PY>=2018`, `CF>=10`."""

    field: str
    op: Comparison
    value: int
    pos: int = _pos()


@dataclass(frozen=True)
class Between:
    """`PY BETWEEN ('2015','2020')`, `CF BETWEEN ('5','20')`, both ends included."""

    field: str
    low: int
    high: int
    pos: int = _pos()


@dataclass(frozen=True)
class History:
    """`#3`: the query of search-history entry 3."""

    number: int
    pos: int = _pos()


@dataclass(frozen=True)
class BoolOp:
    """Between-field boolean; AND, OR and NOT have equal precedence."""

    op: BoolOperator
    left: Query
    right: Query
    pos: int = _pos()


Query: TypeAlias = Term | Compare | Between | History | BoolOp


def value_to_dict(v: ValueExpr) -> dict[str, Any]:
    """Plain data for the YAML corpus and API responses."""
    if isinstance(v, Text):
        return {"text": v.text}
    if isinstance(v, Truncation):
        return {"truncation": v.text}
    if isinstance(v, Proximity):
        return {"near" if not v.ordered else "prev": [v.left, v.right], "distance": v.distance}
    return {"value_op": v.op, "left": value_to_dict(v.left), "right": value_to_dict(v.right)}


def to_dict(q: Query) -> dict[str, Any]:
    """Plain data for the YAML corpus and API responses."""
    if isinstance(q, Term):
        return {"field": q.field, "mode": q.mode, "value": value_to_dict(q.value)}
    if isinstance(q, Compare):
        # PY compares years, CF counts (被引频次).
        return {"field": q.field, "compare": q.op, "count" if q.field == "CF" else "year": q.value}
    if isinstance(q, Between):
        return {"field": q.field, "between": [q.low, q.high]}
    if isinstance(q, History):
        return {"history": q.number}
    return {"op": q.op, "left": to_dict(q.left), "right": to_dict(q.right)}
