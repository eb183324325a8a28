"""Walking a parsed XML tree by local names, the way every XML format here reads its elements.

Namespaces are ignored: the same format comes with and without them (MARCXML bare or in OAI-PMH,
JATS with or without the NLM namespace), and no format here has two elements that differ only in
namespace. Entities stay unresolved nodes (see xml_safe); `entity_char` turns one into text by its
*name* only, so a document that declares an entity cannot make it expand to content of its own.
"""

from __future__ import annotations

import html.entities
from typing import Any

Element = Any  # lxml is untyped


def local(el: Element) -> str:
    """The tag without its namespace; "" for comments, processing instructions and entities."""
    tag = el.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def namespace(el: Element) -> str:
    tag = el.tag
    return tag[1:].split("}", 1)[0] if isinstance(tag, str) and tag.startswith("{") else ""


def children(el: Element | None, *names: str) -> list[Element]:
    return [] if el is None else [c for c in el if local(c) in names]


def child(el: Element | None, *names: str) -> Element | None:
    found = children(el, *names)
    return found[0] if found else None


def descendants(el: Element | None, *names: str) -> list[Element]:
    """Elements of these names at any depth, `el` itself included, in document order."""
    return [] if el is None else list(el.iter(*("{*}" + name for name in names)))


def entity_char(node: Element) -> str:
    """The character an HTML5 entity name stands for; a space for a name HTML does not know."""
    return html.entities.html5.get(f"{node.name};", " ")
