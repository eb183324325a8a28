"""pydantic validation errors said in Chinese, for the people who see them: importers and API users.

Only the error types our models and request bodies can produce are translated; anything else keeps
pydantic's own wording behind a Chinese lead-in, so no message is ever lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_MESSAGES = {
    "string_too_long": "过长（上限 {max_length} 个字符）",
    "string_too_short": "不能为空",
    "too_long": "条目过多（上限 {max_length} 条）",
    "missing": "缺失",
    "greater_than_equal": "不能小于 {ge}",
    "less_than_equal": "不能大于 {le}",
    "int_parsing": "不是整数",
    "int_type": "应为整数",
    "int_from_float": "应为整数",
    "string_type": "应为文本",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "list_type": "应为列表",
    "dict_type": "应为 JSON 对象",
    "model_type": "应为 JSON 对象",
    "model_attributes_type": "应为 JSON 对象",
    "json_invalid": "不是有效的 JSON",
    "date_from_datetime_parsing": "不是日期",
    "date_parsing": "不是日期",
    "extra_forbidden": "不是可用字段",
}


def describe(error: Mapping[str, Any], *, default_where: str = "记录", drop: int = 0) -> str:
    """One pydantic error (an item of `exc.errors()`) as `字段 <where> <problem>`.

    `drop` leaves out the first parts of the location (FastAPI prefixes "body" or "query")."""
    where = ".".join(str(p) for p in tuple(error.get("loc", ()))[drop:]) or default_where
    template = _MESSAGES.get(str(error.get("type", "")))
    if template is None:
        return f"字段 {where} 无效：{error.get('msg', '')}"
    try:
        text = template.format(**(error.get("ctx") or {}))
    except (KeyError, IndexError):
        text = template
    return f"字段 {where} {text}"
