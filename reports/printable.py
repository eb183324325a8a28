"""A report as the renderers may print it: every text cleaned of the characters XML 1.0 forbids.

Inputs are cleaned on the way in (conf/xml_chars.py), but a case stored before that, or a record
snapshot, may still hold a control character, and python-docx refuses the whole document for one.
The renderers first check the verification code against the content as stored, then print this
copy, where each forbidden character is shown as U+FFFD: a report is always produced, and the spot
where something unprintable stood is visible rather than silently closed up.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from conf.xml_chars import XML_FORBIDDEN, xml_clean

T = TypeVar("T")
_MARK = "\ufffd"


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return xml_clean(value, _MARK) if XML_FORBIDDEN.search(value) else value
    if isinstance(value, tuple):
        return tuple(_clean(v) for v in value)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return printable(value)
    return value


def printable(data: T) -> T:
    """A copy of a report dataclass (nested ones too) whose strings hold no XML-forbidden character."""
    assert dataclasses.is_dataclass(data) and not isinstance(data, type)
    changes = {}
    for f in dataclasses.fields(data):
        old = getattr(data, f.name)
        new = _clean(old)
        if new is not old and new != old:
            changes[f.name] = new
    return dataclasses.replace(data, **changes) if changes else data
