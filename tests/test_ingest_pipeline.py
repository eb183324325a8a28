"""End to end through Celery: `chaxin ingest` -> tasks -> Elasticsearch, job rows in each database backend."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from appdb.jobs import job_errors, job_status
from appdb.session import session_factory
from conf.settings import REPO_ROOT, Settings
from ingest.submit import SubmitError, submit
from mappings.naming import IndexNames
from tests.conftest import DEMO


def wait_done(settings: Settings, job_id: int, timeout: float = 180) -> dict:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with session_factory(settings.effective_database_url)() as session:
            status = job_status(session, job_id)
        assert status is not None
        if status.state == "done":
            return status.as_dict()
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} not done: {status}")


def count(es: Elasticsearch, settings: Settings) -> int:
    alias = IndexNames(settings.index_prefix).read_alias
    es.indices.refresh(index=alias)
    return int(es.count(index=alias)["count"])


def test_demo_corpus_ingests_completely_and_idempotently(pipeline: Settings, es: Elasticsearch) -> None:
    before = (
        count(es, pipeline)
        if es.indices.exists_alias(name=IndexNames(pipeline.index_prefix).read_alias)
        else 0
    )
    job_id, chunks = submit(pipeline, "csl", DEMO)
    assert chunks == 2
    status = wait_done(pipeline, job_id)
    assert (status["seen"], status["indexed"], status["failed"]) == (2000, 2000, 0)
    assert count(es, pipeline) == before + 2000
    # The same file again: stable IDs, so nothing new appears.
    again = wait_done(pipeline, submit(pipeline, "csl", DEMO)[0])
    assert again["seen"] == 2000 and again["failed"] == 0
    assert count(es, pipeline) == before + 2000


def test_malformed_lines_are_recorded_and_the_rest_goes_in(
    pipeline: Settings, es: Elasticsearch, tmp_path: Path
) -> None:
    good = {
        "id": "ok-1",
        "title": "一种新型钙钛矿太阳能电池的制备",
        "abstract": "摘要",
        "keywords": ["钙钛矿"],
    }
    lines = [
        json.dumps(good, ensure_ascii=False).encode(),
        b'{"id": "bad-json", "title": ',
        json.dumps({"id": "no-title", "abstract": "x"}).encode(),
        json.dumps({"id": "bad-kw", "title": "题名", "keywords": "不是列表"}, ensure_ascii=False).encode(),
        "不是 UTF-8 的一行".encode("gb18030"),
        b"",
        json.dumps({**good, "id": "ok-2", "title": "量子点发光二极管研究"}, ensure_ascii=False).encode(),
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    job_id, _ = submit(pipeline, "csl", path)
    status = wait_done(pipeline, job_id)
    assert (status["indexed"], status["failed"]) == (2, 4)
    with session_factory(pipeline.effective_database_url)() as session:
        errors = job_errors(session, job_id)
    positions = [e["position"] for e in errors]
    assert positions == ["第 2 行", "第 3 行", "第 4 行", "第 5 行"]
    assert all(e["file"] == str(path) and e["reason"] for e in errors)
    assert "JSON" in errors[0]["reason"] and "题名" in errors[1]["reason"] and "UTF-8" in errors[3]["reason"]


def test_bad_input_is_refused_before_anything_is_written(pipeline: Settings, tmp_path: Path) -> None:
    with pytest.raises(SubmitError, match="找不到文件"):
        submit(pipeline, "csl", tmp_path / "missing.jsonl")
    with pytest.raises(SubmitError, match="不支持的格式"):
        submit(pipeline, "marc21", DEMO)
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    job_id, chunks = submit(pipeline, "csl", empty)
    assert chunks == 0
    with session_factory(pipeline.effective_database_url)() as session:
        status = job_status(session, job_id)
    assert status is not None and status.state == "done" and status.seen == 0


def test_cli_ingest_wait_prints_summary(pipeline: Settings, tmp_path: Path) -> None:
    path = tmp_path / "two.jsonl"
    path.write_text(
        "\n".join(
            json.dumps({"id": f"cli-{i}", "title": t}, ensure_ascii=False)
            for i, t in enumerate(["基于深度学习的遥感影像分类", "碳纳米管增强复合材料力学性能"])
        ),
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "CHAXIN_INDEX_PREFIX": pipeline.index_prefix,
        "DATABASE_URL": pipeline.effective_database_url,
        "REDIS_URL": pipeline.effective_redis_url,
        "ES_URL": pipeline.effective_es_url,
    }
    out = subprocess.run(
        [sys.executable, "-m", "chaxin.cli", "ingest", "--format", "csl", str(path), "--wait"],
        env=env, capture_output=True, text=True, timeout=180, cwd=REPO_ROOT, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "seen 2, indexed 2, merged 0, unchanged 0, failed 0" in out.stdout


def test_ingest_refuses_an_index_built_by_another_tokenizer(pipeline: Settings, es: Elasticsearch) -> None:
    names = IndexNames(pipeline.index_prefix)
    wait_done(pipeline, submit(pipeline, "csl", DEMO)[0])  # makes sure the index exists
    other = pipeline.model_copy(update={"tokenizer_backend": "jieba"})
    with pytest.raises(SubmitError, match="index rebuild"):
        submit(other, "csl", DEMO)
    assert es.indices.exists_alias(name=names.read_alias)


def test_ingest_waits_for_a_running_rebuild(pipeline: Settings, tmp_path: Path) -> None:
    from conf.clients import make_redis
    from ingest.index_admin import rebuild_lock_key

    path = tmp_path / "one.jsonl"
    path.write_text(
        json.dumps({"id": "lock-1", "title": "重组胶原蛋白水凝胶的制备"}, ensure_ascii=False), "utf-8"
    )
    lock = make_redis(pipeline).lock(rebuild_lock_key(IndexNames(pipeline.index_prefix)), timeout=120)
    assert lock.acquire()
    try:
        job_id, _ = submit(pipeline, "csl", path)
        time.sleep(3)
        with session_factory(pipeline.effective_database_url)() as session:
            status = job_status(session, job_id)
        assert status is not None and status.chunks_done == 0, "nothing written while the rebuild runs"
    finally:
        lock.release()
    assert wait_done(pipeline, job_id, timeout=60)["indexed"] == 1


def test_directory_of_jats_files(pipeline: Settings, es: Elasticsearch, tmp_path: Path) -> None:
    from tests.conftest import shared_file

    source = shared_file("jats")
    files = sorted(p for p in source.rglob("*") if p.is_file() and p.suffix in (".xml", ".nxml"))
    job_id, chunks = submit(pipeline, "jats", source)
    status = wait_done(pipeline, job_id)
    others = [p for p in source.rglob("*") if p.is_file() and p not in files and not p.name.startswith(".")]
    assert chunks == 1 and len(files) + len(others) <= pipeline.ingest_batch_files
    # Two of the files describe one article (one DOI): they merge into one record.
    assert status["indexed"] + status["skipped"] == len(files) == 34, status
    assert status["failed"] == len(others)
    with session_factory(pipeline.effective_database_url)() as session:
        errors = job_errors(session, job_id)
    # Files in the folder that are not JATS (SOURCE.md) are errors naming the file; the rest went in.
    assert all(not e["file"].endswith((".xml", ".nxml")) for e in errors), errors[:3]


def test_directory_with_a_file_of_the_wrong_format(pipeline: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "a.ris").write_text(
        "TY  - JOUR\nAU  - 张三\nTI  - 钙钛矿太阳能电池稳定性研究\nJO  - 物理学报\nPY  - 2021\nER  - \n",
        "utf-8",
    )
    (folder / "b.txt").write_text("这不是 RIS 文件\n", "utf-8")
    (folder / ".hidden").write_text("ignored", "utf-8")
    job_id, chunks = submit(pipeline, "ris", folder)
    assert chunks == 1  # small files travel in one batch; errors still name their own file
    status = wait_done(pipeline, job_id)
    assert (status["indexed"], status["failed"]) == (1, 1)
    with session_factory(pipeline.effective_database_url)() as session:
        errors = job_errors(session, job_id)
    assert errors[0]["file"].endswith("b.txt") and "RIS" in errors[0]["reason"]
    empty = tmp_path / "nothing"
    empty.mkdir()
    with pytest.raises(SubmitError, match="目录中没有可导入的文件"):
        submit(pipeline, "ris", empty)


def test_job_status_and_errors_over_http(pipeline: Settings, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from appdb.accounts import find_user
    from appdb.jobs import Submitter
    from tests.conftest import staff_token
    from web.app import create_app

    headers = {"Authorization": f"Bearer {staff_token(pipeline.effective_database_url)}"}
    with session_factory(pipeline.effective_database_url)() as session:
        me = find_user(session, "ingest-staff").id
    path = tmp_path / "two.jsonl"
    path.write_text('{"id": "h1", "title": "高熵合金的力学性能"}\n{"id": "h2"}\n', "utf-8")
    # A job is seen by its submitter (and their centre admin and platform admins).
    job_id, _ = submit(pipeline, "csl", path, submitter=Submitter(user_id=me, centre="T"))
    wait_done(pipeline, job_id)
    with TestClient(create_app(pipeline), headers=headers) as client:
        assert client.get(f"/api/v1/ingest/jobs/{job_id}", headers={"Authorization": ""}).status_code == 401
        status = client.get(f"/api/v1/ingest/jobs/{job_id}").json()
        assert (status["state"], status["seen"], status["indexed"], status["failed"]) == ("done", 2, 1, 1)
        errors = client.get(f"/api/v1/ingest/jobs/{job_id}/errors").json()["errors"]
        assert errors == [
            {
                "file": str(path),
                "position": "第 2 行",
                "reason": "缺少题名（title）",
                "snippet": '{"id": "h2"}',
            }
        ]
        assert client.get("/api/v1/ingest/jobs/999999").status_code == 404


RIS_TWO = (
    "TY  - JOUR\nTI  - 钠离子电池层状氧化物正极材料研究进展\nAU  - 王明\nPY  - 2021\nJO  - 储能科学与技术\n"
    "DO  - 10.1234/chaxin.upload.1\nER  - \n\n"
    "TY  - JOUR\nTI  - 固态电解质界面稳定性\nAU  - 李华\nPY  - 2022\nER  - \n"
)


def test_upload_over_http_keeps_the_raw_file_and_traces_records_to_it(
    pipeline: Settings, es: Elasticsearch
) -> None:
    import hashlib

    from fastapi.testclient import TestClient

    from ingest.raw_store import RawStore
    from web.app import create_app

    data = RIS_TWO.encode("utf-8")
    from tests.conftest import staff_token

    headers = {"Authorization": f"Bearer {staff_token(pipeline.effective_database_url)}"}
    with TestClient(create_app(pipeline), headers=headers) as client:
        resp = client.post("/api/v1/ingest", data={"format": "ris"}, files={"file": ("我的导出.ris", data)})
        assert resp.status_code == 202, resp.text
        body = resp.json()
        status = wait_done(pipeline, body["job_id"])
        assert (status["seen"], status["indexed"], status["failed"]) == (2, 2, 0)
        # The same bytes again: nothing changes, and the raw store keeps one copy.
        again = client.post(
            "/api/v1/ingest", data={"format": "ris"}, files={"file": ("again.ris", data)}
        ).json()
        assert (wait_done(pipeline, again["job_id"])["indexed"], count(es, pipeline) >= 2) == (0, True)

        refused = client.post("/api/v1/ingest", data={"format": "nope"}, files={"file": ("x.ris", data)})
        assert refused.status_code == 400 and "不支持的格式" in refused.json()["error"]["message"]
        empty = client.post("/api/v1/ingest", data={"format": "ris"}, files={"file": ("empty.ris", b"")})
        assert empty.status_code == 400 and "为空" in empty.json()["error"]["message"]

    sha = hashlib.sha256(data).hexdigest()
    store = RawStore(pipeline.effective_raw_store_dir)
    assert store.path_for(sha).read_bytes() == data
    assert store.manifest(sha)["names"] == ["我的导出.ris", "again.ris"] and store.manifest(sha)[
        "formats"
    ] == ["ris"]
    alias = IndexNames(pipeline.index_prefix).read_alias
    hit = es.search(index=alias, query={"term": {"doi": "10.1234/chaxin.upload.1"}})["hits"]["hits"][0][
        "_source"
    ]
    (source,) = hit["sources"]
    assert (source["raw_sha256"], source["file"], source["position"]) == (sha, "我的导出.ris", "第 1 项")


def test_real_duplicates_across_sources_merge_into_one_record(pipeline: Settings, es: Elasticsearch) -> None:
    """The Zotero translators' test cases hold the same papers from CNKI, CNKI Oversea, Wanfang, VIP..."""
    from tests.conftest import new_prefix, shared_file

    cases = shared_file("zotero-translators-cn", "test_cases.jsonl")
    settings = pipeline.model_copy(update={"index_prefix": new_prefix("dups")})
    job_id, _ = submit(settings, "zotero", cases)
    status = wait_done(settings, job_id)
    # 439 items: 47 without a title are quarantined; 392 records are 361 distinct works. 28 of the
    # repeats come from a further source and merge; 3 are one source listing an item twice.
    counts = tuple(status[k] for k in ("seen", "failed", "indexed", "merged", "skipped"))
    assert counts == (439, 47, 361 + 28, 28, 3), status
    assert count(es, settings) == 361
    alias = IndexNames(settings.index_prefix).read_alias

    def sources_of(**term: str) -> tuple[dict, list[str]]:  # type: ignore[type-arg]
        es.indices.refresh(index=alias)
        (hit,) = es.search(index=alias, query={"term": term})["hits"]["hits"]
        return hit["_source"], sorted(s["source"] for s in hit["_source"]["sources"])

    standard, names = sources_of(**{"standard.standard_number": "GB/T 7714-2015"})
    assert len(names) == 8 and "zotero:Wanfang Data" in names and "zotero:CNKI TIKS" in names
    assert standard["title"] == "信息与文献 参考文献著录规则" and standard["doc_type"] == "standard"
    # A CNKI RefWorks export of a thesis the test cases hold three times joins that record.
    refworks = shared_file("zotero-translators-cn", "import_inputs", "CNKI_RefWorks__03.txt")
    again = wait_done(settings, submit(settings, "refworks", refworks)[0])
    assert (again["indexed"], again["merged"]) == (1, 1)
    thesis, names = sources_of(**{"ix.first_author": "林行众"})
    assert names == ["refworks", "zotero:CNKI", "zotero:CNKI Oversea", "zotero:CNKI RefWorks"]
    assert thesis["title"] == "黄瓜共表达基因模块的识别及其特点分析" and thesis["abstract"]
    assert count(es, settings) == 361
    from ingest.index_admin import drop_all

    drop_all(es, IndexNames(settings.index_prefix))


