"""Which process listens on a local TCP port, read from /proc.

The launcher uses it to tell its own Elasticsearch or Redis from a process someone else started on
the same port, and to name that process. Written by hand because it is two small /proc reads and
psutil is not a dependency; on a system without /proc the holder is simply "unknown".
"""

from __future__ import annotations

import os
import pwd
from pathlib import Path

PROC = Path("/proc")
_LISTEN = "0A"  # TCP state code of a listening socket in /proc/net/tcp


def _listening_inodes(port: int) -> set[str]:
    inodes: set[str] = set()
    for table in ("tcp", "tcp6"):
        try:
            lines = (PROC / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10 or fields[3] != _LISTEN:
                continue
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def listening_pids(port: int) -> list[int]:
    """Processes holding a listening socket on `port` that this user may inspect (all of them as root)."""
    wanted = {f"socket:[{inode}]" for inode in _listening_inodes(port)}
    if not wanted:
        return []
    pids: list[int] = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fds = list((entry / "fd").iterdir())
        except OSError:
            continue  # another user's process, or gone meanwhile
        for fd in fds:
            try:
                if os.readlink(fd) in wanted:
                    pids.append(int(entry.name))
                    break
            except OSError:
                continue
    return sorted(pids)


def describe(pid: int) -> str:
    """`pid 1234 (user es: /usr/bin/java -Xms1g ...)`, shortened to one readable line."""
    try:
        argv = (PROC / str(pid) / "cmdline").read_bytes().split(b"\0")
        command = " ".join(" ".join(a.decode(errors="replace").split()) for a in argv if a)
    except OSError:
        command = "?"
    try:
        uid = (PROC / str(pid)).stat().st_uid
        user = pwd.getpwuid(uid).pw_name
    except (OSError, KeyError):
        user = "?"
    if len(command) > 160:
        command = command[:157] + "..."
    return f"pid {pid} (user {user}: {command})"


def foreign_holder(port: int, own_pid: int | None) -> str | None:
    """Who holds `port`, when it is not the process `own_pid` the launcher started; None if free or ours.

    A listener whose process cannot be seen (another user's, without root) counts as foreign unless
    the launcher's own process is alive: then it is most likely that one.
    """
    if not _listening_inodes(port):
        return None
    pids = listening_pids(port)
    if own_pid is not None and (own_pid in pids or not pids):
        return None
    if not pids:
        return "a process of another user (run as root to see which)"
    return ", ".join(describe(pid) for pid in pids)
