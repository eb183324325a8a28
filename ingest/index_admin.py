"""Index lifecycle: create the first physical index, rebuild into a new one with an alias swap,
roll back to the previous one, and prune the ones no alias points at."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import redis
from elasticsearch import Elasticsearch, NotFoundError, helpers

from ingest.document import index_document
from ingest.link_state import reapply, record_and_state
from ingest.write_lease import rebuild_lock_key, wait_until_no_writers
from mappings.analysis.tokenizer import Tokenizer
from mappings.naming import IndexNames, latest_mapping_version, load_mapping

log = logging.getLogger(__name__)

REBUILD_LOCK_TTL = 6 * 3600
# How long a rebuild waits for the writes under way when it starts (each holds a write lease).
WRITERS_WAIT = 30 * 60
# Replica copies of a rebuilt index must be assigned and recovered before the alias swap.
REPLICA_WAIT = "30m"


class IndexAdminError(RuntimeError):
    pass


def current_index(es: Elasticsearch, alias: str) -> str | None:
    try:
        found = es.indices.get_alias(name=alias)
    except NotFoundError:
        return None
    # Newest by the build stamp that ends every physical name (IndexNames.physical), not by the whole
    # name, where "v10-…" would sort before "v9-…".
    indices = sorted(found.body, key=lambda n: (n.rsplit("-", 1)[-1], n))
    return indices[-1] if indices else None


def index_fingerprint(es: Elasticsearch, alias: str) -> str | None:
    """The tokenizer fingerprint the index behind `alias` was built with."""
    index = current_index(es, alias)
    if index is None:
        return None
    meta = es.indices.get_mapping(index=index)[index]["mappings"].get("_meta", {})
    value = meta.get("analysis")
    return str(value) if value else None


def _body(tokenizer: Tokenizer, version: int, shards: int | None) -> dict[str, Any]:
    body = load_mapping("records", version)
    # The fingerprint says which tokenizer and dictionary built the index, for queries to match.
    body["mappings"]["_meta"]["analysis"] = tokenizer.fingerprint
    if shards:
        body["settings"]["index"]["number_of_shards"] = shards
    return body


def default_replicas(es: Elasticsearch, configured: int | None) -> int:
    """The configured replica count, else 1 on a cluster of several data nodes and 0 on one node.

    A replica on a single node can never be assigned and would hold the cluster at yellow.
    """
    if configured is not None:
        return configured
    data_nodes = int(es.cluster.health()["number_of_data_nodes"])
    return 1 if data_nodes > 1 else 0


def create_physical(
    es: Elasticsearch,
    names: IndexNames,
    tokenizer: Tokenizer,
    *,
    bulk_load: bool = False,
    shards: int | None = None,
    replicas: int | None = None,
) -> str:
    version = latest_mapping_version("records")
    name = names.physical(version)
    body = _body(tokenizer, version, shards)
    if bulk_load:
        # warehouse-style: no refreshes and no replica copies while the bulk load runs; both are
        # set before the swap (copying a finished shard is cheaper than indexing every doc twice).
        body["settings"]["index"]["refresh_interval"] = "-1"
        body["settings"]["index"]["number_of_replicas"] = 0
    else:
        body["settings"]["index"]["number_of_replicas"] = default_replicas(es, replicas)
    es.indices.create(index=name, settings=body["settings"], mappings=body["mappings"])
    return name


def create(
    es: Elasticsearch,
    names: IndexNames,
    tokenizer: Tokenizer,
    *,
    if_missing: bool = True,
    shards: int | None = None,
    replicas: int | None = None,
) -> str:
    """Create the first physical index with both aliases. Returns the physical index name."""
    existing = current_index(es, names.read_alias)
    if existing:
        if if_missing:
            return existing
        raise IndexAdminError(f"{names.read_alias} already points at {existing}; use rebuild")
    name = create_physical(es, names, tokenizer, shards=shards, replicas=replicas)
    es.indices.update_aliases(
        actions=[
            {"add": {"index": name, "alias": names.read_alias}},
            {"add": {"index": name, "alias": names.write_alias, "is_write_index": True}},
        ]
    )
    return name


@contextmanager
def rebuild_lock(r: redis.Redis, names: IndexNames, *, writers_wait: float = WRITERS_WAIT) -> Iterator[None]:
    """The index to ourselves: no write lease is granted from now on, and the ones granted before have
    ended (or lapsed, for a crashed writer) when the block starts."""
    lock = r.lock(rebuild_lock_key(names), timeout=REBUILD_LOCK_TTL, blocking=False)
    if not lock.acquire():
        raise IndexAdminError("another rebuild is running")
    try:
        if not wait_until_no_writers(r, names, writers_wait):
            raise IndexAdminError(f"ingest tasks still writing to {names.read_alias} after {writers_wait:.0f}s")
        yield
    finally:
        try:
            lock.release()
        except redis.exceptions.LockError:
            log.warning("rebuild lock expired before release")


def _rederived(src: dict[str, Any], tokenizer: Tokenizer) -> dict[str, Any]:
    # Citation link state rides along unchanged: it is not part of the record model.
    record, state = record_and_state(src)
    doc = index_document(reapply(record, state), tokenizer)
    if state.citations:
        doc["citations"] = state.citations
    return doc


def _scan_records(es: Elasticsearch, index: str) -> Iterator[dict[str, Any]]:
    for hit in helpers.scan(es, index=index, query={"query": {"match_all": {}}}, size=1000, preserve_order=False):
        yield hit["_source"]


def physical_indices(es: Elasticsearch, names: IndexNames) -> list[str]:
    """Every physical index of this prefix and kind, oldest first (by creation, not by name: v10 < v9)."""
    found = es.indices.get(index=names.pattern, allow_no_indices=True, ignore_unavailable=True).body
    return sorted(found, key=lambda n: (int(found[n]["settings"]["index"]["creation_date"]), n))


def prune(es: Elasticsearch, r: redis.Redis, names: IndexNames, keep: int = 0) -> list[str]:
    """Delete the physical indices no alias points at, but the `keep` newest of them. Returns those deleted.

    Under the rebuild lock: a rebuild's new index has no alias until the swap.
    """
    with rebuild_lock(r, names):
        return _prune(es, names, keep)


def _prune(es: Elasticsearch, names: IndexNames, keep: int) -> list[str]:
    live = {current_index(es, names.read_alias), current_index(es, names.write_alias)}
    older = [n for n in physical_indices(es, names) if n not in live]
    doomed = older[: max(0, len(older) - keep)]
    for name in doomed:
        es.indices.delete(index=name, ignore_unavailable=True)
    return doomed


@dataclass
class RollbackResult:
    from_index: str
    to_index: str


def rollback(es: Elasticsearch, r: redis.Redis, names: IndexNames) -> RollbackResult:
    """Point both aliases back at the index the live one replaced, in one alias call.

    The index rolled back from stays until `prune`. Records ingested since the swap are only in it.
    """
    with rebuild_lock(r, names):
        live = current_index(es, names.read_alias)
        if live is None:
            raise IndexAdminError(f"{names.read_alias} does not exist")
        indices = physical_indices(es, names)
        earlier = indices[: indices.index(live)] if live in indices else []
        if not earlier:
            raise IndexAdminError(f"no index older than {live} is kept to roll back to")
        target = earlier[-1]
        es.indices.update_aliases(actions=_swap(names, live, target))
        return RollbackResult(live, target)


def _swap(names: IndexNames, old: str | None, new: str) -> list[dict[str, Any]]:
    actions: list[dict[str, Any]] = [
        {"add": {"index": new, "alias": names.read_alias}},
        {"add": {"index": new, "alias": names.write_alias, "is_write_index": True}},
    ]
    if old:
        actions = [
            {"remove": {"index": old, "alias": names.read_alias}},
            {"remove": {"index": old, "alias": names.write_alias}},
            *actions,
        ]
    return actions


@dataclass
class RebuildResult:
    old_index: str | None
    new_index: str
    copied: int
    pruned: list[str]


def rebuild(
    es: Elasticsearch,
    r: redis.Redis,
    names: IndexNames,
    tokenizer: Tokenizer,
    *,
    progress: Callable[[int], None] | None = None,
    shards: int | None = None,
    replicas: int | None = None,
    keep_previous: int = 1,
    writers_wait: float = WRITERS_WAIT,
    before_swap: Callable[[], None] | None = None,
) -> RebuildResult:
    """Re-derive every record with the current tokenizer into a new index, then swap both aliases at once.

    The copy starts once every ingest task that was writing has finished its writes (each holds a
    write lease, ingest/write_lease.py), and tasks wait for the rebuild to end before writing again:
    no write lands in the old index after the copy has read it. The old index is kept for `rollback`;
    of the indices no alias points at, the `keep_previous` newest stay (`prune` removes them).
    `before_swap` runs after the copy, before the swap (tests hold a rebuild there).
    """
    with rebuild_lock(r, names, writers_wait=writers_wait):
        old = current_index(es, names.read_alias)
        new = create_physical(es, names, tokenizer, bulk_load=True, shards=shards)
        copied = 0
        try:
            if old:
                # The scan reads what a refresh has made visible: the writes that ended before the
                # lock (refresh_interval is 30 s) would otherwise be left out of the copy.
                es.indices.refresh(index=old)
                actions = (
                    {
                        "_index": new,
                        "_id": src["id"],
                        "version": src["version"],
                        "version_type": "external_gte",
                        "_source": _rederived(src, tokenizer),
                    }
                    for src in _scan_records(es, old)
                )
                for ok, _item in helpers.streaming_bulk(
                    es, actions, chunk_size=1000, max_chunk_bytes=10 * 1024 * 1024, raise_on_error=True
                ):
                    if ok:
                        copied += 1
                        if progress and copied % 1000 == 0:
                            progress(copied)
            want = default_replicas(es, replicas)
            es.indices.put_settings(
                index=new, settings={"index": {"refresh_interval": None, "number_of_replicas": want}}
            )
            es.indices.refresh(index=new)
            # The swap waits for every copy, so the live alias never points at an index one node loss can break.
            health = es.cluster.health(index=new, wait_for_status="green", timeout=REPLICA_WAIT)
            if health.get("timed_out"):
                raise IndexAdminError(f"{new} did not reach green with {want} replica(s) within {REPLICA_WAIT}")
            if before_swap:
                before_swap()
            es.indices.update_aliases(actions=_swap(names, old, new))
        except BaseException:
            es.indices.delete(index=new, ignore_unavailable=True)
            raise
        return RebuildResult(old, new, copied, _prune(es, names, keep_previous))


def drop_all(es: Elasticsearch, names: IndexNames) -> None:
    """Delete every physical index of this prefix (tests and `chaxin index drop`)."""
    es.indices.delete(index=names.pattern, ignore_unavailable=True, allow_no_indices=True)
