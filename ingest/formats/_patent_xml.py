"""XML plumbing shared by the USPTO and ST.36 / EPO patent parsers, down to the loop that turns a bulk
file of concatenated documents into Records (`xml_records`).

Patent XML leans on named entities declared only in DTDs that are never loaded here (`&lsquo;`,
`&minus;`, `&lsqb;`): with `resolve_entities=False` lxml keeps each as an entity node, and the text
walk below turns its *name* into the character (HTML5's table knows every ISO entity USPTO uses), so
a hostile document cannot substitute content of its own.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import BinaryIO

from lxml import etree

from ingest.errors import RecordError
from ingest.formats import xml_safe, xml_tree
from ingest.formats._patent_record import PatentFields, numbered_record, where
from ingest.formats.xml_tree import Element, child, local
from ingest.normalize_text import clean_or_none, clean_text
from mappings.model import Record

# Elements that are a paragraph, a heading or a cell of their own: text on either side of them is
# separated (a newline where whole lines are kept). Everything else (b, i, sup, PDAT, HIL ...) sits
# inside a word and is joined as it stands.
_BLOCK = frozenset({
    "p", "heading", "claim", "claim-text", "li", "ol", "ul", "dl", "dt", "dd", "table", "row", "entry",
    "tr", "title", "paragraph", "section", "description-of-drawings", "figref-list",
    "maths", "chemistry", "tables", "table-external-doc", "disclosure", "invention-title",
    "PARA", "H", "CLM", "CLMSTEP", "BTEXT", "TABLE", "ROW", "DP", "CWU",
})  # fmt: skip
# Separate from their neighbours by a space but part of the same line: a paragraph's number, a table
# cell, a line break inside a paragraph.
_SPACED = frozenset({"number", "claim-number", "claim-ref", "br", "in-line-formula", "entry", "td", "th",
                     "STEXT", "PTEXT", "ENTRY"})  # fmt: skip
# Never part of running text: images, drawing ids, and the title ST.36 repeats inside a description.
_SKIP = frozenset({"img", "figure", "drawings", "EMI", "CHEM-US", "MATH-US", "TABLE-US"})
_BOM = b"\xef\xbb\xbf"
_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*\?>")
# A stand-in DOCTYPE naming an external DTD that is never fetched: with it, libxml2 lets references to
# entities it cannot see through as entity nodes instead of failing the document.
_STAND_IN_DOCTYPE = b'<!DOCTYPE patent SYSTEM "patent-dtd-not-loaded.dtd">'
_LINE_BREAK = "\x1e"
_DECLARATION_START = re.compile(rb"^[\xef\xbb\xbf \t\r\n]*<\?xml\s")
_DECLARATION_ANYWHERE = re.compile(rb"<\?xml\s")
_FIRST_ELEMENT = re.compile(rb"<[A-Za-z_]")
_EXTRA_ENTITIES = {"lsqb": "[", "rsqb": "]", "plus": "+", "minus": "\u2212", "emsp": " "}


def path(el: Element | None, *steps: str) -> Element | None:
    """The first element down a chain of child names (namespaces ignored)."""
    for step in steps:
        el = child(el, step)
    return el


def entity_char(node: Element) -> str:
    """HTML5's character for the entity, with the ISO names patent DTDs use that HTML5 lacks."""
    return _EXTRA_ENTITIES.get(str(node.name)) or xml_tree.entity_char(node)


def _walk(node: Element, parts: list[str], sep: str, skip: frozenset[str]) -> None:
    if node.text:
        parts.append(node.text)
    for sub in node:
        if isinstance(sub, etree._Entity):
            parts.append(entity_char(sub))
        elif isinstance(sub.tag, str) and (name := local(sub)) not in skip and name not in _SKIP:
            gap = sep if name in _BLOCK else " " if name in _SPACED else ""
            parts.append(gap)
            _walk(sub, parts, sep, skip)
            parts.append(gap)
        # Comments and processing instructions (USPTO's `<?BRFSUM ...?>`) drop out, their tail stays.
        if sub.tail:
            parts.append(sub.tail)


def flat(el: Element | None, skip: frozenset[str] = frozenset()) -> str:
    """The element's text on one line, blocks separated by a space."""
    if el is None:
        return ""
    parts: list[str] = []
    _walk(el, parts, " ", skip)
    return clean_text("".join(parts))


def text(el: Element | None, skip: frozenset[str] = frozenset()) -> str | None:
    return clean_or_none(flat(el, skip))