def test_tech_report_folder_with_pdf_full_text(pipeline: Settings, es: Elasticsearch) -> None:
    """The shipped samples: one report per access level, a batch of three, and a PDF full text."""
    from tests.conftest import new_prefix

    folder = REPO_ROOT / "data" / "samples" / "techreport"
    settings = pipeline.model_copy(update={"index_prefix": new_prefix("rpt")})
    status = wait_done(settings, submit(settings, "techreport", folder)[0])
    # The PDF and the script that makes it are files of the folder too: each is a job error naming it.
    assert (status["indexed"], status["failed"]) == (6, 2), status
    with session_factory(settings.effective_database_url)() as session:
        failed = sorted(Path(e["file"]).name for e in job_errors(session, status["id"]))
    assert failed == ["hebei_public_final.pdf", "make_pdf.py"]
    alias = IndexNames(settings.index_prefix).read_alias
    es.indices.refresh(index=alias)
    levels = es.search(index=alias, size=0, aggs={"a": {"terms": {"field": "tech_report.access_level"}}})
    assert {b["key"] for b in levels["aggregations"]["a"]["buckets"]} == {"public", "embargoed", "restricted"}
    hit = es.search(index=alias, query={"term": {"tech_report.report_no": "401700125-22327001D/01"}})["hits"][
        "hits"
    ]
    assert "河北农业大学" in hit[0]["_source"]["full_text"].replace(" ", "")
    from ingest.index_admin import drop_all

    drop_all(es, IndexNames(settings.index_prefix))


