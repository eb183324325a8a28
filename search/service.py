"""Run searches and shape results for callers (API, pages, benchmarks)."""

from __future__ import annotations

import html
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any

from elasticsearch import ApiError, Elasticsearch, NotFoundError, TransportError

from mappings.analysis.normalize import normalize
from mappings.analysis.tokenizer import Tokenizer
from mappings.naming import IndexNames
from search import citations
from search.errors import BadQuery, SearchUnavailable
from search.fields import DOC_TYPE_LABELS, FACETS, HIGHLIGHT_FIELDS, SORTS, VALUE_LABELS
from search.highlight import map_fragments, map_values
from search.paging import CURSOR_KEEP_ALIVE, CURSOR_START, STALE_MESSAGE, Cursor, CursorExpired, fingerprint
from search.policy import Visibility, effective_level, notice, police, redact, visibility
from search.principal import ANONYMOUS, Principal
from search.pro_query import ProRequest, build_pro, published_by
from search.query import HistoryResolver
from search.simple_query import build_simple, term_query, terms

SUMMARY_FIELDS = (
    "id", "source", "source_id", "doc_type", "title", "title_en", "authors", "abstract", "keywords", "venue",
    "year", "category", "discipline", "doi", "tech_report",
)  # fmt: skip
# A hit list's `_source`: the summary and the stored citation counts (search/citations.py stored_counts).
HIT_SOURCE = (*SUMMARY_FIELDS, *citations.STORED_FIELDS)


@contextmanager
def _engine() -> Iterator[None]:
    """Unreachable Elasticsearch and 5xx answers become SearchUnavailable (503); 4xx, NotFoundError
    among them, pass through for the caller to read."""
    try:
        yield
    except ApiError as exc:
        if exc.meta.status < 500:
            raise
        raise SearchUnavailable(f"检索服务暂时不可用（Elasticsearch：{type(exc).__name__}）") from exc
    except TransportError as exc:
        raise SearchUnavailable(f"检索服务暂时不可用（Elasticsearch：{type(exc).__name__}）") from exc


