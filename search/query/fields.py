"""Field codes of the analyst query language: which index fields each reads and how it may be matched.

The registry is immutable and holds no per-request state; the parser checks codes and modes
against it, the compiler picks each field's query rule from its `kind`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType

from search.fields import DOC_TYPE_LABELS

EXACT = "="
FUZZY = "%"


class Kind(Enum):
    TEXT = "text"  # Chinese/Latin text through the ix.* fields (member rules below)
    NAME = "name"  # folded author names (ix.author_names and friends)
    AFFILIATION = "affiliation"  # authors.affiliation (standard analyzer) + .kw
    KEYWORD = "keyword"  # a keyword field compared whole (venue, identifiers, labels)
    PREFIX = "prefix"  # a keyword field matched by prefix (classification codes)
    YEAR = "year"  # the integer year: equality, ranges, comparisons
    COUNT = "count"  # a stored non-negative count (被引频次): equality, ranges, comparisons; absent = 0
    UNSUPPORTED = "unsupported"  # a known CNKI code this index cannot answer correctly


@dataclass(frozen=True)
class TextIndex:
    """One text member (title, keywords, abstract) and the derived fields that answer each rule."""

    name: str
    jieba: str  # jieba tokens: fuzzy match, proximity spans, truncation wildcards
    phrase: str | None = None  # bigram field: exact = contiguous run of characters
    equal: str | None = None  # whole-value keyword: exact = the value equals one entry
    proximity: bool = False


TITLE = TextIndex("title", jieba="ix.title", phrase="ix.title_cjk", proximity=True)
ABSTRACT = TextIndex("abstract", jieba="ix.abstract", phrase="ix.abstract_cjk", proximity=True)
# Keywords are separate entries: exact means equality with one of them (domain decision A.2), and
# CNKI offers no position operators on KY, so proximity is off for this member.
KEYWORDS = TextIndex("keywords", jieba="ix.keywords", equal="ix.keywords_exact")
TKA_MEMBERS = (TITLE, KEYWORDS, ABSTRACT)
FULL_TEXT = TextIndex("full_text", jieba="ix.full_text", phrase="ix.full_text_cjk", proximity=True)


@dataclass(frozen=True)
class FieldSpec:
    code: str
    label: str  # Chinese name, used in messages
    kind: Kind
    modes: frozenset[str] = frozenset({EXACT})
    es_fields: tuple[str, ...] = ()
    members: tuple[TextIndex, ...] = ()
    truncation: bool = False  # `*`/`?` inside a Latin word is a wildcard, not a literal
    ranges: bool = False  # BETWEEN, >, >=, <, <=
    case_insensitive: bool = False  # keyword values compared ignoring Latin case
    unsupported: str = ""  # why a code is refused, for UNSUPPORTED fields
    aliases: tuple[str, ...] = ()
    # Values analysts type mapped onto stored ones; `closed` refuses anything not listed.
    values: Mapping[str, str] = field(default_factory=dict, hash=False)
    closed: bool = False
    strip: str = ""  # a regex (any case) removed from the start of a value: DOI resolver prefixes
    lowercase: bool = False
    names: bool = False  # values folded like indexed author names (fold_name) before matching

    @property
    def proximity(self) -> bool:
        return any(m.proximity for m in self.members)


def _text(code: str, label: str, members: tuple[TextIndex, ...], aliases: tuple[str, ...] = ()) -> FieldSpec:
    es_fields = tuple(f for m in members for f in (m.jieba, m.phrase, m.equal) if f)
    modes = frozenset({EXACT, FUZZY})
    return FieldSpec(
        code, label, Kind.TEXT, modes, es_fields, members=members, truncation=True, aliases=aliases
    )


# Values analysts type for LA and DT, mapped onto what the index stores.
LANGUAGES: MappingProxyType[str, str] = MappingProxyType({
    "中文": "zh", "汉语": "zh", "chinese": "zh", "zh": "zh",
    "英文": "en", "英语": "en", "english": "en", "en": "en",
    "日文": "ja", "日语": "ja", "japanese": "ja", "ja": "ja",
    "俄文": "ru", "俄语": "ru", "russian": "ru", "ru": "ru",
    "德文": "de", "德语": "de", "german": "de", "de": "de",
    "法文": "fr", "法语": "fr", "french": "fr", "fr": "fr",
})  # fmt: skip
DOC_TYPES: MappingProxyType[str, str] = MappingProxyType(
    {**{code: code for code in DOC_TYPE_LABELS}, **{label: code for code, label in DOC_TYPE_LABELS.items()}}
)

FIELDS: tuple[FieldSpec, ...] = (
    # SU (主题) will get synonym expansion some day; until then it reads the same members as TKA.
    _text("SU", "主题", TKA_MEMBERS, aliases=("TS",)),
    _text("TKA", "篇关摘", TKA_MEMBERS),
    _text("TI", "篇名", (TITLE,)),
    _text("KY", "关键词", (KEYWORDS,)),
    _text("AB", "摘要", (ABSTRACT,)),
    # Records without a full text still answer FT from their title, keywords and abstract.
    _text("FT", "全文", (*TKA_MEMBERS, FULL_TEXT)),
    # Names are matched folded (full/half width, traditional/simplified, "Smith, J." = "smith j").
    FieldSpec("AU", "作者", Kind.NAME, frozenset({EXACT, FUZZY}), ("ix.author_names",), truncation=True,
              names=True),
    # authors is not nested: FI and RP read fields of their own so a co-author never passes for them.
    FieldSpec("FI", "第一作者", Kind.NAME, frozenset({EXACT, FUZZY}), ("ix.first_author",), truncation=True,
              names=True),
    FieldSpec("RP", "通讯作者", Kind.NAME, frozenset({EXACT, FUZZY}), ("ix.corresponding_authors",),
              truncation=True, names=True),
    FieldSpec("AF", "作者单位", Kind.AFFILIATION, frozenset({EXACT, FUZZY}),
              ("authors.affiliation", "authors.affiliation.kw")),
    FieldSpec("JN", "文献来源", Kind.KEYWORD, frozenset({EXACT, FUZZY}), ("venue",), case_insensitive=True,
              aliases=("LY", "SO")),
    FieldSpec("PY", "年", Kind.YEAR, es_fields=("year",), ranges=True, aliases=("YE",)),
    # 被引频次 reads the stored count of citers every visitor may see (search.citations), so a 限制 citer
    # never decides whether a record matches. A record no citation has reached yet counts 0.
    FieldSpec("CF", "被引频次", Kind.COUNT, es_fields=("citations.cited_by_count",), ranges=True),
    FieldSpec("CLC", "中图分类号", Kind.PREFIX, es_fields=("clc",), case_insensitive=True),
    FieldSpec("LA", "语种", Kind.KEYWORD, es_fields=("language",), values=LANGUAGES),
    FieldSpec("DT", "文献类型", Kind.KEYWORD, es_fields=("doc_type",), values=DOC_TYPES, closed=True),
    # The doi field has a lowercase normalizer; lowercasing here keeps the compiled query readable.
    FieldSpec("DOI", "DOI", Kind.KEYWORD, es_fields=("doi",), aliases=("DO",), lowercase=True,
              strip=r"https?://(?:dx\.)?doi\.org/|doi:\s*"),
    FieldSpec("RN", "报告编号", Kind.KEYWORD, es_fields=("tech_report.report_no",), case_insensitive=True),
    FieldSpec("FU", "基金", Kind.KEYWORD, frozenset({EXACT, FUZZY}), ("funds",), case_insensitive=True),
    FieldSpec("PN", "专利公开号", Kind.KEYWORD, es_fields=("patent.publication_number",), case_insensitive=True),
    FieldSpec("SN", "标准号", Kind.KEYWORD, es_fields=("standard.standard_number",), case_insensitive=True),
)  # fmt: skip

FIELDS_BY_CODE: MappingProxyType[str, FieldSpec] = MappingProxyType(
    {code: f for f in FIELDS for code in (f.code, *f.aliases)}
)


def lookup(code: str) -> FieldSpec | None:
    """The field for a code or alias, ignoring case."""
    return FIELDS_BY_CODE.get(code.upper())
