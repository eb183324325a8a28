"""JATS / NLM journal-article XML (PMC, eLife, publishers), and PubMed `PubmedArticleSet` XML.

Files are streamed (`xml_safe.events`) on article end events and each article is cleared once turned into a
Record, so a PubMed set of thousands of articles never sits in memory whole (a single JATS article is
one unit and is built in full). DTDs are never loaded, entities never resolved and the network never
touched: the files name external DTDs, and a hostile file may declare XXE or "billion laughs" entities.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from lxml import etree
from pydantic import ValidationError

from ingest.errors import RecordError, reason
from ingest.formats import xml_safe
from ingest.formats.xml_tree import Element, child, children, descendants, entity_char, local
from ingest.identity import record_id
from ingest.normalize_text import (
    author_key,
    clean_or_none,
    clean_text,
    find_doi,
    has_cjk,
    normalize_doi,
    normalize_number,
    normalize_pages,
    parse_year,
    tidy_title,
)
from mappings.model import Author, DocType, Record, Reference

_ARTICLE_TAGS = ("{*}article", "{*}PubmedArticle")
_CITATION_TAGS = {"element-citation", "mixed-citation", "citation", "nlm-citation"}
# Formatting that sits inside a word ("Ca<sup>2+</sup>"): no separator around it when flattening.
# Every other element is a field or a block, and gets a space so "<surname>Mori</surname><given-names>"
# in an element-citation does not run together.
_INLINE = {
    "italic", "bold", "sup", "sub", "sc", "underline", "overline", "strike", "monospace", "roman",
    "sans-serif", "styled-content", "named-content", "abbrev", "inline-formula", "ext-link", "uri",
    "email", "x", "b", "i", "u", "DispFormula",
}  # fmt: skip
# Identifiers that publishers embed in running text (an abstract's object DOI, a funder's FundRef ID).
_NEVER_TEXT = {"object-id", "institution-id"}
_ID_CONTENT_TYPES = {"funder-identifier", "funder-id"}
# Footnote markers and labels are not part of a title or an affiliation's text.
_MARKERS = frozenset({"xref", "fn", "label"})
# Abstract types that are not the article's abstract proper.
_SIDE_ABSTRACTS = {"teaser", "toc", "graphical", "executive-summary", "short", "web-summary", "precis"}
_PUB_DATE_RANK = {"ppub": 0, "epub-ppub": 1, "collection": 2, "pub": 3, "epub": 4}
_LANGS = {"eng": "en", "chi": "zh", "zho": "zh", "jpn": "ja", "ger": "de", "deu": "de", "fre": "fr",
          "fra": "fr", "spa": "es", "rus": "ru", "kor": "ko", "por": "pt", "ita": "it"}  # fmt: skip


def _flatten(el: Element | None, skip: frozenset[str] = frozenset()) -> str:
    """The element's text with inline markup flattened and fields separated by one space."""
    if el is None:
        return ""
    parts: list[str] = []

    def walk(node: Element) -> None:
        if node.text:
            parts.append(node.text)
        for sub in node:
            if isinstance(sub, etree._Entity):
                parts.append(entity_char(sub))
            elif isinstance(sub.tag, str):
                name = local(sub)
                if (
                    name not in skip
                    and name not in _NEVER_TEXT
                    and sub.get("content-type") not in _ID_CONTENT_TYPES
                ):
                    block = name not in _INLINE
                    if block:
                        parts.append(" ")
                    walk(sub)
                    if block:
                        parts.append(" ")
            if sub.tail:
                parts.append(sub.tail)

    walk(el)
    text = " ".join("".join(parts).split())
    # Separators added between fields must not land before punctuation: "Mori H , Smith J ( 1992 )".
    for mark in ",.;:)]":
        text = text.replace(" " + mark, mark)
    for mark in "([":
        text = text.replace(mark + " ", mark)
    return text


def _text(el: Element | None, skip: frozenset[str] = _MARKERS) -> str | None:
    return clean_or_none(_flatten(el, skip))


def _person_name(name: Element) -> str:
    """Names as "Surname, Given" for Western names; "张三" for a Chinese (eastern) name."""
    if local(name) == "string-name" and child(name, "surname") is None:
        return clean_text(_flatten(name))
    surname = clean_text(_flatten(child(name, "surname", "LastName")))
    given = clean_text(_flatten(child(name, "given-names", "ForeName", "Initials")))
    if has_cjk(surname + given):
        return surname + given
    return f"{surname}, {given}" if surname and given else surname or given


# --- JATS -------------------------------------------------------------------------------------------


def _aff_text(aff: Element) -> str | None:
    text = _text(aff)
    # "<aff><sup>1</sup> Institute …</aff>": a leading superscript is the affiliation's marker.
    if text and len(aff) and local(aff[0]) == "sup" and not (aff.text or "").strip():
        marker = _flatten(aff[0])
        text = text[len(marker) :].strip() if marker and text.startswith(marker) else text
    return text or None


