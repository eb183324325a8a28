"""A small real site for the authorisation, injection and schema tests: one index, one SQLite file,
two branch centres, one user per role (bearer tokens ready) and a 限制 report nobody but the platform
admin may ever see.

Not a test module itself: test_authz_matrix.py, test_injection.py and test_schemathesis.py build it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute, Mount, Route

from appdb import accounts
from appdb.session import session_factory, upgrade
from conf.settings import Settings
from ingest.index_admin import create, drop_all
from ingest.writer import write_records
from mappings.analysis.tokenizer import Tokenizer
from mappings.naming import IndexNames
from tests.conftest import make_record, new_prefix, settings_for
from web.app import create_app

PASSWORD = "Test-pass-1"
ROLES = ("anonymous", "registered", "analyst", "reviewer", "centre_admin", "platform_admin")
# The role each matrix column is played by; all staff of centre A except the platform admin.
ACTOR = {
    "registered": "reg",
    "analyst": "ana-a",
    "reviewer": "rev-a",
    "centre_admin": "cadm-a",
    "platform_admin": "root",
}

# The 限制 report: its id, number and a title word of its own must never reach anyone but the admin.
SECRET_ID = "zzsecret-9q7k"
SECRET_NO = "R-SECRETNO-9Q7K"
SECRET_WORD = "绝密舰艇"
# In the title only and in no hostile input: a history page echoing the caller's own queries never
# holds it, so finding it anywhere means the record itself came out.
SECRET_TITLE_ONLY = "鲲鹏九号"
SECRET_MARKERS = (SECRET_ID, SECRET_NO, SECRET_WORD, SECRET_TITLE_ONLY)
PUBLIC_ID = "pubart-1"
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


@dataclass
class Site:
    app: FastAPI
    settings: Settings
    ids: dict[str, int]  # username -> user id
    tokens: dict[str, str]  # username -> bearer token

    def client(self, role: str = "anonymous") -> TestClient:
        """A fresh client (own cookie jar) acting as `role` through its bearer token."""
        client = TestClient(self.app, follow_redirects=False)
        if role != "anonymous":
            client.headers["Authorization"] = f"Bearer {self.tokens[ACTOR.get(role, role)]}"
        return client


def csrf_for(client: TestClient) -> str:
    """This client's CSRF token: it hangs on the session cookie, which the login page hands out."""
    page = client.get("/login", headers={"Authorization": ""})
    found = CSRF.search(page.text)
    assert found, page.text[:500]
    return found.group(1)


def _records() -> list[Any]:
    def report(level: str, no: str, until: str | None = None) -> dict[str, Any]:
        return {"report_no": no, "access_level": level, "embargo_until": until}

    common: dict[str, Any] = {
        "keywords": ["储能"],
        "year": 2021,
        "language": "zh",
        "authors": [{"name": "王五", "order": 1}],
    }
    return [
        make_record(
            PUBLIC_ID,
            "储能系统的热管理研究",
            abstract="相变材料储能。",
            venue="储能科学与技术",
            category="工学",
            clc=["TK02"],
            **common,
        ),
        make_record(
            "pubrep-1",
            "储能系统集成技术报告",
            doc_type="tech_report",
            tech_report=report("public", "R-PUB-1"),
            abstract="液流电池。",
            **common,
        ),
        make_record(
            "embrep-1",
            "储能系统安全评估报告",
            doc_type="tech_report",
            tech_report=report("embargoed", "R-EMB-1", "2099-12-31"),
            abstract="锂枝晶。",
            **common,
        ),
        make_record(
            SECRET_ID,
            f"储能系统{SECRET_WORD}{SECRET_TITLE_ONLY}电源报告",
            doc_type="tech_report",
            tech_report=report("restricted", SECRET_NO),
            abstract=f"{SECRET_WORD}钠硫电池。",
            full_text=f"正文{SECRET_WORD}。",
            **common,
        ),
    ]


def _seed(url: str) -> tuple[dict[str, int], dict[str, str]]:
    db = session_factory(url)
    people: list[tuple[str, str | None, list[str]]] = [
        ("reg", None, []),
        ("ana-a", "A", ["analyst"]),
        ("rev-a", "A", ["reviewer"]),
        ("cadm-a", "A", ["centre_admin"]),
        ("ana-b", "B", ["analyst"]),
        ("reg-b", "B", []),
        ("cadm-b", "B", ["centre_admin"]),
        ("root", None, ["platform_admin"]),
        # Targets of admin writes in the matrix; nothing else depends on their state.
        ("tgt", None, []),
    ]
    ids: dict[str, int] = {}
    tokens: dict[str, str] = {}
    with db.begin() as s:
        for code, pattern, inst in (("A", "most", "001"), ("B", "moe", "36002")):
            accounts.create_centre(
                s, code=code, name=f"分中心{code}", province_code="52", institution_no=inst, pattern=pattern
            )
        for name, centre, roles in people:
            user = accounts.create_user(
                s,
                username=name,
                password=PASSWORD,
                real_name=name,
                organisation="测试单位",
                email=f"{name}@example.cn",
                centre=centre,
                roles=roles,
            )
            ids[name] = user.id
            _, tokens[name] = accounts.create_api_token(s, user, "tests")
    return ids, tokens


def build_site(es: Elasticsearch, tokenizer: Tokenizer, tmp: Path, kind: str) -> Iterator[Site]:
    # Sign-in throttling is tested in test_auth_web.py; here many failed sign-ins are deliberate.
    settings = settings_for(new_prefix(kind), f"sqlite:///{tmp / 'site.sqlite3'}").model_copy(
        update={"login_max_failures": 1_000_000, "login_max_per_ip": 1_000_000}
    )
    upgrade(settings.effective_database_url)
    names = IndexNames(settings.index_prefix)
    create(es, names, tokenizer)
    records = _records()
    write_records(es, names.write_alias, [(r.id, r) for r in records], tokenizer, refresh=True)
    ids, tokens = _seed(settings.effective_database_url)
    try:
        yield Site(create_app(settings), settings, ids, tokens)
    finally:
        drop_all(es, names)


def walk_routes(routes: list[BaseRoute]) -> Iterator[tuple[str, str]]:
    """(method, path) of every route, included routers and mounts too: what a route table must cover."""
    for route in routes:
        if isinstance(route, Mount):
            yield "MOUNT", route.path
        elif isinstance(route, APIRoute | Route):
            for method in sorted(route.methods or ()):
                if method != "HEAD":
                    yield method, route.path
        else:  # FastAPI's included routers keep their routes on the original router
            yield from walk_routes(route.original_router.routes)  # type: ignore[attr-defined]
