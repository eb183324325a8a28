"""End to end through Celery: the CSSCI and WoS exports go into Elasticsearch with their references kept,
and a cut-off record becomes a job error naming the file and the position while the rest goes in."""

from __future__ import annotations

from pathlib import Path

from elasticsearch import Elasticsearch

from appdb.jobs import job_errors
from appdb.session import session_factory
from conf.settings import Settings
from ingest.submit import submit
from mappings.naming import IndexNames
from tests.conftest import shared_file
from tests.test_ingest_pipeline import wait_done


def test_cssci_gb18030_download_with_a_cut_record(
    pipeline: Settings, es: Elasticsearch, tmp_path: Path
) -> None:
    text = shared_file("citations", "cssci_smart_library", "LY_20230630122752.txt").read_text(
        encoding="utf-8"
    )
    text = text.replace("\r\n", "\n")
    last = text.rindex("【来源篇名】")
    path = tmp_path / "LY_gb18030.txt"
    path.write_bytes(text[: text.index("【年代卷期】", last)].encode("gb18030"))  # no declaration anywhere
    job_id, _ = submit(pipeline, "cssci", path)
    status = wait_done(pipeline, job_id)
    assert (status["indexed"], status["failed"]) == (317, 1), status
    with session_factory(pipeline.effective_database_url)() as session:
        [error] = job_errors(session, job_id)
    assert error["file"] == str(path) and error["position"] == "第 318 项"
    assert error["reason"].startswith(f"第 318 条记录（第 {text[:last].count(chr(10)) + 1} 行）：记录不完整")
    alias = IndexNames(pipeline.index_prefix).read_alias
    es.indices.refresh(index=alias)
    hits = es.search(
        index=alias, query={"term": {"source": "cssci"}}, size=400, source_includes=["references", "title"]
    )
    docs = [h["_source"] for h in hits["hits"]["hits"]]
    assert len(docs) == 317
    first = next(d for d in docs if d["title"] == "近十年我国智慧图书馆研究态势")
    assert len(first["references"]) == 29
    assert first["references"][1]["raw"] == "2.严栋.基于物联网的智慧图书馆.图书馆学刊.2010.32(7)"
    assert (first["references"][1]["title"], first["references"][1]["year"]) == (
        "基于物联网的智慧图书馆",
        2010,
    )


def test_wos_tab_delimited_export_with_cited_references(pipeline: Settings, es: Elasticsearch) -> None:
    path = shared_file("citations", "wos_exports", "histcite_savedrecs_tab.txt")
    job_id, _ = submit(pipeline, "wos", path)
    status = wait_done(pipeline, job_id)
    assert (status["indexed"], status["failed"]) == (300, 0), status
    alias = IndexNames(pipeline.index_prefix).read_alias
    es.indices.refresh(index=alias)
    body = {"term": {"source": "wos"}}
    hits = es.search(index=alias, query=body, size=400, source_includes=["references"])["hits"]["hits"]
    assert sum(len(h["_source"].get("references", [])) for h in hits) == 16762
