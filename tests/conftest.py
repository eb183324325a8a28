"""Fixtures: real Elasticsearch, Redis, Celery worker and application database, isolated by prefix."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis
from elasticsearch import Elasticsearch

from chaxin.services import es_foreign_holder, start_all
from conf.clients import make_es
from conf.settings import REPO_ROOT, Settings
from ingest.index_admin import create, drop_all
from mappings.analysis.tokenizer import Tokenizer, get_tokenizer
from mappings.model import DocType, Record
from mappings.naming import IndexNames

SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
DEMO = REPO_ROOT / "data" / "demo" / "csl_demo.jsonl.gz"
# Tests queue their tasks in a Redis database of their own, so a developer's `make run`
# worker (database 0) never picks them up. Two checkouts testing against one Redis at once give
# each its own database with CHAXIN_TEST_REDIS_DB, since a session flushes its database at start.
TEST_REDIS_DB = int(os.environ.get("CHAXIN_TEST_REDIS_DB", "15"))
# A database for workers a test starts on its own (start-together, rebuild-during-ingest, resume):
# no other worker reads it (13 and 14 are the zz tests', 12 the cluster test's).
SPARE_REDIS_DB = int(os.environ.get("CHAXIN_TEST_SPARE_REDIS_DB", "11"))


def shared_file(*parts: str) -> Path:
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"../shared data not available: {path}")
    return path


def settings_for(prefix: str, database_url: str = "") -> Settings:
    base = Settings()
    redis_url = base.effective_redis_url.rsplit("/", 1)[0] + f"/{TEST_REDIS_DB}"
    return Settings(
        CHAXIN_INDEX_PREFIX=prefix,
        DATABASE_URL=database_url or base.effective_database_url,
        REDIS_URL=redis_url,
        ES_URL=base.effective_es_url,
        # Tests search far faster than a visitor could; the limit itself is tested on its own.
        CHAXIN_ANON_SEARCH_PER_MINUTE=1_000_000,
        CHAXIN_VERIFY_PER_MINUTE=1_000_000,
        CHAXIN_ANON_EXPORT_PER_MINUTE=1_000_000,
    )


def launcher_node(base: Settings) -> Settings:
    """`base`, for a test that stops and starts the local Elasticsearch node; skips when it cannot."""
    if base.es_url:
        pytest.skip("ES_URL points at an external cluster; this test stops only the local node")
    held_by = es_foreign_holder(base)
    if held_by:
        pytest.skip(
            f"port {base.es_port} is held by {held_by}, which the launcher did not start: "
            "this test stops and starts the local node and cannot stop that one"
        )
    return base


def new_prefix(kind: str) -> str:
    return f"t{kind}-{secrets.token_hex(4)}"


@pytest.fixture(scope="session")
def services() -> None:
    """Elasticsearch and Redis, for the tests that ask: through `es` (and every fixture built on it),
    or `pytest.mark.usefixtures("services")` where a module reaches them another way. Pure tests run
    without. `make test` starts them first; starting again is a no-op, and makes a bare `pytest` work."""
    start_all(Settings())
    redis.Redis.from_url(settings_for("x").effective_redis_url).flushdb()


@pytest.fixture(scope="session")
def es(services: None) -> Elasticsearch:
    return make_es(Settings())


# trylast: after pytest's own reordering by fixture, which would otherwise undo the order given here.
@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests with a running worker are marked `worker` (slow: `-m "not worker"` leaves them out), and
    the tests that stop Elasticsearch or a worker on purpose (`stops_services`) run after all others."""
    for item in items:
        if "pipeline" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.worker)
    items.sort(key=lambda item: item.get_closest_marker("stops_services") is not None)


@pytest.fixture(scope="session")
def tokenizer() -> Tokenizer:
    return get_tokenizer("rjieba")


@pytest.fixture
def index_names(es: Elasticsearch, tokenizer: Tokenizer) -> Iterator[IndexNames]:
    """A fresh, empty records index (both aliases) under a unique prefix."""
    names = IndexNames(new_prefix("idx"))
    create(es, names, tokenizer)
    yield names
    drop_all(es, names)


