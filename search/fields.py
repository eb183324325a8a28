"""Which index fields a simple search reads, and which facets it offers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Facet:
    name: str  # request parameter and response key
    field: str
    label: str  # shown on the page
    size: int = 20
    numeric: bool = False


FACETS: tuple[Facet, ...] = (
    Facet("doc_type", "doc_type", "文献类型"),
    Facet("year", "year", "年份", size=30, numeric=True),
    Facet("category", "category", "学科门类"),
    Facet("discipline", "discipline", "学科"),
    Facet("venue", "venue", "来源", size=15),
    Facet("clc", "ix.clc_top", "中图分类"),
    Facet("language", "language", "语种"),
    Facet("access_level", "tech_report.access_level", "公开范围"),
)

# Labels for facet values that are codes in the index.
VALUE_LABELS: dict[str, dict[str, str]] = {
    "language": {"zh": "中文", "en": "英文", "ja": "日文", "de": "德文", "fr": "法文", "ru": "俄文"},
    "access_level": {"public": "公开", "embargoed": "延期公开", "restricted": "限制"},
}

# Sort orders a search accepts; relevance first. `cited_desc` reads the stored count of the citers
# every visitor may see (search.citations): one index order for all users, so it never leaks a 限制
# citer. A record nobody has counted yet sorts as cited 0, so its ties go by score like the others.
SORTS: dict[str, list[dict[str, object]]] = {
    "relevance": [{"_score": "desc"}, {"id": "asc"}],
    "year_desc": [{"year": {"order": "desc", "missing": "_last"}}, {"_score": "desc"}, {"id": "asc"}],
    "year_asc": [{"year": {"order": "asc", "missing": "_last"}}, {"_score": "desc"}, {"id": "asc"}],
    "cited_desc": [
        {"citations.cited_by_count": {"order": "desc", "missing": 0}}, {"_score": "desc"}, {"id": "asc"}
    ],
}
# What each sort is called where users choose one.
SORT_LABELS = {
    "relevance": "相关度", "year_desc": "年份（新→旧）", "year_asc": "年份（旧→新）", "cited_desc": "被引频次",
}  # fmt: skip
FACETS_BY_NAME = {f.name: f for f in FACETS}

# jieba-token fields rank; bigram fields add recall for runs that jieba cut differently.
# Title weighs most: analysts expect a title hit first.
JIEBA_FIELDS = ("ix.title^4", "ix.keywords^2", "ix.abstract")
BIGRAM_FIELDS = ("ix.title_cjk^3", "ix.keywords_cjk^1.5", "ix.abstract_cjk^0.8")

# Display field -> the stored bigram field whose highlight maps back onto it.
HIGHLIGHT_FIELDS = {"title": "ix.title_cjk", "abstract": "ix.abstract_cjk", "keywords": "ix.keywords_cjk"}

DOC_TYPE_LABELS = {
    "journal_article": "期刊论文",
    "thesis": "学位论文",
    "conference_paper": "会议论文",
    "patent": "专利",
    "standard": "标准",
    "tech_report": "科技报告",
    "book_chapter": "图书析出文献",
    "newspaper_article": "报纸文章",
    "report": "报告",
    "webpage": "网页",
}

# What the public reads for a record's `source` (the ingest format or harvest it came through); the
# record's `source_id` inside that source is for staff. Unknown sources show as they are named.
SOURCE_LABELS = {
    "csl": "CSL 中文科学文献数据集",
    "jats": "JATS 期刊全文",
    "tei": "GROBID 全文",
    "uspto": "美国专利商标局（USPTO）",
    "st36": "WIPO/EPO 专利数据",
    "marc": "MARC 书目数据",
    "oai": "OAI-PMH 收割",
    "ris": "RIS 题录",
    "endnote": "EndNote 题录",
    "refworks": "RefWorks 题录",
    "noteexpress": "NoteExpress 题录",
    "wos": "Web of Science 题录",
    "cssci": "CSSCI 中文社会科学引文索引",
    "gbstd": "国家标准题录",
    "techreport": "科技报告汇交",
}


def source_label(source: str) -> str:
    if source.startswith("zotero:"):
        return "Zotero 题录"
    return SOURCE_LABELS.get(source, source)
