"""Who may rewrite a tech report through ingest, and who reads an ingest job (issue 14, breaks 1 and 8).

Real worker, Elasticsearch and database: an analyst of another centre uploads a 限制 report's number
with <public/>; the write is quarantined with its reason, the index keeps the original, the raw store
keeps both files, and that analyst cannot read the owner's job.
"""

from __future__ import annotations

import hashlib
import secrets

from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient

from appdb import accounts
from appdb.session import session_factory
from conf.settings import REPO_ROOT, Settings
from ingest.identity import record_id
from ingest.raw_store import RawStore, sha256_of
from mappings.naming import IndexNames
from tests.conftest import seed_people
from tests.test_ingest_pipeline import wait_done
from web.app import create_app

SAMPLE = REPO_ROOT / "data" / "samples" / "techreport" / "shandong_restricted.xml"
PASSWORD = "Chaxin-Test-2026!"


def _report(no: str, title: str, access: str) -> bytes:
    text = SAMPLE.read_text("utf-8")
    text = text.replace("49557012X-2021CXGC011205/03", no)
    text = text.replace("城市燃气管网泄漏智能监测与预警关键技术研究专题报告", title)
    text = text.replace('<restricted reason="含城市基础设施运行数据"/>', access)
    return text.encode("utf-8")


def _site(pipeline: Settings) -> tuple[dict[str, int], dict[str, str], str, str]:
    tag = secrets.token_hex(3).upper()
    a, b = f"A{tag}", f"B{tag}"
    with session_factory(pipeline.effective_database_url).begin() as session:
        for code in (a, b):
            accounts.create_centre(session, code=code, name=f"分中心{code}", province_code="32",
                                   institution_no="001", pattern="most")  # fmt: skip
        ids, tokens = seed_people(session, [
            (f"ana-a-{tag}".lower(), a, ["analyst"], None),
            (f"ana-b-{tag}".lower(), b, ["analyst"], None),
            (f"cadm-a-{tag}".lower(), a, ["centre_admin"], None),
            (f"cadm-b-{tag}".lower(), b, ["centre_admin"], None),
            (f"root-{tag}".lower(), None, ["platform_admin"], None),
        ], PASSWORD)  # fmt: skip
    short = {name.split("-" + tag.lower())[0]: tok for name, tok in tokens.items()}
    short_ids = {name.split("-" + tag.lower())[0]: uid for name, uid in ids.items()}
    return short_ids, short, a, b


def _upload(client: TestClient, token: str, name: str, data: bytes, **form: str) -> int:
    resp = client.post(
        "/api/v1/ingest", data={"format": "techreport", **form}, files={"file": (name, data)},
        headers={"Authorization": f"Bearer {token}"},
    )  # fmt: skip
    assert resp.status_code == 202, resp.text
    return int(resp.json()["job_id"])


def _indexed(es: Elasticsearch, settings: Settings, rid: str) -> dict:  # type: ignore[type-arg]
    alias = IndexNames(settings.index_prefix).read_alias
    es.indices.refresh(index=alias)
    return dict(es.get(index=alias, id=rid)["_source"])


