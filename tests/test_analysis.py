"""The shared tokenizer module, and the index analyzers, checked on the real `_analyze` API."""

from __future__ import annotations

import sys
import unicodedata
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch
from hypothesis import given, settings
from hypothesis import strategies as st

from mappings.analysis.normalize import fold, nfkc, normalize
from mappings.analysis.tokenizer import _WORD_CHAR, Tokenizer, _degrees, get_tokenizer
from mappings.naming import IndexNames


def test_normalize_folds_width_case_and_traditional() -> None:
    assert normalize("ＢＥＲＴ　模型１２３") == "bert 模型123"
    assert normalize("數據庫與軟體開發") == "数据库与软体开发"
    assert normalize("  石墨烯\n\t电池  ") == "石墨烯 电池"


def test_fold_keeps_length_for_highlight_mapping() -> None:
    text = "基於BERT的文本分類，ＧＰＵ加速"
    assert len(fold(text)) == len(text)


@pytest.mark.parametrize("backend", ["rjieba", "jieba"])
def test_user_dictionary_term_kept_whole(backend: str) -> None:
    tok = get_tokenizer(backend)
    assert "石墨烯" in tok.analyze("石墨烯锂电池的制备")
    assert "钙钛矿太阳能电池" in tok.analyze("高效钙钛矿太阳能电池研究")


def test_custom_dictionary_changes_tokens_and_fingerprint(tmp_path: Path) -> None:
    text = "拓扑量子计算芯片"
    plain = Tokenizer("rjieba")
    custom_dict = tmp_path / "userdict-v9.txt"
    custom_dict.write_text("拓扑量子计算 5000 n\n", encoding="utf-8")
    custom = Tokenizer("rjieba", user_dict=custom_dict)
    assert "拓扑量子计算" not in plain.analyze(text)
    assert "拓扑量子计算" in custom.analyze(text)
    assert custom.fingerprint != plain.fingerprint


def test_traditional_and_simplified_give_same_tokens() -> None:
    tok = get_tokenizer("rjieba")
    assert tok.analyze("飛行器姿態控制系統") == tok.analyze("飞行器姿态控制系统")


def test_mixed_chinese_english_tokens() -> None:
    tokens = get_tokenizer("rjieba").analyze("基于BERT的文本分类")
    assert "bert" in tokens and "文本分类" in tokens
    assert all(t.strip() for t in tokens), "no whitespace or punctuation tokens"


# Full-width forms, their neighbours, combining marks (which compose with what precedes them),
# compatibility characters (ligatures, circled and super/subscript forms, CJK compatibility ideographs),
# Hangul jamo and Chinese: what could make NFKC of a whole string differ from NFKC piece by piece.
_NFKC_ALPHABET = st.one_of(
    st.sampled_from([chr(c) for c in (*range(0xFF01, 0xFF5F), 0x3000)]),
    st.sampled_from("AaEeOoUuNn ,.()-_\u00a8\u00b4\u0300\u0301\u0308\u0327\u0338\u3099\u309a\u05b0\u0e38"),
    st.characters(min_codepoint=0x0300, max_codepoint=0x036F),
    st.sampled_from("ﬁ①²₃ｶﾞﾞ\u1100\u1161\u11a8가\uf900\ufa0e㍻℃№™…‥　Å\u212b"),
    st.characters(min_codepoint=0x4E00, max_codepoint=0x4E40),
    st.characters(codec="utf-8"),
)


@settings(max_examples=2000, deadline=None)
@given(text=st.text(alphabet=_NFKC_ALPHABET, max_size=40))
def test_nfkc_shortcut_is_unicodedata_nfkc(text: str) -> None:
    assert nfkc(text) == unicodedata.normalize("NFKC", text)


def test_token_filter_keeps_what_the_word_pattern_keeps() -> None:
    # joined_folded keeps an all-isalnum() token without the regex: for that to keep the same tokens,
    # isalnum() must agree with [^\W_] on every character.
    disagree = [c for c in range(sys.maxunicode + 1) if chr(c).isalnum() != bool(_WORD_CHAR.match(chr(c)))]
    assert disagree == []
    tok = get_tokenizer("rjieba")
    text = fold("4℃下，Ｇａｌａｘｙ_S 的 1mol/L Mg(ClO4)2 溶液……「测试」 ° c _ __ ·")
    assert tok.joined_folded(text) == " ".join(filter(_WORD_CHAR.search, _degrees(list(tok._cut(text)))))


def _analyze(es: Elasticsearch, index: str, analyzer: str, text: str) -> list[str]:
    resp = es.indices.analyze(index=index, analyzer=analyzer, text=text)
    return [t["token"] for t in resp["tokens"]]


def test_jieba_field_analyzer_splits_on_whitespace_only(es: Elasticsearch, index_names: IndexNames) -> None:
    assert _analyze(es, index_names.write_alias, "chaxin_jieba", "石墨烯 锂电池 bert") == ["石墨烯", "锂电池", "bert"]


def test_cjk_analyzers_bigrams_for_queries_and_unigrams_too_in_the_index(
    es: Elasticsearch, index_names: IndexNames
) -> None:
    index = index_names.write_alias
    tokens = _analyze(es, index, "chaxin_cjk_search", "石墨烯，电池")
    assert tokens == ["石墨", "墨烯", "电池"]
    assert "烯电" not in tokens, "no bigram across punctuation"
    assert _analyze(es, index, "chaxin_cjk_search", "基于BERT的") == ["基于", "bert", "的"]
    indexed = _analyze(es, index, "chaxin_cjk", "基于BERT的")
    assert indexed == ["基", "基于", "于", "bert", "的"]