def _affiliations(meta: Element) -> dict[str, str]:
    return {
        aff.get("id"): text for aff in descendants(meta, "aff") if aff.get("id") and (text := _aff_text(aff))
    }


def _authors(meta: Element) -> list[Author]:
    affs = _affiliations(meta)
    all_affs = [t for a in descendants(meta, "aff") if (t := _aff_text(a))]
    authors: list[Author] = []
    for group in children(meta, "contrib-group"):
        group_affs = [t for a in children(group, "aff") if (t := _aff_text(a))]
        for contrib in children(group, "contrib"):
            if contrib.get("contrib-type", "author") != "author":
                continue
            name_el = child(contrib, "name", "string-name")
            if name_el is None and (alts := child(contrib, "name-alternatives")) is not None:
                name_el = child(alts, "name", "string-name")
            if name_el is not None:
                name = _person_name(name_el)
            else:
                collab = child(contrib, "collab")
                # A consortium lists its members in a nested contrib-group; the name is the rest.
                name = clean_text(_flatten(collab, frozenset({"contrib-group", "xref", "fn"})))
            if not name:
                continue
            xrefs = children(contrib, "xref")
            rids = [rid for x in xrefs if x.get("ref-type") == "aff" for rid in (x.get("rid") or "").split()]
            texts = [affs[r] for r in rids if r in affs]
            texts += [t for a in children(contrib, "aff") if (t := _aff_text(a))]
            # No link to an affiliation: a group's or the article's only affiliation is everyone's.
            if not texts and len(group_affs) == 1:
                texts = group_affs
            elif not texts and not rids and len(all_affs) == 1:
                texts = all_affs
            corresponding = contrib.get("corresp") == "yes" or any(
                x.get("ref-type") == "corresp" for x in xrefs
            )
            authors.append(
                Author(
                    name=name,
                    affiliation="; ".join(dict.fromkeys(t for t in texts if t)) or None,
                    order=len(authors) + 1,
                    corresponding=corresponding,
                )
            )
    return authors


def _abstract(meta: Element) -> str | None:
    abstracts = children(meta, "abstract")
    main = [a for a in abstracts if not a.get("abstract-type")]
    main = main or [a for a in abstracts if a.get("abstract-type") not in _SIDE_ABSTRACTS] or abstracts
    if not main:
        return None
    abstract = main[0]
    sections = children(abstract, "sec")
    if not sections:
        return _text(abstract, frozenset({"title", "label"}))
    parts = []
    for sec in sections:
        title = _text(child(sec, "title"))
        body = _text(sec, frozenset({"title", "label"}))
        if body:
            parts.append(f"{title.rstrip(':：')}: {body}" if title else body)
    return clean_or_none(" ".join(parts))


def _funds(meta: Element) -> list[str]:
    funds: list[str] = []
    for group in descendants(meta, "funding-group"):
        for award in children(group, "award-group"):
            source = "; ".join(t for s in children(award, "funding-source") if (t := _text(s)))
            ids = ", ".join(t for s in children(award, "award-id") if (t := _text(s)))
            fund = f"{source} ({ids})" if source and ids else source or ids
            if fund:
                funds.append(fund)
        for statement in children(group, "funding-statement"):
            if text := _text(statement):
                funds.append(text)
    return list(dict.fromkeys(funds))


def _year(meta: Element) -> int | None:
    ranked: list[tuple[int, int]] = []
    for date in children(meta, "pub-date"):
        year = parse_year(_flatten(child(date, "year")))
        kind = date.get("pub-type") or date.get("date-type") or ""
        if year:
            ranked.append((_PUB_DATE_RANK.get(kind, 9), year))
    return min(ranked)[1] if ranked else None


