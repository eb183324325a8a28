"""Start and stop the local Elasticsearch node (or cluster) and Redis server, idempotently.

Elasticsearch is the real 8.14.1 distribution resolved from Maven Central
(`services/elasticsearch/pom.xml`), plus a small analysis plugin compiled from
`services/elasticsearch/plugin`. With CHAXIN_ES_NODES > 1 the same distribution runs that many
nodes as one cluster (layout in chaxin/cluster.py). Nothing starts when ES_URL / REDIS_URL point elsewhere.
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from chaxin.cluster import Cluster
from chaxin.port_owner import foreign_holder
from conf.settings import REPO_ROOT, Settings, get_settings

ES_VERSION = "8.14.1"
ES_ARTIFACT = f"org.elasticsearch.distribution.integ-test-zip:elasticsearch:{ES_VERSION}:zip"
ES_SERVICE_DIR = REPO_ROOT / "services" / "elasticsearch"
ES_USER = "chaxin-es"  # Elasticsearch refuses to run as root.


class ServiceError(RuntimeError):
    pass


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _pid_alive(pidfile: Path) -> int | None:
    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except OSError:
        return None
    return pid


def _http_json(url: str, timeout: float = 2.0) -> dict[str, object] | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return json.loads(resp.read())  # type: ignore[no-any-return]
    except (urllib.error.URLError, OSError, ValueError):
        return None


# ---------------------------------------------------------------- Elasticsearch


def _java_home() -> str:
    if os.environ.get("ES_JAVA_HOME"):
        return os.environ["ES_JAVA_HOME"]
    java = shutil.which("java")
    if not java:
        raise ServiceError("Java 17+ is needed to run Elasticsearch: apt-get install openjdk-17-jdk-headless")
    return str(Path(os.path.realpath(java)).parent.parent)


def _es_home(base: Path) -> Path:
    return base / f"elasticsearch-{ES_VERSION}"


def _resolve_distribution(base: Path) -> Path:
    home = _es_home(base)
    if (home / "bin" / "elasticsearch").exists():
        return home
    if not shutil.which("mvn"):
        raise ServiceError("Maven is needed to fetch Elasticsearch: apt-get install maven")
    _log(f"resolving Elasticsearch {ES_VERSION} from Maven Central ...")
    base.mkdir(parents=True, exist_ok=True)
    cmd = [
        "mvn", "-B", "-q", "-s", str(ES_SERVICE_DIR / "settings.xml"), "-f", str(ES_SERVICE_DIR / "pom.xml"),
        "dependency:unpack", f"-Dartifact={ES_ARTIFACT}", f"-DoutputDirectory={base}",
        # The plugin's "already unpacked" markers belong beside what they describe (the pom maps
        # chaxin.markers onto the goal, which has no property of its own). Any marker is overridden
        # anyway: this runs only when the distribution is missing, so a marker here is always stale.
        f"-Dchaxin.markers={base / '.unpack-markers'}", "-Dmdep.overWriteReleases=true",
    ]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0 or not (home / "bin" / "elasticsearch").exists():
        raise ServiceError(
            f"Maven (exit {result.returncode}) left no {ES_ARTIFACT} in {base}:\n"
            f"{result.stdout[-2000:]}{result.stderr[-2000:]}"
        )
    return home


def _install_plugin(home: Path) -> None:
    """Compile the analysis plugin against the distribution's own jars and drop it in."""
    target = home / "plugins" / "chaxin-analysis"
    src_dir = ES_SERVICE_DIR / "plugin"
    sources = sorted((src_dir / "src").rglob("*.java"))
    stamp = str(max(p.stat().st_mtime_ns for p in [*sources, src_dir / "plugin-descriptor.properties"]))
    if (target / ".built").exists() and (target / ".built").read_text() == stamp:
        return
    build = home / ".plugin-build"
    shutil.rmtree(build, ignore_errors=True)
    (build / "classes").mkdir(parents=True)
    javac = Path(_java_home()) / "bin" / "javac"
    jar = Path(_java_home()) / "bin" / "jar"
    subprocess.run(
        [str(javac), "--release", "17", "-cp", str(home / "lib" / "*"), "-d", str(build / "classes"),
         *map(str, sources)],
        check=True,
    )  # fmt: skip
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    subprocess.run([str(jar), "cf", str(target / "chaxin-analysis.jar"), "-C", str(build / "classes"), "."], check=True)
    shutil.copy(src_dir / "plugin-descriptor.properties", target)
    (target / ".built").write_text(stamp)
    shutil.rmtree(build, ignore_errors=True)


