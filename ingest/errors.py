"""Errors a parser raises for one bad record; the job records them and goes on."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError


class RecordError(ValueError):
    """A record that cannot be turned into a canonical Record. The message is shown to users."""


# pydantic's error types, said in Chinese; anything else keeps pydantic's own wording.
_MESSAGES = {
    "string_too_long": "过长（上限 {max_length} 个字符）",
    "string_too_short": "不能为空",
    "too_long": "条目过多（上限 {max_length} 条）",
    "missing": "缺失",
    "greater_than_equal": "不能小于 {ge}",
    "less_than_equal": "不能大于 {le}",
    "int_parsing": "不是整数",
    "date_from_datetime_parsing": "不是日期",
    "date_parsing": "不是日期",
    "extra_forbidden": "不是可用字段",
}


def reason(exc: Exception) -> str:
    """A RecordError's own message, or a model validation failure said in Chinese."""
    if not isinstance(exc, ValidationError):
        return str(exc)
    first: Any = exc.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ())) or "记录"
    template = _MESSAGES.get(first.get("type", ""))
    if template is None:
        return f"字段 {where} 无效：{first.get('msg', '')}"
    try:
        text = template.format(**(first.get("ctx") or {}))
    except (KeyError, IndexError):
        text = template
    return f"字段 {where} {text}"
