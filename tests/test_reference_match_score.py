"""best_match: DOI first, then title/author/year/volume/page; equal fits stay unlinked."""

from __future__ import annotations

from datetime import UTC, datetime

from mappings.citations.doi import dois_in, normalize_doi
from mappings.citations.keys import record_keys, reference_keys
from mappings.citations.score import best_match
from mappings.model import Author, Record, Reference


def _rec(rid: str, title: str, year: int, author: str, **kw: str) -> Record:
    return Record.model_validate(
        {
            "id": rid,
            "source": "test",
            "source_id": rid,
            "doc_type": "journal_article",
            "title": title,
            "year": year,
            "authors": [Author(name=author, order=1)],
            "ingested_at": datetime(2026, 1, 1, tzinfo=UTC),
            "version": 1,
            **kw,
        }
    )


def test_doi_forms() -> None:
    assert normalize_doi("https://doi.org/10.1007/BF02016680.") == "10.1007/bf02016680"
    assert normalize_doi("doi:10.1007/BF02016680") == "10.1007/bf02016680"
    assert normalize_doi("http://dx.doi.org/10.1007/BF02016680") == "10.1007/bf02016680"
    assert dois_in("DOI DOI 10.1007/BF02016680") == ["10.1007/bf02016680"]
    assert dois_in("DOI [10.1002/asi.1, 10.1002/ASI.2]") == ["10.1002/asi.1", "10.1002/asi.2"]
    assert normalize_doi("http://example.org/page") is None


def test_doi_match_first() -> None:
    rec = _rec(
        "r1", "Co-citation in the scientific literature", 1973, "Small H", doi="10.1002/asi.4630240406"
    )
    ref = Reference(raw="x", doi="10.1002/ASI.4630240406")
    assert best_match(ref, [rec]).record_id == "r1"
    assert set(reference_keys(ref)) & set(record_keys(rec))


def test_keys_meet_across_scripts_and_years() -> None:
    rec = _rec("r1", "智慧图书馆的概念与特征", 2018, "王世伟", pages="4-10")
    ref = Reference(raw="x", authors=["王世伟"], title="智慧图书馆的概念与特征", year=2019, pages="4")
    assert set(reference_keys(ref)) & set(record_keys(rec))
    assert best_match(ref, [rec]).record_id == "r1"


def test_same_title_pair_stays_apart() -> None:
    a = _rec("a", "智慧图书馆的发展路径研究", 2018, "李明")
    b = _rec("b", "智慧图书馆的发展路径研究", 2020, "张华")
    ref = Reference(raw="x", authors=[], title="智慧图书馆的发展路径研究")
    assert best_match(ref, [a, b]).record_id is None
    dated = Reference(raw="x", authors=["李明"], title="智慧图书馆的发展路径研究", year=2018)
    assert best_match(dated, [a, b]).record_id == "a"


def test_volume_pair_stays_apart_without_volume_and_splits_with_it() -> None:
    v7 = _rec("v7", "The synthesis of specialty narratives", 1985, "Small H", volume="7", pages="391")
    v8 = _rec("v8", "Clustering the science citation index", 1985, "Small H", volume="8", pages="391")
    ref = Reference(
        raw="Small H, 1985, SCIENTOMETRICS, V7, P391", authors=["Small H"], year=1985, volume="7", pages="391"
    )
    assert best_match(ref, [v7, v8]).record_id == "v7"
    vague = Reference(raw="Small H, 1985, SCIENTOMETRICS", authors=["Small H"], year=1985)
    assert best_match(vague, [v7, v8]).record_id is None


def test_noise_never_links() -> None:
    rec = _rec("r1", "Co-citation in the scientific literature", 1973, "Small H")
    assert best_match(Reference(raw="http://example.org"), [rec]).record_id is None
    assert best_match(Reference(raw="12"), []).record_id is None
