"""Export caps and export jobs: a real worker writes the file, the job shows progress, the user downloads it.

Small numbers stand in for the defaults (cap 100,000, job threshold 20,000): the cap is 250 and the
threshold 50 here, over a corpus of 300 matching records and two 限制 reports the exporting user may
not see.
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator
from html import unescape
from typing import Any

import pytest
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from conf.settings import Settings
from ingest.index_admin import create
from ingest.writer import write_records
from mappings.analysis.tokenizer import Tokenizer
from mappings.naming import IndexNames
from tests.conftest import make_record
from tests.own_worker import EnvWorker, own_broker
from web.app import create_app

N = 300
CAP = 250
THRESHOLD = 50
TERM = "导出任务核对"
RESTRICTED = {"res-1", "res-2"}


def _chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


class Site:
    def __init__(self, settings: Settings, client: TestClient, tokens: dict[str, str]) -> None:
        self.settings = settings
        self.client = client
        self.tokens = tokens

    def as_(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@pytest.fixture(scope="module")
def site(es: Elasticsearch, tokenizer: Tokenizer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from appdb import accounts
    from appdb.session import session_factory

    tmp = tmp_path_factory.mktemp("exportjobs")
    exports_dir = tmp / "exports"
    with own_broker(es, tmp, "xjob", export_max_records=CAP, export_job_threshold=THRESHOLD,
                    export_dir=exports_dir) as settings:  # fmt: skip
        names = IndexNames(settings.index_prefix)
        create(es, names, tokenizer)
        records = [make_record(f"x{i:04d}", f"{TERM}记录第{i}篇", year=2000 + i % 20, keywords=[TERM]) for i in range(N)]
        records += [
            make_record(rid, f"{TERM}限制报告{rid}", doc_type="tech_report", keywords=[TERM],
                        tech_report={"report_no": f"R-{rid}", "access_level": "restricted"})  # fmt: skip
            for rid in sorted(RESTRICTED)
        ]
        write_records(es, names.write_alias, [(r.id, r) for r in records], tokenizer, refresh=True)
        tokens = {}
        with session_factory(settings.effective_database_url).begin() as session:
            for name in ("owner", "other"):
                user = accounts.create_user(session, username=name, password="Export-jobs-1", real_name=f"用户{name}")
                tokens[name] = accounts.create_api_token(session, user, "test")[1]
        worker = EnvWorker(settings, tmp / "worker.log", {
            "CHAXIN_EXPORT_DIR": str(exports_dir), "CHAXIN_EXPORT_MAX": str(CAP),
        })  # fmt: skip
        worker.start()
        try:
            with TestClient(create_app(settings)) as client:
                yield Site(settings, client, tokens)
        finally:
            worker.stop()


def _wait(site: Site, job_id: int, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = site.client.get(f"/api/v1/exports/{job_id}", headers=site.as_("owner")).json()
        if body["state"] in ("done", "failed") or time.monotonic() > deadline:
            return body
        time.sleep(0.3)


def test_a_query_over_the_cap_is_refused_with_a_clear_message(site: Site) -> None:
    resp = site.client.get("/api/v1/export", params={"q": TERM, "format": "csv"}, headers=site.as_("owner"))
    assert resp.status_code == 400
    message = resp.json()["error"]["message"]
    assert _chinese(message) and f"{N:,}" in message and f"{CAP:,}" in message and "limit" in message
    resp = site.client.get("/api/v1/export", params={"q": TERM, "limit": CAP + 1}, headers=site.as_("owner"))
    assert resp.status_code == 400 and f"{CAP:,}" in resp.json()["error"]["message"]
    resp = site.client.post("/api/v1/exports", json={"q": TERM}, headers=site.as_("owner"))
    assert resp.status_code == 400 and "上限" in resp.json()["error"]["message"]


def test_a_large_export_is_sent_to_a_job_and_a_small_one_streams(site: Site) -> None:
    resp = site.client.get("/api/v1/export", params={"q": TERM, "limit": THRESHOLD + 1}, headers=site.as_("owner"))
    assert resp.status_code == 409 and "/api/v1/exports" in resp.json()["error"]["message"]
    resp = site.client.get(
        "/api/v1/export", params={"q": TERM, "limit": THRESHOLD, "format": "csv"}, headers=site.as_("owner")
    )
    assert resp.status_code == 200
    assert len(list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))) == THRESHOLD + 1


def _csv_ids(data: bytes) -> list[str]:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    column = rows[0].index("记录ID")
    return [row[column] for row in rows[1:]]


def test_an_export_job_writes_every_visible_hit_and_keeps_the_file(site: Site) -> None:
    resp = site.client.post("/api/v1/exports", json={"q": TERM, "format": "csv", "limit": CAP, "sort": "year_desc"},
                            headers=site.as_("owner"))  # fmt: skip
    assert resp.status_code == 202, resp.text
    queued = resp.json()
    assert queued["state"] == "queued" and queued["total"] == CAP and queued["download"] is None
    done = _wait(site, queued["id"])
    assert done["state"] == "done", done
    assert done["written"] == CAP and done["progress"] == 1.0 and done["expires_at"]
    file = site.client.get(done["download"], headers=site.as_("owner"))
    assert file.status_code == 200 and "filename*=UTF-8''" in file.headers["content-disposition"]
    ids = _csv_ids(file.content)
    assert len(ids) == len(set(ids)) == CAP and not set(ids) & RESTRICTED
    # The same order as a search sorted the same way.
    page = site.client.get("/api/v1/search", params={"q": TERM, "sort": "year_desc", "size": 100},
                           headers=site.as_("owner")).json()  # fmt: skip
    assert ids[:100] == [h["id"] for h in page["hits"]]
    assert site.client.get("/api/v1/exports", headers=site.as_("owner")).json()["jobs"][0]["id"] == queued["id"]


def test_an_xlsx_job_and_who_may_see_it(site: Site) -> None:
    resp = site.client.post("/api/v1/exports", json={"q": f"KY='{TERM}'", "mode": "pro", "format": "xlsx", "limit": 120},
                            headers=site.as_("owner"))  # fmt: skip
    assert resp.status_code == 202, resp.text
    job_id = resp.json()["id"]
    done = _wait(site, job_id)
    assert done["state"] == "done", done
    for who, status in (("other", 404),):
        assert site.client.get(f"/api/v1/exports/{job_id}", headers=site.as_(who)).status_code == status
        assert site.client.get(f"/api/v1/exports/{job_id}/file", headers=site.as_(who)).status_code == status
    anonymous = TestClient(site.client.app)
    assert anonymous.get(f"/api/v1/exports/{job_id}").status_code == 401
    assert anonymous.post("/api/v1/exports", json={"q": TERM, "limit": 10}).status_code == 401
    file = site.client.get(done["download"], headers=site.as_("owner"))
    sheet = load_workbook(io.BytesIO(file.content), read_only=True)["文献"]
    assert sum(1 for _ in sheet.iter_rows(values_only=True)) == 121


def test_bad_job_requests_lose_nothing_and_say_why(site: Site) -> None:
    for body in ({"q": TERM, "format": "pdf"}, {"q": TERM, "filters": {"colour": ["red"]}}, {"q": "没有这种记录的词语"},
                 {"q": TERM, "unknown": 1}):  # fmt: skip
        resp = site.client.post("/api/v1/exports", json=body, headers=site.as_("owner"))
        assert resp.status_code == 400, (body, resp.text)
        assert _chinese(resp.json()["error"]["message"])


def test_the_workspace_offers_a_job_past_the_threshold_and_shows_its_progress(site: Site) -> None:
    headers = site.as_("owner")
    page = site.client.get("/workspace", params={"q": f"KY='{TERM}'"}, headers=headers)
    assert page.status_code == 200
    form = re.search(r'<form class="export-form" action="/workspace/export-jobs" method="post">(.*?)</form>', page.text, re.S)
    assert form, "no export-job form past the threshold"
    assert f"后台导出前 {CAP:,} 条" in form.group(1)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.group(1)))
    assert fields["limit"] == str(CAP) and fields["mode"] == "pro"
    resp = site.client.post("/workspace/export-jobs", data={**{k: unescape(v) for k, v in fields.items()}, "format": "ris"},
                            headers=headers, follow_redirects=False)  # fmt: skip
    assert resp.status_code == 303, resp.text
    job_url = resp.headers["location"]
    job_id = int(job_url.rsplit("/", 1)[1])
    assert _wait(site, job_id)["state"] == "done"
    done = site.client.get(job_url, headers=headers)
    assert "已完成" in done.text and f"/api/v1/exports/{job_id}/file" in done.text and 'http-equiv="refresh"' not in done.text
    ris = site.client.get(f"/api/v1/exports/{job_id}/file", headers=headers).text
    assert ris.count("ER  -") == CAP
    # Without the form's token nothing is queued.
    refused = site.client.post("/workspace/export-jobs", data={"q": TERM}, headers=headers, follow_redirects=False)
    assert refused.status_code == 403
