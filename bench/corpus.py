"""A synthetic CSL corpus made by recombining real titles, abstract sentences and keywords.

    .venv/bin/python bench/corpus.py --records 200000 --out /tmp/bench.jsonl

Source: ../shared/data/csl/csl_benchmark_2000_joined.jsonl when present, else the demo copy
in the repo (data/demo/csl_demo.jsonl.gz); both hold id, title, abstract, keywords, category, discipline.
The output is deterministic for a given source, record count and seed.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Run as a script, this file's directory comes first on sys.path, where bench/ingest.py would
# shadow the `ingest` package: put the repository root there instead, and import helpers as bench.*.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from bench.harness import REPO_ROOT, log

SHARED_SOURCE = REPO_ROOT.parent / "shared" / "data" / "csl" / "csl_benchmark_2000_joined.jsonl"
DEMO_SOURCE = REPO_ROOT / "data" / "demo" / "csl_demo.jsonl.gz"

_STOPS = "。；;！？!?"
MIN_SENTENCE_CHARS = 8
MIN_TITLE_CHARS = 6


def default_source() -> Path:
    return SHARED_SOURCE if SHARED_SOURCE.is_file() else DEMO_SOURCE


def load_source(path: Path) -> list[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:  # type: ignore[operator]
        return [json.loads(line) for line in fh if line.strip()]


def split_sentences(text: str) -> list[str]:
    """Cut after 。；！？ (and ASCII ; ! ?) and after '.' unless it sits between two digits (3.5)."""
    out: list[str] = []
    start = 0
    n = len(text)
    for i, ch in enumerate(text):
        cut = ch in _STOPS
        if ch == ".":
            between_digits = 0 < i < n - 1 and text[i - 1].isdigit() and text[i + 1].isdigit()
            cut = not between_digits
        if cut:
            out.append(text[start : i + 1])
            start = i + 1
    if start < n:
        out.append(text[start:])
    return [s.strip() for s in out if len(s.strip()) >= MIN_SENTENCE_CHARS]


@dataclass
class Pools:
    titles: list[str]
    sentences: list[str]
    keywords: list[str]
    pairs: list[tuple[str, str]]
    source: str = ""
    source_records: int = 0
    stats: dict[str, Any] = field(default_factory=dict)


def build_pools(records: list[dict[str, Any]], source: str) -> Pools:
    titles = sorted(
        {r["title"].strip() for r in records if isinstance(r.get("title"), str) and r["title"].strip()}
    )
    sentences: list[str] = []
    seen: set[str] = set()
    for r in records:
        for s in split_sentences(r.get("abstract") or ""):
            if s not in seen:
                seen.add(s)
                sentences.append(s)
    keywords = sorted(
        {k.strip() for r in records for k in (r.get("keywords") or []) if isinstance(k, str) and k.strip()}
    )
    pairs = sorted({(r.get("category") or "", r.get("discipline") or "") for r in records})
    pairs = [p for p in pairs if p[0] and p[1]] or [("工学", "计算机科学与技术")]
    return Pools(titles, sentences, keywords, pairs, source=source, source_records=len(records))


def _cut(rng: random.Random, length: int, lo: float, hi: float) -> int:
    a = max(1, int(length * lo))
    b = max(a, int(length * hi))
    return rng.randint(a, b)


def make_title(rng: random.Random, titles: list[str]) -> str:
    """Head of one real title + tail of another (80%), or one title with a middle piece dropped (20%)."""
    a = rng.choice(titles)
    if rng.random() < 0.8 or len(a) < 10:
        b = rng.choice(titles)
        return (a[: _cut(rng, len(a), 0.3, 0.7)] + b[_cut(rng, len(b), 0.3, 0.7) :]).strip()
    i = _cut(rng, len(a), 0.25, 0.5)
    j = rng.randint(i + 2, max(i + 2, int(len(a) * 0.8)))
    return (a[:i] + a[j:]).strip()


def synthesize(pools: Pools, n: int, seed: int) -> list[dict[str, Any]]:
    from mappings.analysis.normalize import normalize

    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    # Chaxin derives a CSL record's ID from its normalised title: titles must be unique,
    # or records would silently collapse into one document.
    used: set[str] = set()
    retries = 0
    for no in range(1, n + 1):
        while True:
            title = make_title(rng, pools.titles)
            key = normalize(title)
            if len(key) >= MIN_TITLE_CHARS and key not in used:
                used.add(key)
                break
            retries += 1
            if retries > 50 * n + 1000:
                raise RuntimeError("cannot make enough distinct titles from this source")
        abstract = "".join(rng.sample(pools.sentences, rng.randint(3, 8)))
        keywords = rng.sample(pools.keywords, min(len(pools.keywords), rng.randint(3, 6)))
        category, discipline = rng.choice(pools.pairs)
        out.append({
            "id": f"bench-{no:06d}", "title": title, "abstract": abstract, "keywords": keywords,
            "category": category, "discipline": discipline,
        })  # fmt: skip
    pools.stats["title_retries"] = retries
    return out


def write_jsonl(records: list[dict[str, Any]], path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r, ensure_ascii=False))
            fh.write("\n")
    return path.stat().st_size


def build_corpus(
    n: int, seed: int, out: Path, source: Path | None = None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    src = source or default_source()
    pools = build_pools(load_source(src), str(src))
    records = synthesize(pools, n, seed)
    size = write_jsonl(records, out)
    info = {
        "source": pools.source,
        "source_records": pools.source_records,
        "pool_titles": len(pools.titles),
        "pool_sentences": len(pools.sentences),
        "pool_keywords": len(pools.keywords),
        "pool_category_discipline_pairs": len(pools.pairs),
        "records": len(records),
        "seed": seed,
        "path": str(out),
        "bytes": size,
        "avg_title_chars": round(sum(len(r["title"]) for r in records) / max(1, len(records)), 1),
        "avg_abstract_chars": round(sum(len(r["abstract"]) for r in records) / max(1, len(records)), 1),
        "avg_keywords": round(sum(len(r["keywords"]) for r in records) / max(1, len(records)), 2),
        **pools.stats,
    }
    return records, info


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--records", type=int, default=200_000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--source", type=Path, default=None)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    _, info = build_corpus(args.records, args.seed, args.out, args.source)
    log(f"wrote {info['records']:,} records ({info['bytes'] / 1e6:.1f} MB) to {info['path']}")
    print(json.dumps(info, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