def _reference(citation: Element) -> Reference:
    kind = citation.get("publication-type") or citation.get("citation-type") or ""
    groups = children(citation, "person-group")
    author_groups = [g for g in groups if g.get("person-group-type", "author") == "author"]
    holders = author_groups or ([] if groups else [citation])
    authors = []
    for holder in holders:
        for person in children(holder, "name", "string-name", "collab"):
            if local(person) == "collab" or child(person, "surname") is None:
                name = clean_text(_flatten(person))
            else:
                surname = clean_text(_flatten(child(person, "surname")))
                given = clean_text(_flatten(child(person, "given-names"))).replace(".", "")
                name = f"{surname} {given}".strip()
            if name:
                authors.append(name)
    title = tidy_title(_flatten(child(citation, "article-title", "chapter-title"))) or None
    venue = _text(child(citation, "source"), frozenset())
    if not title and kind not in ("journal", ""):
        title, venue = venue, None  # a book, report or thesis: the source is its title
    raw = clean_or_none(_flatten(citation))
    doi = next((d for p in children(citation, "pub-id") if p.get("pub-id-type") == "doi"
                if (d := normalize_doi(_flatten(p)))), None)  # fmt: skip
    if doi is None:
        links = " ".join(
            x.get("{http://www.w3.org/1999/xlink}href") or "" for x in children(citation, "ext-link")
        )
        doi = find_doi(links) or find_doi(raw)
    pages = normalize_pages(_flatten(child(citation, "fpage")), _flatten(child(citation, "lpage")))
    pages = pages or clean_or_none(_flatten(child(citation, "elocation-id", "page-range")))
    return Reference(
        raw=raw,
        authors=authors,
        title=title,
        venue=venue,
        year=parse_year(_flatten(child(citation, "year"))),
        volume=normalize_number(_flatten(child(citation, "volume"))),
        issue=normalize_number(_flatten(child(citation, "issue"))),
        pages=pages,
        doi=doi,
        patent_number=clean_or_none(_flatten(child(citation, "patent"))) if kind == "patent" else None,
    )


def _references(back: Element | None) -> list[Reference]:
    references: list[Reference] = []
    for ref in descendants(back, "ref"):
        citations = [c for c in ref if local(c) in _CITATION_TAGS]
        if citations:
            references.extend(_reference(c) for c in citations)
        elif raw := clean_or_none(_flatten(ref, frozenset({"label"}))):
            references.append(Reference(raw=raw, doi=find_doi(raw)))
    return references


def _jats_fields(article: Element) -> dict[str, Any]:
    front = child(article, "front")
    meta = child(front, "article-meta")
    if meta is None:
        raise RecordError("缺少 article-meta（不是完整的 JATS 文章）")
    journal = child(front, "journal-meta")
    venue = _text(child(child(journal, "journal-title-group"), "journal-title")) or _text(
        child(journal, "journal-title")
    )
    title_group = child(meta, "title-group")
    lang = (article.get("{http://www.w3.org/XML/1998/namespace}lang") or "en").lower().split("-")[0]
    title_en = None
    if lang != "en":
        for trans in descendants(title_group, "trans-title-group"):
            if (trans.get("{http://www.w3.org/XML/1998/namespace}lang") or "").lower().startswith("en"):
                title_en = _text(child(trans, "trans-title"))
    doi = next((d for a in children(meta, "article-id") if a.get("pub-id-type") == "doi"
                if (d := normalize_doi(_flatten(a)))), None)  # fmt: skip
    return {
        "title": _text(child(title_group, "article-title")),
        "title_en": title_en,
        "authors": _authors(meta),
        "abstract": _abstract(meta),
        "keywords": [t for g in children(meta, "kwd-group") for k in children(g, "kwd") if (t := _text(k))],
        "venue": venue,
        "year": _year(meta),
        "volume": normalize_number(_flatten(child(meta, "volume"))),
        "issue": normalize_number(_flatten(child(meta, "issue"))),
        "pages": normalize_pages(_flatten(child(meta, "fpage")), _flatten(child(meta, "lpage")))
        or clean_or_none(_flatten(child(meta, "elocation-id"))),
        "doi": doi,
        "language": lang,
        "funds": _funds(meta),
        "references": _references(child(article, "back")),
        "source": "jats",
    }


# --- PubMed -----------------------------------------------------------------------------------------


