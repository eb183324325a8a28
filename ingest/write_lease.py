"""Shared write leases on one logical index, against which a rebuild waits (all in Redis).

Every ingest task holds a lease while it writes (reads of existing records for merging included).
A rebuild first takes the exclusive rebuild lock, so no new lease is granted, then waits until no
lease is held before it copies: no write can land in the old index after the copy has read it.

A lease is a member of a sorted set scored by its expiry, renewed by a thread while its holder
writes: a task that crashes (SIGKILL, OOM) stops renewing and its lease lapses within LEASE_TTL.
Granting checks the rebuild lock and adds the lease in one Lua script, so a rebuild starting at
the same moment cannot miss it. Times are Redis's own clock, so hosts need not agree on the time.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import redis

from mappings.naming import IndexNames

log = logging.getLogger(__name__)

LEASE_TTL_MS = 60_000  # a crashed writer's lease lapses within a minute
RENEW_EVERY = LEASE_TTL_MS / 3 / 1000  # seconds

_NOW = "local t = redis.call('TIME') local now = t[1] * 1000 + math.floor(t[2] / 1000) "

# KEYS: rebuild lock, leases. ARGV: lease id, ttl ms. 1 granted, 0 a rebuild is running.
_ACQUIRE = _NOW + """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[2], 2 * tonumber(ARGV[2]))
return 1
"""

# KEYS: leases. ARGV: lease id, ttl ms. 1 renewed; 0 the lease had lapsed (a rebuild may have begun).
_RENEW = _NOW + """
local expiry = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not expiry or tonumber(expiry) < now then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], 2 * tonumber(ARGV[2]))
return 1
"""

# KEYS: leases. ARGV: lease id. 1 released while still valid; 0 it had lapsed before.
_RELEASE = _NOW + """
local expiry = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[1], ARGV[1])
if not expiry or tonumber(expiry) < now then return 0 end
return 1
"""

# KEYS: leases. The number of leases not yet expired.
_HELD = _NOW + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZCARD', KEYS[1])
"""


def rebuild_lock_key(names: IndexNames) -> str:
    return f"chaxin:{names.prefix}:{names.kind}:rebuild"


def leases_key(names: IndexNames) -> str:
    return f"chaxin:{names.prefix}:{names.kind}:write-leases"


@dataclass
class Lease:
    """`valid` turns False when the lease lapsed while held: the holder's writes may have missed a
    rebuild's copy and must be done again."""

    id: str
    valid: bool = True


def try_acquire(r: redis.Redis, names: IndexNames, ttl_ms: int = LEASE_TTL_MS) -> Lease | None:
    """A lease, or None while a rebuild holds the index."""
    lease = Lease(uuid.uuid4().hex)
    granted = r.eval(_ACQUIRE, 2, rebuild_lock_key(names), leases_key(names), lease.id, ttl_ms)
    return lease if granted == 1 else None


def release(r: redis.Redis, names: IndexNames, lease: Lease) -> bool:
    """Give the lease back; False if it had lapsed before (then `lease.valid` is False too)."""
    if r.eval(_RELEASE, 1, leases_key(names), lease.id) != 1:
        lease.valid = False
    return lease.valid


def held(r: redis.Redis, names: IndexNames) -> int:
    return int(r.eval(_HELD, 1, leases_key(names)))


class RebuildRunning(RuntimeError):
    """No lease within the wait: a rebuild holds the index."""


@contextmanager
def write_lease(r: redis.Redis, names: IndexNames, *, wait: float, poll: float = 0.5) -> Iterator[Lease]:
    """Hold a lease on `names` for the block, renewed in the background; wait up to `wait` seconds for
    a running rebuild to finish, else raise RebuildRunning."""
    deadline = time.monotonic() + wait
    waited = False
    while (lease := try_acquire(r, names)) is None:
        if not waited:
            log.warning("%s is being rebuilt; waiting up to %.0fs to write", names.read_alias, wait)
            waited = True
        if time.monotonic() >= deadline:
            raise RebuildRunning(f"{names.read_alias} is being rebuilt")
        time.sleep(poll)
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(RENEW_EVERY):
            try:
                if r.eval(_RENEW, 1, leases_key(names), lease.id, LEASE_TTL_MS) != 1:
                    lease.valid = False
                    log.error("write lease on %s lapsed while held", names.read_alias)
                    return
            except redis.exceptions.RedisError as exc:
                log.warning("could not renew the write lease on %s: %s", names.read_alias, exc)

    renewer = threading.Thread(target=renew, name="write-lease", daemon=True)
    renewer.start()
    try:
        yield lease
    finally:
        stop.set()
        renewer.join()
        release(r, names, lease)


def wait_until_no_writers(r: redis.Redis, names: IndexNames, timeout: float, poll: float = 0.5) -> bool:
    """After the rebuild lock is taken: wait for the leases granted before it to end (or lapse)."""
    deadline = time.monotonic() + timeout
    while held(r, names):
        if time.monotonic() >= deadline:
            return False
        time.sleep(poll)
    return True
