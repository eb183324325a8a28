"""Accounts in the application database: users, centres, grants, sessions, tokens, audit; and the CLI."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import Result
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from appdb import accounts
from appdb.models import ApiToken, AuditEvent, User, WebSession
from appdb.session import session_factory
from conf.settings import REPO_ROOT
from search.principal import STAFF_ROLES, Role


@pytest.fixture
def db(database_url: str) -> sessionmaker[Session]:
    return session_factory(database_url)


def _name(stem: str) -> str:
    return f"{stem}-{secrets.token_hex(3)}"


def _centre(db: sessionmaker[Session], pattern: str = "most") -> str:
    code = _name("c").upper()
    with db.begin() as s:
        accounts.create_centre(
            s, code=code, name="贵州省科技信息中心查新分中心", province_code="52",
            institution_no="001" if pattern == "most" else "36001", pattern=pattern,
        )  # fmt: skip
    return code


def test_role_names_are_the_principal_roles() -> None:
    assert set(accounts.ROLE_NAMES) == {r.value for r in Role}
    assert accounts.CENTRE_ROLES == {r.value for r in STAFF_ROLES} - {"platform_admin"}


def test_centre_stores_its_numbering_pattern_and_validates_the_institution_number(
    db: sessionmaker[Session],
) -> None:
    most, moe = _centre(db, "most"), _centre(db, "moe")
    with db() as s:
        assert accounts.get_centre(s, most).numbering_pattern == "most"
        assert (
            accounts.get_centre(s, moe).numbering_pattern,
            accounts.get_centre(s, moe).institution_no,
        ) == (
            "moe",
            "36001",
        )
    bad = [
        ({"pattern": "most", "institution_no": "12345"}, "3 位数字"),
        ({"pattern": "moe", "institution_no": "001"}, "5 位数字"),
        ({"pattern": "iso", "institution_no": "001"}, "most"),
        ({"pattern": "most", "institution_no": "001", "province_code": "5"}, "省级代码"),
        ({"pattern": "most", "institution_no": "001", "code": most}, "已存在"),
        ({"pattern": "most", "institution_no": "001", "code": "贵州"}, "分中心代码"),
    ]
    for fields, message in bad:
        args = {"code": _name("x"), "name": "某分中心", "province_code": "52", **fields}
        with db.begin() as s, pytest.raises(accounts.AccountError, match=message):
            accounts.create_centre(s, **args)


def test_registration_needs_real_name_organisation_and_a_contact(db: sessionmaker[Session]) -> None:
    good = {
        "username": _name("reg"),
        "password": "ok-pass-123",
        "real_name": "张伟",
        "organisation": "某大学",
    }
    cases = [
        ({"real_name": ""}, "真实姓名"),
        ({"organisation": " "}, "工作单位"),
        ({}, "手机号码或电子邮箱"),
        ({"email": "not-an-email"}, "电子邮箱"),
        ({"phone": "abc"}, "手机号码"),
        ({"email": "a@b.cn", "password": "short1"}, "至少需要 8"),
        ({"email": "a@b.cn", "password": "onlyletters"}, "至少两类"),
        ({"email": "a@b.cn", "username": "x"}, "用户名"),
    ]
    for change, message in cases:
        with db.begin() as s, pytest.raises(accounts.AccountError, match=message):
            accounts.register_user(s, **{**good, **change})
    with db.begin() as s:
        user = accounts.register_user(s, **good, phone="138 0013 8000")
        assert user.password_hash.startswith("$argon2id$")
        assert "ok-pass-123" not in user.password_hash
    with db.begin() as s, pytest.raises(accounts.Conflict, match="已被使用"):
        accounts.register_user(s, **{**good, "username": good["username"].upper()}, email="z@z.cn")


def test_authenticate(db: sessionmaker[Session]) -> None:
    name = _name("auth")
    with db.begin() as s:
        accounts.create_user(s, username=name, password="right-pass-1")
    with db.begin() as s:
        assert accounts.authenticate(s, name.upper(), "right-pass-1") is not None, "usernames ignore case"
        assert accounts.authenticate(s, name, "wrong-pass-1") is None
        assert accounts.authenticate(s, "nobody-" + name, "right-pass-1") is None
        assert accounts.authenticate(s, name, "x" * 10_000) is None
        accounts.set_active(s, accounts.find_user(s, name), False)
    with db.begin() as s:
        assert accounts.authenticate(s, name, "right-pass-1") is None, "a disabled account cannot sign in"


def test_staff_roles_need_a_centre_and_identity_reflects_grants(db: sessionmaker[Session]) -> None:
    centre = _centre(db)
    with db.begin() as s:
        user = accounts.create_user(s, username=_name("ana"), password="pass-word-1")
        with pytest.raises(accounts.AccountError, match="必须隶属于一个分中心"):
            accounts.grant_role(s, user, "analyst")
        with pytest.raises(accounts.AccountError, match="未知角色"):
            accounts.grant_role(s, user, "superuser")
        accounts.set_centre(s, user, centre)
        assert accounts.grant_role(s, user, "analyst") is True
        assert accounts.grant_role(s, user, "analyst") is False, "granting twice is a no-op"
        assert accounts.grant_role(s, user, "registered") is False, "implicit for everyone signed in"
        with pytest.raises(accounts.AccountError, match="查新员"):
            accounts.set_centre(s, user, None)
        accounts.grant_record(s, user, "rep-open")
        accounts.grant_record(s, user, "rep-old", expires_at=datetime.now(UTC) - timedelta(days=1))
        user_id = user.id
    with db() as s:
        identity = accounts.identity_for(s, user_id)
    assert identity is not None
    assert identity.roles == {"registered", "analyst"}
    assert identity.centre == centre
    assert identity.granted == {"rep-open"}, "an expired grant no longer counts"
    with db.begin() as s:
        user = accounts.get_user(s, user_id)
        assert accounts.revoke_record(s, user, "rep-open") is True
        assert accounts.revoke_role(s, user, "analyst") is True
        accounts.set_centre(s, user, None)
    with db() as s:
        identity = accounts.identity_for(s, user_id)
    assert identity is not None and identity.roles == {"registered"} and not identity.granted
    assert identity.centre is None


def test_sessions_end_on_password_change_and_expire(db: sessionmaker[Session]) -> None:
    with db.begin() as s:
        user = accounts.create_user(s, username=_name("sess"), password="pass-word-1")
        one = accounts.create_session(s, user.id, hours=1)
        two = accounts.create_session(s, user.id, hours=1)
        stored = set(s.scalars(select(WebSession.token_hash).where(WebSession.user_id == user.id)))
        assert one not in stored and two not in stored, "only hashes are stored"
        user_id = user.id
    with db.begin() as s:
        assert accounts.session_user(s, one) == user_id
        accounts.end_session(s, one)
        assert accounts.session_user(s, one) is None
        assert accounts.session_user(s, two) == user_id
        with pytest.raises(accounts.AccountError, match="原密码"):
            accounts.change_password(s, accounts.get_user(s, user_id), "wrong-one-1", "new-pass-2")
        accounts.change_password(s, accounts.get_user(s, user_id), "pass-word-1", "new-pass-2")
        assert accounts.session_user(s, two) is None, "a password change signs out everywhere"
        stale = accounts.create_session(s, user_id, hours=1)
        s.execute(
            update(WebSession)
            .where(WebSession.user_id == user_id)
            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
        assert accounts.session_user(s, stale) is None


def test_api_tokens_store_only_a_hash(db: sessionmaker[Session]) -> None:
    with db.begin() as s:
        user = accounts.create_user(s, username=_name("tok"), password="pass-word-1")
        token, raw = accounts.create_api_token(s, user, "脚本")
        expired, raw_expired = accounts.create_api_token(
            s, user, "旧的", expires_at=datetime.now(UTC) - timedelta(days=1)
        )
        user_id, token_id = user.id, token.id
        rows = s.scalars(select(ApiToken).where(ApiToken.user_id == user_id)).all()
        assert all(raw not in (r.token_hash, r.hint, r.name) for r in rows)
        assert raw.startswith("chx_") and token.hint == raw[:10]
    with db.begin() as s:
        assert accounts.api_token_user(s, raw) == user_id
        assert accounts.api_token_user(s, raw_expired) is None
        assert accounts.api_token_user(s, raw + "x") is None
        assert accounts.api_token_user(s, "not-a-token") is None
        assert s.get(ApiToken, token_id).last_used_at is not None  # type: ignore[union-attr]
        assert {t.id for t in accounts.list_api_tokens(s, user_id)} == {expired.id, token_id}
        assert accounts.revoke_api_token(s, user_id + 1000, token_id) is False, "only the owner revokes"
        assert accounts.revoke_api_token(s, user_id, token_id) is True
        assert accounts.api_token_user(s, raw) is None


def test_audit_records_json_detail(db: sessionmaker[Session]) -> None:
    actor = f"user:{secrets.randbelow(10**9)}"
    with db.begin() as s:
        accounts.audit(s, actor, "export", {"format": "gbt7714", "count": 12, "q": "石墨烯"}, ip="10.0.0.1")
    with db() as s:
        events = accounts.audit_events(s, actor=actor)
        assert [e.action for e in events] == ["export"]
        assert json.loads(events[0].detail) == {"format": "gbt7714", "count": 12, "q": "石墨烯"}
        assert events[0].ip == "10.0.0.1" and events[0].at is not None
        assert accounts.audit_events(s, action="export", actor=actor)
        assert not accounts.audit_events(s, action="exp", actor=actor), "prefix match is by dotted segment"


# ---------------------------------------------------------------- CLI


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Result]]:
    """Run `chaxin ...` in-process against the test database."""
    from click.testing import CliRunner

    from chaxin.cli import app
    from conf.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()

    def run(*args: str, stdin: str = "") -> Result:
        return CliRunner().invoke(app, list(args), input=stdin)

    yield run
    get_settings.cache_clear()


def test_demo_accounts_are_created_once(db: sessionmaker[Session], cli: Callable[..., Result]) -> None:
    from chaxin.demo_accounts import DEMO_PASSWORD

    for _ in range(2):
        made = cli("demo", "accounts")
        assert made.exit_code == 0 and DEMO_PASSWORD in made.output, made.output
    with db() as s:
        reviewer = accounts.find_user(s, "demo-reviewer")
        assert reviewer.senior_title and accounts.user_roles(s, reviewer.id) == {"reviewer"}
        assert accounts.get_centre(s, "DEMO").address


def test_cli_bootstraps_centres_and_users(
    database_url: str, db: sessionmaker[Session], cli: Callable[..., Result]
) -> None:
    code = _name("cli").upper()
    made = cli("centres", "add", "--code", code, "--name", "测试分中心", "--province", "52",
                "--institution", "007", "--pattern", "most")  # fmt: skip
    assert made.exit_code == 0, made.output
    bad = cli("centres", "add", "--code", _name("b"), "--name", "x", "--province", "52",
               "--institution", "7", "--pattern", "most")  # fmt: skip
    assert bad.exit_code != 0 and "机构编号" in bad.output
    contact = cli("centres", "contact", code, "--address", "贵阳市南明区", "--phone", "0851-1234567")
    assert contact.exit_code == 0, contact.output
    too_long = cli("centres", "contact", code, "--postcode", "1" * 40)
    assert too_long.exit_code != 0 and "邮政编码过长" in too_long.output
    with db() as s:
        stored = accounts.get_centre(s, code)
        assert (stored.address, stored.phone, stored.postcode) == ("贵阳市南明区", "0851-1234567", "")

    admin = _name("root")
    made = cli("users", "add", "--username", admin, "--role", "platform_admin", "--password-stdin",
                stdin="Bootstrap-pass-1\n")  # fmt: skip
    assert made.exit_code == 0, made.output
    admin_id = int(made.output.strip())

    analyst = _name("ana")
    no_centre = cli("users", "add", "--username", analyst, "--role", "analyst", "--password-stdin",
                     stdin="Analyst-pass-1\n")  # fmt: skip
    assert no_centre.exit_code != 0 and "分中心" in no_centre.output
    made = cli("users", "add", "--username", analyst, "--role", "analyst", "--role", "reviewer",
                "--centre", code, "--title", "研究馆员", "--senior", "--password-stdin", stdin="Analyst-pass-1\n")  # fmt: skip
    assert made.exit_code == 0, made.output

    granted = cli("users", "grant", "--username", analyst, "--record", "tr-restricted-1",
                   "--until", "2999-12-31")  # fmt: skip
    assert granted.exit_code == 0, granted.output
    revoked = cli("users", "grant", "--username", analyst, "--role", "reviewer", "--revoke")
    assert revoked.exit_code == 0, revoked.output
    missing = cli("users", "grant", "--username", "nobody-" + analyst, "--role", "analyst")
    assert missing.exit_code != 0 and "没有用户名" in missing.output

    with db() as s:
        root = accounts.identity_for(s, admin_id)
        user = s.scalar(select(User).where(User.username == analyst))
        assert user is not None and user.senior_title and user.professional_title == "研究馆员"
        ana = accounts.identity_for(s, user.id)
        assert accounts.authenticate(s, analyst, "Analyst-pass-1") is not None
        actions = {e.action for e in s.scalars(select(AuditEvent).where(AuditEvent.actor == "cli"))}
    assert root is not None and root.roles == {"registered", "platform_admin"} and root.centre is None
    assert ana is not None and ana.roles == {"registered", "analyst"} and ana.centre == code
    assert ana.granted == {"tr-restricted-1"}
    assert {"centre.create", "user.create", "record.grant", "role.revoke"} <= actions

    listed = cli("users", "list")
    assert listed.exit_code == 0 and analyst in listed.output and code in listed.output


def test_cli_entry_point_reads_the_password_from_stdin(database_url: str, db: sessionmaker[Session]) -> None:
    name = _name("sub")
    done = subprocess.run(
        [sys.executable, "-m", "chaxin.cli", "users", "add", "--username", name, "--password-stdin",
         "--real-name", "李娜", "--organisation", "某研究所", "--email", "li@example.cn"],
        check=False, input="Stdin-pass-1\n", capture_output=True, text=True, timeout=120, cwd=REPO_ROOT,
        env={**os.environ, "DATABASE_URL": database_url},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    with db.begin() as s:
        user = accounts.authenticate(s, name, "Stdin-pass-1")
        assert user is not None and int(done.stdout.strip()) == user.id and user.real_name == "李娜"
