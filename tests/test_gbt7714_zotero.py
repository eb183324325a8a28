"""Every Zotero record of every type in ../shared/data/zotero-translators-cn, formatted in both GB/T 7714
editions and checked against the rules of its type (issue 17). The records are AGPL and stay in
../shared: they are read at test time, never copied; the test skips when ../shared is absent."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from ingest.errors import RecordError
from ingest.formats import zotero
from search.export.fields import is_chinese
from search.export.gbt7714 import EDITIONS, edition_statement, format_entry
from search.export.names import personal_name
from tests.conftest import shared_file

NOW = datetime(2026, 11, 1, tzinfo=UTC)
CODES = {"journal_article": "[J]", "newspaper_article": "[N]", "thesis": "[D]", "book": "[M]",
         "book_chapter": "[M]", "conference_paper": "[C]", "patent": "[P]", "standard": "[S]",
         "tech_report": "[R]", "report": "[R]", "webpage": "[EB/OL]", "other": "[Z]"}  # fmt: skip
_MARKUP = re.compile(r"</?[a-zA-Z][^<>]*>")
_DOTTED = re.compile(r"[\u4e00-\u9fff]\.[\u4e00-\u9fff]")  # "设备.光电": a full stop between Chinese words


@pytest.fixture(scope="module", autouse=True)
def services() -> None:
    """Overrides conftest's session fixture that starts Elasticsearch and Redis: nothing here needs them."""


def _items() -> list[tuple[str, dict[str, Any]]]:
    lines = shared_file("zotero-translators-cn", "test_cases.jsonl").read_text(encoding="utf-8").splitlines()
    out = []
    for line in lines:
        case = json.loads(line)
        if isinstance(case["items"], list):
            translator = case["source_translator"]
            out += [(translator, i) for i in case["items"] if i.get("itemType") not in ("note", "attachment")]
    return out


def _names(item: dict[str, Any], roles: set[str]) -> list[str]:
    return [zotero._name(c) for c in item.get("creators", []) if c.get("creatorType") in roles]


def _responsibility(entry: str) -> str:
    """The part before the title: everything up to the first ". " (names end in initials, not dots)."""
    return entry.split(". ", 1)[0]


def _check(item: dict[str, Any], rec: dict[str, Any], edition: str, entry: str) -> list[str]:
    kind, problems = rec["doc_type"], []
    chinese = is_chinese(rec)
    if CODES[kind] not in entry:
        problems.append(f"type code {CODES[kind]} missing")
    if _MARKUP.search(entry):
        problems.append("markup left in the entry")
    if not entry.endswith("."):
        problems.append("does not end with '.'")
    if "None" in entry:
        problems.append("prints None")
    if kind == "standard" and (m := _DOTTED.search(item["title"])) and m.group(0) not in entry:
        problems.append(f"title's '{m.group(0)}' rewritten")  # recorded as the source gives it
    if kind == "thesis":
        if item.get("university") and item["university"].strip().rstrip(".") not in entry:
            problems.append("thesis without its institution")
        head = _responsibility(entry)
        for supervisor in _names(item, {"contributor"}):
            if personal_name(supervisor, edition=edition) in head.split("，" if "，" in head else ", "):
                problems.append(f"supervisor {supervisor} printed as an author")
    if kind in ("book", "book_chapter", "conference_paper") and rec.get("publisher"):
        if rec["publisher"] not in entry:
            problems.append("publisher dropped")
    if kind == "standard" and rec.get("publisher") and edition == "2015" and rec["publisher"] not in entry:
        problems.append("publisher dropped")
    if kind == "standard" and edition == "2025" and rec["standard"]["standard_number"] not in entry:
        problems.append("standard number missing")
    if kind == "patent" and (date := (rec.get("patent") or {}).get("publication_date")):
        if date not in entry:
            problems.append(f"patent date {date} not printed in full")
    if kind == "report" and (body := (rec.get("report") or {}).get("institution")) and body not in entry:
        if edition == "2015" or not rec["authors"]:
            problems.append("report institution dropped")
    if rec.get("place") and rec.get("publisher") and kind in ("book", "book_chapter", "thesis"):
        if rec["place"] not in entry:
            problems.append("place dropped")
    if kind in ("book", "book_chapter") and rec.get("publisher") and not rec.get("place"):
        if ("[出版地不详]" if chinese else "[S.l.]") not in entry:
            problems.append("unknown place not marked")
    if kind in ("book", "book_chapter") and (ed := edition_statement(rec.get("edition"), chinese=chinese)):
        if ed not in entry:
            problems.append(f"edition {ed} dropped")
    return problems


def test_every_zotero_record_follows_its_types_rules() -> None:
    counts: Counter[str] = Counter()
    problems: list[str] = []
    for translator, item in _items():
        try:
            record = zotero.record_from_item(item, source=f"zotero:{translator}", now=NOW, version=1)
        except RecordError:
            continue  # no title (statutes, cases): counted by test_format_zotero
        rec = record.model_dump(mode="json")
        counts[rec["doc_type"]] += 1
        names = [a["name"] for a in rec["authors"]]
        if rec["doc_type"] == "thesis":
            supervisors = _names(item, {"contributor"})
            assert not set(supervisors) & set(names), f"{rec['title']}: supervisor among the authors"
            assert (rec["thesis"]["supervisor"] or "") == "；".join(supervisors)
        for edition in EDITIONS:
            entry = format_entry(rec, edition=edition)  # type: ignore[arg-type]
            problems += [
                f"{translator} {rec['doc_type']} {edition} {p}: {entry}"
                for p in _check(item, rec, edition, entry)
            ]
    print("Zotero records checked per type:", dict(sorted(counts.items())))
    assert problems == []
    assert sum(counts.values()) == 392
    for kind in ("journal_article", "thesis", "book", "book_chapter", "conference_paper", "patent", "standard",
                 "report", "newspaper_article", "webpage"):  # fmt: skip
        assert counts[kind] >= 10, kind
