"""The analyst query language: worked examples, compiled-DSL snapshots, and robustness properties.

Pure Python: parsing, printing and compilation to a dict. No Elasticsearch is needed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mappings.analysis.tokenizer import Tokenizer, get_tokenizer
from search.errors import BadQuery
from search.query import (
    MAX_DEPTH,
    QueryCompileError,
    QuerySyntaxError,
    cnki,
    compile_query,
    normalized,
    parse,
    to_dict,
)
from search.query.printer import quote

CORPUS_PATH = Path(__file__).with_name("query_corpus.yaml")
CORPUS: list[dict[str, Any]] = yaml.safe_load(CORPUS_PATH.read_text(encoding="utf-8"))
HISTORY: dict[int, dict[str, Any]] = {
    1: {"term": {"year": 2020}},
    2: {"match_all": {}},
    3: {"term": {"doc_type": "thesis"}},
}


def _tok() -> Tokenizer:
    return get_tokenizer("rjieba")


def _compile(text: str) -> dict[str, Any]:
    return compile_query(parse(text), tokenizer=_tok(), history=HISTORY.get)


def _input(entry: Mapping[str, Any]) -> str:
    if "input_parts" in entry:
        return "".join(str(text) * int(times) for text, times in entry["input_parts"])
    return str(entry["input"])


def _id(entry: Mapping[str, Any]) -> str:
    text = _input(entry)
    return text if len(text) <= 40 else f"{text[:37]}...({len(text)})"


def test_corpus_is_substantial() -> None:
    kinds = [("ast" in e) + 2 * ("error" in e) + 4 * ("compile_error" in e) for e in CORPUS]
    assert len(CORPUS) >= 70
    assert kinds.count(1) >= 40 and kinds.count(2) >= 25 and kinds.count(4) >= 4
    assert all(k in (1, 2, 4) for k in kinds), "each entry has exactly one expectation"


@pytest.mark.parametrize("entry", [e for e in CORPUS if "ast" in e], ids=_id)
def test_corpus_parses(entry: dict[str, Any]) -> None:
    query = parse(_input(entry))
    assert to_dict(query) == entry["ast"]
    assert normalized(query) == entry["normalized"]
    assert cnki(query) == entry.get("cnki", entry["normalized"])
    # Round trip: both printings read back as the same AST.
    assert parse(normalized(query)) == query
    assert parse(cnki(query)) == query
    compiled = compile_query(query, tokenizer=_tok(), history=HISTORY.get)
    assert "query_string" not in repr(compiled)


@pytest.mark.parametrize("entry", [e for e in CORPUS if "error" in e], ids=_id)
def test_corpus_syntax_errors(entry: dict[str, Any]) -> None:
    with pytest.raises(QuerySyntaxError) as info:
        parse(_input(entry))
    assert entry["error"]["message"] in info.value.message
    assert info.value.position == entry["error"]["position"]


@pytest.mark.parametrize("entry", [e for e in CORPUS if "compile_error" in e], ids=_id)
def test_corpus_compile_errors(entry: dict[str, Any]) -> None:
    query = parse(_input(entry))
    with pytest.raises(QueryCompileError) as info:
        compile_query(query, tokenizer=_tok(), history=HISTORY.get)
    assert entry["compile_error"]["message"] in info.value.message
    assert info.value.position == entry["compile_error"]["position"]


def test_errors_are_bad_query_with_details() -> None:
    with pytest.raises(BadQuery) as info:
        parse("TI='A' AND")
    err = info.value
    assert isinstance(err, QuerySyntaxError)
    assert err.to_dict() == {"message": "AND 后缺少检索项", "position": 10, "expected": ["检索项", "(", "#n"]}


# --- compiled DSL snapshots -------------------------------------------------------------------
# Jieba tokens below come from the versioned user dictionary; a dictionary change that moves
# them is a reason to re-check these, not to loosen them.


def _phrase(field: str, text: str) -> dict[str, Any]:
    return {"match_phrase": {field: text}}


def _tka_exact(text: str) -> dict[str, Any]:
    return {
        "bool": {
            "should": [
                _phrase("ix.title_cjk", text),
                {"term": {"ix.keywords_exact": text}},
                _phrase("ix.abstract_cjk", text),
            ],
            "minimum_should_match": 1,
        }
    }


def test_snapshot_cnki_verified_example() -> None:
    assert _compile("TI='生态' and KY='生态文明' and (AU % '陈' + '王')") == {
        "bool": {
            "must": [
                _phrase("ix.title_cjk", "生态"),
                {"term": {"ix.keywords_exact": "生态文明"}},
                {
                    "bool": {
                        "should": [
                            {"wildcard": {"ix.author_names": {"value": "*陈*"}}},
                            {"wildcard": {"ix.author_names": {"value": "*王*"}}},
                        ],
                        "minimum_should_match": 1,
                    }
                },
            ]
        }
    }


def test_snapshot_subject_members_each_by_own_rule_and_folding() -> None:
    # Traditional and full-width input folds to what the index holds.
    assert _compile("SU='北京'*'奧運'") == {"bool": {"must": [_tka_exact("北京"), _tka_exact("奥运")]}}
    assert _compile("KY='ＢＥＲＴ  模型'") == {"term": {"ix.keywords_exact": "bert 模型"}}


def test_snapshot_fuzzy_uses_jieba_tokens_all_required() -> None:
    assert _compile("TI%'石墨烯锂电池'") == {
        "match": {"ix.title": {"query": "石墨烯 锂电池", "operator": "and"}}
    }
    assert _compile("AB%'石墨烯'") == {"match": {"ix.abstract": {"query": "石墨烯", "operator": "and"}}}


def test_snapshot_left_to_right_and_flattening() -> None:
    assert _compile("TI='石墨烯' OR KY='锂电池' AND PY>=2018") == {
        "bool": {
            "must": [
                {
                    "bool": {
                        "should": [
                            _phrase("ix.title_cjk", "石墨烯"),
                            {"term": {"ix.keywords_exact": "锂电池"}},
                        ],
                        "minimum_should_match": 1,
                    }
                },
                {"range": {"year": {"gte": 2018}}},
            ]
        }
    }
    # A chain of one operator is one flat clause list, not a nested ladder.
    assert _compile("TI='石墨烯' AND TI='锂电池' AND TI='正极' NOT TI='综述' NOT TI='进展'") == {
        "bool": {
            "must": [
                {
                    "bool": {
                        "must": [
                            _phrase("ix.title_cjk", "石墨烯"),
                            _phrase("ix.title_cjk", "锂电池"),
                            _phrase("ix.title_cjk", "正极"),
                        ]
                    }
                }
            ],
            "must_not": [_phrase("ix.title_cjk", "综述"), _phrase("ix.title_cjk", "进展")],
        }
    }


def test_snapshot_proximity() -> None:
    assert _compile("TI='石墨烯 /PREV 3 锂电池正极'") == {
        "span_near": {
            "clauses": [
                {"span_term": {"ix.title": "石墨烯"}},
                {
                    "span_near": {
                        "clauses": [
                            {"span_term": {"ix.title": "锂电池"}},
                            {"span_term": {"ix.title": "正极"}},
                        ],
                        "slop": 0,
                        "in_order": True,
                    }
                },
            ],
            "slop": 3,
            "in_order": True,
        }
    }
    # SU has proximity only through title and abstract; keywords have no position operators.
    near = _compile("SU='碳纤维 /NEAR 2 复合材料'")
    fields = [next(iter(c["span_near"]["clauses"][0]["span_term"])) for c in near["bool"]["should"]]
    assert fields == ["ix.title", "ix.abstract"]
    assert near["bool"]["should"][0]["span_near"]["in_order"] is False


def test_snapshot_truncation() -> None:
    assert _compile("TI='graph*'") == {"wildcard": {"ix.title": {"value": "graph*"}}}
    assert _compile("TI='Graph Neural Net*'") == {
        "span_near": {
            "clauses": [
                {"span_term": {"ix.title": "graph"}},
                {"span_term": {"ix.title": "neural"}},
                {"span_multi": {"match": {"wildcard": {"ix.title": {"value": "net*"}}}}},
            ],
            "slop": 0,
            "in_order": True,
        }
    }
    assert _compile("KY='graph*'") == {"wildcard": {"ix.keywords_exact": {"value": "graph*"}}}
    assert _compile("KY%'neural net*'") == {
        "bool": {
            "must": [
                {"match": {"ix.keywords": {"query": "neural", "operator": "and"}}},
                {"wildcard": {"ix.keywords": {"value": "net*"}}},
            ]
        }
    }


def test_snapshot_keyword_fields_ranges_and_history() -> None:
    assert _compile(
        "PY BETWEEN ('2015','2020') AND DT='学位论文' AND LA='英文' AND CLC='TP391' AND DOI='https://doi.org/10.1/AB'"
    ) == {
        "bool": {
            "must": [
                {"range": {"year": {"gte": 2015, "lte": 2020}}},
                {"term": {"doc_type": "thesis"}},
                {"term": {"language": "en"}},
                {"prefix": {"clc": {"value": "TP391", "case_insensitive": True}}},
                {"term": {"doi": "10.1/ab"}},
            ]
        }
    }
    assert _compile("AU='张三' OR PY=(2015-2017)") == {
        "bool": {
            "should": [
                {"term": {"ix.author_names": "张三"}},
                {"range": {"year": {"gte": 2015, "lte": 2017}}},
            ],
            "minimum_should_match": 1,
        }
    }
    assert _compile("#2 NOT (TI='综述')") == {
        "bool": {"must": [{"match_all": {}}], "must_not": [_phrase("ix.title_cjk", "综述")]}
    }


def test_snapshot_affiliation() -> None:
    assert _compile("AF='清华大学'") == {
        "bool": {
            "should": [
                {"match_phrase": {"authors.affiliation": "清华大学"}},
                {"term": {"authors.affiliation.kw": "清华大学"}},
            ],
            "minimum_should_match": 1,
        }
    }


def test_history_is_copied_and_required() -> None:
    stored = {"bool": {"must": [{"term": {"year": 2020}}]}}
    compiled = compile_query(parse("#1 AND TI='石墨烯'"), tokenizer=_tok(), history={1: stored}.get)
    compiled["bool"]["must"][0]["bool"]["must"].append({"match_all": {}})
    assert stored == {"bool": {"must": [{"term": {"year": 2020}}]}}
    with pytest.raises(QueryCompileError, match="无法引用检索历史"):
        compile_query(parse("#1"), tokenizer=_tok())

    def missing(n: int) -> dict[str, Any]:
        raise KeyError(n)

    with pytest.raises(QueryCompileError, match="检索历史中没有 #4"):
        compile_query(parse("#4"), tokenizer=_tok(), history=missing)


def test_depth_limit_is_exact() -> None:
    ok = "(" * MAX_DEPTH + "TI='石墨烯'" + ")" * MAX_DEPTH
    assert parse(ok) == parse("TI='石墨烯'")
    with pytest.raises(QuerySyntaxError, match="嵌套过深"):
        parse("(" + ok + ")")


# --- robustness properties --------------------------------------------------------------------

_CODES = ["TI", "ti", "SU", "TKA", "KY", "AB", "FT", "AU", "AF", "JN", "LY", "PY", "YE", "CLC", "LA", "DT",
          "DOI", "RN", "FU", "PN", "SN", "TS", "SO", "DO", "FI", "RP", "XX", "ＴＩ"]  # fmt: skip
_WORDS = ["石墨烯", "锂电池", "生态文明", "graph*", "wom?n", "Deep Learning", "陈", "B超", "2018", "2015-2020",
          "石墨烯 /NEAR 5 电池", "a /PREV 2 b", "x /SEN 1 y", "TCP/IP", "Parkinson's", "數據庫", "，。", "",
          "学位论文", "中文", "TP391", "10.1000/x-1", "石墨*", "*x", "a # b", "\\", "net* 网络"]  # fmt: skip
_ALPHABET = st.sampled_from(
    list("()（）'\"‘’“”=＝%％*＋+-－#＃<>=≥≤,，/ \u3000abcANDORNOTBETWEEN019石墨烯陈?？_@\\")
)


def _quoted(text: str, style: int) -> str:
    return [quote(text), f"'{text}'", f'"{text}"', f"‘{text}’", text][style]


_value_leaf = st.builds(_quoted, st.one_of(st.sampled_from(_WORDS), st.text(max_size=6)), st.integers(0, 4))
_value = st.recursive(
    _value_leaf,
    lambda inner: st.one_of(
        st.builds(
            lambda a, op, b: f"{a}{op}{b}", inner, st.sampled_from(["*", "+", "-", " OR ", "＊"]), inner
        ),
        inner.map(lambda s: f"({s})"),
    ),
    max_leaves=5,
)
_term = st.one_of(
    st.builds(lambda c, m, v: f"{c}{m}{v}", st.sampled_from(_CODES), st.sampled_from(["=", "%", "＝", " % ", "%="]),
              _value),
    st.builds(lambda c, op, y: f"{c}{op}{y}", st.sampled_from(_CODES), st.sampled_from([">", ">=", "<", "≤"]),
              st.sampled_from(["2018", "'2018'", "18", "abc"])),
    st.builds(lambda c, a, b: f"{c} BETWEEN ({a},{b})", st.sampled_from(_CODES), st.sampled_from(["2015", "'2020'"]),
              st.sampled_from(["2015", "'2020'", ""])),
    st.integers(0, 12).map(lambda n: f"#{n}"),
)  # fmt: skip
_expr = st.recursive(
    _term,
    lambda inner: st.one_of(
        st.builds(
            lambda a, op, b: f"{a} {op} {b}", inner, st.sampled_from(["AND", "OR", "NOT", "and", "Or"]), inner
        ),
        inner.map(lambda s: f"({s})"),
    ),
    max_leaves=8,
)


@st.composite
def _mutated(draw: st.DrawFn) -> str:
    """A generated expression with a few random edits: near-valid input, like a typo."""
    text = draw(_expr)
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(text)))
        cut = draw(st.integers(0, 2))
        insert = draw(st.sampled_from(["", "(", ")", "'", "*", " AND ", "=", "#", " /NEAR ", "？", '"', "‘"]))
        text = text[:at] + insert + text[at + cut :]
    return text


def _check(text: str) -> None:
    try:
        query = parse(text)
    except QuerySyntaxError as exc:
        assert exc.position is None or 0 <= exc.position <= len(text)
        return
    # Whatever parses prints back to the same AST, and compiles or fails with a user-facing error.
    assert parse(normalized(query)) == query
    assert parse(cnki(query)) == query
    try:
        compiled = compile_query(query, tokenizer=_tok(), history=HISTORY.get)
    except BadQuery:
        return
    assert "query_string" not in repr(compiled)


def _all_inputs() -> Iterator[st.SearchStrategy[str]]:
    yield st.text(max_size=80)
    yield st.text(alphabet=_ALPHABET, max_size=80)
    yield _expr
    yield _mutated()


@settings(max_examples=2000, deadline=None, database=None)
@given(st.one_of(*_all_inputs()))
def test_any_input_parses_or_raises_query_errors(text: str) -> None:
    _check(text)


@settings(max_examples=2000, deadline=None, database=None)
@given(_mutated())
def test_near_valid_expressions_parse_or_raise_query_errors(text: str) -> None:
    _check(text)


@pytest.mark.parametrize(
    "text",
    ["(" * 5000, ")" * 5000, "TI=" + "(" * 5000, "'" * 1999, "TI='a'" + "+'a'" * 400, "#1 AND " * 300 + "#1",
     "TI='a'" + " OR TI='b' AND TI='c'" * 30, "\x00\ud7ff\U0010ffff", "TI='" + "/NEAR 1 " * 200 + "'"],
)  # fmt: skip
def test_pathological_inputs_fail_cleanly(text: str) -> None:
    _check(text)


@pytest.mark.parametrize(
    ("text", "field", "value"),
    [("TI='陈'", "ix.title_cjk", "陈"), ("TI='B超'", "ix.title_cjk", "b超"), ("AB='于BERT'", "ix.abstract_cjk", "于bert")],
)
def test_single_characters_compile_to_exact_phrases(text: str, field: str, value: str) -> None:
    # Mapping v2 indexes unigrams beside bigrams, so these line up with the query's bigram cut.
    assert _compile(text) == {"match_phrase": {field: value}}


# ---------------------------------------------------------------- `#n` chains (issue 14, break 3)


@st.composite
def _history_chain(draw: st.DrawFn) -> list[str]:
    """Expressions run one after another, each combining earlier history entries: `#n AND #n OR ...`."""
    steps = [draw(_expr)]
    for _ in range(draw(st.integers(1, 5))):
        width = draw(st.integers(1, 100))
        ops = draw(
            st.lists(st.sampled_from([" AND ", " OR ", " NOT ", "*", "+"]), min_size=width, max_size=width)
        )
        refs = draw(st.lists(st.integers(1, len(steps)), min_size=width, max_size=width))
        steps.append(f"#{refs[0]}" + "".join(op + f"#{n}" for op, n in zip(ops[1:], refs[1:], strict=True)))
    return steps


@settings(max_examples=300, deadline=None, database=None)
@given(_history_chain())
def test_history_chains_stay_within_the_expansion_caps(steps: list[str]) -> None:
    import json

    from search.query.compiler import MAX_EXPANDED_BYTES, MAX_EXPANDED_LEAVES, leaf_count
    from search.query.errors import QueryCompileError

    history: dict[int, dict[str, Any]] = {}
    for text in steps:
        try:
            query = parse(text)
            compiled = compile_query(query, tokenizer=_tok(), history=history.get)
        except QueryCompileError as exc:
            if "展开后" in exc.message:
                assert exc.position is not None and text[exc.position] == "#", (text, exc.position)
            continue
        except BadQuery:
            continue
        assert leaf_count(compiled) <= MAX_EXPANDED_LEAVES
        assert len(json.dumps(compiled, ensure_ascii=False).encode("utf-8")) <= MAX_EXPANDED_BYTES
        history[len(history) + 1] = compiled
