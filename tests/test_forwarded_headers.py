"""A spoofed X-Forwarded-For changes nothing, and an over-long URL is refused in Chinese (issue 14, breaks 6
and 9), on a real `chaxin serve`.

uvicorn believes forwarded headers from 127.0.0.1 by default, so after a lockout a request with a made-up
X-Forwarded-For logged in with the right password, and anonymous searches went on past 429. The server
here is the real command, on a loopback port of its own, with CHAXIN_TRUSTED_PROXIES left empty.
"""

from __future__ import annotations

import json
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


def _raw_get(server: str, target: str) -> tuple[int, str]:
    """One GET over a plain socket: the HTTP client refuses URLs this long itself."""
    host, port = server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as s:
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode("utf-8", "replace")


def test_an_over_long_query_is_refused_first_and_in_chinese(server: str) -> None:
    """Past ~64 KB uvicorn (httptools) answered "Invalid HTTP request received." (issue 14, break 9)."""
    status, body = _raw_get(server, "/api/v1/search?q=" + "a" * 200_000)
    assert status == 414 and "请求地址过长" in json.loads(body)["error"]["message"]
    # A long expression that fits (a 10,000-character export query, URL-encoded) still reaches the app.
    status, body = _raw_get(server, "/api/v1/records/no-such-record?q=" + "%E5%82%A8" * 10_000)
    assert status == 404 and "没有" in json.loads(body)["error"]["message"]