def lines(el: Element | None, skip: frozenset[str] = frozenset()) -> list[str]:
    """The element's text as its paragraphs, one cleaned line each: the shape of a full text."""
    if el is None:
        return []
    parts: list[str] = []
    # A separator no text holds, so the hard line breaks inside the sources' paragraphs stay spaces.
    _walk(el, parts, _LINE_BREAK, skip)
    return [line for raw in "".join(parts).split(_LINE_BREAK) if (line := clean_text(raw))]


# One patent document is a few megabytes at most (the largest grants with sequence listings reach tens);
# beyond this it is a broken or hostile file (a gzip bomb), never held in memory.
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024


class DocumentTooLarge(ValueError):
    def __init__(self, start: int) -> None:
        super().__init__(
            f"第 {start} 行起的文档超过 {MAX_DOCUMENT_BYTES // 1024 // 1024} MB，已停止读取此文件"
        )
        self.start = start


def xml_documents(fh: BinaryIO) -> Iterator[tuple[int, bytes]]:
    """(first line, bytes) of each XML document in a file that may concatenate many.

    A document ends where the next `<?xml ` declaration starts, at the start of a line or (when the
    documents were glued together without a newline) inside one. Raises DocumentTooLarge rather than
    buffer a document (or a line) beyond MAX_DOCUMENT_BYTES.
    """
    buffer: list[bytes] = []
    start, has_markup, size = 1, False, 0
    lineno = 0
    while line := fh.readline(MAX_DOCUMENT_BYTES + 1):
        lineno += 1
        for piece in _split_at_declarations(line):
            declaration = _DECLARATION_START.match(piece) is not None
            if declaration and has_markup:
                yield start, b"".join(buffer)
                buffer, start, has_markup, size = [], lineno, False, 0
            buffer.append(piece)
            size += len(piece)
            if size > MAX_DOCUMENT_BYTES:
                raise DocumentTooLarge(start)
            has_markup = has_markup or (b"<" in piece and not declaration)
    if has_markup:
        yield start, b"".join(buffer)


def _split_at_declarations(line: bytes) -> list[bytes]:
    cuts = [m.start() for m in _DECLARATION_ANYWHERE.finditer(line) if line[: m.start()].strip(_BOM + b" \t")]
    bounds = [0, *cuts, len(line)]
    return [line[i:j] for i, j in itertools.pairwise(bounds) if i < j]


def with_doctype(data: bytes) -> bytes:
    """The document, with a stand-in DOCTYPE after its declaration when it has none of its own."""
    body = data.removeprefix(_BOM)
    first_element = _FIRST_ELEMENT.search(body)
    if first_element is None or b"<!DOCTYPE" in body[: first_element.start()]:
        return body
    declaration = _DECLARATION.match(body)
    cut = declaration.end() if declaration else 0
    return body[:cut] + _STAND_IN_DOCTYPE + body[cut:]


@dataclass(frozen=True)
class PatentXml:
    """One patent XML format as `xml_records` reads it: its root elements, and its words for a file
    or a document that is not of it."""

    source: str  # the Records' source
    builders: Mapping[str, Callable[[Element], PatentFields]]  # root element name -> its fields
    not_this: str  # the whole file is not of the format: "文件不是 USPTO 专利文献"
    document: str  # what each document should be: "USPTO 专利文献"
    root_note: str = ""  # follows the root named when the file's first document is not of the format


def xml_records(
    fh: BinaryIO, file: Path, fmt: PatentXml, *, now: datetime, version: int
) -> Iterator[Record | RecordError]:
    """One Record per document of a bulk patent XML file; a RecordError for each that fails.

    A file whose first document has a foreign root is not of the format, and is left at that; a later
    foreign document is reported and skipped.
    """
    n = 0
    for start, data in xml_documents(fh):
        n += 1
        try:
            root = etree.fromstring(with_doctype(data), xml_safe.parser(remove_comments=True))
        except etree.XMLSyntaxError as exc:
            line = f"第 {start + exc.lineno - 1} 行" if exc.lineno else "文件"
            yield RecordError(f"{where(n, start)}：{xml_safe.syntax_error(line, exc.msg)}")
            continue
        builder = fmt.builders.get(local(root))
        if builder is None:
            if n == 1:
                yield RecordError(f"{fmt.not_this}：根元素为 <{local(root)}>{fmt.root_note}")
                return
            yield RecordError(f"{where(n, start)}：不是 {fmt.document}（根元素 <{local(root)}>）")
            continue
        fields = partial(builder, root)
        yield numbered_record(
            n, start, fields, source=fmt.source, file_name=file.name, now=now, version=version
        )
    if n == 0:
        yield RecordError(f"{fmt.not_this}：文件中没有 XML 文档")
