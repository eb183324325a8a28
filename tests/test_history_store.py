"""The search history store: numbering under concurrency, and rows written through commits that
do not wait for the disk (appdb.session.relaxed_session_factory) yet are there for every reader."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import text

from appdb.session import relaxed_session_factory, session_factory
from search.history import HistoryStore

QUERY = {"match": {"ix.title": "石墨烯"}}


def _store(database_url: str) -> HistoryStore:
    return HistoryStore(session_factory(database_url), writes=relaxed_session_factory(database_url))


def test_concurrent_adds_number_each_owner_densely(database_url: str) -> None:
    store = _store(database_url)
    owners = ["anon:history-a", "anon:history-b"]
    store.clear(owners[0])
    store.clear(owners[1])

    def add(n: int) -> tuple[str, int]:
        owner = owners[n % 2]
        number = store.add(owner, expression=f"TI='{n}'", normalized=f"TI='{n}'", cnki=f"TI={n}", query=QUERY,
                           total=n)  # fmt: skip
        return owner, number

    with ThreadPoolExecutor(16) as pool:
        added = list(pool.map(add, range(64)))
    for owner in owners:
        numbers = sorted(number for who, number in added if who == owner)
        assert numbers == list(range(1, 33))
        # Read back through the ordinary sessions, as the next request (in any process) does.
        entries = store.entries(owner)
        assert [e.number for e in entries] == numbers
        assert {e.expression for e in entries} == {f"TI='{n}'" for n in range(64) if owners[n % 2] == owner}
        assert all(e.created_at for e in entries)
    # The row keeps the query that ran, for `#n`.
    assert store.resolver(owners[0])(1) == QUERY


def test_relaxed_commits_skip_only_the_wait_for_the_disk(database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        setting, relaxed, normal = "SHOW synchronous_commit", "off", "on"
    else:
        setting, relaxed, normal = "PRAGMA synchronous", 1, 2  # NORMAL, FULL
    with relaxed_session_factory(database_url)() as session:
        assert session.execute(text(setting)).scalar() == relaxed
    with session_factory(database_url)() as session:
        assert session.execute(text(setting)).scalar() == normal, "other rows still wait for the disk"
