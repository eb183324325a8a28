"""What should light up in a pro-mode hit: the phrases each text member was searched for.

The compiled query matches fuzzy values on the jieba fields, but highlights are taken from the
bigram fields (they map back onto the display text). So the expression is read once more: exact
values light up whole, fuzzy ones token by token, and nothing under NOT or `-` lights up at all.
"""

from __future__ import annotations

from collections import defaultdict

from mappings.analysis.normalize import normalize
from mappings.analysis.tokenizer import Tokenizer
from search.query.ast import BoolOp, Proximity, Query, Term, Text, ValueExpr, ValueOp
from search.query.fields import Kind, lookup


def _leaves(value: ValueExpr, positive: bool) -> list[tuple[ValueExpr, bool]]:
    if isinstance(value, ValueOp):
        return _leaves(value.left, positive) + _leaves(value.right, positive and value.op != "-")
    return [(value, positive)]


def _phrases(term: Term, tokenizer: Tokenizer) -> list[str]:
    out: list[str] = []
    for leaf, positive in _leaves(term.value, True):
        if not positive:
            continue
        if isinstance(leaf, Text):
            folded = normalize(leaf.text)
            out += [folded] if term.mode == "=" else tokenizer.tokens(folded)
        elif isinstance(leaf, Proximity):
            out += tokenizer.tokens(normalize(leaf.left)) + tokenizer.tokens(normalize(leaf.right))
    return [p for p in out if p.strip()]


def highlight_terms(query: Query, tokenizer: Tokenizer) -> dict[str, list[str]]:
    """Member name ("title", "abstract", "keywords") -> folded phrases to light up, in order."""
    found: dict[str, list[str]] = defaultdict(list)

    def walk(q: Query, positive: bool) -> None:
        if isinstance(q, BoolOp):
            walk(q.left, positive)
            walk(q.right, positive and q.op != "NOT")
        elif isinstance(q, Term) and positive:
            spec = lookup(q.field)
            if spec is None or spec.kind is not Kind.TEXT:
                return
            phrases = _phrases(q, tokenizer)
            for member in spec.members:
                found[member.name] += [p for p in phrases if p not in found[member.name]]

    walk(query, True)
    return dict(found)
