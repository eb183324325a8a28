"""The one way ingest reads XML: no DTD, no entity expansion, no network, no huge trees.

Every XML format goes through these parsers, so the settings that stop XXE and "billion laughs" live
here and nowhere else. Streamed reading feeds a pull parser by hand instead of using `iterparse`:
since lxml 6, iterparse drops the events of the chunk in which a syntax error falls, so the good
records before a broken one in the same 64 KB would be lost with it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import lxml.html
from lxml import etree

Element = Any  # lxml is untyped

_HARDENED: dict[str, bool] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,
}
_READ_CHUNK = 1 << 16


def parser(*, recover: bool = False, remove_comments: bool = False, encoding: str | None = None) -> etree.XMLParser:
    """A parser for a whole document in memory."""
    return etree.XMLParser(**_HARDENED, recover=recover, remove_comments=remove_comments, encoding=encoding)


def events(
    source: str | Path | IO[bytes], *, kinds: tuple[str, ...] = ("end",), tag: str | tuple[str, ...] | None = None
) -> Iterator[tuple[str, Element]]:
    """(event, element) pairs of a file or binary stream, read in chunks; a syntax error is raised
    after every event before it has been handed out. Callers clear what they are done with."""
    pull = etree.XMLPullParser(events=kinds, tag=tag, **_HARDENED)
    if isinstance(source, str | Path):
        with open(source, "rb") as stream:
            yield from _feed(pull, stream)
    else:
        yield from _feed(pull, source)


def _feed(pull: Any, stream: IO[bytes]) -> Iterator[tuple[str, Element]]:
    while True:
        chunk = stream.read(_READ_CHUNK)
        try:
            if chunk:
                pull.feed(chunk)
            else:
                pull.close()
        except etree.XMLSyntaxError:
            # Events of a chunk fed before the error are real; at close, libxml2 ends every element
            # still open, and those half-read elements must not pass for records.
            if chunk:
                yield from pull.read_events()
            raise
        yield from pull.read_events()
        if not chunk:
            return


def iterparse(
    source: str | IO[bytes], *, kinds: tuple[str, ...] = ("end",), tag: str | tuple[str, ...] | None = None
) -> Any:
    """lxml's own streamed reader with the hardened settings. Formats whose tests pin its handling of
    a truncated last record (MARC, OAI) keep it; `events` is for files where good records must
    survive a later syntax error in the same chunk."""
    return etree.iterparse(source, events=kinds, tag=tag, **_HARDENED)


def drop_before(element: Element) -> None:
    """Clear a finished element and the siblings before it, so a long file never sits in memory."""
    element.clear(keep_tail=False)
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]


def describe(exc: etree.XMLSyntaxError) -> str:
    """ "XML 格式错误（第 12 行）：…" from the fatal error that stopped the parser.

    A streamed parse reports some failures (an undefined entity) as a bare "no element found" at line
    0; the real reason and line are in the error log. The log can still hold entries of earlier parses
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
    """The parser's own (English) words, marked as such, to follow a Chinese sentence: libxml2's
    text names the exact fault, so it is kept, but never reads as half of a Chinese message."""
    return f"〔解析器原文：{' '.join(str(message).split())}〕"


def syntax_error(where: str, message: str) -> str:
    """ "XML 格式错误（第 3 行）：文件不符合 XML 语法。〔解析器原文：…〕" """
    return f"XML 格式错误（{where}）：文件不符合 XML 语法。{parser_words(message)}"


def html_parser() -> Any:
    """For saved web pages (openstd.samr.gov.cn): HTML has no entities to expand, but no network either."""
    return lxml.html.HTMLParser(no_network=True, huge_tree=False)