def _pubmed_fields(entry: Element) -> dict[str, Any]:
    citation = child(entry, "MedlineCitation")
    art = child(citation, "Article")
    if art is None:
        raise RecordError("PubMed 记录缺少 Article 元素")
    journal = child(art, "Journal")
    issue = child(journal, "JournalIssue")
    pub_date = child(issue, "PubDate")
    lang = (_flatten(child(art, "Language")) or "eng").lower()
    title = tidy_title(_flatten(child(art, "ArticleTitle"))) or None
    title_en = None
    vernacular = tidy_title(_flatten(child(art, "VernacularTitle"))) or None
    if vernacular and lang != "eng":
        # MEDLINE translates foreign titles into English; the vernacular one is the original.
        title, title_en = vernacular, title
    authors: list[Author] = []
    for person in children(child(art, "AuthorList"), "Author"):
        if person.get("ValidYN") == "N":
            continue
        name = (
            _person_name(person)
            if child(person, "LastName") is not None
            else _text(child(person, "CollectiveName"), frozenset())
        )
        if not name:
            continue
        affs = [t for info in children(person, "AffiliationInfo") for a in children(info, "Affiliation")
                if (t := _text(a, frozenset()))]  # fmt: skip
        authors.append(Author(name=name, affiliation="; ".join(affs) or None, order=len(authors) + 1))
    abstract_parts = []
    for part in children(child(art, "Abstract"), "AbstractText"):
        text = _text(part, frozenset())
        if text:
            label = part.get("Label")
            abstract_parts.append(f"{label.capitalize()}: {text}" if label else text)
    ids = {a.get("IdType"): _flatten(a) for a in descendants(child(entry, "PubmedData"), "ArticleId")}
    doi = normalize_doi(ids.get("doi")) or next(
        (
            d
            for e in children(art, "ELocationID")
            if e.get("EIdType") == "doi"
            if (d := normalize_doi(_flatten(e)))
        ),
        None,
    )
    pagination = child(art, "Pagination")
    pages = normalize_pages(_flatten(child(pagination, "MedlinePgn"))) or normalize_pages(
        _flatten(child(pagination, "StartPage")), _flatten(child(pagination, "EndPage"))
    )
    # An online-only article's locator ("e0123"); the doi-typed ELocationID is not a page.
    locators = [e for e in children(art, "ELocationID") if e.get("EIdType") != "doi"]
    pages = pages or clean_or_none(_flatten(locators[0] if locators else None))
    funds = []
    for grant in children(child(art, "GrantList"), "Grant"):
        agency, grant_id = _text(child(grant, "Agency")), _text(child(grant, "GrantID"))
        if agency or grant_id:
            funds.append(f"{agency} ({grant_id})" if agency and grant_id else agency or grant_id or "")
    references = []
    for ref in descendants(child(entry, "PubmedData"), "Reference"):
        raw = _text(child(ref, "Citation"), frozenset())
        ref_ids = {a.get("IdType"): _flatten(a) for a in descendants(ref, "ArticleId")}
        if raw or ref_ids:
            doi_ref = normalize_doi(ref_ids.get("doi")) or find_doi(raw)
            references.append(Reference(raw=raw, year=parse_year(raw), doi=doi_ref))
    return {
        "title": title,
        "title_en": title_en,
        "authors": authors,
        "abstract": clean_or_none(" ".join(abstract_parts)),
        "keywords": [t for k in descendants(citation, "Keyword") if (t := _text(k, frozenset()))],
        "venue": _text(child(journal, "Title"), frozenset()),
        "year": parse_year(_flatten(child(pub_date, "Year")) or _flatten(child(pub_date, "MedlineDate"))),
        "volume": normalize_number(_flatten(child(issue, "Volume"))),
        "issue": normalize_number(_flatten(child(issue, "Issue"))),
        "pages": pages,
        "doi": doi,
        "language": _LANGS.get(lang, lang),
        "funds": list(dict.fromkeys(funds)),
        "references": references,
        "source": "pubmed",
        "pmid": clean_or_none(_flatten(child(citation, "PMID"))) or ids.get("pubmed"),
    }


# --- records ----------------------------------------------------------------------------------------


def _record(fields: dict[str, Any], *, fallback_id: str, now: datetime, version: int) -> Record:
    title = fields["title"]
    if not title:
        raise RecordError("缺少题名")
    authors: list[Author] = fields["authors"]
    doi = fields["doi"]
    rid = record_id(
        title=title,
        year=fields["year"],
        doi=doi,
        first_author=author_key(authors[0].name) if authors else None,
    )
    pmid = fields.pop("pmid", None)
    try:
        return Record(
            id=rid,
            source_id=doi or (f"pmid:{pmid}" if pmid else fallback_id),
            doc_type=DocType.journal_article,
            keywords=list(dict.fromkeys(fields.pop("keywords"))),
            ingested_at=now,
            version=version,
            **fields,
        )
    except ValidationError as exc:
        raise RecordError(reason(exc)) from None


def _articles(path: Path) -> Iterable[tuple[str, Element]]:
    for _, element in xml_safe.events(path, tag=_ARTICLE_TAGS):
        yield local(element), element
        # Everything already turned into a Record is dropped, siblings included, to bound memory.
        xml_safe.drop_before(element)


def parse_file(path: Path, *, now: datetime, version: int) -> Iterator[Record | RecordError]:
    """One Record per JATS article or PubMed article in the file; a RecordError for each that fails."""
    n = 0
    try:
        for kind, element in _articles(path):
            n += 1
            position = f"第 {n} 篇文章"
            try:
                fields = _pubmed_fields(element) if kind == "PubmedArticle" else _jats_fields(element)
                fallback = path.name if n == 1 else f"{path.name}#{n}"
                yield _record(fields, fallback_id=fallback, now=now, version=version)
            except (RecordError, ValidationError) as exc:
                yield RecordError(f"{position}：{reason(exc)}")
    except etree.XMLSyntaxError as exc:
        yield RecordError(f"第 {n + 1} 篇文章：{xml_safe.describe(exc)}")
        return
    if n == 0:
        yield RecordError("文件中没有 JATS <article> 或 PubMed <PubmedArticle> 元素")
