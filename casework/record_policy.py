"""Case content that comes from a record obeys that record's access policy, for each reader.

A case keeps each document as it was when added (its snapshot), and readers of a case are more people
than its analyst: the reviewer, the centre admin, other staff of the centre. What the snapshot says of
a 限制 report (title, authors, abstract, the analyst's description and excerpt) is shown only to a reader
whom `search.policy` lets see that report now, so revoking a grant hides it again.

The rule chosen for the reviewer (docs/security.md): the reviewer must hold the grant too. A case with
a restricted document cannot be submitted to, nor signed by, a reviewer who may not see it; everyone
else on the case sees a placeholder that says a restricted document is there, and cannot download the
report file, which would print it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.orm import Session

from appdb import accounts
from appdb.models import CaseDocument
from search.policy import Visibility, visibility
from search.principal import Principal, Role

PLACEHOLDER = "［限制级文献：您未获授权查看该文献，内容不予显示］"
_ROLES = {r.value for r in Role}


def principal_of(session: Session, user_id: int | None) -> Principal | None:
    """A user as the access policy sees them now (roles and live grants); None if gone or disabled."""
    if user_id is None:
        return None
    identity = accounts.identity_for(session, user_id)
    if identity is None:
        return None
    return Principal(
        user_id=identity.user_id, username=identity.username, centre=identity.centre,
        roles=frozenset(Role(r) for r in identity.roles if r in _ROLES), granted=identity.granted,
        owner=f"user:{identity.user_id}",
    )  # fmt: skip


def _snapshot(doc: CaseDocument) -> dict[str, Any]:
    try:
        data = json.loads(doc.snapshot or "{}")
    except json.JSONDecodeError:
        data = {}
    record = data if isinstance(data, dict) else {}
    # The policy reads the record's own ID: the snapshot's, else the one the case keeps.
    return {**record, "id": record.get("id") or doc.record_id}


def seen(principal: Principal, doc: CaseDocument) -> Visibility:
    return visibility(principal, _snapshot(doc))


def hidden(principal: Principal | None, docs: Iterable[CaseDocument]) -> list[CaseDocument]:
    """The documents `principal` may not see at all (None: someone who sees nothing)."""
    return [d for d in docs if principal is None or seen(principal, d) is Visibility.NONE]


def document_view(principal: Principal, doc: CaseDocument, shown: dict[str, Any]) -> dict[str, Any]:
    """`shown` (the document as the API or page shows it) for this reader: a placeholder if hidden."""
    if seen(principal, doc) is not Visibility.NONE:
        return shown
    keep = ("id", "relevance", "origin", "points")
    return {**{k: shown[k] for k in keep if k in shown}, "record_id": None, "reference": PLACEHOLDER,
            "description": "", "excerpt": "", "title": PLACEHOLDER, "restricted": True}  # fmt: skip


def unseen_count(principal: Principal | None, docs: Sequence[CaseDocument]) -> int:
    return len(hidden(principal, docs))
