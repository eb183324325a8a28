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
)
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
}
