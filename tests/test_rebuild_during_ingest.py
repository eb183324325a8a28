"""A rebuild that starts while a chunk is between parsing and writing loses none of its records.

A real worker and real Elasticsearch. The chunk is held after parsing by the test hook
(CHAXIN_INGEST_TEST_HOLD), the rebuild starts and copies, and the chunk is let go before the swap:
before write leases it wrote into the old index after the copy had read it, and the swap dropped
those records. Now it waits for the rebuild and writes into the new index.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from appdb.jobs import chunk_done
from appdb.session import session_factory
from conf.clients import make_redis
from ingest.index_admin import RebuildResult, current_index, rebuild
from ingest.submit import submit
from mappings.analysis.tokenizer import Tokenizer
from mappings.naming import IndexNames
from tests.own_worker import EnvWorker, indexed_ids, own_broker, status_of, wait_for, write_corpus

pytestmark = pytest.mark.worker

CHUNK_LINES = 10
HELD = 1  # the chunk held between parsing and writing


def test_a_chunk_writing_across_a_rebuild_lands_in_the_new_index(
    es: Elasticsearch, tokenizer: Tokenizer, tmp_path: Path
) -> None:
    corpus = tmp_path / "corpus.jsonl"
    expected = write_corpus(corpus, 3 * CHUNK_LINES, "lease")
    hold = tmp_path / "hold"
    hold.mkdir()
    (hold / f"hold-{HELD}").touch()
    with own_broker(es, tmp_path, "lease", ingest_chunk_lines=CHUNK_LINES) as settings:
        worker = EnvWorker(settings, tmp_path / "worker.log", {"CHAXIN_INGEST_TEST_HOLD": str(hold)})
        names = IndexNames(settings.index_prefix)
        try:
            worker.start()
            job_id, chunks = submit(settings, "csl", corpus)
            assert chunks == 3
            deadline = time.monotonic() + 60
            while not (hold / f"held-{HELD}").exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            assert (hold / f"held-{HELD}").exists(), worker.log_tail()
            assert wait_for(settings, job_id, done=chunks - 1, timeout=60).chunks_done == chunks - 1
            old = current_index(es, names.read_alias)

            def release_before_swap() -> None:
                # The copy has read the old index; let the held chunk go and give it every chance to
                # write before the swap: it either waits for the rebuild or (the old bug) writes now.
                (hold / f"hold-{HELD}").unlink()
                Session = session_factory(settings.effective_database_url)
                until = time.monotonic() + 30
                while time.monotonic() < until:
                    if "is being rebuilt; waiting" in worker.log_tail(20_000):
                        return
                    with Session() as session:
                        if chunk_done(session, job_id, HELD):
                            return
                    time.sleep(0.1)

            done: list[RebuildResult] = []
            rebuilding = threading.Thread(
                target=lambda: done.append(
                    rebuild(es, make_redis(settings), names, tokenizer, before_swap=release_before_swap)
                )
            )
            rebuilding.start()
            rebuilding.join(120)
            assert done, "the rebuild did not finish"
            status = wait_for(settings, job_id, done=chunks, timeout=90)
        finally:
            worker.stop()

        assert status.state == "done", f"{status}\n{worker.log_tail()}"
        result = done[0]
        assert result.old_index == old and current_index(es, names.read_alias) == result.new_index
        assert result.copied == 2 * CHUNK_LINES, "the copy saw the two chunks written before it"
        ids = indexed_ids(es, settings)
        held_chunk = expected[HELD * CHUNK_LINES : (HELD + 1) * CHUNK_LINES]
        assert set(held_chunk) <= set(ids), "records of the held chunk are missing from the new index"
        assert sorted(ids) == sorted(expected)
        assert (status.seen, status.indexed, status.failed) == (len(expected), len(expected), 0), status
        assert status_of(settings, job_id).chunks_done == chunks
