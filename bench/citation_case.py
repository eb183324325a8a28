"""收录引证 case benchmark: counting a case on the real CSSCI export, live and at signing.

    .venv/bin/python bench/citation_case.py [--papers 10] [--runs 5] [--out FILE]

Ingests the CSSCI export of ../shared (318 papers with every reference) into a fresh index with the
ingest writer and links it as the worker does, then makes a 收录引证 case in a fresh SQLite database
with the N most cited papers of the set entered as pasted GB/T 7714 citations, and times:
  - the paste: parsing and matching N citations through the reference matcher (with candidates);
  - `casework.citation.assemble.view`: reading the N records, their citing records within the
    cut-off (one msearch), marks, counts and the CitationReportData (what every case page and
    `GET …/citation` costs);
  - the snapshot (`to_json`) and its verification code, as signing and issuing take them.
Needs Elasticsearch (ES_URL); figures are printed and written to bench/results/citation-case-<ts>.json.
Not a test: no assertions.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Run as a script, this file's directory comes first on sys.path, where bench/ingest.py would
# shadow the `ingest` package: put the repository root there instead.
ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from appdb import accounts  # noqa: E402
from appdb.session import session_factory, upgrade  # noqa: E402
from casework.citation import assemble, header, papers  # noqa: E402
from casework.record_policy import principal_of  # noqa: E402
from citeindex.link import link_records  # noqa: E402
from conf.clients import make_es  # noqa: E402
from conf.settings import Settings  # noqa: E402
from ingest.formats import cssci  # noqa: E402
from ingest.index_admin import create, drop_all  # noqa: E402
from ingest.writer import write_records  # noqa: E402
from mappings.analysis.tokenizer import Tokenizer  # noqa: E402
from mappings.model import Record  # noqa: E402
from mappings.naming import IndexNames  # noqa: E402
from reports import compute_code  # noqa: E402
from search.export.gbt7714 import format_entry  # noqa: E402
from search.service import SearchService  # noqa: E402

EXPORT = ROOT.parent / "shared" / "data" / "citations" / "cssci_smart_library" / "LY_20230630122752.txt"


def _time(fn: Callable[[], Any], runs: int) -> dict[str, float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return {"median_ms": round(statistics.median(times), 1), "min_ms": round(min(times), 1),
            "max_ms": round(max(times), 1)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--papers", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if not EXPORT.exists():
        sys.exit(f"the CSSCI export is not available: {EXPORT}")
    settings = Settings(CHAXIN_INDEX_PREFIX=f"bench-citecase-{os.getpid()}")
    es, tokenizer = make_es(settings), Tokenizer()
    names = IndexNames(settings.index_prefix)
    records = [r for r in cssci.parse_file(EXPORT, now=datetime.now(UTC), version=1) if isinstance(r, Record)]
    create(es, names, tokenizer)
    try:
        write_records(es, names.write_alias, [(r.id, r) for r in records], tokenizer, refresh=True)
        link_records(es, names.write_alias, [r.id for r in records], tokenizer)
        es.indices.refresh(index=names.read_alias)
        top = es.search(index=names.read_alias, size=0,
                        aggs={"c": {"terms": {"field": "citations.cites", "size": args.papers}}})  # fmt: skip
        ids = [b["key"] for b in top["aggregations"]["c"]["buckets"]]
        lines = [format_entry(es.get(index=names.read_alias, id=i)["_source"]) for i in ids]
        search = SearchService(es, names, tokenizer)
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/bench.db"
            upgrade(url)
            db = session_factory(url)
            with db.begin() as s:
                accounts.create_centre(s, code="A", name="基准分中心", province_code="52", institution_no="001",
                                       pattern="most")  # fmt: skip
                user = accounts.create_user(s, username="bench", password="Bench-pass-1", centre="A",
                                            roles=["analyst"])  # fmt: skip
                me = principal_of(s, user.id)
                assert me is not None
                case = header.create_case(s, me, {"client_name": "基准", "purpose": "职称评审",
                                                  "cutoff_date": datetime.now(UTC).date().isoformat(),
                                                  "databases": ["CSSCI"]})  # fmt: skip
                case_id = case.id
            figures: dict[str, Any] = {}

            def paste() -> None:
                with db() as s:  # rolled back: every run pastes into the same empty list
                    papers.add_pasted(s, me, case_id, search, "\n".join(lines))
                    s.rollback()

            figures["paste_and_match"] = _time(paste, args.runs)
            with db.begin() as s:
                papers.add_pasted(s, me, case_id, search, "\n".join(lines))
            with db.begin() as s:
                case = s.get(type(case), case_id)
                view = assemble.view(s, case, search)
                citers = view.report.total_citations
                figures["view"] = _time(lambda: assemble.view(s, case, search), args.runs)
                report = view.report
                figures["snapshot_and_code"] = _time(lambda: compute_code(type(report).from_json(report.to_json())),
                                                     args.runs)  # fmt: skip
    finally:
        drop_all(es, names)
    out = {"papers": len(lines), "citing_records": citers, "runs": args.runs, "load": os.getloadavg(), **figures}
    print(json.dumps(out, ensure_ascii=False, indent=2))
    target = args.out or ROOT / "bench" / "results" / f"citation-case-{int(time.time())}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(out, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
