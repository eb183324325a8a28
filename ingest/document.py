"""Turn a canonical record into the document Elasticsearch indexes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mappings.analysis.normalize import fold, fold_name
from mappings.analysis.tokenizer import Tokenizer
from mappings.citations.keys import record_keys, reference_stored_keys
from mappings.model import Record


def derived_fields(record: Record, tokenizer: Tokenizer) -> dict[str, Any]:
    """The `ix.*` search fields: jieba tokens for ranking, folded text for exact bigram matching."""
    # Each text is folded once; the bigram field takes the folded text, the jieba field its tokens.
    title = fold(record.title)
    ix: dict[str, Any] = {"title": tokenizer.joined_folded(title), "title_cjk": title}
    if record.abstract:
        abstract = fold(record.abstract)
        ix["abstract"] = tokenizer.joined_folded(abstract)
        ix["abstract_cjk"] = abstract
    if record.keywords:
        keywords = [fold(k) for k in record.keywords]
        ix["keywords"] = [tokenizer.joined_folded(k) for k in keywords]
        ix["keywords_cjk"] = keywords
        ix["keywords_exact"] = [_collapse(k) for k in keywords]
    if record.full_text:
        full_text = fold(record.full_text)
        ix["full_text"] = tokenizer.joined_folded(full_text)
        ix["full_text_cjk"] = full_text
    if record.authors:
        ix.update(_author_fields(record))
    if record.clc:
        # The top-level class (one letter, A-Z) is the facet analysts browse the 中图分类 by.
        ix["clc_top"] = sorted({c.strip()[:1].upper() for c in record.clc if c.strip()[:1].isalpha()})
    ix.update(_citation_keys(record))
    return ix


def _citation_keys(record: Record) -> dict[str, Any]:
    # Blocking keys of citation linking (citeindex/): `match_keys` find this record from a reference,
    # `ref_keys` find this record's references from a record that arrives after it. Every reference's
    # keys, linked or not: a later, equally good candidate must be able to unlink it.
    fields: dict[str, Any] = {}
    match_keys = record_keys(record)
    if match_keys:
        fields["match_keys"] = match_keys
    ref_keys = list(dict.fromkeys(k for ref in record.references for k in reference_stored_keys(ref)))
    if ref_keys:
        fields["ref_keys"] = ref_keys
    return fields


def _author_fields(record: Record) -> dict[str, Any]:
    # authors is an object array, not nested: order and the corresponding flag only survive as
    # fields of their own, which FI and RP match so a co-author never passes for the first author.
    ordered = sorted(record.authors, key=lambda a: a.order)
    names = [fold_name(a.name) for a in ordered]
    fields: dict[str, Any] = {"author_names": list(dict.fromkeys(n for n in names if n))}
    if names[0]:
        fields["first_author"] = names[0]
    corresponding = [n for a, n in zip(ordered, names, strict=True) if a.corresponding and n]
    if corresponding:
        fields["corresponding_authors"] = corresponding
    return fields


def _collapse(folded: str) -> str:
    return " ".join(folded.split())


def index_document(
    record: Record, tokenizer: Tokenizer, citations: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The document to index; `citations` is the link state citeindex/ keeps beside the record."""
    doc = record.model_dump(mode="json", exclude_none=True)
    doc["ix"] = derived_fields(record, tokenizer)
    if citations:
        doc["citations"] = dict(citations)
    return doc