def make_record(rid: str, title: str, **fields: object) -> Record:
    return Record.model_validate(
        {
            "id": rid,
            "source": "test",
            "source_id": rid,
            "doc_type": DocType.journal_article,
            "title": title,
            "ingested_at": datetime(2026, 11, 1, tzinfo=UTC),
            "version": 1,
            **fields,
        }
    )


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Each database backend the platform supports; PostgreSQL when CI provides one."""
    from appdb.session import upgrade

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'chaxin.sqlite3'}"
    else:
        url = os.environ.get("CHAXIN_TEST_PG_URL", "")
        if not url:
            pytest.skip("CHAXIN_TEST_PG_URL not set (CI sets it; see .ci/run)")
        _reset_postgres(url)
    upgrade(url)
    return url


def _reset_postgres(url: str) -> None:
    from sqlalchemy import text

    from appdb.session import engine_for

    with engine_for(url).begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))


class Worker:
    """A real Celery worker process for one settings object."""

    def __init__(self, settings: Settings, log_path: Path) -> None:
        self.settings = settings
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "CHAXIN_INDEX_PREFIX": self.settings.index_prefix,
            "DATABASE_URL": self.settings.effective_database_url,
            "REDIS_URL": self.settings.effective_redis_url,
            "ES_URL": self.settings.effective_es_url,
        }

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "ingest.celery_app:app", "worker", "--concurrency=2",
                 "--loglevel=INFO", "--without-gossip", "--without-mingle", "--pool=prefork"],
                env=self.env(), stdout=log, stderr=subprocess.STDOUT, cwd=REPO_ROOT, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited: {self.log_path.read_text()[-3000:]}")
            if "ready." in self.log_path.read_text(errors="replace"):
                return
            time.sleep(0.3)
        raise RuntimeError("worker did not become ready")

    def stop(self, sig: int = 15) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait()
        self.proc = None


@pytest.fixture(scope="session")
def pipeline(
    database_url: str, es: Elasticsearch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    """Settings wired to a running worker, for end-to-end ingest tests (once per database backend)."""
    settings = settings_for(new_prefix("pipe"), database_url)
    worker = Worker(settings, tmp_path_factory.mktemp("worker") / "worker.log")
    worker.start()
    yield settings
    worker.stop()
    drop_all(es, IndexNames(settings.index_prefix))


def staff_token(database_url: str, username: str = "ingest-staff") -> str:
    """A bearer token of an analyst (created once per database), for staff-only routes such as ingest."""
    from appdb import accounts
    from appdb.session import session_factory, upgrade

    upgrade(database_url)
    with session_factory(database_url).begin() as session:
        centre = "T"
        if not any(c.code == centre for c in accounts.list_centres(session)):
            accounts.create_centre(session, code=centre, name="测试分中心", province_code="32",
                                   institution_no="001", pattern="most")  # fmt: skip
        try:
            user = accounts.find_user(session, username)
        except accounts.AccountError:
            user = accounts.create_user(session, username=username, password="Chaxin-Test-2026!", real_name="导入员",
                                        organisation="测试单位", email="staff@example.cn", centre=centre,
                                        roles=["analyst"])  # fmt: skip
        _, raw = accounts.create_api_token(session, user, "tests")
    return raw


# A person of a test site: username, centre code (None: no centre), roles, professional title.
# A title means 高级职称 here, so it makes a reviewer able to sign.
Person = tuple[str, str | None, list[str], str | None]


def seed_people(
    session: Any, people: Iterable[Person], password: str
) -> tuple[dict[str, int], dict[str, str]]:
    """Users named 用户<username>, each with an API token; returns their IDs and bearer tokens."""
    from appdb import accounts

    ids, tokens = {}, {}
    for name, centre, roles, title in people:
        user = accounts.create_user(session, username=name, password=password, real_name=f"用户{name}",
                                    centre=centre, roles=roles, professional_title=title,
                                    senior_title=title is not None)  # fmt: skip
        ids[name] = user.id
        tokens[name] = accounts.create_api_token(session, user, "test")[1]
    return ids, tokens


def seed_two_centres(session: Any, a: str = "A", b: str = "B") -> None:
    """A provincial centre numbering by the MOST pattern and a university station by the MoE pattern."""
    from appdb import accounts

    accounts.create_centre(session, code=a, name="贵州省科技查新中心", province_code="52", institution_no="001",
                           pattern="most")  # fmt: skip
    accounts.create_centre(session, code=b, name="某大学查新工作站", province_code="11", institution_no="36002",
                           pattern="moe")  # fmt: skip


@contextmanager
def site_index(
    es: Elasticsearch, tokenizer: Tokenizer, settings: Settings, records: Sequence[Record] = ()
) -> Iterator[IndexNames]:
    """The application database migrated and an index of `records` for `settings`, dropped afterwards."""
    from appdb.session import upgrade
    from ingest.writer import write_records

    upgrade(settings.effective_database_url)
    names = IndexNames(settings.index_prefix)
    create(es, names, tokenizer)
    try:
        if records:
            written = write_records(
                es, names.write_alias, [(r.id, r) for r in records], tokenizer, refresh=True
            )
            assert written.indexed == len(records) and not written.failed
        yield names
    finally:
        drop_all(es, names)
