"""AU, FI and RP on a real index: names match folded, and order and the corresponding flag are kept.

authors is an object array, not nested, so these depend on the derived ix.first_author and
ix.corresponding_authors fields; FT reads a record's full text when it has one.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from elasticsearch import Elasticsearch

from ingest.index_admin import create, drop_all
from ingest.writer import write_records
from mappings.analysis.tokenizer import Tokenizer
from mappings.naming import IndexNames
from search.errors import BadQuery
from search.principal import Principal, Role
from search.service import SearchService
from tests.conftest import make_record, new_prefix

RECORDS = [
    make_record("a1", "石墨烯电池研究", authors=[
        {"name": "张三", "order": 1}, {"name": "李四", "order": 2, "corresponding": True}]),
    make_record("a2", "锂电池隔膜", authors=[
        {"name": "李四", "order": 1, "corresponding": True}, {"name": "張三", "order": 2}]),
    make_record("a3", "Graphene anodes", authors=[
        {"name": "Smith, J.", "order": 1}, {"name": "ＷＡＮＧ Ｘ", "order": 2, "corresponding": True}]),
    make_record("a4", "一种储能装置", full_text="本发明公开了一种基于钠离子的储能装置及其制备方法。"),
]  # fmt: skip


@pytest.fixture(scope="module")
def service(es: Elasticsearch, tokenizer: Tokenizer) -> Iterator[SearchService]:
    names = IndexNames(new_prefix("authors"))
    create(es, names, tokenizer)
    write_records(es, names.write_alias, [(r.id, r) for r in RECORDS], tokenizer, refresh=True)
    yield SearchService(es, names, tokenizer)
    drop_all(es, names)


# Full text is searchable for signed-in users only (domain brief Part A §5).
REGISTERED = Principal(user_id=1, roles=frozenset({Role.registered}))


def hits(service: SearchService, q: str) -> set[str]:
    result, _ = service.pro(q, principal=REGISTERED)
    return {h["id"] for h in result["hits"]}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("AU='张三'", {"a1", "a2"}),  # 張三 folds to 张三
        ("FI='张三'", {"a1"}),  # a co-author is not a first author
        ("FI='李四'", {"a2"}),
        ("RP='李四'", {"a1", "a2"}),
        ("RP='张三'", set()),
        ("AU='smith j'", {"a3"}),  # "Smith, J." as written
        ("AU='Smith J*'", {"a3"}),
        ("RP='wang x'", {"a3"}),  # full-width letters fold
        ("AU%'李'", {"a1", "a2"}),
        ("FI%'李'", {"a2"}),
    ],
)
def test_author_codes(service: SearchService, q: str, expected: set[str]) -> None:
    assert hits(service, q) == expected


def test_full_text_is_searched_by_ft_only(service: SearchService) -> None:
    assert hits(service, "FT='钠离子的储能'") == {"a4"}
    assert hits(service, "FT='储能装置'") == {"a4"}  # the title still answers FT
    assert hits(service, "TKA='钠离子'") == set()


def test_a_name_of_punctuation_only_is_a_clear_error(service: SearchService) -> None:
    with pytest.raises(BadQuery):
        service.pro("AU='.'")
