"""Match a list of raw reference strings to records, as the caller may see them.

Each string is parsed (`mappings.citations.parse`), its candidates found with the shared body of
`mappings.citations.candidates` and decided there, so the answer is the one ingest-side linking
would give, except that candidates are first filtered by the access policy: a record the caller
may not see is not a candidate at all. Filtering before deciding (rather than hiding the winner
after) keeps the answers identical to those of an index without the hidden records, so neither an
id nor a null betrays one. The searches go in msearch batches; strings left unresolved get a second
search (`candidates.second_query`), whose hits join the first's before the decision is taken again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from elasticsearch import ApiError, Elasticsearch, NotFoundError, TransportError

from mappings.citations.candidates import candidate_query, decide, hit_record, second_query
from mappings.citations.parse import MAX_RAW, parse_reference
from mappings.model import Record, Reference
from mappings.naming import IndexNames
from search.errors import BadQuery, SearchUnavailable
from search.policy import Q, search_filter
from search.principal import ANONYMOUS, Principal

MAX_REFERENCES = 1000  # strings in one request
_BATCH = 200  # searches per msearch call


@dataclass(frozen=True)
class ReferenceMatch:
    record_id: str | None
    score: float
    parsed: Reference
    title: str | None  # the matched record's title, for pages

    def to_json(self) -> dict[str, Any]:
        return {"id": self.record_id, "score": round(self.score, 4), "parsed": parsed_fields(self.parsed)}


def parsed_fields(ref: Reference) -> dict[str, Any]:
    """What parsing read from the string (the string itself and link state left out)."""
    return ref.model_dump(exclude_none=True, exclude_defaults=True, exclude={"raw", "linked_id"})


def check_request(raws: Sequence[str]) -> None:
    """BadQuery (Chinese, shown to the user) when the request is over the limits."""
    if len(raws) > MAX_REFERENCES:
        raise BadQuery(f"一次最多匹配 {MAX_REFERENCES} 条参考文献，本次提交了 {len(raws)} 条")
    for i, raw in enumerate(raws, start=1):
        if len(raw) > MAX_RAW:
            raise BadQuery(f"第 {i} 条参考文献超过 {MAX_RAW} 个字符（{len(raw)} 个），请检查是否粘贴了多条")


def match_references(
    es: Elasticsearch,
    names: IndexNames,
    raws: Sequence[str],
    *,
    principal: Principal = ANONYMOUS,
    size: int = 10,
) -> list[ReferenceMatch]:
    """One result per string, in order."""
    check_request(raws)
    refs = [parse_reference(raw) for raw in raws]
    keep = search_filter(principal)
    first = {i: candidate_query(ref, size=size) for i, ref in enumerate(refs)}
    pools = _search(es, names, {i: b for i, b in first.items() if b.get("size", 0)}, keep)
    matches = {i: decide(ref, list(pools.get(i, {}).values())) for i, ref in enumerate(refs)}
    # Strings the first search left unresolved get a second one (volume and first page, the raw
    # words); its hits join the first's, and the decision is taken again over both.
    again = {
        i: body
        for i, ref in enumerate(refs)
        if matches[i].record_id is None and (body := second_query(ref, size=size)) is not None
    }
    for i, extra in _search(es, names, again, keep).items():
        pool = pools.setdefault(i, {})
        pool.update(extra)
        matches[i] = decide(refs[i], list(pool.values()))
    out = []
    for i, ref in enumerate(refs):
        match = matches[i]
        title = pools[i][match.record_id].title if match.record_id else None
        out.append(ReferenceMatch(match.record_id, match.score, ref, title))
    return out


def _search(
    es: Elasticsearch, names: IndexNames, bodies: dict[int, dict[str, Any]], keep: Q | None
) -> dict[int, dict[str, Record]]:
    """The candidate records of each body (by string position), the access filter applied."""
    items = [
        (i, body if keep is None else {**body, "query": {"bool": {"must": [body["query"]], "filter": [keep]}}})
        for i, body in bodies.items()
    ]
    out: dict[int, dict[str, Record]] = {}
    for start in range(0, len(items), _BATCH):
        chunk = items[start : start + _BATCH]
        for (i, _), hits in zip(chunk, _msearch(es, names, [b for _, b in chunk]), strict=True):
            out[i] = {r.id: r for r in (hit_record(h) for h in hits) if r is not None}
    return out


def _msearch(
    es: Elasticsearch, names: IndexNames, bodies: list[dict[str, Any]]
) -> list[list[dict[str, Any]]]:
    searches: list[dict[str, Any]] = []
    for body in bodies:
        searches.extend(({}, body))
    try:
        resp = es.msearch(index=names.read_alias, searches=searches)
    except NotFoundError:
        return [[] for _ in bodies]  # no index yet: an empty platform matches nothing
    except (ApiError, TransportError) as exc:
        if isinstance(exc, ApiError) and exc.meta.status < 500:
            raise
        raise SearchUnavailable(f"检索服务暂时不可用（Elasticsearch：{type(exc).__name__}）") from exc
    out: list[list[dict[str, Any]]] = []
    for item in resp.body["responses"]:
        if "error" in item:
            status = int(item.get("status", 500))
            if status == 404:
                out.append([])
                continue
            raise SearchUnavailable(
                f"检索服务暂时不可用（Elasticsearch：{item['error'].get('type', status)}）"
            )
        out.append(list(item["hits"]["hits"]))
    return out
