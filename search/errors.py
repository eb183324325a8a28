"""Errors the search layer raises; the web layer maps them to HTTP statuses."""


class SearchUnavailable(RuntimeError):
    """Elasticsearch cannot be reached or answered with a server error."""


class BadQuery(ValueError):
    """The request cannot be turned into a query. The message is shown to users (Chinese)."""
