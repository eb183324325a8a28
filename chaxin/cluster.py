"""Where each node of a local multi-node Elasticsearch cluster listens and keeps its files, and the
settings that make the nodes one cluster.

Only the layout: chaxin/services.py starts, kills and stops the processes (`cluster_start`,
`cluster_kill_node`, ...). Node i listens on HTTP http_base+i and transport http_base+100+i (the
single node's rule, port + 100), keeps its data and logs in base/node-<http port>, and runs the one
distribution unpacked under `dist`, the same the single node runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Cluster:
    dist: Path  # holds the unpacked distribution
    base: Path  # holds one folder per node
    nodes: int = 3
    http_base: int = 9200
    heap: str = "256m"

    @property
    def name(self) -> str:
        # Named by its ports, so two local clusters (a developer's, the tests') can never merge.
        return f"chaxin-cluster-{self.http_base}"

    def http_port(self, i: int) -> int:
        return self.http_base + i

    def transport_port(self, i: int) -> int:
        return self.http_base + 100 + i

    def node_name(self, i: int) -> str:
        return f"node-{i}"

    def node_dir(self, i: int) -> Path:
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

    def node_options(self, i: int) -> list[str]:
        """The `-E` settings of node i beyond those every local node shares."""
        seeds = ",".join(f"127.0.0.1:{self.transport_port(j)}" for j in range(self.nodes))
        masters = ",".join(self.node_name(j) for j in range(self.nodes))
        settings = {
            "node.name": self.node_name(i),
            "cluster.name": self.name,
            "http.port": self.http_port(i),
            "transport.port": self.transport_port(i),
            "discovery.seed_hosts": seeds,
            # Only read the first time the cluster forms; a node that restarts rejoins by its data.
            "cluster.initial_master_nodes": masters,
            # The launcher starts the nodes one after another and each start waits for this; the
            # first cannot find a master until the second is up, so the default 30 s is dead time.
            "discovery.initial_state_timeout": "2s",
        }
        return [arg for key, value in settings.items() for arg in ("-E", f"{key}={value}")]
