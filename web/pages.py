"""Server-rendered search pages (Jinja2): home, result list, record detail.

Everything works without JavaScript: the search box is a plain GET form, facets, chips and
paging are links. Highlight fragments from the search service are already HTML-escaped with
`<em>` tags and are the only values rendered with `|safe`; every other value is autoescaped.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session

from casework.service import open_cases
from search.citations import MAX_CITING_WINDOW
from search.errors import BadQuery, SearchUnavailable
from search.fields import DOC_TYPE_LABELS, FACETS, SORT_LABELS, source_label
from search.principal import Principal, Role
from search.simple_query import MAX_PAGE_SIZE, MAX_WINDOW, terms
from web.api import plausible_id
from web.citation_box import cite_view
from web.deps import Db, State, Who
from web.ratelimit import rate_limit_anonymous_search
from web.render import error_page, render
from web.result_views import (
    AUTHORS_IN_LIST,
    chips,
    facet_views,
    hit_view,
    keyword_url,
    record_url,
    report_type,
)
from web.state import AppState

log = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parent
STATIC_DIR = WEB_DIR / "static"

DEFAULT_SIZE = 20
SIZE_CHOICES = (10, 20, 50, 100)
PAGE_WINDOW = 4  # page links either side of the current page
CITING_PAGE_SIZE = 10  # citing records per page of a record page's 引证文献
# The results page orders (search.fields.SORTS) as offered in 排序.
# A larger page number than any result set has is read, then shown as the last page.
MAX_PAGE_PARAM = 1_000_000_000

ACCESS_LEVEL_LABELS = {"public": "公开", "embargoed": "延期公开", "restricted": "限制"}

router = APIRouter(include_in_schema=False)


# ---------------------------------------------------------------- URL helpers


def search_url(
    q: str, filters: dict[str, list[str]], *, page: int = 1, size: int = DEFAULT_SIZE, sort: str = "relevance"
) -> str:
    """The result-page URL for this query, these filters, order and page (defaults left out)."""
    params: list[tuple[str, str]] = []
    if q:
        params.append(("q", q))
    for facet in FACETS:
        for value in filters.get(facet.name, []):
            params.append((facet.name, value))
    if size != DEFAULT_SIZE:
        params.append(("size", str(size)))
    if sort != "relevance":
        params.append(("sort", sort))
    if page > 1:
        params.append(("page", str(page)))
    return "/?" + urlencode(params) if params else "/"


def advanced_url(values: list[str], op: str = "AND") -> str:
    """高级检索 with one 主题 row per value, joined by `op`: a simple search taken to professional mode."""
    params: list[tuple[str, str]] = [("rows", str(max(len(values), 1)))]
    for i, value in enumerate(values, 1):
        params += [(f"f{i}", "SU"), (f"m{i}", "fuzzy"), (f"v{i}", value)]
        if i > 1:
            params.append((f"op{i}", op))
    return "/advanced?" + urlencode(params)


# ---------------------------------------------------------------- request parsing


class _BadParam(Exception):
    pass


def _int_param(request: Request, name: str, default: int, label: str, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise _BadParam(f"参数“{label}”应为整数，收到的是“{raw[:40]}”。") from None
    if not low <= value <= high:
        raise _BadParam(f"参数“{label}”应在 {low} 到 {high} 之间。")
    return value


def query_facet_filters(request: Request) -> dict[str, list[str]]:
    """Facet parameters present in the query string, blanks and duplicates dropped, in FACETS order."""
    out: dict[str, list[str]] = {}
    for facet in FACETS:
        values: list[str] = []
        for raw in request.query_params.getlist(facet.name):
            value = raw.strip()
            if value and value not in values:
                values.append(value)
        if values:
            out[facet.name] = values
    return out


# ---------------------------------------------------------------- shaping hits


def _pager(
    q: str, filters: dict[str, list[str]], page: int, size: int, total: int, sort: str = "relevance"
) -> dict[str, Any] | None:
    last = min(math.ceil(total / size), MAX_WINDOW // size)
    if last <= 1 and page <= 1:
        return None

    def url(p: int) -> str:
        return search_url(q, filters, page=p, size=size, sort=sort)

    lo, hi = max(1, page - PAGE_WINDOW), min(last, page + PAGE_WINDOW)
    items: list[dict[str, Any]] = []
    if lo > 1:
        items.append({"page": 1, "url": url(1)})
        if lo > 2:
            items.append({"gap": True})
    for p in range(lo, hi + 1):
        items.append({"page": p, "url": url(p), "current": p == page})
    if hi < last:
        if hi < last - 1:
            items.append({"gap": True})
        items.append({"page": last, "url": url(last)})
    return {
        "prev": url(page - 1) if page > 1 else None,
        "next": url(page + 1) if page < last else None,
        "items": items,
        "last": last,
        "capped": math.ceil(total / size) > last,
    }


# ---------------------------------------------------------------- rendering


def _home(request: Request, state: AppState) -> HTMLResponse:
    total: int | None = None
    doc_types: list[dict[str, Any]] = []
    categories: list[dict[str, Any]] = []
    try:
        overview = state.search.simple("", page=1, size=1)
    except Exception:  # the home page renders even when the index is down or missing
        log.warning("home page overview unavailable", exc_info=True)
    else:
        total = overview["total"]
        for name, target in (("doc_type", doc_types), ("category", categories)):
            for bucket in overview["facets"].get(name, [])[:12]:
                target.append(
                    {
                        "label": bucket.get("label") or bucket["value"],
                        "count": bucket["count"],
                        "url": search_url("", {name: [str(bucket["value"])]}),
                    }
                )
    context = {"total": total, "doc_types": doc_types, "categories": categories}
    return render(request, "home.html", context, no_store=False)


@router.get("/", response_class=HTMLResponse)
def search_page(request: Request, state: State, principal: Who) -> Response:
    q = request.query_params.get("q", "").strip()
    filters = query_facet_filters(request)
    sort = request.query_params.get("sort", "relevance")
    if sort not in SORT_LABELS:
        return error_page(request, 400, f"未知的排序方式：{sort[:20]}（可用：{'、'.join(SORT_LABELS.values())}）")
    try:
        size = _int_param(request, "size", DEFAULT_SIZE, "每页条数", 1, MAX_PAGE_SIZE)
        page = _int_param(request, "page", 1, "页码", 1, MAX_PAGE_PARAM)
    except _BadParam as exc:
        return error_page(request, 400, str(exc))
    # A page past the end (typed into 跳页, or an old link) shows the last page there is.
    page = min(page, MAX_WINDOW // size)
    if not q and not filters:
        return _home(request, state)
    try:
        rate_limit_anonymous_search(request, principal)  # the home page above does not count
    except HTTPException as exc:
        return error_page(request, exc.status_code, str(exc.detail))

    try:
        result = state.search.simple(q, page=page, size=size, filters=filters, sort=sort, principal=principal)
        last = max(1, min(math.ceil(int(result["total"]) / size), MAX_WINDOW // size))
        if page > last:
            page = last
            result = state.search.simple(q, page=page, size=size, filters=filters, sort=sort, principal=principal)
    except BadQuery as exc:
        return error_page(request, 400, str(exc))
    except SearchUnavailable:
        return error_page(request, 503, "检索服务暂时不可用，请稍后再试。")

    total = int(result["total"])
    hits = [hit_view(h) for h in result["hits"]]

    def filtered(target: dict[str, list[str]]) -> str:
        return search_url(q, target, size=size, sort=sort)

    first = (page - 1) * size + 1
    context = {
        "q": q,
        "page": page,
        "size": size,
        "total": total,
        "hits": hits,
        "first": first,
        "last_shown": first + len(hits) - 1,
        "facets": facet_views(result.get("facets") or {}, filters, filtered),
        "chips": chips(filters, filtered),
        "clear_url": search_url(q, {}, size=size, sort=sort) if q else "/",
        "pager": _pager(q, filters, page, size, total, sort),
        "first_page_url": search_url(q, filters, size=size, sort=sort),
        "sort": sort,
        "sorts": [
            {"value": v, "label": label, "url": search_url(q, filters, size=size, sort=v), "current": v == sort}
            for v, label in SORT_LABELS.items()
        ],
        # Hidden fields of the 跳页 form: everything of this search but the page.
        "jump_params": [
            ("q", q),
            *((n, v) for n, vs in filters.items() for v in vs),
            *([("size", str(size))] if size != DEFAULT_SIZE else []),
            *([("sort", sort)] if sort != "relevance" else []),
        ],
        "per_term": [
            {**t, "url": search_url(t["term"], filters, size=size)} for t in result.get("per_term", [])
        ],
        "advanced_url": advanced_url(terms(q)),
        "sizes": [
            {"size": s, "url": search_url(q, filters, size=s, sort=sort), "current": s == size}
            for s in sorted({*SIZE_CHOICES, size})
        ],
    }
    return render(request, "results.html", context, no_store=False)


def _authors_view(authors: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """Authors in order, each with the numbers of its affiliation; affiliations numbered once each."""
    affiliations: list[str] = []
    out = []
    for author in sorted(authors, key=lambda a: a.get("order") or 0):
        if not author.get("name"):
            continue
        marks: list[int] = []
        aff = (author.get("affiliation") or "").strip()
        if aff:
            if aff not in affiliations:
                affiliations.append(aff)
            marks.append(affiliations.index(aff) + 1)
        out.append(
            {"name": author["name"], "marks": marks, "corresponding": bool(author.get("corresponding"))}
        )
    if len(affiliations) <= 1:  # one affiliation needs no numbering
        for author in out:
            author["marks"] = []
    return out, affiliations


def _citation(record: dict[str, Any]) -> str:
    """Venue, year, volume(issue): pages, in the usual Chinese citation order."""
    parts: list[str] = []
    if record.get("year"):
        parts.append(str(record["year"]))
    vol_issue = ""
    if record.get("volume"):
        vol_issue += str(record["volume"])
    if record.get("issue"):
        vol_issue += f"({record['issue']})"
    if vol_issue:
        parts.append(vol_issue)
    text = ", ".join(parts)
    if record.get("pages"):
        text += f": {record['pages']}" if text else f"页码 {record['pages']}"
    return text


@router.get("/records/{record_id:path}", response_class=HTMLResponse)
def record_page(request: Request, state: State, principal: Who, db: Db, record_id: str) -> Response:
    try:
        # A 限制 record the visitor may not see gets the same 404 as a missing one.
        record = state.search.get_record(record_id, principal=principal) if plausible_id(record_id) else None
    except SearchUnavailable:
        return error_page(request, 503, "检索服务暂时不可用，请稍后再试。")
    if record is None:
        return error_page(request, 404, "没有找到该文献记录，它可能已被删除或链接有误。")
    try:
        citing_page = _int_param(request, "cp", 1, "引证文献页码", 1, MAX_CITING_WINDOW // CITING_PAGE_SIZE)
    except _BadParam as exc:
        return error_page(request, 400, str(exc))
    try:
        citing = state.search.citing(record_id, page=citing_page, size=CITING_PAGE_SIZE, principal=principal)
    except SearchUnavailable:
        return error_page(request, 503, "检索服务暂时不可用，请稍后再试。")
    authors, affiliations = _authors_view(record.get("authors") or [])
    doc_type = record.get("doc_type") or ""
    tech = record.get("tech_report") or None
    if tech:
        tech = dict(tech)
        # Show the level in force today, so an embargo that has run out reads 公开.
        tech["access_level"] = (record.get("access") or {}).get("level") or tech.get("access_level")
        tech["access_label"] = ACCESS_LEVEL_LABELS.get(
            tech.get("access_level") or "", tech.get("access_level")
        )
    kind = report_type(record)
    context = {
        "r": record,
        "record_id": record_id,
        "report_type": kind,
        "subject_category": None if kind else record.get("category"),
        "source_label": source_label(str(record.get("source") or "")),
        "show_source_id": principal.staff,
        "signed_in": principal.authenticated,
        "login_url": "/login?" + urlencode({"next": record_url(record_id)}),
        "cite": cite_view(record, record_id),
        "doc_type_label": DOC_TYPE_LABELS.get(doc_type, doc_type),
        "authors": authors,
        "affiliations": affiliations,
        "citation": _citation(record),
        "keywords": [{"text": kw, "url": keyword_url(kw)} for kw in record.get("keywords") or [] if kw],
        "tech": tech,
        "patent": record.get("patent") or None,
        "standard": record.get("standard") or None,
        "category_url": search_url("", {"category": [record["category"]]})
        if record.get("category") and not kind
        else None,
        "discipline_url": search_url("", {"discipline": [record["discipline"]]})
        if record.get("discipline")
        else None,
        "references": [
            {**ref, "url": record_url(ref["linked_id"]) if ref.get("linked_id") else None}
            for ref in record.get("references") or []
        ],
        "cited_by_count": record.get("cited_by_count") or 0,
        "cited_by_others": record.get("cited_by_others") or 0,
        "citing": _citing_view(citing, record_id, citing_page),
        "access_notice": (record.get("access") or {}).get("notice"),
        "open_cases": _open_cases(db, principal),
    }
    return render(request, "record.html", context, no_store=False)


def _citing_view(citing: dict[str, Any] | None, record_id: str, page: int) -> dict[str, Any]:
    """The record page's 引证文献: this page of citers, each marked 自引 or 他引, and links to the others."""
    found = citing or {"total": 0, "hits": []}
    total = int(found["total"])
    last = max(1, math.ceil(min(total, MAX_CITING_WINDOW) / CITING_PAGE_SIZE))

    def url(p: int) -> str:
        return record_url(record_id) + (f"?cp={p}" if p > 1 else "") + "#citing"

    hits = []
    for hit in found["hits"]:
        authors = [a.get("name") for a in sorted(hit.get("authors") or [], key=lambda a: a.get("order") or 0)]
        authors = [a for a in authors if a]
        hits.append({
            "url": record_url(hit["id"]),
            "title": hit.get("title") or "（无题名）",
            "authors": authors[:AUTHORS_IN_LIST],
            "authors_more": len(authors) > AUTHORS_IN_LIST,
            "venue": hit.get("venue"),
            "year": hit.get("year"),
            "self_citation": bool(hit.get("self_citation")),
        })  # fmt: skip
    return {
        "total": total,
        "hits": hits,
        "page": min(page, last),
        "last": last,
        "first_number": (page - 1) * CITING_PAGE_SIZE + 1,
        "prev": url(page - 1) if page > 1 else None,
        "next": url(page + 1) if page < last else None,
    }


def _open_cases(db: Session, principal: Principal) -> list[dict[str, Any]]:
    """An analyst's cases still open for documents: the record page offers to add the record to one."""
    if not principal.has(Role.analyst):
        return []  # no database round trip for the public, who read most record pages
    return [{"id": c.id, "name": c.project_name_zh} for c in open_cases(db, principal)]


def mount_static(app: FastAPI) -> None:
    """Serve web/static at /static."""
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
