"""The analyst ("pro mode") query language: CNKI-style expressions parsed to a typed AST and compiled.

`parse(text)` gives the AST, `normalized(ast)` the fully parenthesised reading shown to the analyst,
`cnki(ast)` the strategy text for reports, `compile_query(ast, tokenizer=...)` the Elasticsearch query.
"""

from search.query.ast import Query, to_dict
from search.query.compiler import HistoryResolver, compile_query
from search.query.errors import QueryCompileError, QueryError, QuerySyntaxError
from search.query.fields import FIELDS, FIELDS_BY_CODE, lookup
from search.query.parser import MAX_DEPTH, MAX_OPERATORS, MAX_QUERY_CHARS, parse
from search.query.printer import cnki, normalized

__all__ = [
    "FIELDS",
    "FIELDS_BY_CODE",
    "MAX_DEPTH",
    "MAX_OPERATORS",
    "MAX_QUERY_CHARS",
    "HistoryResolver",
    "Query",
    "QueryCompileError",
    "QueryError",
    "QuerySyntaxError",
    "cnki",
    "compile_query",
    "lookup",
    "normalized",
    "parse",
    "to_dict",
]
