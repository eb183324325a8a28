"""An export job whose task the broker lost (celery#7950's window, here removed from the queue by
hand) is sent again by a worker's sweep and ends with its whole file; a second run of one job never
overwrites or fails the first. Real worker, Redis, Elasticsearch and SQLite.
"""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path
from typing import Any

import pytest
import redis
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient

from appdb import accounts, exports
from appdb.models import ExportJob
from appdb.session import session_factory
from conf.clients import make_redis
from exportjobs.resume import exports_in_broker
from ingest.celery_app import EXPORT_TASK
from ingest.index_admin import create
from ingest.resume import _queue_lists, task_args
from ingest.writer import write_records
from mappings.analysis.tokenizer import Tokenizer
from mappings.naming import IndexNames
from tests.conftest import make_record
from tests.own_worker import EnvWorker, own_broker
from web.app import create_app

pytestmark = pytest.mark.worker

N = 120
TERM = "导出续传核对"


def lose_export_message(r: redis.Redis, job_id: int) -> None:
    for name in _queue_lists("celery"):
        for raw in r.lrange(name, 0, -1):
            args = task_args(json.loads(raw), EXPORT_TASK)
            if args and args[0] == job_id:
                assert r.lrem(name, 1, raw) == 1
                return
    raise AssertionError(f"no queued message for export job {job_id}")


def _csv_ids(data: bytes) -> list[str]:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    column = rows[0].index("记录ID")
    return [row[column] for row in rows[1:]]


def test_a_lost_export_task_is_sent_again_and_the_job_ends(es: Elasticsearch, tokenizer: Tokenizer, tmp_path: Path) -> None:
    exports_dir = tmp_path / "exports"
    with own_broker(es, tmp_path, "xresume", export_job_threshold=10, export_dir=exports_dir) as settings:
        create(es, IndexNames(settings.index_prefix), tokenizer)
        records = [make_record(f"r{i:04d}", f"{TERM}第{i}篇", keywords=[TERM]) for i in range(N)]
        write_records(es, IndexNames(settings.index_prefix).write_alias, [(r.id, r) for r in records], tokenizer,
                      refresh=True)  # fmt: skip
        Session = session_factory(settings.effective_database_url)
        with Session.begin() as session:
            user = accounts.create_user(session, username="resumer", password="Export-resume-1", real_name="续传")
            token = accounts.create_api_token(session, user, "test")[1]
        headers = {"Authorization": f"Bearer {token}"}
        with TestClient(create_app(settings)) as client:
            resp = client.post("/api/v1/exports", json={"q": TERM, "format": "csv", "limit": N}, headers=headers)
            assert resp.status_code == 202, resp.text
            job_id = resp.json()["id"]
            r = make_redis(settings)
            assert exports_in_broker(r, [job_id]) == {job_id}
            lose_export_message(r, job_id)
            assert exports_in_broker(r, [job_id]) == set()
            # A 3 s visibility timeout: the job counts as stalled 3 s after it was submitted.
            worker = EnvWorker(settings, tmp_path / "worker.log", {
                "CHAXIN_BROKER_VISIBILITY_TIMEOUT": "3", "CHAXIN_EXPORT_DIR": str(exports_dir),
            })  # fmt: skip
            worker.start()
            try:
                deadline = time.monotonic() + 90
                body: dict[str, Any] = {}
                while time.monotonic() < deadline:
                    body = client.get(f"/api/v1/exports/{job_id}", headers=headers).json()
                    if body["state"] in ("done", "failed"):
                        break
                    time.sleep(0.5)
            finally:
                worker.stop()
            assert body["state"] == "done", f"{body}\n{worker.log_tail()}"
            assert f"export jobs [{job_id}] had no task in the broker" in worker.log_tail(50_000)
            ids = _csv_ids(client.get(body["download"], headers=headers).content)
            assert sorted(ids) == sorted(r.id for r in records)
        assert not list(exports_dir.glob("*.part"))


def test_only_the_first_run_of_a_job_to_finish_is_recorded(es: Elasticsearch, tmp_path: Path) -> None:
    with own_broker(es, tmp_path, "xtwice") as settings:
        Session = session_factory(settings.effective_database_url)
        with Session.begin() as session:
            user = accounts.create_user(session, username="twice", password="Export-twice-1", real_name="两次")
            job = exports.create_export_job(session, exports.ExportRequest(
                user_id=user.id, format="csv", q=TERM, mode="simple", sort="relevance", query={"match_all": {}},
                max_records=10, total=10, file_name="x.csv",
            ))  # fmt: skip
            job_id = job.id
        with Session.begin() as session:
            assert exports.start(session, job_id) is not None
            assert exports.stalled(session, 3600) == []
            assert exports.finish(session, job_id, written=10, path=tmp_path / "first.csv", size=1)
        with Session.begin() as session:
            assert exports.start(session, job_id) is None, "a finished job is not run again"
            assert not exports.finish(session, job_id, written=9, path=tmp_path / "second.csv", size=2)
            exports.fail(session, job_id, "late failure of a second run")
        with Session() as session:
            done = session.get(ExportJob, job_id)
            assert done is not None
            assert (done.state, done.path, done.written, done.message) == ("done", str(tmp_path / "first.csv"), 10, None)
            assert exports.stalled(session, 0) == []
