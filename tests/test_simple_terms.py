"""Simple search matches whole terms: never by one fragment (石墨 of 石墨烯), symbols as symbols (C++ is not
℃), variants keeping every part after the exact matches, and per-term counts when no record holds all."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from elasticsearch import Elasticsearch

from ingest.index_admin import create, drop_all
from ingest.writer import write_records
from mappings.analysis.tokenizer import Tokenizer
from mappings.naming import IndexNames
from search.service import SearchService
from search.simple_query import terms
from tests.conftest import make_record, new_prefix

RECORDS = [
    make_record("g1", "石墨烯的制备", keywords=["石墨烯"], abstract="讨论石墨烯的制备。"),
    make_record("g2", "氧化石墨烯复合膜", keywords=["复合膜"], abstract="以氧化石墨烯为原料。"),
    make_record("g3", "钙熔盐电解中石墨阳极的行为", keywords=["石墨阳极"], abstract="石墨阳极在熔盐中的消耗。"),
    make_record("g4", "硅纳米管的合成", keywords=["纳米管"], abstract="烯烃与石墨催化剂。"),
    make_record("b1", "锂电池管理系统设计", keywords=["锂电池"], abstract="锂电池的荷电状态估计。"),
    make_record("b2", "大容量锂离子电池热分析", keywords=["锂离子电池"], abstract="软包装电池放电过程。"),
    make_record("b3", "质子交换膜燃料电池的水管理", keywords=["燃料电池"], abstract="燃料电池堆的水热管理。"),
    make_record("c1", "C++程序设计课程教学改革", keywords=["C++", "教学"], abstract="面向对象的C++课程。"),
    make_record("c2", "4℃保存的小鼠精子活力", keywords=["精子"], abstract="在4℃下保存24小时。"),
    make_record("c3", "C语言实验教学", keywords=["C语言"], abstract="C语言课程的实验安排。"),
    make_record("c4", "基于C#的信息系统", keywords=["C#"], abstract="用C#开发的管理信息系统。"),
    make_record("c5", "基于.NET的网站开发", keywords=[".NET"], abstract="ASP.NET网站。"),
    make_record("t1", "Bcl-2 siRNA抑制HL-60细胞bcl-2基因表达", keywords=["siRNA"], abstract="转染实验。"),
]  # fmt: skip


@pytest.fixture(scope="module")
def service(es: Elasticsearch, tokenizer: Tokenizer) -> Iterator[SearchService]:
    names = IndexNames(new_prefix("terms"))
    create(es, names, tokenizer)
    write_records(es, names.write_alias, [(r.id, r) for r in RECORDS], tokenizer, refresh=True)
    yield SearchService(es, names, tokenizer)
    drop_all(es, names)


def ids(service: SearchService, q: str) -> list[str]:
    return [h["id"] for h in service.simple(q)["hits"]]


def test_a_term_never_matches_by_one_fragment(service: SearchService) -> None:
    # 石墨烯 inside 氧化石墨烯 (cut differently by jieba) still counts; 石墨 or 烯 alone does not.
    assert sorted(ids(service, "石墨烯")) == ["g1", "g2"]
    assert "b3" not in ids(service, "锂电池")


def test_variants_keeping_every_part_follow_the_exact_matches(service: SearchService) -> None:
    assert ids(service, "锂电池") == ["b1", "b2"]


def test_symbols_match_as_symbols(service: SearchService) -> None:
    assert ids(service, "C++") == ["c1"]
    assert ids(service, "c#") == ["c4"]
    assert ids(service, "C＋＋") == ["c1"]  # full-width, folded by NFKC
    # Not C++, C# or ℃: ℃ folds to °c, which the tokenizer keeps as one token (RULES_VERSION r3).
    assert ids(service, "C") == ["c3"]
    assert ids(service, "4℃") == ["c2"]
    assert ids(service, "℃") == ids(service, "°C") == ["c2"]
    assert ids(service, ".NET") == ["c5"]


def test_a_title_run_cut_mid_word_still_finds_its_record(service: SearchService) -> None:
    assert ids(service, "iRNA抑制HL")[:1] == ["t1"]
    # A Latin word at either end of a query of several terms may be cut too; a lone letter is not.
    assert ids(service, "irna 抑制") == ["t1"] and ids(service, "细胞 bcl") == ["t1"]
    assert "c4" not in ids(service, "系统 c")


def test_several_terms_with_no_common_record_report_each_term(service: SearchService) -> None:
    result = service.simple("石墨烯 燃料电池")
    assert result["total"] == 0
    assert result["per_term"] == [{"term": "石墨烯", "total": 2}, {"term": "燃料电池", "total": 1}]
    assert "per_term" not in service.simple("锂电池 管理系统")


def test_terms_split_at_spaces_and_separating_punctuation_only() -> None:
    assert terms("发展:理论、经验 与政策") == ["发展", "理论", "经验", "与政策"]
    assert terms("c++ c# .net 4°c") == ["c++", "c#", ".net", "4°c"]
