"""收录: which databases hold a paper, read from the record's merged `sources`.

Each source the record was ingested from names the export it came in (`source`, the ingest format)
and the record's ID there (`source_id`):

- `cssci`: CSSCI, with the CSSCI ID as accession number;
- `wos`: Web of Science. The export's edition field (`WE`: SCI-EXPANDED, SSCI, A&HCI, CPCI-S/-SSH),
  kept on the source as `editions` (mapping v6), says which citation indexes hold it: one entry for
  each. A WoS source without editions (the plain-text layout often has no WE, and records ingested
  before v6) is plain "WoS", never a guessed SCIE. The UT (`accession`) is the accession number;
- `ei` / `cnki` / `wanfang` (an export named for its database): EI, CNKI, 万方.

A RIS, EndNote, NoteExpress or RefWorks export does not say which database it was exported from,
so such a source proves no 收录 at all: the paper is shown without it, never counted on a guess.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from reports.citation_model import IndexingEntry
from search.fields import DOC_TYPE_LABELS

# WoS edition words as exports spell them (WE field, or a source suffix) → the index certified.
_WOS_EDITIONS = {
    "SCI-EXPANDED": "SCIE", "SCIE": "SCIE", "SCI": "SCIE", "SSCI": "SSCI", "A&HCI": "A&HCI", "AHCI": "A&HCI",
    "CPCI-S": "CPCI", "CPCI-SSH": "CPCI", "CPCI": "CPCI",
}  # fmt: skip
_DIRECT = {"cssci": "CSSCI", "ei": "EI", "cnki": "CNKI", "wanfang": "万方"}


def database_of(source: str) -> str | None:
    """The database a source (ingest format name, maybe with an edition) proves, or None."""
    name, _, edition = source.partition(":")
    name = name.strip().lower()
    if name == "wos":
        return _WOS_EDITIONS.get(edition.strip().upper(), "WoS")
    return _DIRECT.get(name)


def _accession(source: Mapping[str, Any], record: Mapping[str, Any]) -> str:
    # A source without an ID of its own falls back to the record's stable ID or its DOI: neither is an
    # accession number, so none is printed.
    sid = str(source.get("source_id") or "")
    doi = str(record.get("doi") or "")
    if not sid or sid == record.get("id") or (doi and sid.lower() == doi.lower()):
        return ""
    return sid


def _sources(record: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    found = [s for s in record.get("sources") or [] if isinstance(s, Mapping)]
    # A record written before `sources` existed names its one source at the top level.
    return found or [{"source": record.get("source"), "source_id": record.get("source_id")}]


def _databases(source: Mapping[str, Any]) -> list[str]:
    name = str(source.get("source") or "")
    editions = [str(e) for e in source.get("editions") or []]
    if name.partition(":")[0].strip().lower() == "wos" and editions:
        # An edition this table does not know (ESCI, BKCI ...) still proves WoS, not one of the four.
        return list(dict.fromkeys(_WOS_EDITIONS.get(e.strip().upper(), "WoS") for e in editions))
    database = database_of(name)
    return [database] if database else []


def indexing(record: Mapping[str, Any]) -> tuple[IndexingEntry, ...]:
    """One entry per database holding the record, in the order the sources arrived."""
    kind = DOC_TYPE_LABELS.get(str(record.get("doc_type") or ""), "")
    out: dict[str, IndexingEntry] = {}
    for source in _sources(record):
        accession = str(source.get("accession") or "") or _accession(source, record)
        for database in _databases(source):
            if database not in out or (accession and not out[database].accession):
                out[database] = IndexingEntry(database, accession, kind)
    return tuple(out.values())


def first_database(record: Mapping[str, Any]) -> str:
    """The database a citing record is counted under: the first that holds it, else its source's label."""
    entries = indexing(record)
    if entries:
        return entries[0].database
    return "其他来源"
