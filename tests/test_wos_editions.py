"""WoS editions (WE) and accession numbers (UT) kept per source, and the 收录 they prove.

histcite_savedrecs_tab.txt (a WoS tab-delimited export in ../shared, read at test time, never copied)
names its citation indexes in WE for every record; the plain-text export in ../shared has no WE, so its
records prove plain "WoS", never a guessed SCIE. Counts below are counted from the raw WE column by a
different method than the parser's (the last bracketed code of each `; ` part).
"""

from __future__ import annotations

import csv
import html
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from elasticsearch import Elasticsearch

from casework.citation.indexing import indexing
from conf.settings import Settings
from ingest.formats import tagged
from ingest.submit import submit
from mappings.model import Record
from mappings.naming import IndexNames
from tests.conftest import shared_file
from tests.test_ingest_pipeline import wait_done

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def tab_path() -> Path:
    return shared_file("citations", "wos_exports", "histcite_savedrecs_tab.txt")


def parsed(path: Path) -> list[Record]:
    return [r for r in tagged.parse_file(path, now=NOW, version=1) if isinstance(r, Record)]


def raw_editions(path: Path) -> dict[str, tuple[str, ...]]:
    """UT → the WE codes, read straight from the columns."""
    csv.field_size_limit(10**9)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    return {
        row["UT"].strip(): tuple(p.rsplit("(", 1)[1].rstrip(") ") for p in html.unescape(row["WE"]).split("; ") if "(" in p)
        for row in rows
        if row.get("UT")
    }


def test_every_tab_record_keeps_its_editions_and_ut() -> None:
    records = parsed(tab_path())
    raw = raw_editions(tab_path())
    assert len(records) == len(raw) == 300
    for r in records:
        (source,) = r.sources
        assert source.accession and source.accession.startswith("WOS:")
        assert tuple(source.editions) == raw[source.accession], source.accession
    combos = Counter(tuple(r.sources[0].editions) for r in records)
    assert combos[("CPCI-S",)] == 92
    assert combos[("SCI-EXPANDED",)] == 76
    assert combos[("SSCI",)] == 38
    assert combos[("SCI-EXPANDED", "SSCI")] == 37
    assert combos[("CPCI-S", "CPCI-SSH")] == 29


def test_editions_decide_the_indexes_and_unknown_ones_stay_plain_wos() -> None:
    both = {"doc_type": "journal_article", "id": "x", "sources": [
        {"source": "wos", "source_id": "10.1/x", "accession": "WOS:000001", "editions": ["SCI-EXPANDED", "SSCI"]},
        {"source": "cssci", "source_id": "C1", "accession": None, "editions": []},
    ]}  # fmt: skip
    assert [(e.database, e.accession) for e in indexing(both)] == [
        ("SCIE", "WOS:000001"), ("SSCI", "WOS:000001"), ("CSSCI", "C1"),
    ]  # fmt: skip
    conference = {"id": "y", "sources": [{"source": "wos", "source_id": "y", "editions": ["CPCI-S", "CPCI-SSH"]}]}
    assert [e.database for e in indexing(conference)] == ["CPCI"]
    emerging = {"id": "z", "sources": [{"source": "wos", "source_id": "z", "editions": ["ESCI"]}]}
    assert [e.database for e in indexing(emerging)] == ["WoS"]
    # Before mapping v6 (no editions kept) a WoS source is plain WoS.
    old = {"id": "w", "doi": "10.1/w", "sources": [{"source": "wos", "source_id": "10.1/w"}]}
    assert [(e.database, e.accession) for e in indexing(old)] == [("WoS", "")]


def test_the_pipeline_stores_editions_and_the_case_reads_them(pipeline: Settings, es: Elasticsearch) -> None:
    path = tab_path()
    wanted = next(r for r in parsed(path) if tuple(r.sources[0].editions) == ("SCI-EXPANDED", "SSCI"))
    wait_done(pipeline, submit(pipeline, "wos", path)[0])
    doc = es.get(index=IndexNames(pipeline.index_prefix).read_alias, id=wanted.id)["_source"]
    (source,) = [s for s in doc["sources"] if s["source"] == "wos"]
    assert source["editions"] == ["SCI-EXPANDED", "SSCI"]
    assert source["accession"] == wanted.sources[0].accession
    assert [e.database for e in indexing(doc)] == ["SCIE", "SSCI"]
    assert {e.accession for e in indexing(doc)} == {wanted.sources[0].accession}

