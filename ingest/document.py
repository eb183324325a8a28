"""Turn a canonical record into the document Elasticsearch indexes."""

from __future__ import annotations

from typing import Any

from mappings.analysis.normalize import fold, normalize
from mappings.analysis.tokenizer import Tokenizer
from mappings.model import Record


def derived_fields(record: Record, tokenizer: Tokenizer) -> dict[str, Any]:
    """The `ix.*` search fields: jieba tokens for ranking, folded text for exact bigram matching."""
    ix: dict[str, Any] = {
        "title": tokenizer.joined(record.title),
        # fold() keeps the length of the original, so highlights map back onto the display text.
        "title_cjk": fold(record.title),
    }
    if record.abstract:
        ix["abstract"] = tokenizer.joined(record.abstract)
        ix["abstract_cjk"] = fold(record.abstract)
    if record.keywords:
        ix["keywords"] = [tokenizer.joined(k) for k in record.keywords]
        ix["keywords_cjk"] = [fold(k) for k in record.keywords]
        ix["keywords_exact"] = [normalize(k) for k in record.keywords]
    return ix


def index_document(record: Record, tokenizer: Tokenizer) -> dict[str, Any]:
    doc = record.model_dump(mode="json", exclude_none=True)
    doc["ix"] = derived_fields(record, tokenizer)
    return doc