def _ensure_user() -> pwd.struct_passwd | None:
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(ES_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", ES_USER], check=True
        )
        return pwd.getpwnam(ES_USER)


def _chown_tree(path: Path, user: pwd.struct_passwd) -> None:
    subprocess.run(["chown", "-R", f"{user.pw_uid}:{user.pw_gid}", str(path)], check=True)


def _es_base(settings: Settings) -> Path:
    """Where the node's files live: `.services/elasticsearch`, unless the unprivileged user cannot reach it.

    A checkout under a private home (/root is 0700) is not reachable by the `chaxin-es` user, so a
    root-run node then keeps its files under /var/lib/chaxin-es, one folder per checkout.
    """
    base = (settings.services_dir / "elasticsearch").resolve()
    if os.geteuid() != 0:
        return base
    reachable = all(p.stat().st_mode & 0o001 for p in base.parents if p.exists())
    if reachable:
        return base
    digest = hashlib.sha1(str(base).encode()).hexdigest()[:12]
    return Path("/var/lib/chaxin-es") / digest


def es_start(settings: Settings) -> str:
    url = settings.effective_es_url
    if settings.es_url:
        _log(f"ES_URL is set; not starting a local node ({url})")
        return url
    base = _es_base(settings)
    pidfile = base / "es.pid"
    held_by = es_foreign_holder(settings)
    if held_by:
        # Someone else's node: use it, but say whose it is, since `services-stop` cannot stop it.
        if not (_http_json(url, timeout=5) or {}).get("version"):
            raise ServiceError(
                f"port {settings.es_port} is held by {held_by}, which is not an Elasticsearch node started "
                "by this launcher; stop it or choose another port with CHAXIN_ES_PORT"
            )
        _log(f"port {settings.es_port} is held by {held_by}, not started by this launcher; using that node")
    if _pid_alive(pidfile) or _port_open(settings.es_port):
        _wait_es_health(url, 120)
        return url
    launch_node(
        base, base, pidfile, settings.es_heap, f"Elasticsearch {ES_VERSION} on {url}",
        ["-E", f"http.port={settings.es_port}", "-E", f"transport.port={settings.es_port + 100}",
         "-E", "discovery.type=single-node", "-E", "cluster.name=chaxin-local"],
    )  # fmt: skip
    _wait_es_health(url, 180)
    return url


def es_foreign_holder(settings: Settings) -> str | None:
    """The process holding the local node's port when this launcher did not start it (None: free or ours)."""
    return foreign_holder(settings.es_port, _pid_alive(_es_base(settings) / "es.pid"))


def launch_node(dist_base: Path, node: Path, pidfile: Path, heap: str, label: str, options: list[str]) -> None:
    """Start one node of the distribution unpacked under `dist_base`, its data and logs under `node`,
    with the settings every local node shares plus `options` (ports, discovery, names). Returns once
    the daemon has forked; the caller waits for the health it needs."""
    home = _resolve_distribution(dist_base)
    _install_plugin(home)
    data, logs = node / "data", node / "logs"
    data.mkdir(parents=True, exist_ok=True)
    logs.mkdir(parents=True, exist_ok=True)
    user = _ensure_user()
    if user is not None:
        _chown_tree(dist_base, user)
    cmd = [
        str(home / "bin" / "elasticsearch"), "-d", "-p", str(pidfile), *options,
        "-E", "network.host=127.0.0.1", "-E", "xpack.security.enabled=false",
        "-E", f"path.data={data}", "-E", f"path.logs={logs}",
        "-E", "cluster.routing.allocation.disk.threshold_enabled=false",
        "-E", "action.destructive_requires_name=false",
    ]  # fmt: skip
    env = {**os.environ, "ES_JAVA_HOME": _java_home(), "ES_JAVA_OPTS": f"-Xms{heap} -Xmx{heap}"}
    env.pop("JAVA_HOME", None)
    if user is not None:
        cmd = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups", *cmd]
    _log(f"starting {label} ...")
    with open(node / "launcher.log", "wb") as out:
        result = subprocess.run(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, check=False)
    if result.returncode != 0:
        tail = (node / "launcher.log").read_text(errors="replace")[-3000:]
        raise ServiceError(f"{label} did not start (exit {result.returncode}):\n{tail}")


