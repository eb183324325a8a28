"""A port the launcher needs, held by a process it did not start: named, and outage tests skip.

The foreign process is a plain socket server on a spare port, so nothing here touches the shared
Elasticsearch or Redis.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from chaxin.port_owner import foreign_holder, listening_pids
from chaxin.services import ServiceError, es_foreign_holder, es_start, redis_foreign_holder, redis_start
from conf.settings import Settings
from tests.conftest import launcher_node

LISTENER = """
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
print(s.getsockname()[1], flush=True)
time.sleep(600)
"""


@pytest.fixture
def foreign() -> Iterator[tuple[int, int]]:
    """(pid, port) of a socket server this test starts, standing in for someone else's service."""
    proc = subprocess.Popen([sys.executable, "-c", LISTENER], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    port = int(proc.stdout.readline())
    try:
        yield proc.pid, port
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()


def local_settings(tmp_path: Path, port: int) -> Settings:
    return Settings(ES_URL="", REDIS_URL="", CHAXIN_ES_PORT=port, CHAXIN_REDIS_PORT=port,
                    CHAXIN_SERVICES_DIR=tmp_path / "services")  # fmt: skip


def test_the_holder_of_a_port_is_named(foreign: tuple[int, int]) -> None:
    pid, port = foreign
    assert listening_pids(port) == [pid]
    held_by = foreign_holder(port, own_pid=None)
    assert held_by is not None and f"pid {pid} " in held_by and "python" in held_by
    # The launcher's own process holding the port is not foreign.
    assert foreign_holder(port, own_pid=pid) is None


def test_a_free_port_has_no_holder() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound but not listening: nobody holds it for connections
        assert foreign_holder(port, own_pid=None) is None


def test_launcher_names_a_foreign_process_on_its_ports(foreign: tuple[int, int], tmp_path: Path) -> None:
    pid, port = foreign
    settings = local_settings(tmp_path, port)
    assert f"pid {pid} " in (es_foreign_holder(settings) or "")
    assert f"pid {pid} " in (redis_foreign_holder(settings) or "")
    started = time.monotonic()
    with pytest.raises(ServiceError, match=rf"port {port} is held by pid {pid} .*not an Elasticsearch node"):
        es_start(settings)
    with pytest.raises(ServiceError, match=rf"port {port} is held by pid {pid} .*not a Redis server"):
        redis_start(settings)
    assert time.monotonic() - started < 60, "a foreign holder is reported at once, not after a health timeout"


def test_outage_tests_skip_when_a_foreign_process_holds_the_port(
    foreign: tuple[int, int], tmp_path: Path
) -> None:
    pid, port = foreign
    reason = rf"port {port} is held by pid {pid} .*launcher did not start"
    with pytest.raises(pytest.skip.Exception, match=reason):
        launcher_node(local_settings(tmp_path, port))
