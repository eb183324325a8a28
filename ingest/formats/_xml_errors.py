"""Readable messages for lxml syntax errors raised while iterparsing."""

from __future__ import annotations

from lxml import etree


def describe(exc: etree.XMLSyntaxError) -> str:
    """ "XML 格式错误（第 12 行）：…" from the fatal error that stopped the parser.

    iterparse reports some failures (an undefined entity) as a bare "no element found" at line 0;
    the real reason and line are in the error log. The log can still hold entries of earlier parses
    in the same thread, and parsing stops at the first fatal error, so the last fatal entry is ours.
    """
    entries = [e for e in exc.error_log if e.level_name == "FATAL"]
    if entries:
        line, message = entries[-1].line, entries[-1].message
    else:
        line, message = exc.lineno, exc.msg
    where = f"第 {line} 行" if line else "文件"
    return f"XML 格式错误（{where}）：{message}"
