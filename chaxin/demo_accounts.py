"""Accounts for trying the platform locally (`make run`): a demo centre with an analyst, a reviewer and
a centre admin, and a platform admin, all with one published password.

Only for a local demo: the password is in this file and in the README. Running it again changes
nothing that exists already, so `make run` can call it every time.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from appdb import accounts

DEMO_PASSWORD = "Chaxin-demo-2026"
DEMO_CENTRE = "DEMO"


@dataclass(frozen=True)
class DemoUser:
    username: str
    real_name: str
    roles: tuple[str, ...]
    title: str | None = None
    centre: str | None = DEMO_CENTRE


DEMO_USERS = (
    DemoUser("demo-analyst", "李查新", ("analyst",), "馆员"),
    DemoUser("demo-reviewer", "王审核", ("reviewer",), "研究馆员"),
    DemoUser("demo-centre-admin", "张主任", ("centre_admin",)),
    DemoUser("demo-admin", "平台管理员", ("platform_admin",), centre=None),
)


def seed(session: Session) -> list[str]:
    """Create what is missing; returns the usernames created."""
    try:
        accounts.get_centre(session, DEMO_CENTRE)
    except accounts.NotFound:
        centre = accounts.create_centre(session, code=DEMO_CENTRE, name="演示查新分中心", province_code="52",
                                        institution_no="001", pattern="most")  # fmt: skip
        accounts.set_centre_contact(centre, {"address": "贵阳市南明区演示路 1 号", "postcode": "550001",
                                             "phone": "0851-00000000", "email": "demo@chaxin.invalid"})  # fmt: skip
    made = []
    for user in DEMO_USERS:
        try:
            accounts.find_user(session, user.username)
            continue
        except accounts.NotFound:
            pass
        accounts.create_user(session, username=user.username, password=DEMO_PASSWORD, real_name=user.real_name,
                             professional_title=user.title, senior_title=user.title == "研究馆员",
                             centre=user.centre, roles=user.roles)  # fmt: skip
        made.append(user.username)
    return made
