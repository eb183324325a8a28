"""Errors of the analyst query language: a Chinese message plus where in the expression it went wrong."""

from __future__ import annotations

from collections.abc import Sequence

from search.errors import BadQuery


class QueryError(BadQuery):
    """A query the analyst must fix. `position` is a character offset into the expression, or None."""

    def __init__(self, message: str, position: int | None = None, expected: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.position = position
        self.expected = list(expected)

    def to_dict(self) -> dict[str, object]:
        return {"message": self.message, "position": self.position, "expected": self.expected}


class QuerySyntaxError(QueryError):
    """The text is not a well-formed expression, or names a field or operator it may not use."""


class QueryCompileError(QueryError):
    """Well-formed, but cannot be turned into an index query (analysis limits, unknown history entry)."""
