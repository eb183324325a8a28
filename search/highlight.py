"""Map highlights found on the folded index text back onto the text the user sees."""

from __future__ import annotations

import html

from mappings.analysis.normalize import fold, fold_with_offsets

PRE, POST = "\ue000", "\ue001"


def _spans(marked: str) -> tuple[str, list[tuple[int, int]]]:
    plain: list[str] = []
    spans: list[tuple[int, int]] = []
    start = -1
    for ch in marked:
        if ch == PRE:
            start = len(plain)
        elif ch == POST:
            if start >= 0:
                spans.append((start, len(plain)))
            start = -1
        else:
            plain.append(ch)
    return "".join(plain), spans


def _render(text: str, spans: list[tuple[int, int]]) -> str:
    out: list[str] = []
    pos = 0
    for a, b in spans:
        out.append(html.escape(text[pos:a]))
        out.append(f"<em>{html.escape(text[a:b])}</em>")
        pos = b
    out.append(html.escape(text[pos:]))
    return "".join(out)


def map_fragment(marked: str, display: str) -> str:
    """HTML for one highlighted fragment: on the display text where it aligns, else on the folded text."""
    return _mapped(marked, display, fold_with_offsets(display))


def map_fragments(marked: list[str], display: str) -> list[str]:
    """`map_fragment` of each fragment of one field: the display text is folded and aligned once,
    not once per fragment (the alignment is most of the highlight's cost, py-spy under bench/query.py)."""
    aligned = fold_with_offsets(display)
    return [_mapped(m, display, aligned) for m in marked]


def _mapped(marked: str, display: str, aligned: tuple[str, list[int]] | None) -> str:
    plain, spans = _spans(marked)
    if aligned is not None and plain:
        folded, origin = aligned
        at = folded.find(plain)
        if at >= 0:
            first, last = origin[at], origin[at + len(plain) - 1] + 1
            mapped = [(origin[at + a] - first, origin[at + b - 1] + 1 - first) for a, b in spans if b > a]
            return _render(display[first:last], mapped)
    return _render(plain, spans)


def map_values(marked_fragments: list[str], display_values: list[str]) -> list[str]:
    """For multi-valued fields (keywords): highlight the value each fragment came from."""
    out: list[str] = []
    for frag in marked_fragments:
        plain, _ = _spans(frag)
        match = next((v for v in display_values if fold(v) == plain), None)
        out.append(map_fragment(frag, match if match is not None else plain))
    return out