def test_a_folder_of_broken_files_becomes_job_errors_and_loses_nothing(
    pipeline: Settings, es: Elasticsearch, tmp_path: Path
) -> None:
    from tests.conftest import new_prefix
    from tests.test_bad_input import BAD_FILES

    settings = pipeline.model_copy(update={"index_prefix": new_prefix("bad")})
    good = tmp_path / "good.ris"
    good.write_text("TY  - JOUR\nTI  - 钠离子电池正极材料\nAU  - 王五\nPY  - 2022\nER  - \n", "utf-8")
    assert wait_done(settings, submit(settings, "ris", good)[0])["indexed"] == 1
    folder = tmp_path / "incoming"
    folder.mkdir()
    for name, make in BAD_FILES.items():
        if name != "gbk-undeclared":
            (folder / f"{name}.xml").write_bytes(make())
    status = wait_done(settings, submit(settings, "jats", folder)[0])
    assert (status["indexed"], status["failed"]) == (0, len(BAD_FILES) - 1), status
    with session_factory(settings.effective_database_url)() as session:
        errors = job_errors(session, status["id"])
    assert sorted(Path(e["file"]).name for e in errors) == sorted(
        f"{n}.xml" for n in BAD_FILES if n != "gbk-undeclared"
    )
    assert all(e["reason"] and e["position"] for e in errors)
    assert count(es, settings) == 1  # what was indexed before is still there
    from ingest.index_admin import drop_all

    drop_all(es, IndexNames(settings.index_prefix))


def test_a_later_small_job_is_not_starved_by_a_large_one(pipeline: Settings, tmp_path: Path) -> None:
    """Each job's first chunks outrank an earlier job's later ones (issue 14, break 5)."""
    settings = pipeline.model_copy(update={"ingest_chunk_lines": 2})
    big = tmp_path / "big.jsonl"
    big.write_text(
        "".join(f'{{"id": "fair-big-{i}", "title": "大任务记录 {i}"}}\n' for i in range(160)), "utf-8"
    )
    small = tmp_path / "small.jsonl"
    small.write_text('{"id": "fair-small-1", "title": "小任务记录"}\n', "utf-8")
    big_job, chunks = submit(settings, "csl", big)
    assert chunks == 80
    small_job, _ = submit(settings, "csl", small)
    wait_done(settings, small_job)
    with session_factory(settings.effective_database_url)() as session:
        status = job_status(session, big_job)
    assert status is not None and status.chunks_done < status.chunks_total, (
        "the small job waited for the big one"
    )
    wait_done(settings, big_job)
