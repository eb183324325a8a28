"""Citation link state on an index document, kept apart from the record while ingest merges it.

Link state is what citation linking (citeindex/) writes: the `citations` block (cites, cites_self,
cited_by_count, cited_by_others) and each reference's `linked_id`. It is not a source's content: a
record re-sent by its source comes without it, and must neither lose it nor count as changed
because of it. So the writer splits it off what the index holds, merges the records as usual, and
puts it back on the merged record: the block whole, and each `linked_id` on the reference with the
same content. The link task that follows every written chunk then recomputes it from scratch.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mappings.model import Record, Reference

CITATIONS = "citations"


@dataclass(frozen=True)
class LinkState:
    citations: dict[str, Any] = field(default_factory=dict)
    # Reference content (without linked_id) -> the record it links to.
    linked: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.citations or self.linked)


def reference_fingerprint(ref: Reference) -> str:
    return json.dumps(ref.model_dump(mode="json", exclude={"linked_id"}, exclude_none=True), sort_keys=True)


def split_source(source: Mapping[str, Any]) -> tuple[dict[str, Any], LinkState]:
    """An index `_source` as a record's fields with every linked_id removed, and the link state."""
    body = dict(source)
    citations = body.pop(CITATIONS, None) or {}
    linked: dict[str, str] = {}
    refs = body.get("references")
    if isinstance(refs, list):
        clean = []
        for raw in refs:
            if isinstance(raw, Mapping) and raw.get("linked_id"):
                ref = dict(raw)
                target = str(ref.pop("linked_id"))
                try:
                    linked[reference_fingerprint(Reference.model_validate(ref))] = target
                except ValueError:
                    pass  # an unreadable reference: the record fails validation anyway
                clean.append(ref)
            else:
                clean.append(raw)
        body["references"] = clean
    return body, LinkState(dict(citations), linked)


def record_and_state(source: Mapping[str, Any]) -> tuple[Record, LinkState]:
    body, state = split_source(source)
    return Record.model_validate(body), state


def reapply(record: Record, state: LinkState) -> Record:
    """`record` with each reference whose content is unchanged linked as before."""
    if not state.linked or not record.references:
        return record
    refs = [
        r.model_copy(update={"linked_id": state.linked.get(reference_fingerprint(r), r.linked_id)})
        for r in record.references
    ]
    return record.model_copy(update={"references": refs})
