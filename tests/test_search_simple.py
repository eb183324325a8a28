"""Simple-mode search on a small real index: Chinese matching, highlights, facets, paging."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from elasticsearch import Elasticsearch

from ingest.index_admin import create, drop_all
from ingest.writer import write_records
from mappings.analysis.tokenizer import Tokenizer
from mappings.naming import IndexNames
from search.errors import BadQuery
from search.service import SearchService
from tests.conftest import make_record, new_prefix

RECORDS = [
    make_record("r1", "石墨烯锂电池负极材料的制备与性能", keywords=["石墨烯", "锂电池", "负极材料"],
                abstract="以氧化石墨烯为原料制备了锂电池负极材料。", category="工学", discipline="材料科学与工程", year=2019),
    make_record("r2", "石墨烯，电池隔膜的应用综述", keywords=["隔膜", "综述"],
                abstract="综述了隔膜材料的研究进展。", category="工学", discipline="化学工程与技术", year=2020),
    make_record("r3", "基于BERT的文本分类方法研究", keywords=["BERT", "文本分类", "深度学习"],
                abstract="提出一种基于预训练语言模型BERT的中文文本分类方法。", category="工学",
                discipline="计算机科学与技术", year=2021),
    make_record("r4", "飞行器姿态控制系统设计", keywords=["飞行器", "姿态控制"],
                abstract="建立了飞行器姿态控制系统的数学模型。", category="工学", discipline="航空宇航科学与技术", year=2018),
    make_record("r5", "乡村振兴背景下的农村教育研究", keywords=["乡村振兴", "农村教育"],
                abstract="分析了乡村振兴战略对农村教育的影响。", category="教育学", discipline="教育学", year=2021),
]  # fmt: skip


@pytest.fixture(scope="module")
def service(es: Elasticsearch, tokenizer: Tokenizer) -> Iterator[SearchService]:
    names = IndexNames(new_prefix("simple"))
    create(es, names, tokenizer)
    write_records(es, names.write_alias, [(r.id, r) for r in RECORDS], tokenizer, refresh=True)
    yield SearchService(es, names, tokenizer)
    drop_all(es, names)


def ids(result: dict) -> list[str]:  # type: ignore[type-arg]
    return [h["id"] for h in result["hits"]]


def test_traditional_query_finds_simplified_document(service: SearchService) -> None:
    result = service.simple("飛行器姿態控制")
    assert ids(result)[:1] == ["r4"]


def test_mixed_chinese_english_finds_both_parts(service: SearchService) -> None:
    assert "r3" in ids(service.simple("BERT"))
    assert "r3" in ids(service.simple("bert"))
    assert "r3" in ids(service.simple("文本分类"))
    assert ids(service.simple("基于BERT的文本分类"))[0] == "r3"


def test_exact_phrase_does_not_cross_punctuation(service: SearchService, es: Elasticsearch) -> None:
    body = {"query": {"match_phrase": {"ix.title_cjk": "石墨烯电池"}}}
    resp = es.search(index=service.names.read_alias, body=body)
    assert [h["_id"] for h in resp["hits"]["hits"]] == []
    body = {"query": {"match_phrase": {"ix.title_cjk": "墨烯锂电"}}}
    resp = es.search(index=service.names.read_alias, body=body)
    assert [h["_id"] for h in resp["hits"]["hits"]] == ["r1"]
    # One character, and a run that ends beside Latin text, are matched exactly too.
    for value, expected in (("隔", ["r2"]), ("于BERT", ["r3"]), ("烯，电", ["r2"]), ("烯电", [])):
        resp = es.search(index=service.names.read_alias, query={"match_phrase": {"ix.title_cjk": value}})
        assert [h["_id"] for h in resp["hits"]["hits"]] == expected, value


def test_exact_total_facets_and_filters(service: SearchService) -> None:
    result = service.simple("")
    assert result["total"] == len(RECORDS)
    categories = {b["value"]: b["count"] for b in result["facets"]["category"]}
    assert categories == {"工学": 4, "教育学": 1}
    assert {b["value"] for b in result["facets"]["doc_type"]} == {"journal_article"}
    assert result["facets"]["doc_type"][0]["label"] == "期刊论文"
    filtered = service.simple("", filters={"category": ["教育学"]})
    assert ids(filtered) == ["r5"] and filtered["total"] == 1
    by_year = service.simple("", filters={"year": ["2021"]})
    assert sorted(ids(by_year)) == ["r3", "r5"]
    assert {b["value"] for b in by_year["facets"]["category"]} == {"工学", "教育学"}


def test_highlights_map_onto_display_text(service: SearchService) -> None:
    hit = service.simple("飛行器")["hits"][0]
    assert hit["highlight"]["title"] == "<em>飞行器</em>姿态控制系统设计"
    hit = next(h for h in service.simple("bert")["hits"] if h["id"] == "r3")
    assert "<em>BERT</em>" in hit["highlight"]["title"], "original case is kept in the highlight"
    assert any("<em>BERT</em>" in k for k in hit["highlight"]["keywords"])


def test_highlight_escapes_html(service: SearchService, es: Elasticsearch, tokenizer: Tokenizer) -> None:
    rec = make_record("x1", "<script>alert(1)</script>石墨烯")
    write_records(es, service.names.write_alias, [("x1", rec)], tokenizer, refresh=True)
    hit = next(h for h in service.simple("石墨烯")["hits"] if h["id"] == "x1")
    assert "<script>" not in hit["highlight"]["title"]
    assert "&lt;script&gt;" in hit["highlight"]["title"]


def test_paging_and_validation(service: SearchService) -> None:
    first = service.simple("", size=2, page=1)
    second = service.simple("", size=2, page=2)
    assert len(first["hits"]) == 2 and not set(ids(first)) & set(ids(second))
    for kwargs in ({"page": 0}, {"size": 0}, {"size": 101}, {"page": 5001, "size": 2}):
        with pytest.raises(BadQuery):
            service.simple("石墨烯", **kwargs)  # type: ignore[arg-type]
    with pytest.raises(BadQuery):
        service.simple("石" * 501)
    with pytest.raises(BadQuery):
        service.simple("", filters={"nope": ["x"]})


def test_missing_index_is_an_empty_result(es: Elasticsearch, tokenizer: Tokenizer) -> None:
    service = SearchService(es, IndexNames(new_prefix("none")), tokenizer)
    assert service.simple("石墨烯")["total"] == 0
    assert service.get_record("r1") is None


def test_highlight_maps_across_characters_that_fold_to_several(
    service: SearchService, es: Elasticsearch, tokenizer: Tokenizer
) -> None:
    # NFKC turns "…" into "..." and "㎡" into "m2": the folded text is longer than the original.
    rec = make_record("x2", "钙钛矿…太阳能㎡电池PCE", abstract="研究了钙钛矿…薄膜，面积1㎡的BERT电池。")
    write_records(es, service.names.write_alias, [("x2", rec)], tokenizer, refresh=True)
    hit = next(h for h in service.simple("钙钛矿 BERT")["hits"] if h["id"] == "x2")
    assert hit["highlight"]["title"] == "<em>钙钛矿</em>…太阳能㎡电池PCE"
    assert hit["highlight"]["abstract"] == ["研究了<em>钙钛矿</em>…薄膜，面积1㎡的<em>BERT</em>电池。"]


def test_iter_records_walks_every_hit_in_order(service: SearchService) -> None:
    query = service.query_for("", filters={"category": ["工学"]})
    walked = [r["id"] for r in service.iter_records(query, sort="year_desc", batch=2)]
    listed = [
        h["id"] for h in service.simple("", filters={"category": ["工学"]}, sort="year_desc", size=50)["hits"]
    ]
    assert walked == listed and len(walked) >= 4
    assert [r["id"] for r in service.iter_records(query, sort="year_desc", limit=3, batch=2)] == listed[:3]


def test_iter_records_goes_past_the_result_window(es: Elasticsearch, tokenizer: Tokenizer) -> None:
    names = IndexNames(new_prefix("deep"))
    create(es, names, tokenizer)
    try:
        records = [
            make_record(f"d{i:05d}", f"深度分页测试记录{i}", year=2000 + i % 20) for i in range(10_050)
        ]
        write_records(es, names.write_alias, [(r.id, r) for r in records], tokenizer, refresh=True)
        service = SearchService(es, names, tokenizer)
        ids = [r["id"] for r in service.iter_records(service.query_for(""), sort="year_asc")]
        assert len(ids) == len(set(ids)) == 10_050
        pro = service.query_for("TI='分页测试'", mode="pro")
        assert sum(1 for _ in service.iter_records(pro, limit=10_020)) == 10_020
    finally:
        drop_all(es, names)


def test_pro_mode_highlights_fuzzy_matches_too(service: SearchService) -> None:
    result, _ = service.pro("TI%'锂电池石墨烯' AND AB%'负极'")
    hit = next(h for h in result["hits"] if h["id"] == "r1")
    assert "<em>石墨烯</em>" in hit["highlight"]["title"] and "<em>锂电池</em>" in hit["highlight"]["title"]
    assert any("<em>负极</em>" in f for f in hit["highlight"]["abstract"])
    # Nothing searched under NOT (or `-`) lights up.
    result, _ = service.pro("TI='石墨烯' NOT AB='BERT'")
    hit = next(h for h in result["hits"] if h["id"] == "r1")
    assert "BERT" not in str(hit["highlight"])
    result, _ = service.pro("TI='石墨烯'-'隔膜'")
    assert all("<em>隔膜</em>" not in str(h["highlight"]) for h in result["hits"])
