"""Turn a canonical record into the document Elasticsearch indexes."""

from __future__ import annotations

from typing import Any

from mappings.analysis.normalize import fold
from mappings.analysis.tokenizer import Tokenizer
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
    if record.clc:
        # The top-level class (one letter, A-Z) is the facet analysts browse the 中图分类 by.
        ix["clc_top"] = sorted({c.strip()[:1].upper() for c in record.clc if c.strip()[:1].isalpha()})
    return ix


def _collapse(folded: str) -> str:
    return " ".join(folded.split())


def index_document(record: Record, tokenizer: Tokenizer) -> dict[str, Any]:
    doc = record.model_dump(mode="json", exclude_none=True)
    doc["ix"] = derived_fields(record, tokenizer)
    return doc
