"""What a patent parser extracts, and how it becomes a canonical Record (shared by `uspto` and `st36`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from pydantic import ValidationError

from ingest.errors import RecordError, reason
from ingest.formats._patent_numbers import canonical_patent_number
from ingest.identity import record_id
from ingest.normalize_text import author_key, clean_text
from mappings.model import Author, DocType, PatentInfo, Record, Reference


@dataclass
class PatentFields:
    """One patent document's fields as found, before canonicalisation."""

    title: str | None = None
    title_en: str | None = None
    country: str | None = None
    number: str | None = None  # the publication's doc-number as written ("08930553")
    kind: str | None = None
    application_number: str | None = None
    application_date: date | None = None
    publication_date: date | None = None
    inventors: list[str] = field(default_factory=list)
    applicants: list[str] = field(default_factory=list)
    ipc: list[str] = field(default_factory=list)
    cpc: list[str] = field(default_factory=list)
    abstract: str | None = None
    full_text: list[str] = field(default_factory=list)  # paragraphs: description, then claims
    references: list[Reference] = field(default_factory=list)
    language: str | None = "en"


def unique(values: list[str | None]) -> list[str]:
    """Cleaned values in order, each once; "AMERSHAM HEALTH AS" and "Amersham Health AS" are one."""
    seen: dict[str, str] = {}
    for value in values:
        cleaned = clean_text(value)
        if cleaned and cleaned.casefold() not in seen:
            seen[cleaned.casefold()] = cleaned
    return list(seen.values())


def without_inventors(applicants: list[str], inventors: list[str]) -> list[str]:
    """Applicants minus the inventors: US grants since 2012 name each inventor as an applicant too."""
    names = {author_key(n) for n in inventors}
    return [a for a in unique(list(applicants)) if author_key(a) not in names]


def build_record(
    fields: PatentFields, *, source: str, fallback_id: str, now: datetime, version: int
) -> Record:
    title = clean_text(fields.title)
    if not title:
        raise RecordError("缺少题名")
    number = canonical_patent_number(fields.number, fields.country, fields.kind)
    country = (fields.country or "").strip().upper() or (number[:2] if number else None)
    inventors = unique(list(fields.inventors))
    authors = [Author(name=name, order=i) for i, name in enumerate(inventors, 1)]
    year = fields.publication_date.year if fields.publication_date else None
    rid = record_id(
        title=title,
        year=year,
        patent_number=number,
        first_author=author_key(inventors[0]) if inventors else None,
    )
    try:
        return Record(
            id=rid,
            source=source,
            source_id=number or fallback_id,
            doc_type=DocType.patent,
            title=title,
            title_en=fields.title_en if fields.title_en and fields.title_en != title else None,
            authors=authors,
            abstract=fields.abstract or None,
            year=year,
            language=fields.language,
            references=fields.references,
            full_text="\n".join(fields.full_text) or None,
            ingested_at=now,
            version=version,
            patent=PatentInfo(
                publication_number=number,
                application_number=fields.application_number,
                kind=(fields.kind or "").strip().upper() or None,
                country=country,
                application_date=fields.application_date,
                publication_date=fields.publication_date,
                ipc=unique(list(fields.ipc)),
                cpc=unique(list(fields.cpc)),
                applicants=without_inventors(fields.applicants, inventors),
            ),
        )
    except ValidationError as exc:
        raise RecordError(reason(exc)) from None


def where(n: int, start: int) -> str:
    """How an error names the file's n-th patent document, which starts on line `start`."""
    return f"第 {n} 件专利（第 {start} 行起）"


def numbered_record(
    n: int,
    start: int,
    fields: Callable[[], PatentFields],
    *,
    source: str,
    file_name: str,
    now: datetime,
    version: int,
) -> Record | RecordError:
    """The file's n-th patent as a Record, or the RecordError that says which one failed and why.

    `fields` is called here, so what the format's own reading raises is reported the same way.
    """
    try:
        record = fields()
        return build_record(record, source=source, fallback_id=f"{file_name}#{n}", now=now, version=version)
    except (RecordError, ValidationError) as exc:
        return RecordError(f"{where(n, start)}：{reason(exc)}")
