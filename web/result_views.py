"""How a result list is shown, on the simple search page and the professional ones (高级检索, the
workspace, a case's search): each hit, the facet column and the filter chips. The facets and chips
take from each page how it spells its result URL."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urlencode

from mappings.analysis.normalize import fold
from search.fields import DOC_TYPE_LABELS, FACETS, FACETS_BY_NAME

FACET_VISIBLE = 10  # values shown before the rest fold into "更多"
SNIPPET_CHARS = 200
AUTHORS_IN_LIST = 5
# The report types of the tech-report exchange format (ingest/formats/schemas/techreport-1.0.xsd).
REPORT_TYPES = frozenset({"最终报告", "年度报告", "中期报告", "进展报告", "专题报告", "试验报告"})

Filters = dict[str, list[str]]
# The URL of this result list with these filters instead (and the page back to the first).
FilteredUrl = Callable[[Filters], str]


def record_url(record_id: str) -> str:
    return "/records/" + quote(str(record_id), safe="")


def keyword_url(keyword: str) -> str:
    return "/?" + urlencode({"q": keyword})


_TAG = re.compile(r"<[^>]*>")


def _plain(fragment: str) -> str:
    return html.unescape(_TAG.sub("", fragment))


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


def _snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit].rstrip() + "…"


def report_type(record: Mapping[str, Any]) -> str | None:
    """The report type a tech report's category holds (the exchange format files 最终报告 there), so
    that 学科 shows the subject, not the type."""
    category = record.get("category")
    if record.get("doc_type") == "tech_report" and category in REPORT_TYPES:
        return str(category)
    return None


def hit_view(hit: dict[str, Any]) -> dict[str, Any]:
    hl = hit.get("highlight") or {}
    title_html = hl.get("title") or _escape(hit.get("title") or "（无题名）")

    abstract_frags = hl.get("abstract") or []
    if abstract_frags:
        abstract_html = " … ".join(abstract_frags)
        first = _plain(abstract_frags[0])
        full = " ".join((hit.get("abstract") or "").split())
        if full and not full.startswith(first[:10]):
            abstract_html = "… " + abstract_html
        if full and not full.endswith(_plain(abstract_frags[-1])[-10:]):
            abstract_html += " …"
    elif hit.get("abstract"):
        abstract_html = _escape(_snippet(hit["abstract"]))
    else:
        abstract_html = ""

    marked = {fold(_plain(f)): f for f in hl.get("keywords") or []}
    keywords = [
        {"html": marked.get(fold(kw)) or _escape(kw), "url": keyword_url(kw)}
        for kw in hit.get("keywords") or []
        if kw
    ]

    authors = [a.get("name") for a in sorted(hit.get("authors") or [], key=lambda a: a.get("order") or 0)]
    authors = [a for a in authors if a]
    doc_type = hit.get("doc_type") or ""
    return {
        "url": record_url(hit["id"]),
        "title_html": title_html,
        "title_en": hit.get("title_en"),
        "doc_type": doc_type,
        "doc_type_label": DOC_TYPE_LABELS.get(doc_type, doc_type),
        "authors": authors[:AUTHORS_IN_LIST],
        "authors_more": len(authors) > AUTHORS_IN_LIST,
        "venue": hit.get("venue"),
        "year": hit.get("year"),
        "category": None if report_type(hit) else hit.get("category"),
        "discipline": hit.get("discipline"),
        "report_no": (hit.get("tech_report") or {}).get("report_no"),
        "abstract_html": abstract_html,
        "keywords": keywords,
        "cited_by_count": hit.get("cited_by_count") or 0,
    }


def value_label(facet_name: str, value: str) -> str:
    if facet_name == "doc_type":
        return DOC_TYPE_LABELS.get(value, value)
    return value


def with_value(filters: Filters, name: str, value: str) -> Filters:
    out = {k: list(v) for k, v in filters.items()}
    values = out.setdefault(name, [])
    if value not in values:
        values.append(value)
    return out


def without_value(filters: Filters, name: str, value: str) -> Filters:
    out = {k: [v for v in vs if not (k == name and v == value)] for k, vs in filters.items()}
    return {k: v for k, v in out.items() if v}


def facet_views(
    facets: dict[str, list[dict[str, Any]]], filters: Filters, url: FilteredUrl
) -> list[dict[str, Any]]:
    """Each facet with its values: count, whether it filters now, and the link that toggles it."""
    out = []
    for facet in FACETS:
        active = filters.get(facet.name, [])
        items = []
        for bucket in facets.get(facet.name, []):
            value = str(bucket["value"])
            is_active = value in active
            target = (without_value if is_active else with_value)(filters, facet.name, value)
            items.append(
                {
                    "label": bucket.get("label") or value_label(facet.name, value),
                    "count": bucket.get("count", 0),
                    "active": is_active,
                    "url": url(target),
                }
            )
        if items:
            out.append(
                {
                    "name": facet.name,
                    "label": facet.label,
                    "items": items[:FACET_VISIBLE],
                    "more": items[FACET_VISIBLE:],
                }
            )
    return out


def chips(filters: Filters, url: FilteredUrl) -> list[dict[str, str]]:
    """One chip per filter value in force, each linking to the list without it."""
    return [
        {
            "facet": FACETS_BY_NAME[name].label,
            "label": value_label(name, value),
            "url": url(without_value(filters, name, value)),
        }
        for name, values in filters.items()
        for value in values
    ]
