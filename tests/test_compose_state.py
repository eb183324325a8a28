"""docker-compose: the app containers share one state directory.

`chaxin ingest` (in the demo container, or a `compose run`) and an upload to the API copy each file
into the raw store under CHAXIN_SERVICES_DIR, and the worker reads it from there; the worker writes
export files that the API serves. Each container kept its own directory before, so the worker could
not find what the demo submitted. No Docker daemon here: the file itself is checked.
"""

from __future__ import annotations

import re

import yaml

from conf.settings import REPO_ROOT

APP_SERVICES = ("api", "worker", "demo")


def _state_dir() -> str:
    found = re.search(r"CHAXIN_SERVICES_DIR=(\S+)", (REPO_ROOT / "Dockerfile").read_text(encoding="utf-8"))
    assert found, "the image sets CHAXIN_SERVICES_DIR"
    return found.group(1)


def test_api_worker_and_demo_mount_one_volume_at_the_state_dir() -> None:
    compose = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    state = _state_dir()
    mounts = {}
    for name in APP_SERVICES:
        service = compose["services"][name]
        env = service.get("environment", {})
        assert "CHAXIN_SERVICES_DIR" not in env and "CHAXIN_RAW_STORE" not in env and "CHAXIN_EXPORT_DIR" not in env
        at_state = [v.split(":")[0] for v in service.get("volumes", []) if v.split(":")[1] == state]
        assert len(at_state) == 1, f"{name} mounts a volume at {state}"
        mounts[name] = at_state[0]
    assert len(set(mounts.values())) == 1, mounts
    assert next(iter(mounts.values())) in compose["volumes"]
