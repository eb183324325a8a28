"""The one access policy: for a Principal and a record, how much of the record may be shown.

Domain brief Part A §5, per record:

- 公开 (``tech_report.access_level = public``, and every record that is not a tech report): metadata
  and abstract for everyone, full text for signed-in users.
- 延期公开 (``embargoed``) until ``embargo_until``: metadata only, except for staff and users granted
  the record, who see everything. From the day after ``embargo_until`` it is 公开; the date is compared
  at query time (``now/d`` in Elasticsearch, ``today`` here), so no reindex and no manual step.
- 限制 (``restricted``): nothing at all, except for platform admins and users granted the record.

The same rules exist twice, once as Python (`visibility`, for one record in hand) and once as
Elasticsearch queries (`search_filter`, `police`), so that hit totals, facet counts and aggregations
only ever count what the principal may see, and hidden abstracts and full texts cannot make a record
match. Any access level this module does not know is treated as 限制: closed, not open.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from datetime import date, datetime, timedelta, timezone
from enum import IntEnum
from functools import lru_cache
from typing import Any

from search.principal import Principal

Q = dict[str, Any]

ACCESS_FIELD = "tech_report.access_level"
EMBARGO_FIELD = "tech_report.embargo_until"
PUBLIC, EMBARGOED, RESTRICTED = "public", "embargoed", "restricted"

# Embargo dates are Beijing calendar days: a report "延期公开至 2027-06-30" opens at midnight in China.
CHINA = timezone(timedelta(hours=8))
_ES_TIME_ZONE = "+08:00"

# Index fields that hold text only some principals may see, grouped by the level that reveals them.
ABSTRACT_INDEX_FIELDS = frozenset({"ix.abstract", "ix.abstract_cjk"})
FULL_TEXT_INDEX_FIELDS = frozenset({"ix.full_text", "ix.full_text_cjk"})


class Visibility(IntEnum):
    """How much of a record a principal sees; each level includes the ones below it."""

    NONE = 0  # the record does not exist for this principal
    METADATA = 1  # 题录: title, authors, source, identifiers, keywords, classification
    ABSTRACT = 2  # metadata and abstract (and the reference list)
    FULL_TEXT = 3  # everything

    @property
    def label(self) -> str:
        return self.name.lower()


# Record keys removed below each level; the metadata is everything not listed here.
_HIDDEN_BELOW: dict[Visibility, tuple[str, ...]] = {
    # A reference list is the report's content, not its basic information sheet.
    Visibility.ABSTRACT: ("abstract", "references"),
    Visibility.FULL_TEXT: ("full_text",),
}
# Highlight keys (display fields) removed below each level.
_HIGHLIGHT_BELOW: dict[Visibility, tuple[str, ...]] = {
    Visibility.ABSTRACT: ("abstract",),
    Visibility.FULL_TEXT: ("full_text",),
}


def china_today() -> date:
    return datetime.now(CHINA).date()


# ---------------------------------------------------------------- one record in hand


def _embargo_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def effective_level(record: Mapping[str, Any], *, today: date | None = None) -> str:
    """The access level in force today: an embargo whose date has passed counts as 公开.

    A record without a tech-report block (or without a level) is 公开; an unknown level is 限制.
    """
    tech = record.get("tech_report") or {}
    level = tech.get("access_level") if isinstance(tech, Mapping) else None
    if level is None or level == PUBLIC:
        return PUBLIC
    if level == EMBARGOED:
        until = _embargo_date(tech.get("embargo_until"))
        # No readable date: the embargo holds until someone sets one.
        if until is not None and until < (today or china_today()):
            return PUBLIC
        return EMBARGOED
    return RESTRICTED


def visibility(principal: Principal, record: Mapping[str, Any], *, today: date | None = None) -> Visibility:
    """How much of `record` (a dict shaped like the index `_source`) `principal` may see."""
    if principal.platform_admin or str(record.get("id")) in principal.granted:
        return Visibility.FULL_TEXT
    level = effective_level(record, today=today)
    if level == PUBLIC:
        return Visibility.FULL_TEXT if principal.authenticated else Visibility.ABSTRACT
    if level == EMBARGOED:
        return Visibility.FULL_TEXT if principal.staff else Visibility.METADATA
    return Visibility.NONE


def redact(record: Mapping[str, Any], seen: Visibility) -> dict[str, Any]:
    """A copy of `record` without what `seen` does not cover; highlights under "highlight" too.

    NONE gives an empty dict: callers drop such records, and an empty one leaks nothing if they forget.
    """
    if seen is Visibility.NONE:
        return {}
    out = dict(record)
    hidden = [level for level in Visibility if seen < level]
    for level in hidden:
        for key in _HIDDEN_BELOW.get(level, ()):
            out.pop(key, None)
    highlight = out.get("highlight")
    if isinstance(highlight, Mapping):
        drop = {key for level in hidden for key in _HIGHLIGHT_BELOW.get(level, ())}
        out["highlight"] = {k: v for k, v in highlight.items() if k not in drop}
    return out


def notice(record: Mapping[str, Any], seen: Visibility) -> str | None:
    """Why part of the record is hidden, in Chinese, for the record page and API; None when nothing is."""
    if seen >= Visibility.FULL_TEXT or seen is Visibility.NONE:
        return None
    if seen is Visibility.METADATA:
        until = _embargo_date((record.get("tech_report") or {}).get("embargo_until"))
        when = f"至 {until.isoformat()}" if until else ""
        return f"该报告延期公开{when}，目前仅公开题录信息；摘要与全文仅对授权人员开放"
    # Only anonymous visitors stop at the abstract of a 公开 record.
    return "全文仅对登录用户开放" if record.get("full_text") else None


# ---------------------------------------------------------------- Elasticsearch side


def _any(clauses: list[Q]) -> Q:
    return clauses[0] if len(clauses) == 1 else {"bool": {"should": clauses, "minimum_should_match": 1}}


def _granted(principal: Principal) -> list[Q]:
    return [{"ids": {"values": sorted(principal.granted)}}] if principal.granted else []


def _embargo_over(today: date | None) -> Q:
    # `lt now/d`, rounded in Beijing time: the embargo date itself is still embargoed.
    bound = today.isoformat() if today else "now/d"
    return {"bool": {"filter": [
        {"term": {ACCESS_FIELD: EMBARGOED}},
        {"range": {EMBARGO_FIELD: {"lt": bound, "time_zone": _ES_TIME_ZONE}}},
    ]}}  # fmt: skip


def _public_now(today: date | None) -> list[Q]:
    return [
        {"bool": {"must_not": [{"exists": {"field": ACCESS_FIELD}}]}},
        {"term": {ACCESS_FIELD: PUBLIC}},
        _embargo_over(today),
    ]


def search_filter(principal: Principal) -> Q | None:
    """A filter that keeps only records `principal` may know exist (None: no restriction).

    Put in the query's filter context, it makes hit totals, facet counts and aggregations count
    visible records only. It does not depend on the date: embargoed reports are listed all along.
    """
    if principal.platform_admin:
        return None
    return _any([
        {"bool": {"must_not": [{"exists": {"field": ACCESS_FIELD}}]}},
        {"terms": {ACCESS_FIELD: [PUBLIC, EMBARGOED]}},
        *_granted(principal),
    ])  # fmt: skip


def abstract_filter(principal: Principal, *, today: date | None = None) -> Q | None:
    """Among the records `search_filter` lets through, those whose abstract `principal` sees."""
    if principal.platform_admin or principal.staff:
        return None
    return _any([*_public_now(today), *_granted(principal)])


def full_text_filter(principal: Principal, *, today: date | None = None) -> Q | None:
    """Among the records `search_filter` lets through, those whose full text `principal` sees."""
    if principal.platform_admin or principal.staff:
        return None
    if not principal.authenticated:
        return _any(_granted(principal)) if principal.granted else {"match_none": {}}
    return abstract_filter(principal, today=today)


def police(query: Q, principal: Principal, *, today: date | None = None) -> Q:
    """`query` as `principal` may run it: invisible records excluded, hidden text treated as empty.

    The input is not modified (search history keeps the principal-free query and `#n` combines it
    again under whoever runs it).
    """
    gates: dict[str, Q] = {}
    for fields, gate in (
        (ABSTRACT_INDEX_FIELDS, abstract_filter(principal, today=today)),
        (FULL_TEXT_INDEX_FIELDS, full_text_filter(principal, today=today)),
    ):
        if gate is not None:
            gates.update(dict.fromkeys(fields, gate))
    policed = _Gates(gates).rewrite(query) if gates else query
    keep = search_filter(principal)
    if keep is None:
        return policed
    return {"bool": {"must": [policed], "filter": [keep]}}


_BOOL_LISTS = ("must", "should", "must_not", "filter")


class _Gates:
    """Rewrite a query so each clause reading a hidden field only matches where its gate holds.

    Gating a clause (instead of filtering the whole query) is what makes a hidden field behave as
    empty: `TI='x' OR AB='y'` still finds the metadata-only record by its title, `AB='y'` alone does
    not find it, and `NOT AB='y'` does not drop it, so no answer depends on text the user cannot see.
    """

    def __init__(self, gates: dict[str, Q]) -> None:
        self.gates = gates
        self.fields = frozenset(gates)

    def rewrite(self, node: Q) -> Q:
        if set(node) == {"bool"} and isinstance(node["bool"], Mapping):
            inner = dict(node["bool"])
            for key in _BOOL_LISTS:
                if key in inner:
                    value = inner[key]
                    inner[key] = (
                        [self.rewrite(c) for c in value] if isinstance(value, list) else self.rewrite(value)
                    )
            return {"bool": inner}
        hidden = self._hidden(node)
        if not hidden:
            return node
        gate = _all([self.gates[f] for f in sorted(hidden)])
        if "multi_match" in node:
            # A multi-field query still reads the visible fields where the hidden ones are out of bounds.
            reduced = self._without(node, hidden)
            if reduced is None:
                return {"bool": {"filter": [gate], "must": [node]}}
            if _scores_best_field(node):
                # Its score is the best field's: the best of (visible fields) and (hidden fields where
                # the gate holds) is the same score and the same hits, and each field is read once,
                # not once per branch (about a third of Elasticsearch's time per search, bench/query.py).
                only_hidden = self._only(node, hidden)
                return {"dis_max": {"queries": [reduced, {"bool": {"filter": [gate], "must": [only_hidden]}}]}}
            gated: Q = {"bool": {"filter": [gate], "must": [node]}}
            return {"bool": {"should": [gated, {"bool": {"must_not": [gate], "must": [reduced]}}],
                             "minimum_should_match": 1}}  # fmt: skip
        return {"bool": {"filter": [gate], "must": [node]}}

    def _matches(self, name: str) -> frozenset[str]:
        return _gated_by_name(self.fields, name)

    def _hidden(self, node: Any) -> set[str]:
        """Gated fields a clause reads, wherever it names them (keys, `field`, `fields`)."""
        found: set[str] = set()
        stack: list[Any] = [node]
        while stack:
            item = stack.pop()
            if isinstance(item, Mapping):
                for key, value in item.items():
                    if named := self._matches(str(key)):
                        found |= named
                    if key == "field" and isinstance(value, str):
                        found |= self._matches(value)
                    elif key == "fields" and isinstance(value, list):
                        for name in value:
                            if isinstance(name, str):
                                found |= self._matches(name)
                    elif isinstance(value, (Mapping, list)):  # text and numbers name no field
                        stack.append(value)
            elif isinstance(item, list):
                stack.extend(item)
        return found

    def _fields(self, node: Q, *, hidden: bool) -> Q:
        """`node` (a multi_match) reading only its hidden fields, or only its visible ones; shallow
        copies: the parts not changed are shared with the input, which nothing modifies."""
        spec = node["multi_match"]
        fields = [f for f in spec.get("fields", []) if isinstance(f, str) and bool(self._matches(f)) is hidden]
        return {**node, "multi_match": {**spec, "fields": fields}}

    def _without(self, node: Q, hidden: set[str]) -> Q | None:
        out = self._fields(node, hidden=False)
        return out if out["multi_match"]["fields"] else None

    def _only(self, node: Q, hidden: set[str]) -> Q:
        return self._fields(node, hidden=True)


@lru_cache(maxsize=4096)
def _gated_by_name(gated: frozenset[str], name: str) -> frozenset[str]:
    """The gated fields a field name (`ix.abstract^2`, `ix.*`) reads; every search asks again for the
    same few names, so the answers are kept."""
    base = name.split("^", 1)[0]
    if "*" in base or "?" in base:
        return frozenset(f for f in gated if fnmatch.fnmatchcase(f, base))
    return frozenset((base,)) if base in gated else frozenset()


# multi_match types scored by their best field alone (a dis_max over the fields) while tie_breaker is 0.
_BEST_FIELD_TYPES = frozenset({"best_fields", "phrase", "phrase_prefix"})


def _scores_best_field(node: Q) -> bool:
    spec = node["multi_match"]
    return (
        isinstance(spec, Mapping)
        and spec.get("type", "best_fields") in _BEST_FIELD_TYPES
        and not spec.get("tie_breaker")
    )


def _all(clauses: list[Q]) -> Q:
    unique: list[Q] = []
    for clause in clauses:
        if clause not in unique:
            unique.append(clause)
    return unique[0] if len(unique) == 1 else {"bool": {"filter": unique}}
