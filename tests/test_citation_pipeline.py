"""Citation linking through the real worker: ingest queues the link task, counts follow, relink.

Two JATS articles arrive in separate jobs, the citing one first: the cited one links on arrival
(found by the citing record's `ix.ref_keys`), and its stored count follows through the dirty set and
the refresh task. `chaxin citations relink --wait` then recomputes everything and, run again,
changes nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch

from conf.settings import REPO_ROOT, Settings
from ingest.submit import submit
from mappings.analysis.tokenizer import Tokenizer
from mappings.naming import IndexNames
from search.service import SearchService
from tests.test_ingest_pipeline import wait_done

ARTICLE = """<?xml version="1.0" encoding="UTF-8"?>
<article xmlns:xlink="http://www.w3.org/1999/xlink" article-type="research-article">
<front><journal-meta><journal-title-group><journal-title>{venue}</journal-title></journal-title-group></journal-meta>
<article-meta><article-id pub-id-type="doi">{doi}</article-id>
<title-group><article-title>{title}</article-title></title-group>
<contrib-group>{authors}</contrib-group>
<pub-date pub-type="epub"><year>{year}</year></pub-date><volume>{volume}</volume><fpage>{fpage}</fpage>
</article-meta></front>
<back><ref-list>{refs}</ref-list></back></article>
"""
AUTHOR = '<contrib contrib-type="author"><name><surname>{0}</surname><given-names>{1}</given-names></name></contrib>'
REF = """<ref id="r{n}"><element-citation publication-type="journal">
<person-group person-group-type="author"><name><surname>{surname}</surname><given-names>{given}</given-names></name></person-group>
<article-title>{title}</article-title><source>{venue}</source><year>{year}</year><volume>{volume}</volume>
<fpage>{fpage}</fpage>{doi}</element-citation></ref>"""


def article(path: Path, *, doi: str, title: str, authors: list[tuple[str, str]], year: int,
            refs: list[dict[str, Any]] = ()) -> Path:  # type: ignore[assignment]  # fmt: skip
    body = ARTICLE.format(
        venue="Journal of Testing", doi=doi, title=title, year=year, volume=7, fpage=100,
        authors="".join(AUTHOR.format(*a) for a in authors),
        refs="".join(
            REF.format(n=i, doi=f'<pub-id pub-id-type="doi">{r["doi"]}</pub-id>' if r.get("doi") else "", surname=r["surname"], given=r["given"], title=r["title"], venue="J Test", year=r["year"], volume=r.get("volume", 7), fpage=r.get("fpage", 100))
            for i, r in enumerate(refs)
        ),
    )  # fmt: skip
    path.write_text(body, encoding="utf-8")
    return path


def eventually(check: Callable[[], Any], timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.5)
    raise AssertionError(f"not reached in {timeout}s: {last}")


def doc(es: Elasticsearch, settings: Settings, rid: str) -> dict[str, Any]:
    return dict(es.get(index=IndexNames(settings.index_prefix).read_alias, id=rid)["_source"])


def relink(settings: Settings) -> str:
    env = {
        **os.environ, "CHAXIN_INDEX_PREFIX": settings.index_prefix, "DATABASE_URL": settings.effective_database_url,
        "REDIS_URL": settings.effective_redis_url, "ES_URL": settings.effective_es_url,
    }  # fmt: skip
    out = subprocess.run(
        [sys.executable, "-m", "chaxin.cli", "citations", "relink", "--wait"],
        env=env, capture_output=True, text=True, timeout=300, cwd=REPO_ROOT, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_a_late_arrival_is_linked_counted_and_relink_changes_nothing(
    pipeline: Settings, es: Elasticsearch, tokenizer: Tokenizer, tmp_path: Path
) -> None:
    tag = pipeline.index_prefix[-8:]
    cited_doi, citing_doi = f"10.5555/cited.{tag}", f"10.5555/citing.{tag}"
    citing = article(
        tmp_path / "citing.xml", doi=citing_doi, title=f"Citation linking in practice {tag}", year=2022,
        authors=[("Zhang", "San"), ("Wang", "Wu")],
        refs=[
            {"surname": "Li", "given": "Si", "title": f"Blocking keys for reference matching {tag}", "year": 2019,
             "doi": cited_doi.upper()},
            {"surname": "Li", "given": "Si", "title": f"Blocking keys for reference matching {tag}", "year": 2019},
            {"surname": "Nobody", "given": "N", "title": "A paper that is not in the index at all", "year": 2001},
        ],
    )  # fmt: skip
    wait_done(pipeline, submit(pipeline, "jats", citing)[0])
    names = IndexNames(pipeline.index_prefix)
    es.indices.refresh(index=names.read_alias)
    citing_id = es.search(index=names.read_alias, query={"term": {"doi": citing_doi}})["hits"]["hits"][0][
        "_id"
    ]
    assert "cites" not in doc(es, pipeline, citing_id).get("citations", {})

    cited = article(tmp_path / "cited.xml", doi=cited_doi, title=f"Blocking keys for reference matching {tag}",
                    year=2019, authors=[("Li", "Si"), ("Zhang", "S")])  # fmt: skip
    wait_done(pipeline, submit(pipeline, "jats", cited)[0])
    es.indices.refresh(index=names.read_alias)
    cited_id = es.search(index=names.read_alias, query={"term": {"doi": cited_doi}})["hits"]["hits"][0]["_id"]

    # The citing record, written first, is linked when the cited one arrives; both references, once.
    state = eventually(lambda: doc(es, pipeline, citing_id).get("citations"))
    assert state["cites"] == [cited_id]
    assert state["cites_self"] == [cited_id], "Zhang San and Zhang S: a shared author"
    assert [r.get("linked_id") for r in doc(es, pipeline, citing_id)["references"]] == [
        cited_id,
        cited_id,
        None,
    ]
    # "Who cites X" is one term query.
    es.indices.refresh(index=names.read_alias)
    who = es.search(index=names.read_alias, query={"term": {"citations.cites": cited_id}})
    assert [h["_id"] for h in who["hits"]["hits"]] == [citing_id]
    counts = eventually(lambda: doc(es, pipeline, cited_id).get("citations", {}).get("cited_by_count") == 1)
    assert counts
    assert doc(es, pipeline, cited_id)["citations"]["cited_by_others"] == 0
    # A hit reads the stored counts: it shows the citation once the refresh task has written them and
    # Elasticsearch's own refresh has made that write searchable (nothing forces either here).
    service = SearchService(es, names, tokenizer)

    def hit_count() -> tuple[int, int] | None:
        hits = [h for h in service.simple(f"Blocking keys {tag}")["hits"] if h["id"] == cited_id]
        found = (hits[0]["cited_by_count"], hits[0]["cited_by_others"]) if hits else None
        return found if found == (1, 0) else None

    assert eventually(hit_count) == (1, 0)

    # The citing file again (a re-ingest): nothing is counted twice.
    wait_done(pipeline, submit(pipeline, "jats", citing)[0])
    time.sleep(3)
    assert doc(es, pipeline, cited_id)["citations"]["cited_by_count"] == 1

    first = relink(pipeline)
    assert " done: seen " in first and "failed 0" in first, first
    second = relink(pipeline)
    assert ", indexed 0," in second and "failed 0" in second, second
    assert doc(es, pipeline, citing_id)["citations"]["cites"] == [cited_id]
