"""Who may see a centre's statistics and export its issued reports.

Platform admins: every centre, and all centres together (`ALL_CENTRES`). A centre admin: their own
centre only; another centre's code answers as if it did not exist (404), the convention of the
case rules, so codes cannot be probed. Everyone else is refused (403), whatever the code.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from appdb import accounts
from appdb.models import Centre
from casework.core import CaseNotFound, Forbidden
from search.principal import Principal, Role

# Centre codes start with a letter or digit (appdb.accounts), so "*" can never name a real centre,
# whereas a word such as "all" could.
ALL_CENTRES = "*"


def may_view_centres(principal: Principal) -> bool:
    return principal.platform_admin or (principal.has(Role.centre_admin) and bool(principal.centre))


def centres_in_scope(session: Session, principal: Principal, code: str) -> list[Centre]:
    """The centres `code` means for `principal` (one, or all for `ALL_CENTRES`), or CaseError."""
    if not may_view_centres(principal):
        raise Forbidden("只有平台管理员和分中心管理员可以查看分中心统计或导出报告")
    if code == ALL_CENTRES:
        if not principal.platform_admin:
            raise Forbidden("只有平台管理员可以查看全部分中心的统计")
        return accounts.list_centres(session)
    missing = CaseNotFound(f"没有代码为“{code[:40]}”的分中心")
    if not principal.platform_admin and code != principal.centre:
        raise missing
    try:
        return [accounts.get_centre(session, code)]
    except accounts.NotFound:
        raise missing from None
