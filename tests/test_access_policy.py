"""The access policy (domain brief Part A §5) on a real index: one table says what each principal sees
of each record, and search hits, totals, facets, highlights, record lookups and exports must agree.

Every record has "储能系统" in its title, a term of its own in its abstract and another in its full
text, so each layer of each record can be probed separately: a term that only a hidden abstract holds
must not find the record, light it up, or be written out.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from ingest.index_admin import create, drop_all
from ingest.writer import write_records
from mappings.analysis.tokenizer import Tokenizer
from mappings.model import Record
from mappings.naming import IndexNames
from search.policy import (
    Visibility,
    effective_level,
    notice,
    police,
    redact,
    search_filter,
    visibility,
)
from search.principal import ANONYMOUS, Principal, Role
from search.service import SearchService
from tests.conftest import make_record, new_prefix

NONE, META, ABS, FULL = Visibility.NONE, Visibility.METADATA, Visibility.ABSTRACT, Visibility.FULL_TEXT
TITLE_TERM = "储能系统"


def _report(level: str, no: str, until: str | None = None) -> dict[str, Any]:
    return {"report_no": no, "access_level": level, "embargo_until": until}


# id -> (doc_type, tech_report block, abstract term, full-text term)
CORPUS: dict[str, tuple[str, dict[str, Any] | None, str, str]] = {
    "art": ("journal_article", None, "相变材料", "导热硅脂"),
    "pub": ("tech_report", _report("public", "R-PUB-1"), "液流电池", "电堆流道"),
    "emb-future": ("tech_report", _report("embargoed", "R-EMB-1", "2099-12-31"), "锂枝晶", "原位显微"),
    "emb-past": ("tech_report", _report("embargoed", "R-EMB-2", "2020-01-01"), "抽水蓄能", "峰谷电价"),
    "res": ("tech_report", _report("restricted", "R-RES-1"), "钠硫电池", "舰载平台"),
    "res-granted": ("tech_report", _report("restricted", "R-RES-2"), "氢燃料", "质子交换膜"),
}
TITLES = {
    "art": "储能系统的热管理研究",
    "pub": "储能系统集成技术报告",
    "emb-future": "储能系统安全评估报告",
    "emb-past": "储能系统经济性分析报告",
    "res": "储能系统特种电源报告",
    "res-granted": "储能系统氢能耦合报告",
}


def corpus() -> list[Record]:
    return [
        make_record(
            rid,
            TITLES[rid],
            doc_type=doc_type,
            tech_report=tech,
            abstract=f"本项研究围绕{abstract_term}展开，给出了主要结论。",
            full_text=f"正文第一章讨论了{full_term}的细节。",
            keywords=["储能"],
            year=2021,
            authors=[{"name": "王五", "order": 1}],
            venue="科技报告" if tech else "储能科学与技术",
            language="zh",
        )
        for rid, (doc_type, tech, abstract_term, full_term) in CORPUS.items()
    ]


PRINCIPALS: dict[str, Principal] = {
    "anonymous": Principal(owner="anon:policy"),
    "registered": Principal(user_id=2, username="reg", roles=frozenset({Role.registered}), owner="user:2"),
    "analyst": Principal(user_id=3, username="ana", roles=frozenset({Role.analyst}), centre="C01", owner="user:3"),
    "admin": Principal(user_id=1, username="root", roles=frozenset({Role.platform_admin}), owner="user:1"),
    "grantee": Principal(user_id=4, username="g", roles=frozenset({Role.registered}),
                         granted=frozenset({"res-granted", "emb-future"}), owner="user:4"),
}  # fmt: skip

# What §5 says, record by record: the single table every assertion below is derived from.
EXPECTED: dict[str, dict[str, Visibility]] = {
    #              anonymous registered analyst admin grantee
    "art":         dict(zip(PRINCIPALS, (ABS, FULL, FULL, FULL, FULL), strict=True)),
    "pub":         dict(zip(PRINCIPALS, (ABS, FULL, FULL, FULL, FULL), strict=True)),
    "emb-future":  dict(zip(PRINCIPALS, (META, META, FULL, FULL, FULL), strict=True)),
    "emb-past":    dict(zip(PRINCIPALS, (ABS, FULL, FULL, FULL, FULL), strict=True)),
    "res":         dict(zip(PRINCIPALS, (NONE, NONE, NONE, FULL, NONE), strict=True)),
    "res-granted": dict(zip(PRINCIPALS, (NONE, NONE, NONE, FULL, FULL), strict=True)),
}  # fmt: skip
TODAY = date(2026, 11, 15)
# The level in force: emb-past's embargo ran out in 2020.
LEVEL_TODAY = {"art": "public", "pub": "public", "emb-future": "embargoed", "emb-past": "public",
               "res": "restricted", "res-granted": "restricted"}  # fmt: skip


def visible(who: str, at_least: Visibility = META) -> set[str]:
    return {rid for rid, row in EXPECTED.items() if row[who] >= at_least}


@pytest.fixture(scope="module")
def service(es: Elasticsearch, tokenizer: Tokenizer) -> Iterator[SearchService]:
    names = IndexNames(new_prefix("policy"))
    create(es, names, tokenizer)
    write_records(es, names.write_alias, [(r.id, r) for r in corpus()], tokenizer, refresh=True)
    yield SearchService(es, names, tokenizer)
    drop_all(es, names)


MATRIX = [(rid, who) for rid in EXPECTED for who in PRINCIPALS]


# ---------------------------------------------------------------- the policy in Python


@pytest.mark.parametrize(("rid", "who"), MATRIX)
def test_visibility_matches_the_table(rid: str, who: str) -> None:
    record = next(r for r in corpus() if r.id == rid).model_dump(mode="json")
    assert visibility(PRINCIPALS[who], record, today=TODAY) is EXPECTED[rid][who]


def test_embargo_ends_the_day_after_its_date() -> None:
    record = {"id": "x", "tech_report": {"access_level": "embargoed", "embargo_until": "2027-06-30"}}
    assert effective_level(record, today=date(2027, 6, 30)) == "embargoed"
    assert effective_level(record, today=date(2027, 7, 1)) == "public"
    assert visibility(ANONYMOUS, record, today=date(2027, 6, 30)) is META
    assert visibility(ANONYMOUS, record, today=date(2027, 7, 1)) is ABS
    # Without a date the embargo holds; an unknown level is closed.
    assert (
        effective_level({"tech_report": {"access_level": "embargoed"}}, today=date(2999, 1, 1)) == "embargoed"
    )
    assert visibility(PRINCIPALS["analyst"], {"tech_report": {"access_level": "secret"}}) is NONE


def test_redact_and_notice() -> None:
    record = {"id": "r", "title": "t", "abstract": "a", "full_text": "f", "references": [{"raw": "x"}],
              "highlight": {"title": "<em>t</em>", "abstract": ["<em>a</em>"]},
              "tech_report": {"access_level": "embargoed", "embargo_until": "2027-06-30"}}  # fmt: skip
    meta = redact(record, META)
    assert set(meta) == {"id", "title", "highlight", "tech_report"}
    assert meta["highlight"] == {"title": "<em>t</em>"}
    assert set(redact(record, ABS)) == {"id", "title", "abstract", "references", "highlight", "tech_report"}
    assert redact(record, FULL) == record and redact(record, NONE) == {}
    assert "abstract" in record, "the input is left alone"
    assert (
        notice(record, META)
        == "该报告延期公开至 2027-06-30，目前仅公开题录信息；摘要与全文仅对授权人员开放"
    )
    assert notice({"full_text": "f"}, ABS) == "全文仅对登录用户开放"
    assert notice({}, ABS) is None and notice(record, FULL) is None


def test_police_leaves_the_query_alone_and_gates_hidden_fields() -> None:
    query = {"bool": {"must": [{"match": {"ix.title": "a"}}],
                      "must_not": [{"match_phrase": {"ix.abstract_cjk": "b"}}],
                      "should": [{"multi_match": {"query": "c", "fields": ["ix.title^4", "ix.abstract"]}}]}}  # fmt: skip
    before = json.dumps(query, sort_keys=True)
    policed = police(query, ANONYMOUS)
    assert json.dumps(query, sort_keys=True) == before
    inner = policed["bool"]["must"][0]["bool"]
    assert inner["must"] == [{"match": {"ix.title": "a"}}], "visible fields are not touched"
    assert inner["must_not"][0]["bool"]["must"] == [{"match_phrase": {"ix.abstract_cjk": "b"}}]
    assert "filter" in inner["must_not"][0]["bool"]
    # Scored by its best field: the best of the visible fields and, where the gate holds, the hidden one.
    visible_part, hidden_part = inner["should"][0]["dis_max"]["queries"]
    assert visible_part["multi_match"]["fields"] == ["ix.title^4"]
    assert hidden_part["bool"]["must"][0]["multi_match"]["fields"] == ["ix.abstract"]
    assert "filter" in hidden_part["bool"]
    # A score that sums fields (a tie_breaker) cannot be split that way: both branches, gated.
    summed = {"multi_match": {"query": "c", "fields": ["ix.title^4", "ix.abstract"], "tie_breaker": 0.3}}
    split = police(summed, ANONYMOUS)["bool"]["must"][0]["bool"]["should"]
    assert split[0]["bool"]["must"] == [summed]
    assert split[1]["bool"]["must"][0]["multi_match"]["fields"] == ["ix.title^4"]
    assert policed["bool"]["filter"] == [search_filter(ANONYMOUS)]
    assert police(query, PRINCIPALS["admin"]) == query, "an admin's query runs as written"


# ---------------------------------------------------------------- search through the service


@pytest.mark.parametrize("who", PRINCIPALS)
def test_hits_totals_and_facets_count_visible_records_only(service: SearchService, who: str) -> None:
    principal = PRINCIPALS[who]
    expected = visible(who)
    for result in (
        service.simple(TITLE_TERM, principal=principal),
        service.pro(f"TI='{TITLE_TERM}'", principal=principal)[0],
        service.simple("", principal=principal),
    ):
        assert {h["id"] for h in result["hits"]} == expected
        assert result["total"] == len(expected)
        levels = Counter((CORPUS[r][1] or {}).get("access_level") for r in expected)
        levels.pop(None, None)
        assert {b["value"]: b["count"] for b in result["facets"]["access_level"]} == levels
        doc_types = Counter(CORPUS[r][0] for r in expected)
        assert {b["value"]: b["count"] for b in result["facets"]["doc_type"]} == doc_types
        for hit in result["hits"]:
            assert hit["visibility"] == EXPECTED[hit["id"]][who].label
            assert ("abstract" in hit) is (EXPECTED[hit["id"]][who] >= ABS)
    # Asking for a level by facet does not reveal what the filter hides.
    restricted = service.simple("", filters={"access_level": ["restricted"]}, principal=principal)
    assert restricted["total"] == len(visible(who) & {"res", "res-granted"})


@pytest.mark.parametrize(("rid", "who"), MATRIX)
def test_each_layer_is_searchable_only_where_visible(service: SearchService, rid: str, who: str) -> None:
    principal, seen = PRINCIPALS[who], EXPECTED[rid][who]
    _, _, abstract_term, full_term = CORPUS[rid]

    def found(q: str, mode: str = "pro") -> bool:
        result = (
            service.pro(q, principal=principal)[0]
            if mode == "pro"
            else service.simple(q, principal=principal)
        )
        return rid in {h["id"] for h in result["hits"]}

    assert found(f"TI='{TITLE_TERM}'") is (seen >= META)
    assert found(f"AB='{abstract_term}'") is (seen >= ABS)
    assert found(f"TKA%'{abstract_term}'") is (seen >= ABS)
    assert found(abstract_term, mode="simple") is (seen >= ABS)
    assert found(f"FT='{full_term}'") is (seen >= FULL)
    # A hidden abstract behaves as empty: NOT on it does not drop the record either.
    assert found(f"TI='{TITLE_TERM}' NOT AB='{abstract_term}'") is (META <= seen < ABS)


@pytest.mark.parametrize("who", PRINCIPALS)
def test_no_highlight_or_text_from_a_hidden_abstract(service: SearchService, who: str) -> None:
    principal = PRINCIPALS[who]
    terms = " OR ".join(f"AB='{CORPUS[r][2]}'" for r in CORPUS)
    result, _ = service.pro(f"TI='{TITLE_TERM}' OR {terms}", principal=principal)
    simple = service.simple(TITLE_TERM + " 主要结论", principal=principal)
    for hit in [*result["hits"], *simple["hits"]]:
        seen = EXPECTED[hit["id"]][who]
        text = json.dumps(hit, ensure_ascii=False)
        if seen < ABS:
            assert "abstract" not in hit["highlight"] and "abstract" not in hit
            assert CORPUS[hit["id"]][2] not in text and "主要结论" not in text
        else:
            assert "abstract" in hit
        assert CORPUS[hit["id"]][3] not in text, "full text is never part of a hit"
    for hit in result["hits"]:
        if EXPECTED[hit["id"]][who] >= ABS:
            assert "<em>" in "".join(hit["highlight"].get("abstract", [])), hit["id"]


@pytest.mark.parametrize(("rid", "who"), MATRIX)
def test_get_record(service: SearchService, rid: str, who: str) -> None:
    seen = EXPECTED[rid][who]
    record = service.get_record(rid, principal=PRINCIPALS[who])
    if seen is NONE:
        assert record is None
        return
    assert record is not None and record["title"] == TITLES[rid]
    assert ("abstract" in record) is (seen >= ABS)
    assert ("full_text" in record) is (seen >= FULL)
    assert record["access"]["visibility"] == seen.label
    assert record["access"]["level"] == LEVEL_TODAY[rid]
    if seen is META:
        assert "延期公开至 2099-12-31" in record["access"]["notice"]
    elif seen is ABS:
        assert record["access"]["notice"] == "全文仅对登录用户开放"
    else:
        assert record["access"]["notice"] is None


@pytest.mark.parametrize("who", PRINCIPALS)
def test_iter_records_exports_visible_records_redacted(service: SearchService, who: str) -> None:
    principal = PRINCIPALS[who]
    walked = list(service.iter_records(service.query_for(""), principal=principal))
    assert {r["id"] for r in walked} == visible(who)
    chosen = list(service.iter_records({"ids": {"values": list(CORPUS)}}, principal=principal))
    assert {r["id"] for r in chosen} == visible(who), "asking by ID does not get round the policy"
    for record in walked:
        seen = EXPECTED[record["id"]][who]
        assert ("abstract" in record) is (seen >= ABS) and ("full_text" in record) is (seen >= FULL)


def test_history_is_policed_for_whoever_combines_it(service: SearchService) -> None:
    """The stored query is the principal-free one: `#1` run by a visitor hides what the analyst saw."""
    analyst_result, stored = service.pro("AB='锂枝晶'", principal=PRINCIPALS["analyst"])
    assert analyst_result["total"] == 1
    assert "filter" not in json.dumps(stored), "history keeps the query before the policy"
    for who in ("anonymous", "registered"):
        again, _ = service.pro("#1 OR TI='热管理'", history=lambda n: stored, principal=PRINCIPALS[who])
        assert {h["id"] for h in again["hits"]} == {"art"}
    again, _ = service.pro("#1 OR TI='热管理'", history=lambda n: stored, principal=PRINCIPALS["analyst"])
    assert {h["id"] for h in again["hits"]} == {"art", "emb-future"}


def test_expired_embargo_is_public_without_reindex(es: Elasticsearch, service: SearchService) -> None:
    """emb-past (2020-01-01) is public by today's date; pinning the date moves emb-future across too."""
    assert {h["id"] for h in service.pro("AB='抽水蓄能'")[0]["hits"]} == {"emb-past"}
    for today, opened in ((date(2099, 12, 31), False), (date(2100, 1, 1), True)):
        later = SearchService(es, service.names, service.tokenizer, today=today)
        assert {h["id"] for h in later.pro("AB='锂枝晶'")[0]["hits"]} == ({"emb-future"} if opened else set())
        record = later.get_record("emb-future")
        assert record is not None and ("abstract" in record) is opened
