"""The `CR` field of the `wos` format, plain text and tab-delimited, on the real exports in ../shared.

scientometrics_wos_plaintext.txt is GPL-3 and histcite_savedrecs_tab.txt a WoS export: both are read at
test time and never copied. Counts are counted from the raw lines independently of the parser.
Pure Python: no Elasticsearch needed.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.errors import RecordError
from ingest.formats import tagged
from mappings.citations.parse import parse_reference, parse_wos_cr
from mappings.model import DocType, Record, Reference
from tests.conftest import shared_file

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def wos_file(name: str) -> Path:
    return shared_file("citations", "wos_exports", name)


def plain_path() -> Path:
    return wos_file("scientometrics_wos_plaintext.txt")


def tab_path() -> Path:
    return wos_file("histcite_savedrecs_tab.txt")


def parse_path(path: Path) -> list[Record | RecordError]:
    return list(tagged.parse_file(path, now=NOW, version=1))


def records(out: list[Record | RecordError]) -> list[Record]:
    return [r for r in out if isinstance(r, Record)]


def errors(out: list[Record | RecordError]) -> list[str]:
    return [str(r) for r in out if isinstance(r, RecordError)]


def plain_raw_counts(text: str) -> tuple[list[int], list[int]]:
    """Per record: CR lines (the CR line and its 3-space continuation lines) and the NR value."""
    cr: list[int] = []
    nr: list[int] = []
    in_cr = False
    for line in text.split("\n"):
        if line.startswith("PT "):
            cr.append(0)
        if line[:2].strip() and not line.startswith("   "):
            in_cr = line.startswith("CR ")
            if line.startswith("NR "):
                nr.append(int(line[3:]))
        if in_cr and line.strip():
            cr[-1] += 1
    return cr, nr


def tab_raw_counts(text: str) -> tuple[list[int], list[int]]:
    lines = text.split("\n")
    header = lines[0].split("\t")
    cr_col, nr_col = header.index("CR"), header.index("NR")
    rows = [line.split("\t") for line in lines[1:] if line.strip()]
    return [len([c for c in row[cr_col].split("; ") if c.strip()]) for row in rows], [
        int(row[nr_col]) for row in rows
    ]


def all_refs(recs: list[Record]) -> list[Reference]:
    return [ref for r in recs for ref in r.references]


# --- both real layouts --------------------------------------------------------------------------------


@pytest.mark.shared
def test_plain_text_every_record_and_cited_reference() -> None:
    text = plain_path().read_text(encoding="utf-8")
    out = parse_path(plain_path())
    assert errors(out) == []
    recs = records(out)
    assert len(recs) == 147 == text.count("\nER\n") + text.endswith("\nER")
    cr, nr = plain_raw_counts(text)
    assert [len(r.references) for r in recs] == cr == nr  # every CR line, and WoS's own NR agrees
    refs = all_refs(recs)
    assert len(refs) == 5815
    assert all(ref.raw and not ref.linked_id for ref in refs)
    have = Counter(
        f for ref in refs for f in ("authors", "year", "venue", "volume", "pages", "doi") if getattr(ref, f)
    )
    assert have == {"authors": 5788, "year": 5799, "venue": 5813, "volume": 4426, "pages": 4601, "doi": 3575}
    assert all(r.venue == "SCIENTOMETRICS" for r in recs)
    # PT J throughout, but 19 are DT "Proceedings Paper" (ISSI conference issues).
    assert Counter(r.doc_type for r in recs) == {DocType.journal_article: 128, DocType.conference_paper: 19}


@pytest.mark.shared
def test_tab_delimited_every_record_and_cited_reference() -> None:
    text = tab_path().read_text(encoding="utf-8")
    assert tagged.detect_format(text) == "wos"
    out = parse_path(tab_path())
    assert errors(out) == []
    recs = records(out)
    assert len(recs) == 300
    cr, nr = tab_raw_counts(text)
    assert [len(r.references) for r in recs] == cr
    # WoS's NR says 23 for one record whose CR holds 22 entries; the entries are what is kept.
    assert [(i, c, n) for i, (c, n) in enumerate(zip(cr, nr, strict=True)) if c != n] == [(232, 22, 23)]
    refs = all_refs(recs)
    assert len(refs) == 16762
    have = Counter(
        f for ref in refs for f in ("authors", "year", "venue", "volume", "pages", "doi") if getattr(ref, f)
    )
    assert have == {
        "authors": 15253,
        "year": 16207,
        "venue": 16739,
        "volume": 8808,
        "pages": 11411,
        "doi": 9436,
    }
    # PT: 177 J, 123 C; four of the J are DT "Proceedings Paper", so conference papers.
    assert Counter(r.doc_type for r in recs) == {DocType.journal_article: 173, DocType.conference_paper: 127}
    assert sum(1 for r in recs if r.doi) == 203


@pytest.mark.shared
def test_tab_delimited_record_fields() -> None:
    first = records(parse_path(tab_path()))[0]
    assert first.title == "Recurrent neural network based language model"
    assert [a.name for a in first.authors] == [
        "Mikolov, Tomas", "Karafiat, Martin", "Burget, Lukas", "Cernocky, Jan Honza", "Khudanpur, Sanjeev",
    ]  # fmt: skip
    assert first.authors[0].affiliation == "Brno Univ Technol, Speech FIT, Brno, Czech Republic"
    assert first.authors[4].affiliation is None  # C1 names only the four Brno authors
    assert first.doc_type is DocType.conference_paper and first.year == 2010
    assert first.keywords[:2] == ["language modeling", "recurrent neural networks"]


@pytest.mark.shared
def test_small_1985_and_tsay_2003_stay_distinct() -> None:
    refs = all_refs(records(parse_path(plain_path())))

    def keys(surname: str, year: int, venue: str) -> Counter[tuple[str | None, str | None, str | None]]:
        return Counter(
            (r.volume, r.pages, r.doi)
            for r in refs
            if r.authors and r.authors[0].upper().startswith(surname) and r.year == year and r.venue == venue
        )

    small = keys("SMALL H", 1985, "SCIENTOMETRICS")
    assert small == {
        ("7", "391", "10.1007/bf02017157"): 20,
        ("7", "391", None): 1,  # "SMALL HG, 1985, SCIENTOMETRICS, V7, P391": part 1 again, no DOI
        ("8", "321", "10.1007/bf02018057"): 18,
    }
    assert keys("TSAY M", 2003, "SCIENTOMETRICS") == {
        ("57", "7", "10.1023/a:1023667318934"): 2,
        ("58", "529", "10.1023/b:scie.0000006878.83104.61"): 2,
    }


@pytest.mark.shared
def test_wos_traps_on_the_real_files() -> None:
    for path, doubled, listed, anonymous in ((plain_path(), 47, 18, 20), (tab_path(), 827, 373, 1493)):
        refs = all_refs(records(parse_path(path)))
        assert sum(1 for r in refs if "DOI DOI" in (r.raw or "")) == doubled
        assert sum(1 for r in refs if "DOI [" in (r.raw or "")) == listed
        assert sum(1 for r in refs if (r.raw or "").startswith("[Anonymous]")) == anonymous
        for r in refs:
            assert r.doi is None or (r.doi.startswith("10.") and r.doi == r.doi.lower() and " " not in r.doi)
            assert not any(a.lower() in ("[anonymous]", "anonymous") or a.startswith("*") for a in r.authors)


# --- cut-off files ------------------------------------------------------------------------------------


@pytest.mark.shared
def test_truncated_plain_text_reports_the_cut_record(tmp_path: Path) -> None:
    text = plain_path().read_text(encoding="utf-8")
    last = text.rindex("\nPT ") + 1
    cut = text[: text.index("\nCR ", last) + 200]  # stops inside the last record's CR list
    path = tmp_path / "cut.txt"
    path.write_text(cut, encoding="utf-8")
    out = parse_path(path)
    assert len(records(out)) == 146
    line = text[:last].count("\n") + 1
    assert errors(out) == [
        f"第 147 条记录（第 {line} 行）：记录不完整：缺少结束标记 ER（文件可能被截断），未入库"
    ]


@pytest.mark.shared
def test_truncated_tab_delimited_reports_the_cut_row(tmp_path: Path) -> None:
    text = tab_path().read_text(encoding="utf-8")
    lines = text.split("\n")
    path = tmp_path / "cut.txt"
    path.write_text("\n".join(lines[:300]) + "\n" + lines[300][: len(lines[300]) // 2], encoding="utf-8")
    out = parse_path(path)
    assert len(records(out)) == 299
    [message] = errors(out)
    assert message.startswith("第 300 条记录（第 301 行）：记录不完整：有 ") and "表头有 71 列" in message


# --- single CR entries --------------------------------------------------------------------------------


def test_cr_entry_fields() -> None:
    ref = parse_wos_cr("Small H, 1985, SCIENTOMETRICS, V7, P391, DOI 10.1007/BF02017157")
    assert (ref.authors, ref.year, ref.venue, ref.volume, ref.pages, ref.doi) == (
        ["Small H"], 1985, "SCIENTOMETRICS", "7", "391", "10.1007/bf02017157",
    )  # fmt: skip
    assert parse_wos_cr("SMALL H, 1985, SCIENTOMETRICS, V8, P321").volume == "8"


def test_cr_doi_artefacts() -> None:
    assert parse_wos_cr("Yan E, 2012, J AM SOC INF SCI TEC, V63, P1313, DOI DOI 10.1002/asi.22680").doi == (
        "10.1002/asi.22680"
    )
    listed = parse_wos_cr(
        "[Anonymous], NEURAL COMPUT, DOI [DOI 10.1162/NECO.1997.9.8.1735, 10.1162/neco.1997.9.8.1735]"
    )
    assert (listed.authors, listed.year, listed.venue, listed.doi) == (
        [], None, "NEURAL COMPUT", "10.1162/neco.1997.9.8.1735",
    )  # fmt: skip
    sici = parse_wos_cr(
        "MCCAIN KW, 1990, J AM SOC INFORM SCI, V41, P433, DOI 10.1002/(SICI)1097-4571(199009)41:6<433::AID-ASI11>3.0.CO;2-Q"
    )
    assert (
        sici.doi == "10.1002/(sici)1097-4571(199009)41:6<433::aid-asi11>3.0.co;2-q"
    )  # whole, not cut at "<"


def test_cr_entries_with_missing_parts() -> None:
    assert parse_wos_cr("[No title captured]").model_dump(exclude_defaults=True) == {
        "raw": "[No title captured]"
    }
    org = parse_wos_cr("*ORG ECON COOP DEV, 2005, OSLO MAN GUID COLL, P1")
    assert (org.authors, org.venue, org.pages) == (["ORG ECON COOP DEV"], "OSLO MAN GUID COLL", "1")
    no_year = parse_wos_cr("Bengio Yoshua, IEEE T NEURAL NETWOR, V5, P157")
    assert (no_year.year, no_year.venue, no_year.volume, no_year.pages) == (
        None,
        "IEEE T NEURAL NETWOR",
        "5",
        "157",
    )
    venue_word = parse_wos_cr("KWON C., VARIATIONALINEQUALIT")
    assert (venue_word.venue, venue_word.volume) == ("VARIATIONALINEQUALIT", None)
    lower = parse_wos_cr("Cheng FX, 2014, J AM MED INFORM ASSN, V21, pE278, DOI 10.1136/amiajnl-2013-002512")
    assert (lower.volume, lower.pages) == ("21", "E278")
    long_venue = parse_wos_cr(
        "Chen DQ, 2017, PROCEEDINGS OF THE 55TH ANNUAL MEETING OF THE ASSOCIATION FOR COMPUTATIONAL "
        "LINGUISTICS (ACL 2017), VOL 1, P1870, DOI 10.18653/v1/P17-1171"
    )
    assert long_venue.venue and long_venue.venue.endswith("(ACL 2017), VOL 1") and long_venue.pages == "1870"
    assert parse_reference("Yan EJ, 2012, J AM SOC INF SCI TEC, V63, P1313").volume == "63"


def test_inline_tab_delimited_export() -> None:
    header = "PT\tAU\tAF\tTI\tSO\tCR\tNR\tPY\tVL\tBP\tEP\tDI\tUT"
    row = (
        "J\tSmall, H; Sweeney, E\tSmall, Henry; Sweeney, E\tClustering the science citation index\tSCIENTOMETRICS\t"
        "Garfield E, 1955, SCIENCE, V122, P108; [Anonymous], 1980, NATURE, V1, P2\t2\t1985\t7\t391\t416\t"
        "10.1007/BF02017157\tWOS:A1985AKN2700002"
    )
    out = list(tagged.parse_text(f"{header}\n{row}\n", now=NOW, version=1))
    [rec] = records(out)
    assert [a.name for a in rec.authors] == ["Small, Henry", "Sweeney, E"]
    assert [(r.authors, r.venue) for r in rec.references] == [(["Garfield E"], "SCIENCE"), ([], "NATURE")]
    assert (rec.volume, rec.pages, rec.doi) == ("7", "391-416", "10.1007/bf02017157")
