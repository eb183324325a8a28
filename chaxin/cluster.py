"""Start, kill and restart a local multi-node Elasticsearch cluster from the one 8.14.1 distribution.

Kept apart from chaxin/services.py (the single node) so that the node-loss tests can run a cluster of
their own on their own ports, and so that killing one node by its pid is a plain function call.
Node i listens on HTTP base+i and transport base+100+i, with its own data and log folders
(base/node-<http port>).
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from chaxin.services import (
    ServiceError,
    _http_json,
    _pid_alive,
    _port_open,
    launch_node,
)


@dataclass(frozen=True)
class Cluster:
    base: Path  # holds the distribution and one folder per node
    nodes: int = 3
    http_base: int = 9200
    heap: str = "512m"
    name: str = "chaxin-cluster"

    def http_port(self, i: int) -> int:
        return self.http_base + i

    def transport_port(self, i: int) -> int:
        return self.http_base + 100 + i

    def node_dir(self, i: int) -> Path:
        # Named by port, so a developer's cluster and the tests' share one unpacked distribution.
        return self.base / f"node-{self.http_port(i)}"

    def pidfile(self, i: int) -> Path:
        return self.node_dir(i) / "es.pid"

    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{self.http_port(i)}" for i in range(self.nodes)]

    @property
    def es_url(self) -> str:
        """The ES_URL value that lists every node, for the client to round-robin over."""
        return ",".join(self.urls)


def start_node(cluster: Cluster, i: int) -> None:
    if _pid_alive(cluster.pidfile(i)) or _port_open(cluster.http_port(i)):
        return
    seeds = ",".join(f"127.0.0.1:{cluster.transport_port(j)}" for j in range(cluster.nodes))
    masters = ",".join(f"node-{j}" for j in range(cluster.nodes))
    launch_node(
        cluster.base, cluster.node_dir(i), cluster.pidfile(i), cluster.heap,
        f"node-{i} of {cluster.name} on {cluster.urls[i]}",
        ["-E", f"node.name=node-{i}", "-E", f"cluster.name={cluster.name}",
         "-E", f"http.port={cluster.http_port(i)}", "-E", f"transport.port={cluster.transport_port(i)}",
         "-E", f"discovery.seed_hosts={seeds}", "-E", f"cluster.initial_master_nodes={masters}"],
    )  # fmt: skip


def wait_for(cluster: Cluster, status: str, nodes: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for url in cluster.urls:
            health = _http_json(
                f"{url}/_cluster/health?wait_for_status={status}&wait_for_nodes={nodes}&timeout=5s", timeout=10
            )
            if health and not health.get("timed_out") and health.get("number_of_nodes") == nodes:
                return
        time.sleep(1)
    raise ServiceError(f"{cluster.name} did not reach {status} with {nodes} nodes within {timeout:.0f}s")


def start(cluster: Cluster, timeout: float = 300) -> str:
    """Start every node (idempotent) and wait until all have joined. Returns the ES_URL value."""
    for i in range(cluster.nodes):
        start_node(cluster, i)
    wait_for(cluster, "yellow", cluster.nodes, timeout)
    return cluster.es_url


def kill_node(cluster: Cluster, i: int, sig: int = signal.SIGKILL) -> None:
    pid = _pid_alive(cluster.pidfile(i))
    if pid is None:
        return
    os.kill(pid, sig)
    for _ in range(100):
        if _pid_alive(cluster.pidfile(i)) is None or not _port_open(cluster.http_port(i)):
            break
        time.sleep(0.1)
    cluster.pidfile(i).unlink(missing_ok=True)


def stop(cluster: Cluster) -> None:
    for i in range(cluster.nodes):
        kill_node(cluster, i, signal.SIGTERM)
