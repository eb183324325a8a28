"""Chinese text analysis: one module used at index time and at query time."""

from mappings.analysis.normalize import normalize
from mappings.analysis.tokenizer import Tokenizer, get_tokenizer

__all__ = ["Tokenizer", "get_tokenizer", "normalize"]