def test_another_centre_cannot_overwrite_or_declassify_a_restricted_report(
    pipeline: Settings, es: Elasticsearch
) -> None:
    _, tokens, _, _ = _site(pipeline)
    no = f"49557012X-SEC{secrets.token_hex(4).upper()}/03"
    rid = record_id(title="", report_no=no)
    original = _report(no, "原始限制报告题名", '<restricted reason="涉密"/>')
    hostile = _report(no, "攻击者改写的题名", "<public/>")
    with TestClient(create_app(pipeline)) as client:
        first = _upload(client, tokens["ana-a"], "orig.xml", original)
        assert wait_done(pipeline, first)["indexed"] == 1

        # 1. Another centre's analyst: refused, quarantined with a reason, the index unchanged.
        attack = _upload(client, tokens["ana-b"], "attack.xml", hostile)
        status = wait_done(pipeline, attack)
        assert (status["indexed"], status["failed"]) == (0, 1)
        kept = _indexed(es, pipeline, rid)
        assert kept["title"] == "原始限制报告题名" and kept["tech_report"]["access_level"] == "restricted"
        assert client.get(f"/api/v1/records/{rid}").status_code == 404
        # The job's error is about a 限制 report: even its submitter reads only that it was refused.
        errs = client.get(f"/api/v1/ingest/jobs/{attack}/errors",
                          headers={"Authorization": f"Bearer {tokens['ana-b']}"}).json()["errors"]  # fmt: skip
        assert len(errs) == 1 and "限制级" in errs[0]["reason"] and errs[0]["snippet"] is None
        admin_errs = client.get(f"/api/v1/ingest/jobs/{attack}/errors",
                                headers={"Authorization": f"Bearer {tokens['root']}"}).json()["errors"]  # fmt: skip
        assert "只有平台管理员或报告所属分中心可以更新" in admin_errs[0]["reason"]

        # 2. The owning centre may update its report, but not lower its level.
        own_lower = _upload(client, tokens["ana-a"], "own.xml", _report(no, "本中心改写", "<public/>"))
        assert wait_done(pipeline, own_lower)["failed"] == 1
        own_fix = _upload(
            client, tokens["ana-a"], "fix.xml", _report(no, "本中心修订题名", '<restricted reason="涉密"/>')
        )
        assert wait_done(pipeline, own_fix)["indexed"] == 1
        assert _indexed(es, pipeline, rid)["title"] == "本中心修订题名"

        # 3. A platform admin lowers it only with the audited permission; others cannot even ask.
        refused = client.post("/api/v1/ingest", data={"format": "techreport", "lower_access": "true"},
                              files={"file": ("x.xml", hostile)},
                              headers={"Authorization": f"Bearer {tokens['ana-a']}"})  # fmt: skip
        assert refused.status_code == 403
        plain = _upload(client, tokens["root"], "admin.xml", hostile)
        assert wait_done(pipeline, plain)["failed"] == 1
        assert _indexed(es, pipeline, rid)["tech_report"]["access_level"] == "restricted"
        allowed = _upload(client, tokens["root"], "admin2.xml", hostile, lower_access="true")
        assert wait_done(pipeline, allowed)["indexed"] == 1
        assert _indexed(es, pipeline, rid)["tech_report"]["access_level"] == "public"
    with session_factory(pipeline.effective_database_url)() as session:
        events = accounts.audit_events(session, action="ingest.lower_access")
    assert any(f'"job_id": {allowed}' in e.detail for e in events)

    # The raw store kept every version that was uploaded, refused or not.
    store = RawStore(pipeline.effective_raw_store_dir)
    for data in (original, hostile):
        digest = hashlib.sha256(data).hexdigest()
        assert store.path_for(digest).exists()
        assert sha256_of(store.path_for(digest)) == digest


def test_jobs_are_seen_by_their_submitter_centre_admin_and_platform_admins(pipeline: Settings) -> None:
    _, tokens, _, _ = _site(pipeline)
    no = f"49557012X-JOB{secrets.token_hex(4).upper()}/03"
    with TestClient(create_app(pipeline)) as client:
        job = _upload(client, tokens["ana-a"], "mine.xml", _report(no, "任务可见性", "<public/>"))
        wait_done(pipeline, job)
        expected = {"ana-a": 200, "cadm-a": 200, "root": 200, "ana-b": 404, "cadm-b": 404}
        for who, code in expected.items():
            auth = {"Authorization": f"Bearer {tokens[who]}"}
            assert client.get(f"/api/v1/ingest/jobs/{job}", headers=auth).status_code == code, who
            assert client.get(f"/api/v1/ingest/jobs/{job}/errors", headers=auth).status_code == code, who
        status = client.get(
            f"/api/v1/ingest/jobs/{job}", headers={"Authorization": f"Bearer {tokens['ana-a']}"}
        )
        assert status.json()["path"] == "mine.xml"  # never the server's spool path
