"""Report benchmark: a 科技查新报告 with 100 references, and a 收录引证报告 of 50 papers with 500
citing records, each as DOCX and PDF.

    .venv/bin/python bench/report.py [--references 100] [--papers 50] [--citing 500] [--runs 5] [--out FILE]

Builds the example case of `reports.sample` with N references (a quarter 密切相关 with excerpts,
a third 国外), then times, for the draft (watermarked) and the issued report (footer with number and
verification code):
  - the verification code (canonical serialisation + SHA-256),
  - render_docx (python-docx),
  - render_html alone (Jinja2), and render_pdf (Jinja2 + WeasyPrint layout + font subsetting).
Then the same size of report the way the platform makes it: a case in a fresh SQLite application
database with N documents (each added through `casework.evidence`, so with its GB/T 7714 reference
and snapshot), timed from `build_report` (reading the case) through DOCX and PDF.
The 收录引证报告 is the example of `reports.citation_sample` (引文清单 and h-index on, so every citing
record is printed), issued: timed are its snapshot (to_json and back), the verification code, DOCX,
HTML, PDF and the XLSX of its two tables.
The first PDF call of a process pays for fontconfig and font loading; it is reported separately as
"cold" and left out of the per-run statistics. Needs no services. Figures are printed and written to
bench/results/report-<timestamp>.json. Not a test: no assertions.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Run as a script, this file's directory comes first on sys.path, where bench/ingest.py would
# shadow the `ingest` package: put the repository root there instead, and import helpers as bench.*.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from bench import harness
from reports import (
    CitationReportData,
    render_citation_docx,
    render_citation_html,
    render_citation_pdf,
    render_citation_xlsx,
    render_docx,
    render_html,
    render_pdf,
    verification,
)
from reports.citation_sample import sample_citation_report
from reports.sample import sample_report


def timed(fn: Callable[[], Any], runs: int) -> tuple[list[tuple[float, float]], Any]:
    """Wall and CPU seconds of each run, and the last result."""
    times: list[tuple[float, float]] = []
    out: Any = None
    for _ in range(runs):
        start, cpu = time.perf_counter(), time.process_time()
        out = fn()
        times.append((time.perf_counter() - start, time.process_time() - cpu))
    return times, out


def stats(times: list[tuple[float, float]]) -> dict[str, float]:
    wall = [w for w, _ in times]
    return {
        "min_ms": round(min(wall) * 1000, 1),
        "median_ms": round(statistics.median(wall) * 1000, 1),
        "max_ms": round(max(wall) * 1000, 1),
        # On a shared machine the wall time follows the neighbours' load; the process's CPU time much less.
        "cpu_median_ms": round(statistics.median(c for _, c in times) * 1000, 1),
    }


def case_in_database(references: int, folder: Path) -> Callable[[], Any]:
    """A signed-ready case with `references` documents in a new SQLite database; returns its report builder."""
    from appdb import accounts
    from appdb.models import NoveltyCase
    from appdb.session import session_factory, upgrade
    from casework import core, evidence, service
    from casework.report import build_report
    from search.principal import Principal, Role

    url = f"sqlite:///{folder / 'bench-cases.sqlite3'}"
    upgrade(url)
    db = session_factory(url)
    with db.begin() as s:
        accounts.create_centre(s, code="BENCH", name="基准测试查新中心", province_code="52", institution_no="001",
                               pattern="most")  # fmt: skip
        user = accounts.create_user(s, username="bench-analyst", password="Bench-pass-1", centre="BENCH",
                                    roles=["analyst"])  # fmt: skip
        me = Principal(
            user_id=user.id, roles=frozenset({Role.analyst}), centre="BENCH", owner=f"user:{user.id}"
        )
        sample = sample_report(references=references)
        case = service.create_case(s, me, {
            "project_name_zh": sample.project_name_zh, "client_name": sample.client.name,
            "commission_date": sample.commission_date.isoformat(), "purpose": sample.purpose.value,
            "scope": sample.scope.value, "technical_points": sample.technical_points,
            "overall_conclusion": sample.overall_conclusion})  # fmt: skip
        for point in sample.novelty_points:
            service.add_point(s, me, case.id, point.text)
        labels = [p.label for p in core.points(s, case)]
        for n in range(references):
            record = {"id": f"bench-{n}", "title": f"石墨烯负极材料的制备与性能研究（{n + 1}）", "year": 2020,
                      "venue": "电源技术", "volume": "44", "issue": str(n % 12 + 1), "pages": f"{n + 1}-{n + 9}",
                      "authors": [{"name": "张伟"}, {"name": "李娜"}], "language": "zh",
                      "abstract": "采用化学气相沉积法制备石墨烯负极材料，提高了锂电池的循环稳定性。" * 3}  # fmt: skip
            relevance = "密切相关" if n % 4 == 0 else "一般相关"
            evidence.add_document(s, me, case.id, record, {"relevance": relevance, "points": labels,
                                                           "excerpt": "摘录" if n % 4 == 0 else ""})  # fmt: skip
        case_id = case.id

    def build() -> Any:
        with db() as s:
            return build_report(s, s.get_one(NoveltyCase, case_id))

    return build


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--references", type=int, default=100)
    parser.add_argument("--papers", type=int, default=50, help="收录引证: papers on the client's list")
    parser.add_argument("--citing", type=int, default=500, help="收录引证: citing records over all papers")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    draft = sample_report(references=args.references)
    issued = sample_report(references=args.references, draft=False)

    harness.log("cold PDF render (fontconfig and font loading)")
    start = time.perf_counter()
    render_pdf(draft)
    cold_ms = round((time.perf_counter() - start) * 1000, 1)

    rows: list[list[Any]] = []
    results: dict[str, Any] = {
        "references": args.references,
        "runs": args.runs,
        "machine": harness.machine_info(),
        "loadavg": os.getloadavg(),
        "pdf_cold_ms": cold_ms,
        "cases": {},
    }
    for name, report in (("draft", draft), ("issued", issued)):
        harness.log(f"{name}: {args.runs} runs each")
        case: dict[str, Any] = {}
        for step, fn in (
            ("verification code", lambda r=report: verification.compute_code(r)),
            ("DOCX", lambda r=report: render_docx(r)),
            ("HTML (template only)", lambda r=report: render_html(r)),
            ("PDF", lambda r=report: render_pdf(r)),
        ):
            times, out = timed(fn, args.runs)
            size_kb = round(len(out) / 1024, 1) if isinstance(out, (bytes, str)) else 0
            case[step] = {**stats(times), "size_kb": size_kb}
            rows.append([f"{name} {step}", *stats(times).values(), size_kb])
        results["cases"][name] = case

    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        harness.log(f"a case in the application database with {args.references} documents")
        build = case_in_database(args.references, Path(folder))
        case = {}
        for step, fn in (
            ("read case (build_report)", build),
            ("read case + DOCX", lambda: render_docx(build())),
            ("read case + PDF", lambda: render_pdf(build())),
        ):
            times, out = timed(fn, args.runs)
            size_kb = round(len(out) / 1024, 1) if isinstance(out, bytes) else 0
            case[step] = {**stats(times), "size_kb": size_kb}
            rows.append([f"case {step}", *stats(times).values(), size_kb])
        results["cases"]["from_database"] = case

    citation = sample_citation_report(papers=args.papers, citing=args.citing, draft=False)
    harness.log(f"收录引证 report, {args.papers} papers, {citation.total_citations} citing records")
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("snapshot to_json + from_json", lambda: CitationReportData.from_json(citation.to_json())),
        ("verification code", lambda: verification.compute_code(citation)),
        ("DOCX", lambda: render_citation_docx(citation)),
        ("HTML (template only)", lambda: render_citation_html(citation)),
        ("PDF", lambda: render_citation_pdf(citation)),
        ("XLSX (two tables)", lambda: render_citation_xlsx(citation)),
    ]
    case = {}
    for step, run in steps:
        times, out = timed(run, args.runs)
        size_kb = round(len(out) / 1024, 1) if isinstance(out, (bytes, str)) else 0
        case[step] = {**stats(times), "size_kb": size_kb}
        rows.append([f"收录引证 {step}", *stats(times).values(), size_kb])
    results["cases"]["citation"] = {"papers": args.papers, "citing": citation.total_citations, **case}
    results["peak_rss_mb"] = harness.peak_rss_mb()

    print(
        harness.table(
            ["step", "min ms", "median ms", "max ms", "CPU median ms", "size KB"],
            rows,
            title=(
                f"科技查新报告, {args.references} references; 收录引证报告, {args.papers} papers and "
                f"{citation.total_citations} citing records; {args.runs} runs (cold PDF: {cold_ms} ms)"
            ),
        )
    )
    print(f"peak RSS {results['peak_rss_mb']} MB, load average {results['loadavg']}")
    out = harness.write_json(args.out or harness.default_out("report"), results)
    print(f"written to {out}")


if __name__ == "__main__":
    main()
