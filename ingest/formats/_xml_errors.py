"""Readable messages for lxml syntax errors raised while iterparsing.

libxml2 words its errors in English. They are kept, since they name the exact fault, but after the
Chinese sentence and marked as the parser's own words, so a Chinese message never reads half English.
"""

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
    return syntax_error(where, message)


def parser_words(message: str) -> str:
    """The parser's own (English) words, marked as such, to follow a Chinese sentence."""
    return f"〔解析器原文：{' '.join(str(message).split())}〕"


def syntax_error(where: str, message: str) -> str:
    """ "XML 格式错误（第 3 行）：文件不符合 XML 语法。〔解析器原文：…〕" """
    return f"XML 格式错误（{where}）：文件不符合 XML 语法。{parser_words(message)}"
