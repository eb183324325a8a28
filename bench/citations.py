"""Reference matching quality on the biblio-glutton set, and reference parsing speed.

    .venv/bin/python bench/citations.py [--limit N] [--corpus NAME ...] [--misses FILE] [--out PATH]

Quality: the cited corpus is built from the set's structured fields (one record per distinct DOI:
atitle, firstAuthor, jtitle, volume, firstPage; the set has no year) in a real Elasticsearch index
with the project's mapping, plus distractor records: the 2,000 CSL demo records, the JATS articles
of ../shared/data/jats and every titled reference of those articles (biomedical papers, the
glutton set's neighbours). The raw strings, their DOIs stripped, then go through
`search.reference_match.match_references`, the engine of `POST /api/v1/references/match`
(parsing, candidate msearch under the access policy, decision). Three corpora:
- `targets`: the cited records only;
- `targets+distractors`: the same plus the distractors;
- `half+distractors`: a random half of the targets removed, so half the strings cite nothing the
  index holds; any link for them is wrong. This is the case that matters against a corpus the size
  of Crossref, where most near-misses exist and the cited record may not.
Precision = right links / links made, recall = right links / strings whose target is indexed.

Speed: references parsed per second, English (the glutton strings) and Chinese (the CSSCI export's
reference lines), single process.

Anchors (against all of Crossref, so not directly comparable): biblio-glutton P 97.3 / R 95.5 /
F1 96.4, Crossref API F1 95.7. Goal here: P >= 99 with F1 >= 97.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness import REPO_ROOT, default_out, log, new_prefix, table, write_json

# bench/ingest.py would shadow the ingest package this script reads the demo corpus with.
sys.path.insert(0, str(REPO_ROOT))

SHARED = REPO_ROOT.parent / "shared" / "data"
GLUTTON = SHARED / "citations" / "glutton_doi_matching" / "references-doi-matching.json.gz"
CSSCI = SHARED / "citations" / "cssci_smart_library" / "LY_20230630122752.txt"
JATS = SHARED / "jats"
CSL_DEMO = REPO_ROOT / "data" / "demo" / "csl_demo.jsonl.gz"
NOW = datetime(2026, 12, 1, tzinfo=UTC)
CORPORA = ("targets", "targets+distractors", "half+distractors")


def glutton() -> list[dict[str, Any]]:
    with gzip.open(GLUTTON, "rt", encoding="utf-8") as f:
        data: list[dict[str, Any]] = json.load(f)
    return data


def strip_doi(raw: str) -> str:
    from mappings.citations.doi import DOI_IN_TEXT

    # Stripped the way the parser finds them, line breaks inside included, so none is left to match on.
    text = DOI_IN_TEXT.sub("", raw)
    return re.sub(r"\(?\b(?:doi|DOI)\s*:?\s*\)?", "", text).strip()


def target_records(entries: list[dict[str, Any]]) -> tuple[list[Any], dict[str, str]]:
    from mappings.citations.doi import normalize_doi
    from mappings.model import Author, DocType, Record

    records, by_doi = [], {}
    for e in entries:
        doi = normalize_doi(e["doi"])
        if not doi or doi in by_doi or not (e.get("atitle") or "").strip():
            continue
        rid = f"gl-{len(records) + 1}"
        by_doi[doi] = rid
        records.append(
            Record(
                id=rid,
                source="glutton",
                source_id=doi,
                doc_type=DocType.journal_article,
                title=e["atitle"].strip(),
                authors=[Author(name=e["firstAuthor"], order=1)] if e.get("firstAuthor") else [],
                venue=e.get("jtitle"),
                volume=e.get("volume"),
                pages=e.get("firstPage"),
                doi=doi,
                ingested_at=NOW,
                version=1,
            )
        )
    return records, by_doi


def distractors(gold_dois: set[str]) -> list[Any]:
    from ingest.formats import csl, jats
    from mappings.citations.doi import normalize_doi
    from mappings.model import Author, DocType, Record

    out: list[Any] = []
    with gzip.open(CSL_DEMO, "rt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                out.append(csl.parse_line(line, now=NOW, version=1))
    n = 0
    for path in sorted(JATS.rglob("*.xml")):
        for rec in jats.parse_file(path, now=NOW, version=1):
            if not isinstance(rec, Record):
                continue
            out.append(rec)
            for ref in rec.references:
                doi = normalize_doi(ref.doi) if ref.doi else None
                if not ref.title or (doi and doi in gold_dois):
                    continue
                n += 1
                out.append(
                    Record(
                        id=f"jr-{n}",
                        source="jats-ref",
                        source_id=f"jr-{n}",
                        doc_type=DocType.journal_article,
                        title=ref.title,
                        authors=[Author(name=a, order=i) for i, a in enumerate(ref.authors[:20], 1) if a],
                        venue=ref.venue,
                        year=ref.year if ref.year and 1000 <= ref.year <= 2100 else None,
                        volume=ref.volume,
                        pages=ref.pages,
                        doi=doi,
                        ingested_at=NOW,
                        version=1,
                    )
                )
    return out


def index_records(es: Any, names: Any, tokenizer: Any, records: list[Any]) -> None:
    from elasticsearch.helpers import bulk

    from ingest.document import index_document

    def actions() -> Iterator[dict[str, Any]]:
        for rec in records:
            doc = index_document(rec, tokenizer)
            yield {"_index": names.write_alias, "_id": rec.id, "_source": doc}

    bulk(es, actions(), chunk_size=1000, request_timeout=120)
    es.indices.refresh(index=names.write_alias)


def write_misses(
    path: Path, es: Any, names: Any, records: list[Any], queries: list[tuple[str, str | None]],
    matches: list[Any],
) -> None:
    """One JSON line per wrong link or missed target: the string, what parsing read, the gold record,
    whether retrieval found it, and how the scorer judged it (for studying, not for the figures)."""
    from mappings.citations.candidates import candidate_query, second_query
    from mappings.citations.score import score
    from search.reference_match import parsed_fields

    by_id = {r.id: r for r in records}
    wrong = [
        (raw, gold, m) for (raw, gold), m in zip(queries, matches, strict=True)
        if m.record_id != gold and (m.record_id is not None or (gold is not None and gold in by_id))
    ]  # fmt: skip
    with path.open("w", encoding="utf-8") as f:
        for start in range(0, len(wrong), 200):
            chunk = wrong[start : start + 200]
            searches: list[dict[str, Any]] = []
            for _, _, m in chunk:
                second = second_query(m.parsed) or {"query": {"match_none": {}}}
                searches.extend(({}, {**candidate_query(m.parsed), "size": 20, "_source": False}))
                searches.extend(({}, {**second, "size": 20, "_source": False}))
            found = es.msearch(index=names.read_alias, searches=searches).body["responses"]
            for k, (raw, gold, m) in enumerate(chunk):
                ids = [h["_id"] for resp in found[2 * k : 2 * k + 2] for h in resp.get("hits", {}).get("hits", [])]
                rec = by_id.get(gold) if gold else None
                row = {
                    "kind": "wrong" if m.record_id is not None else "missed",
                    "raw": raw,
                    "parsed": parsed_fields(m.parsed),
                    "linked": m.record_id,
                    "linked_score": round(m.score, 3),
                    "gold": gold,
                    "gold_rank": ids.index(gold) if gold in ids else None,  # 20+: found by the second search
                }
                if rec is not None:
                    s, why = score(m.parsed, rec)
                    row["gold_record"] = rec.model_dump(
                        include={"title", "venue", "volume", "pages", "year"}, exclude_none=True
                    ) | {"authors": [a.name for a in rec.authors]}
                    row["gold_score"], row["gold_reason"] = round(s, 3), why
                if m.record_id and m.record_id in by_id:
                    other = by_id[m.record_id]
                    row["linked_record"] = other.model_dump(
                        include={"title", "venue", "volume", "pages", "year"}, exclude_none=True
                    ) | {"authors": [a.name for a in other.authors]}
                    row["linked_reason"] = score(m.parsed, other)[1]
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
    log(f"wrote {len(wrong)} misses to {path}")


def run_corpus(
    label: str, es: Any, tokenizer: Any, records: list[Any], queries: list[tuple[str, str | None]],
    misses: Path | None = None,
) -> dict[str, Any]:
    from ingest.index_admin import create, drop_all
    from mappings.citations.parse import MAX_RAW
    from mappings.model import Reference
    from mappings.naming import IndexNames
    from search.reference_match import MAX_REFERENCES, ReferenceMatch, match_references

    names = IndexNames(new_prefix("cite"))
    create(es, names, tokenizer)
    try:
        t0 = time.perf_counter()
        index_records(es, names, tokenizer, records)
        log(f"{label}: indexed {len(records)} records in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        # The API refuses a string over MAX_RAW (400); such a string counts as unmatched here.
        matches: list[Any] = [ReferenceMatch(None, 0.0, Reference(raw=raw[:MAX_RAW]), None) for raw, _ in queries]
        sendable = [i for i, (raw, _) in enumerate(queries) if len(raw) <= MAX_RAW]
        for start in range(0, len(sendable), MAX_REFERENCES):
            part = sendable[start : start + MAX_REFERENCES]
            for i, m in zip(part, match_references(es, names, [queries[i][0] for i in part]), strict=True):
                matches[i] = m
        seconds = time.perf_counter() - t0
        if misses is not None:
            write_misses(misses, es, names, records, queries, matches)
    finally:
        drop_all(es, names)
    predicted = [m.record_id for m in matches]
    indexed = {r.id for r in records}
    right = sum(1 for (_, gold), p in zip(queries, predicted, strict=True) if p is not None and p == gold)
    made = sum(1 for p in predicted if p is not None)
    present = sum(1 for _, gold in queries if gold is not None and gold in indexed)
    absent_linked = sum(
        1
        for (_, gold), p in zip(queries, predicted, strict=True)
        if p is not None and (gold is None or gold not in indexed)
    )
    precision = right / made if made else 0.0
    recall = right / present if present else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "corpus": label, "records": len(records), "strings": len(queries), "targets_indexed": present,
        "too_long": len(queries) - len(sendable), "links": made, "right": right, "wrong": made - right, "linked_without_target": absent_linked,
        "precision": round(100 * precision, 2), "recall": round(100 * recall, 2), "f1": round(100 * f1, 2),
        "strings_per_s": round(len(queries) / seconds, 1),
    }  # fmt: skip


def cssci_reference_lines() -> list[str]:
    text = CSSCI.read_text(encoding="utf-8-sig")
    refs, in_refs = [], False
    for line in text.splitlines():
        if line.startswith("【"):
            in_refs = line.startswith("【参考文献】")
        elif in_refs and re.match(r"\d+\.", line):
            refs.append(line)
    return refs


def parse_speed(strings: list[str], repeat: int) -> float:
    from mappings.citations.parse import parse_reference

    for s in strings[:200]:
        parse_reference(s)  # warm caches (pinyin, regexes)
    t0 = time.perf_counter()
    for _ in range(repeat):
        for s in strings:
            parse_reference(s)
    return len(strings) * repeat / (time.perf_counter() - t0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--limit", type=int, default=0, help="use only the first N glutton entries (0: all)")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--corpus", action="append", choices=CORPORA, default=None,
                    help="run only this corpus (repeatable; default: all three)")  # fmt: skip
    ap.add_argument("--misses", type=Path, default=None,
                    help="write the wrong and missed strings of targets+distractors (JSON lines) here")  # fmt: skip
    args = ap.parse_args()
    if not GLUTTON.exists():
        print(f"glutton set not found: {GLUTTON}", file=sys.stderr)
        return 1

    from conf.clients import make_es
    from conf.settings import Settings
    from mappings.analysis.tokenizer import get_tokenizer
    from mappings.citations.doi import normalize_doi

    entries = glutton()
    if args.limit:
        entries = entries[: args.limit]
    es = make_es(Settings())
    tokenizer = get_tokenizer("rjieba")
    targets, by_doi = target_records(entries)
    queries = [(strip_doi(e["reference"]), by_doi.get(normalize_doi(e["doi"]) or "")) for e in entries]
    extra = distractors(set(by_doi))
    log(f"{len(entries)} strings, {len(targets)} target records, {len(extra)} distractors")
    rng = random.Random(args.seed)
    half = [r for r in targets if rng.random() < 0.5]
    corpora = {"targets": targets, "targets+distractors": targets + extra, "half+distractors": half + extra}
    rows = [
        run_corpus(label, es, tokenizer, corpora[label], queries,
                   args.misses if label == "targets+distractors" else None)  # fmt: skip
        for label in (args.corpus or CORPORA)
    ]
    cols = ["corpus", "records", "strings", "too_long", "targets_indexed", "links", "right", "wrong",
            "linked_without_target", "precision", "recall", "f1", "strings_per_s"]  # fmt: skip
    print("Reference matching on the biblio-glutton set (DOIs stripped from the strings)")
    print(table(cols, [[row[c] for c in cols] for row in rows]))
    print("anchors, against all of Crossref: biblio-glutton P 97.3 / R 95.5 / F1 96.4; Crossref API F1 95.7")

    english = [e["reference"] for e in entries]
    chinese = cssci_reference_lines() if CSSCI.exists() else []
    speed = {"english_per_s": round(parse_speed(english, 1), 0)}
    if chinese:
        speed["chinese_per_s"] = round(parse_speed(chinese, 3), 0)
    print(f"\nreferences parsed per second: English {speed['english_per_s']:.0f} ({len(english)} glutton strings)"
          + (f", Chinese {speed['chinese_per_s']:.0f} ({len(chinese)} CSSCI strings)" if chinese else ""))  # fmt: skip
    out = write_json(args.out or default_out("citations"), {"matching": rows, "parsing": speed})
    log(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
