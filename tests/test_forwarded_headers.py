"""A spoofed X-Forwarded-For changes nothing (issue 14, break 6), on a real `chaxin serve`.

uvicorn believes forwarded headers from 127.0.0.1 by default, so after a lockout a request with a made-up
X-Forwarded-For logged in with the right password, and anonymous searches went on past 429. The server
here is the real command, on a loopback port of its own, with CHAXIN_TRUSTED_PROXIES left empty.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from elasticsearch import Elasticsearch

from appdb import accounts
from appdb.session import session_factory
from conf.settings import REPO_ROOT, Settings
from mappings.analysis.tokenizer import Tokenizer
from tests.conftest import make_record, new_prefix, settings_for, site_index

PASSWORD = "Forward-pass-1"
SPOOF = {"X-Forwarded-For": "203.0.113.77", "X-Real-IP": "203.0.113.77", "Forwarded": "for=203.0.113.77"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(
    es: Elasticsearch, tokenizer: Tokenizer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("fwd")
    settings: Settings = settings_for(new_prefix("fwd"), f"sqlite:///{tmp / 'fwd.sqlite3'}")
    with site_index(es, tokenizer, settings, [make_record("f1", "储能材料")]):
        with session_factory(settings.effective_database_url).begin() as session:
            accounts.create_user(session, username="fwd-user", password=PASSWORD)
        port = _free_port()
        env = {**os.environ, "ES_URL": settings.effective_es_url, "REDIS_URL": settings.effective_redis_url,
               "DATABASE_URL": settings.effective_database_url, "CHAXIN_INDEX_PREFIX": settings.index_prefix,
               "CHAXIN_LOGIN_MAX_FAILURES": "2", "CHAXIN_ANON_SEARCH_PER_MINUTE": "3",
               "CHAXIN_TRUSTED_PROXIES": "", "FORWARDED_ALLOW_IPS": "*"}  # fmt: skip
        log = (tmp / "serve.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "chaxin.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                assert proc.poll() is None, Path(log.name).read_text()[-2000:]
                try:
                    httpx.get(f"{base}/healthz", timeout=2)
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, "chaxin serve did not start"
                    time.sleep(0.3)
            yield base
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            log.close()


def test_a_spoofed_forwarded_header_does_not_lift_a_login_lockout(server: str) -> None:
    def login(password: str, headers: dict[str, str] | None = None) -> int:
        body = {"username": "fwd-user", "password": password}
        return httpx.post(f"{server}/api/v1/auth/login", json=body, headers=headers, timeout=10).status_code

    assert [login("Wrong-pass-9"), login("Wrong-pass-9")] == [401, 401]
    assert login(PASSWORD) == 429
    assert login(PASSWORD, SPOOF) == 429, "the made-up address was believed"


def test_a_spoofed_forwarded_header_does_not_lift_the_anonymous_search_limit(server: str) -> None:
    def search(headers: dict[str, str] | None = None) -> int:
        return httpx.get(
            f"{server}/api/v1/search", params={"q": "储能"}, headers=headers, timeout=10
        ).status_code

    codes = [search() for _ in range(4)]
    assert codes[-1] == 429 and 429 not in codes[:3], codes
    assert search(SPOOF) == 429, "the made-up address was believed"
