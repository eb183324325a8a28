"""Errors a parser raises for one bad record; the job records them and goes on."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from mappings.validation_zh import describe


class RecordError(ValueError):
    """A record that cannot be turned into a canonical Record. The message is shown to users."""


def reason(exc: Exception) -> str:
    """A RecordError's own message, or a model validation failure said in Chinese."""
    if not isinstance(exc, ValidationError):
        return str(exc)
    first: Any = exc.errors()[0]
    return describe(first)