def _wait_es_health(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        health = _http_json(f"{url}/_cluster/health?wait_for_status=yellow&timeout=5s", timeout=10)
        if health and health.get("status") in ("yellow", "green"):
            return
        time.sleep(1)
    raise ServiceError(f"Elasticsearch at {url} did not reach yellow health within {timeout:.0f}s")


def es_stop(settings: Settings) -> None:
    if settings.es_url:
        return
    pidfile = _es_base(settings) / "es.pid"
    pid = _pid_alive(pidfile)
    if pid is None:
        return
    os.kill(pid, signal.SIGTERM)
    for _ in range(60):
        if _pid_alive(pidfile) is None and not _port_open(settings.es_port):
            break
        time.sleep(1)
    else:
        os.kill(pid, signal.SIGKILL)
    _log("Elasticsearch stopped")


# ---------------------------------------------------------------- a local multi-node cluster


def local_cluster(
    settings: Settings, nodes: int | None = None, http_base: int | None = None, heap: str | None = None
) -> Cluster:
    """The cluster `make services` starts with CHAXIN_ES_NODES > 1 (or another on other ports, for tests):
    its nodes run the single node's distribution and keep their folders beside the single node's."""
    base = _es_base(settings)
    return Cluster(
        dist=base, base=base, nodes=nodes or settings.es_nodes, http_base=http_base or settings.es_port,
        heap=heap or settings.es_heap,
    )  # fmt: skip


def cluster_start_node(cluster: Cluster, i: int) -> None:
    """Start node i unless it runs already; a port held by anything else is an error that names it."""
    if _pid_alive(cluster.pidfile(i)):
        return
    if _port_open(cluster.http_port(i)):
        held = _http_json(cluster.urls[i], timeout=5) or {}
        if held.get("cluster_name") == cluster.name:
            return  # ours, with its pid file gone
        raise ServiceError(
            f"port {cluster.http_port(i)} is held by something other than node {i} of {cluster.name} "
            f"(cluster {held.get('cluster_name', '?')}); stop it (make services-stop) or choose CHAXIN_ES_PORT"
        )
    launch_node(
        cluster.dist, cluster.node_dir(i), cluster.pidfile(i), cluster.heap,
        f"{cluster.node_name(i)} of {cluster.name} on {cluster.urls[i]}", cluster.node_options(i),
    )  # fmt: skip


def cluster_wait(cluster: Cluster, status: str, nodes: int, timeout: float) -> None:
    """Until some node reports `status` (or better) with exactly `nodes` nodes joined."""
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


def cluster_start(cluster: Cluster, timeout: float = 300) -> str:
    """Start every node (idempotent) and wait until all have joined. Returns the ES_URL value."""
    for i in range(cluster.nodes):
        cluster_start_node(cluster, i)
    cluster_wait(cluster, "yellow", cluster.nodes, timeout)
    return cluster.es_url


def cluster_kill_node(cluster: Cluster, i: int, sig: int = signal.SIGKILL) -> None:
    """Signal node i and wait (up to 60 s) until its HTTP port is closed."""
    pid = _pid_alive(cluster.pidfile(i))
    if pid is None:
        return
    os.kill(pid, sig)
    _wait_gone(cluster.pidfile(i), cluster.http_port(i), pid)


def _wait_gone(pidfile: Path, port: int, pid: int) -> None:
    for _ in range(600):
        if _pid_alive(pidfile) is None or not _port_open(port):
            break
        time.sleep(0.1)
    else:
        os.kill(pid, signal.SIGKILL)
    pidfile.unlink(missing_ok=True)


def cluster_stop(cluster: Cluster) -> None:
    pids = {i: _pid_alive(cluster.pidfile(i)) for i in range(cluster.nodes)}
    for pid in pids.values():
        if pid is not None:
            os.kill(pid, signal.SIGTERM)  # all first: a cluster losing nodes one by one re-balances meanwhile
    for i, pid in pids.items():
        if pid is not None:
            _wait_gone(cluster.pidfile(i), cluster.http_port(i), pid)


def _stop_cluster_nodes(settings: Settings) -> None:
    """Every local cluster node under this checkout's folder, whatever CHAXIN_ES_NODES says now."""
    stopped = 0
    for pidfile in sorted(_es_base(settings).glob("node-*/es.pid")):
        pid = _pid_alive(pidfile)
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            _wait_gone(pidfile, int(pidfile.parent.name.removeprefix("node-")), pid)
            stopped += 1
    if stopped:
        _log(f"{stopped} Elasticsearch cluster node(s) stopped")


# ---------------------------------------------------------------- Redis


def redis_start(settings: Settings) -> str:
    url = settings.effective_redis_url
    if settings.redis_url:
        _log(f"REDIS_URL is set; not starting a local Redis ({url})")
        return url
    held_by = redis_foreign_holder(settings)
    if held_by:
        if not _redis_answers(settings.redis_port):
            raise ServiceError(
                f"port {settings.redis_port} is held by {held_by}, which is not a Redis server started by "
                "this launcher; stop it or choose another port with CHAXIN_REDIS_PORT"
            )
        _log(f"port {settings.redis_port} is held by {held_by}, not started by this launcher; using it")
        return url
    if _port_open(settings.redis_port):
        return url
    server = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(server).exists():
        raise ServiceError("redis-server is needed: apt-get install redis-server")
    base = settings.services_dir / "redis"
    base.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [server, "--bind", "127.0.0.1", "--port", str(settings.redis_port), "--daemonize", "yes",
         "--pidfile", str(base / "redis.pid"), "--dir", str(base), "--logfile", str(base / "redis.log"),
         "--appendonly", "yes", "--save", ""],
        check=True,
    )  # fmt: skip
    for _ in range(50):
        if _port_open(settings.redis_port):
            return url
        time.sleep(0.1)
    raise ServiceError("Redis did not start; see .services/redis/redis.log")