class SearchService:
    """Every method answers for a Principal (anonymous unless given) through search.policy."""

    def __init__(
        self, es: Elasticsearch, names: IndexNames, tokenizer: Tokenizer, *, today: date | None = None
    ) -> None:
        self.es = es
        self.names = names
        self.tokenizer = tokenizer
        # None: embargoes end by the real calendar (Elasticsearch's now/d). A fixed date pins it for tests.
        self.today = today

    def _police(self, query: dict[str, Any], principal: Principal) -> dict[str, Any]:
        return police(query, principal, today=self.today)

    def _seen(self, principal: Principal, record: Mapping[str, Any]) -> Visibility:
        return visibility(principal, record, today=self.today)

    def _search(self, body: dict[str, Any], *, filter_path: str | None = None) -> dict[str, Any]:
        try:
            with _engine():
                resp = self.es.search(index=self.names.read_alias, body=body, filter_path=filter_path)
        except NotFoundError:
            # No index yet: an empty platform, not an outage.
            return {"hits": {"total": {"value": 0}, "hits": []}, "aggregations": {}}
        return dict(resp.body)

    def simple(
        self,
        q: str,
        *,
        page: int = 1,
        size: int = 20,
        filters: Mapping[str, Sequence[str]] | None = None,
        sort: str = "relevance",
        principal: Principal = ANONYMOUS,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        """A page of a free-text search: by `page` within the first 10,000 hits, or by `cursor`
        (CURSOR_START, then the `cursor` of each result) through any number of them."""
        body = self.simple_body(q, page=page, size=size, filters=filters, sort=sort, principal=principal)
        resp, paging = self._page(body, page, cursor)
        result = {
            "total": resp["hits"]["total"]["value"] if cursor is None else paging["total"],
            "page": page,
            "size": size,
            "hits": self._with_counts(self._hits(resp["hits"]["hits"], principal), resp["hits"]["hits"], principal),
            "facets": self._facets(resp.get("aggregations", {})),
        }
        _paged(result, paging)
        if result["total"] == 0 and len(terms(q)) > 1:
            # No record holds every term: say how many hold each one, as CNKI does.
            result["per_term"] = self._per_term(q, filters, principal)
        return result

    def simple_body(
        self,
        q: str,
        *,
        page: int = 1,
        size: int = 20,
        filters: Mapping[str, Sequence[str]] | None = None,
        sort: str = "relevance",
        principal: Principal = ANONYMOUS,
    ) -> dict[str, Any]:
        """The search body `simple` sends (policed for `principal`): also what bench/query.py sends
        straight to Elasticsearch, so that its API/ES ratio compares the same request."""
        body = build_simple(q, tokenizer=self.tokenizer, page=page, size=size, filters=filters, sort=sort)
        body["query"] = self._police(body["query"], principal)
        body["_source"] = list(HIT_SOURCE)
        return body

    def _page(
        self, body: dict[str, Any], page: int, cursor: str | None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        if cursor is None:
            return self._search(body), {}
        if page != 1:
            raise BadQuery("按 cursor 翻页时不能同时指定页码（page）：cursor 已记住翻到了哪里")
        return self._cursor_page(body, cursor)

    def _per_term(
        self, q: str, filters: Mapping[str, Sequence[str]] | None, principal: Principal
    ) -> list[dict[str, Any]]:
        out = []
        for term in terms(q):
            if term_query(normalize(term), self.tokenizer) is None:
                continue  # punctuation alone
            body = build_simple(term, tokenizer=self.tokenizer, size=1, filters=filters)
            count = {"query": self._police(body["query"], principal), "size": 0, "track_total_hits": True}
            out.append({"term": term, "total": self._search(count)["hits"]["total"]["value"]})
        return out

    def _hits(self, hits: list[dict[str, Any]], principal: Principal) -> list[dict[str, Any]]:
        out = []
        for hit in hits:
            src = {**hit["_source"], "id": hit["_id"]}
            seen = self._seen(principal, src)
            if seen is Visibility.NONE:
                continue  # the filter already excludes these; never show one if the two disagree
            shown = {k: src.get(k) for k in SUMMARY_FIELDS if k in src}
            shown["score"] = hit.get("_score")
            shown["highlight"] = _highlights(hit.get("highlight", {}), src)
            shown = redact(shown, seen)
            shown["visibility"] = seen.label
            out.append(shown)
        return out

    def citation_counts(self, ids: Sequence[str], principal: Principal) -> dict[str, citations.Counts]:
        """被引 and 他引 of each of `ids`, counting only citers `principal` may see: one request."""
        if not ids:
            return {}
        # Only the buckets come back: the answer stays small however many shards reply.
        resp = self._search(citations.counts_body(ids, principal), filter_path=citations.COUNTS_FILTER_PATH)
        return citations.read_counts(resp, ids)

    def _with_counts(
        self, hits: list[dict[str, Any]], raw: list[dict[str, Any]], principal: Principal
    ) -> list[dict[str, Any]]:
        """Each shown hit with 被引 and 他引 as `principal` may see them: the stored counts from the
        hit's own `_source` where they are exact for `principal`, one live request for the rest."""
        as_anonymous = citations.sees_as_anonymous(principal)
        stored = {h["_id"]: citations.stored_counts(h.get("_source") or {}, as_anonymous=as_anonymous) for h in raw}
        live = self.citation_counts([h["id"] for h in hits if stored.get(h["id"]) is None], principal)
        for hit in hits:
            hit.update((stored.get(hit["id"]) or live.get(hit["id"], citations.ZERO)).as_dict())
        return hits

    def citing(
        self, record_id: str, *, page: int = 1, size: int = 20, principal: Principal = ANONYMOUS
    ) -> dict[str, Any] | None:
        """A page of the records citing `record_id` that `principal` may see, newest first, each with
        `self_citation`; None when the record itself does not exist for `principal`."""
        if page < 1 or not 1 <= size <= citations.MAX_CITING_SIZE:
            raise BadQuery(f"页码应从 1 开始，每页 1–{citations.MAX_CITING_SIZE} 条")
        if page * size > citations.MAX_CITING_WINDOW:
            raise BadQuery(f"引证文献最多可翻到第 {citations.MAX_CITING_WINDOW:,} 条，请减小页码或每页条数")
        if self._visible_ids([record_id], principal) != {record_id}:
            return None
        resp = self._search(
            citations.citing_body(record_id, principal, page=page, size=size, source=SUMMARY_FIELDS)
        )
        marks = {hit["_id"]: citations.is_self_citation(hit) for hit in resp["hits"]["hits"]}
        hits = self._hits(resp["hits"]["hits"], principal)
        for hit in hits:
            hit.pop("score", None)  # sorted by year: there is no score
            hit["self_citation"] = marks[hit["id"]]
        return {"id": record_id, "total": resp["hits"]["total"]["value"], "page": page, "size": size,
                "hits": hits}  # fmt: skip

    def _visible_ids(self, ids: Sequence[str], principal: Principal) -> set[str]:
        if not ids:
            return set()
        resp = self._search(citations.visible_ids_body(ids, principal))
        return {hit["_id"] for hit in resp["hits"]["hits"]}

    @staticmethod
    def _facets(aggs: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for facet in FACETS:
            buckets = aggs.get(facet.name, {}).get("buckets", [])
            labels = DOC_TYPE_LABELS if facet.name == "doc_type" else VALUE_LABELS.get(facet.name, {})
            out[facet.name] = [
                {
                    "value": str(b["key"]),
                    "label": labels.get(str(b["key"]), str(b["key"])),
                    "count": b["doc_count"],
                }
                for b in buckets
            ]
        return out

    def index_analysis(self) -> str | None:
        """The tokenizer fingerprint recorded by the index that queries run against."""
        try:
            with _engine():
                found = self.es.indices.get_mapping(index=self.names.read_alias)
        except NotFoundError:
            return None
        for body in found.body.values():
            value = body["mappings"].get("_meta", {}).get("analysis")
            return str(value) if value else None
        return None

    def pro(
        self,
        q: str,
        *,
        page: int = 1,
        size: int = 20,
        filters: Mapping[str, Sequence[str]] | None = None,
        history: HistoryResolver | None = None,
        sort: str = "relevance",
        principal: Principal = ANONYMOUS,
        year_to: int | None = None,
        cursor: str | None = None,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """An analyst's expression; `year_to` keeps documents published up to that year (or undated). Returns the response, which adds how the expression was read and its
        CNKI form, and the compiled query (filters included) for the search history to keep.

        The kept query is the one before the access policy: `#n` combines it again later, policed for
        whoever runs that search then."""
        request, query = self.pro_request(
            q, page=page, size=size, filters=filters, history=history, sort=sort, principal=principal,
            year_to=year_to,
        )  # fmt: skip
        resp, paging = self._page(request.body, page, cursor)
        result = {
            "total": resp["hits"]["total"]["value"] if cursor is None else paging["total"],
            "page": page,
            "size": size,
            "normalized": request.normalized,
            "cnki": request.cnki,
            "hits": self._with_counts(self._hits(resp["hits"]["hits"], principal), resp["hits"]["hits"], principal),
            "facets": self._facets(resp.get("aggregations", {})),
        }
        _paged(result, paging)
        return result, query

    def pro_request(
        self,
        q: str,
        *,
        page: int = 1,
        size: int = 20,
        filters: Mapping[str, Sequence[str]] | None = None,
        history: HistoryResolver | None = None,
        sort: str = "relevance",
        principal: Principal = ANONYMOUS,
        year_to: int | None = None,
    ) -> tuple[ProRequest, dict[str, Any]]:
        """The compiled expression with the search body `pro` sends (`.body`, policed for `principal`;
        bench/query.py sends the same body straight to Elasticsearch), and the query before the policy."""
        request = build_pro(
            q, tokenizer=self.tokenizer, page=page, size=size, filters=filters, history=history, sort=sort
        )
        query = request.body["query"]
        if year_to is not None:
            query = {"bool": {"must": [query], "filter": [published_by(year_to)]}}
        request.body["query"] = self._police(query, principal)
        request.body["_source"] = list(HIT_SOURCE)
        return request, query

    def query_for(
        self,
        q: str,
        *,
        mode: str = "simple",
        filters: Mapping[str, Sequence[str]] | None = None,
        history: HistoryResolver | None = None,
    ) -> dict[str, Any]:
        """The query (with filters) a search runs, without paging: what an export walks through.

        Not yet policed: `iter_records` applies the access policy for its principal."""
        if mode == "pro":
            return dict(
                build_pro(q, tokenizer=self.tokenizer, filters=filters, history=history).body["query"]
            )
        return dict(build_simple(q, tokenizer=self.tokenizer, filters=filters)["query"])

    def iter_records(
        self,
        query: dict[str, Any],
        *,
        sort: str = "relevance",
        limit: int = 100_000,
        # Pages as large as Elasticsearch allows (max_result_window): each page of a search_after walk
        # sorted by score scores every hit again, so 10,000 records in one page took a half to a third of
        # the time of ten pages of 1,000 (bench/query.py), for a page of about 15 MB in memory.
        batch: int = 10_000,
        principal: Principal = ANONYMOUS,
    ) -> Iterator[dict[str, Any]]:
        """Every matching record in result order, past the 10,000-hit window: the same point-in-time
        walk as the API's cursor (`_pit_page`), in larger pages.

        Only records `principal` may see, each without the fields it may not see (what exports write)."""
        if sort not in SORTS:
            raise BadQuery(f"未知的排序方式：{sort}")
        query = self._police(query, principal)
        pit = self._open_pit()
        if pit is None:
            return
        try:
            after: list[Any] | None = None
            sent = 0
            while sent < limit:
                body: dict[str, Any] = {"query": query, "size": min(batch, limit - sent), "sort": SORTS[sort],
                                        "track_total_hits": False}  # fmt: skip
                resp, pit = self._pit_page(body, pit, after)
                hits = resp["hits"]["hits"]
                if not hits:
                    return
                for hit in hits:
                    seen = self._seen(principal, hit["_source"])
                    if seen is not Visibility.NONE:
                        # Link state may name 限制 records; exports carry the record, not the links.
                        yield redact({k: v for k, v in hit["_source"].items() if k != "citations"}, seen)
                sent += len(hits)
                after = hits[-1]["sort"]
        finally:
            self._close_pit(pit)

    def count(self, query: dict[str, Any], *, principal: Principal = ANONYMOUS) -> int:
        """The exact number of records matching `query` that `principal` may see."""
        body = {"query": self._police(query, principal), "size": 0, "track_total_hits": True}
        return int(self._search(body)["hits"]["total"]["value"])

    # The point-in-time walk: one home for the API's cursor pages and the exports' iterator.

    def _open_pit(self) -> str | None:
        """A point in time over the read alias as it is now; None when there is no index yet."""
        try:
            with _engine():
                resp = self.es.open_point_in_time(index=self.names.read_alias, keep_alive=CURSOR_KEEP_ALIVE)
        except NotFoundError:
            return None
        return str(resp["id"])

    def _close_pit(self, pit: str) -> None:
        try:
            self.es.close_point_in_time(id=pit)
        except (TransportError, ApiError):
            pass  # it expires on its own within keep_alive

    def _pit_page(
        self, body: dict[str, Any], pit: str, after: list[Any] | None
    ) -> tuple[dict[str, Any], str]:
        """One page of `body` (query, size, sort) under `pit` after the hit whose sort values are
        `after`; returns the response and the PIT id to go on with. An expired PIT is CursorExpired.

        Partial results are refused: a shard lost mid-walk (a node down) would silently skip its hits."""
        body = {k: v for k, v in body.items() if k != "from"}
        body["pit"] = {"id": pit, "keep_alive": CURSOR_KEEP_ALIVE}
        if after is not None:
            body["search_after"] = after
        try:
            with _engine():
                resp = self.es.search(body=body, allow_partial_search_results=False)
        except NotFoundError:
            raise CursorExpired(STALE_MESSAGE) from None
        return dict(resp.body), str(resp.get("pit_id", pit))

    def _cursor_page(self, body: dict[str, Any], cursor: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """A page of a policed search `body` by cursor: CURSOR_START opens a walk (its first page counts
        the exact total and the facets), any other cursor goes on with the walk it names. Returns the
        response and what the result says about paging (`total`, `offset`, the next `cursor` or None)."""
        fp = fingerprint(body["query"], body["sort"], self.names.read_alias)
        if cursor == CURSOR_START:
            opened = self._open_pit()
            if opened is None:
                resp = self._search(body)
                return resp, {"total": resp["hits"]["total"]["value"], "offset": 0, "cursor": None}
            pit, after, offset, total = opened, None, 0, None
        else:
            state = Cursor.decode(cursor)
            state.check(fp)
            pit, after, offset, total = state.pit, state.after, state.offset, state.total
            # The total was counted exactly on the first page of this point in time, and cannot have changed.
            body = {k: v for k, v in body.items() if k != "aggs"}
            body["track_total_hits"] = False
        try:
            resp, pit = self._pit_page(body, pit, after)
        except (ApiError, SearchUnavailable) as exc:
            if cursor == CURSOR_START:
                self._close_pit(pit)  # opened for nothing
                raise
            # The first page ran this very query, so a refusal now is the cursor's: a PIT id or sort
            # values Elasticsearch cannot read (400), or a PIT whose index or node is gone (5xx).
            cause = exc.__cause__ if isinstance(exc, SearchUnavailable) else exc
            if isinstance(cause, ApiError) and cause.meta.status == 400:
                raise BadQuery("翻页标记（cursor）无效，请重新检索") from None
            if isinstance(cause, ApiError) and cause.message == "search_phase_execution_exception":
                raise CursorExpired(STALE_MESSAGE) from None
            raise
        hits = resp["hits"]["hits"]
        if total is None:
            total = int(resp["hits"]["total"]["value"])
        end = offset + len(hits)
        if hits and end < total:
            nxt: str | None = Cursor(
                pit=pit, after=hits[-1]["sort"], offset=end, total=total, fingerprint=fp
            ).encode()
        else:
            nxt = None
            self._close_pit(pit)  # the walk is over
        return resp, {"total": total, "offset": offset, "cursor": nxt}

    def get_record(self, record_id: str, *, principal: Principal = ANONYMOUS) -> dict[str, Any] | None:
        """The record as `principal` may see it, or None when it does not exist for them (a 限制
        report looks exactly like a missing one). `access` says how much is shown and why."""
        try:
            with _engine():
                resp = self.es.get(index=self.names.read_alias, id=record_id)
        except NotFoundError:
            return None
        record = {**resp["_source"], "id": resp["_id"]}
        seen = self._seen(principal, record)
        if seen is Visibility.NONE:
            return None
        # Link state, not part of the record: `cites` may name 限制 records and the stored counts are
        # the public ones; the caller gets live counts and only the links they may follow.
        record.pop("citations", None)
        shown = redact(record, seen)
        shown.update(self.citation_counts([record_id], principal).get(record_id, citations.ZERO).as_dict())
        self._links_for(shown, principal)
        shown["access"] = {
            "visibility": seen.label,
            # The level in force today: a 延期公开 report past its date is 公开.
            "level": effective_level(record, today=self.today),
            "notice": notice(record, seen),
        }
        return shown

    def _links_for(self, record: dict[str, Any], principal: Principal) -> None:
        """Keep a reference's `linked_id` only where `principal` may see the linked record: a link to a
        限制 record would disclose its id. Each reference keeps the key (null when unresolved or hidden)."""
        refs = record.get("references")
        if not isinstance(refs, list):
            return
        linked = [str(r["linked_id"]) for r in refs if isinstance(r, dict) and r.get("linked_id")]
        shown = self._visible_ids(linked, principal)
        record["references"] = [
            {**r, "linked_id": r.get("linked_id") if r.get("linked_id") in shown else None}
            for r in refs
            if isinstance(r, dict)
        ]


def _paged(result: dict[str, Any], paging: dict[str, Any]) -> None:
    """A page by cursor says where it starts and how to go on; facets come with the first page only
    (they describe the whole result, which one point in time keeps the same)."""
    if not paging:
        return
    result.pop("page")
    result["offset"] = paging["offset"]
    result["cursor"] = paging["cursor"]
    if paging["offset"]:
        result.pop("facets")


def _highlights(hl: dict[str, list[str]], src: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for display, field in HIGHLIGHT_FIELDS.items():
        frags = hl.get(field)
        if not frags:
            continue
        value = src.get(display)
        if isinstance(value, list):
            out[display] = map_values(frags, [str(v) for v in value])
        elif isinstance(value, str):
            mapped = map_fragments(frags, value)
            out[display] = mapped[0] if display == "title" else mapped
    if "title" not in out and src.get("title"):
        out["title"] = html.escape(src["title"])
    return out
