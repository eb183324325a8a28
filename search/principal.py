"""Who is asking: the identity every search, record page and export is answered for.

The web layer builds a Principal from a session cookie or an API token, a worker from the user of its
job (`principal_for`); `search/` only reads it, so the search service stays free of any web framework
and tests can construct one directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from appdb.accounts import Identity


class Role(StrEnum):
    registered = "registered"  # 实名注册用户
    analyst = "analyst"  # 查新员
    reviewer = "reviewer"  # 审核员
    centre_admin = "centre_admin"  # 分中心管理员
    platform_admin = "platform_admin"  # 平台管理员


# Roles that work for a centre: they may see 延期公开 reports before the embargo ends.
STAFF_ROLES = frozenset({Role.analyst, Role.reviewer, Role.centre_admin, Role.platform_admin})


@dataclass(frozen=True)
class Principal:
    user_id: int | None = None  # None: an anonymous visitor
    username: str | None = None
    roles: frozenset[Role] = frozenset()
    centre: str | None = None  # branch-centre code, for staff
    # Record IDs of 限制 reports this user was explicitly granted.
    granted: frozenset[str] = field(default_factory=frozenset)
    # Who owns search history and strategies: "user:<id>", or "anon:<token>" for a visitor.
    owner: str | None = None

    @property
    def authenticated(self) -> bool:
        return self.user_id is not None

    @property
    def staff(self) -> bool:
        return bool(self.roles & STAFF_ROLES)

    @property
    def platform_admin(self) -> bool:
        return Role.platform_admin in self.roles

    def has(self, role: Role) -> bool:
        return role in self.roles


ANONYMOUS = Principal()
_ROLE_VALUES = frozenset(r.value for r in Role)


def principal_for(identity: Identity) -> Principal:
    """A signed-in user's principal, as read from the database (by a request, or by a worker
    running that user's export job)."""
    return Principal(
        user_id=identity.user_id,
        username=identity.username,
        roles=frozenset(Role(r) for r in identity.roles if r in _ROLE_VALUES),
        centre=identity.centre,
        granted=identity.granted,
        owner=f"user:{identity.user_id}",
    )