def redis_foreign_holder(settings: Settings) -> str | None:
    """The process holding the Redis port when this launcher did not start it (None: free or ours)."""
    return foreign_holder(settings.redis_port, _pid_alive(settings.services_dir / "redis" / "redis.pid"))


def _redis_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith((b"+PONG", b"-NOAUTH"))
    except OSError:
        return False


def redis_stop(settings: Settings) -> None:
    if settings.redis_url:
        return
    pid = _pid_alive(settings.services_dir / "redis" / "redis.pid")
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
        _log("Redis stopped")


def start_all(settings: Settings | None = None) -> dict[str, str]:
    settings = settings or get_settings()
    if settings.es_nodes > 1 and not settings.es_url:
        es_url = cluster_start(local_cluster(settings))
    else:
        es_url = es_start(settings)
    return {"ES_URL": es_url, "REDIS_URL": redis_start(settings)}


def stop_all(settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    es_stop(settings)
    if not settings.es_url:
        _stop_cluster_nodes(settings)
    redis_stop(settings)


def main(argv: list[str]) -> int:
    action = argv[1] if len(argv) > 1 else "start"
    try:
        if action == "start":
            for key, value in start_all().items():
                print(f"{key}={value}")
        elif action == "stop":
            stop_all()
        elif action == "es-stop":
            es_stop(get_settings())
        elif action == "es-start":
            print(f"ES_URL={es_start(get_settings())}")
        else:
            print("usage: python -m chaxin.services [start|stop|es-start|es-stop]", file=sys.stderr)
            return 2
    except ServiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
