"""`POST /api/v1/references/match` through the real app and Elasticsearch, on a small built corpus.

Exact matches in several layouts, noise and unknown works answered null, the order of the answers,
the limits (1,000 strings, the length of one) refused with a Chinese 400, and the access policy: a
限制 report is no candidate for a visitor who may not see it, so the answer is null, not its id.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from elasticsearch import Elasticsearch, helpers
from fastapi.testclient import TestClient

from ingest.document import index_document
from ingest.index_admin import create, drop_all
from mappings.analysis.tokenizer import Tokenizer
from mappings.citations.parse import MAX_RAW
from mappings.model import Record
from mappings.naming import IndexNames
from search.reference_match import MAX_REFERENCES
from tests.conftest import make_record, new_prefix, seed_people, settings_for
from web.app import create_app


def _paper(rid: str, title: str, authors: list[str], venue: str, year: int, volume: str, pages: str,
           **extra: Any) -> Record:  # fmt: skip
    return make_record(rid, title, authors=[{"name": a, "order": i} for i, a in enumerate(authors, 1)],
                       venue=venue, year=year, volume=volume, pages=pages, language="en", **extra)  # fmt: skip


CORPUS = [
    _paper("kawai", "Endoscopic sphincterotomy of the ampulla of Vater", ["Kawai K", "Akasaka Y"],
           "Gastrointest Endosc", 1974, "20", "148-151"),
    _paper("linden", "Evaluation of diagnostic criteria for ankylosing spondylitis", ["van der Linden S"],
           "Arthritis Rheum", 1984, "27", "361-368"),
    _paper("nettle", "Natural selection on male wealth in humans", ["Nettle D", "Pollet TV"],
           "American Naturalist", 2008, "172", "658-666", doi="10.1086/591690"),
    _paper("dirnagl", "Bench to bedside: the quest for quality in experimental stroke research", ["Dirnagl U"],
           "J Cereb Blood Flow Metab", 2006, "26", "1465-1478"),
    # A distractor: same journal, year and volume as kawai, another paper.
    _paper("other", "Endoscopic retrograde cholangiopancreatography in children", ["Kawai K"],
           "Gastrointest Endosc", 1974, "20", "160-163"),
    make_record("secret", "Restricted findings on shipborne energy storage", doc_type="tech_report",
                tech_report={"report_no": "R-REF-1", "access_level": "restricted"}, year=2023,
                authors=[{"name": "Qian Q", "order": 1}], venue="Internal Report", language="en"),
]  # fmt: skip

KAWAI = "Kawai K, Akasaka Y, Murakami K. Endoscopic sphincterotomy \nof the ampulla of Vater. Gastrointest Endosc. 1974;20:148-51."
LINDEN = "van der Linden S, Valkenburg HA, Cats A (1984) Evaluation of \ndiagnostic criteria for ankylosing spondylitis. Arthritis Rheum 27(4):361-368"  # noqa: E501
NETTLE = "Nettle, D., & Pollet, T. (2008). Natural selection on male wealth in humans. American Naturalist, 172, 658-666."
# The title cut after its first sentence by the PDF layout; volume and first page confirm it.
DIRNAGL = "Dirnagl U: Bench to bedside. The quest for quality in experimental \nstroke research. J Cereb Blood Flow Metab 2006, 26:1465-1478."  # noqa: E501
NETTLE_DOI = "https://doi.org/10.1086/591690"
UNKNOWN = "Brown A, Green B. A paper this corpus does not hold. Lancet. 2001;357:100-105."
SECRET_REF = "Qian Q (2023) Restricted findings on shipborne energy storage. Internal Report"
NOISE = ["http://www.example.org/some/page.html", "12", "--- ;; ---", "", "   "]


@pytest.fixture(scope="module")
def site(
    es: Elasticsearch, tokenizer: Tokenizer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, str]]:
    from appdb.session import session_factory, upgrade

    names = IndexNames(new_prefix("refmatch"))
    create(es, names, tokenizer)
    actions = [
        {"_index": names.write_alias, "_id": r.id, "_source": index_document(r, tokenizer)} for r in CORPUS
    ]
    ok, errors = helpers.bulk(es, actions, refresh=True, raise_on_error=False)
    assert ok == len(CORPUS) and not errors, errors
    url = f"sqlite:///{tmp_path_factory.mktemp('refmatch') / 'refmatch.sqlite3'}"
    upgrade(url)
    with session_factory(url).begin() as session:
        _, tokens = seed_people(session, [("root", None, ["platform_admin"], None)], "Chaxin-Test-2026!")
    try:
        with TestClient(create_app(settings_for(names.prefix, url))) as client:
            yield client, f"Bearer {tokens['root']}"
    finally:
        drop_all(es, names)


def _match(site: tuple[TestClient, str], refs: list[str], admin: bool = False) -> Any:
    client, token = site
    return client.post("/api/v1/references/match", json={"references": refs},
                       headers={"Authorization": token} if admin else {})  # fmt: skip


def test_exact_matches_in_order(site: tuple[TestClient, str]) -> None:
    refs = [KAWAI, NOISE[0], LINDEN, UNKNOWN, NETTLE, DIRNAGL, NETTLE_DOI]
    resp = _match(site, refs)
    assert resp.status_code == 200
    results = resp.json()["results"]
    assert [r["id"] for r in results] == ["kawai", None, "linden", None, "nettle", "dirnagl", "nettle"]
    assert all(0.75 <= r["score"] <= 1.0 for r in results if r["id"])
    kawai = results[0]["parsed"]
    assert (kawai["title"], kawai["year"], kawai["volume"], kawai["pages"]) == (
        "Endoscopic sphincterotomy of the ampulla of Vater",
        1974,
        "20",
        "148-51",
    )
    assert "raw" not in kawai and "linked_id" not in kawai
    assert results[6]["parsed"] == {"doi": "10.1086/591690"} and results[6]["score"] == 1.0
    # The same strings in reverse order get the same answers in reverse.
    again = _match(site, refs[::-1]).json()["results"]
    assert [r["id"] for r in again] == [r["id"] for r in results][::-1]


def test_noise_stays_unlinked(site: tuple[TestClient, str]) -> None:
    results = _match(site, NOISE).json()["results"]
    assert [r["id"] for r in results] == [None] * len(NOISE)
    assert [r["parsed"] for r in results] == [{}] * len(NOISE)
    assert [r["score"] for r in results] == [0.0] * len(NOISE)


def test_a_hidden_record_is_no_candidate(site: tuple[TestClient, str]) -> None:
    assert _match(site, [SECRET_REF]).json()["results"][0]["id"] is None
    assert _match(site, [SECRET_REF], admin=True).json()["results"][0]["id"] == "secret"


def test_limits_are_a_chinese_400(site: tuple[TestClient, str]) -> None:
    full = [KAWAI if i % 100 == 0 else "12" for i in range(MAX_REFERENCES)]
    resp = _match(site, full)
    assert resp.status_code == 200
    ids = [r["id"] for r in resp.json()["results"]]
    assert len(ids) == MAX_REFERENCES and ids.count("kawai") == 10

    over = _match(site, full + ["12"])
    assert over.status_code == 400
    assert f"一次最多匹配 {MAX_REFERENCES} 条" in over.json()["error"]["message"]

    long = _match(site, [KAWAI, "x" * (MAX_RAW + 1)])
    assert long.status_code == 400
    assert f"第 2 条参考文献超过 {MAX_RAW} 个字符" in long.json()["error"]["message"]

    shapeless = site[0].post("/api/v1/references/match", json={"refs": [KAWAI]})
    assert shapeless.status_code == 400 and "references" in shapeless.json()["error"]["message"]
