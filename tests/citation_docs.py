"""A small citation network for the search side of the citation index (tests and the browser test).

Linking (citeindex/) fills `citations.*` and `references[].linked_id`; these tests write that link
state directly, on the documents `ingest.document.index_document` builds, so the search side is tested
on its own against a real index. (Not by a partial update: `ix` is excluded from `_source`, so an
update rebuilt from `_source` would drop every search field.)

    cited (王五, 2019)  <- other (李四, 2021, 他引), self (王五, 2022, 自引), secret (限制 report, 2023, 他引)
    shadow (2018)      <- secret, secret-2, secret-3 (限制 reports only: stored count 0, admin count 3)
    other              -> also cites secret (a public paper citing a 限制 report: the link must not show)

Stored counts follow the design: citers every visitor may see (not 限制), and the 限制 ones apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from elasticsearch import Elasticsearch, helpers

from ingest.document import index_document
from mappings.analysis.tokenizer import Tokenizer
from mappings.model import Record
from tests.conftest import make_record

CITED, OTHER, SELF, SECRET = "c-cited", "c-other", "c-self", "c-secret"
SHADOW, SECRET2, SECRET3, LONELY = "c-shadow", "c-secret-2", "c-secret-3", "c-lonely"
SECRET_TITLE = "舰载储能电源限制级科技报告"
TOPIC = "钙钛矿储能"


def _report(no: str) -> dict[str, Any]:
    return {"report_no": no, "access_level": "restricted"}


def _ref(text: str, linked: str | None = None) -> dict[str, Any]:
    return {"raw": text, "linked_id": linked}


def records() -> list[Record]:
    def paper(rid: str, title: str, author: str, year: int, **extra: Any) -> Record:
        return make_record(rid, title, authors=[{"name": author, "order": 1}], year=year, language="zh",
                           keywords=[TOPIC], venue="储能科学与技术", **extra)  # fmt: skip

    return [
        paper(CITED, f"{TOPIC}材料综述", "王五", 2019),
        paper(OTHER, f"{TOPIC}器件的界面工程", "李四", 2021, references=[
            _ref("王五. 钙钛矿储能材料综述[J]. 储能科学与技术, 2019.", CITED),
            _ref("某研究院. 舰载储能电源报告[R]. 2023.", SECRET),
            _ref("赵六. 未收录的文献[J]. 某刊, 2001."),
        ]),
        paper(SELF, f"{TOPIC}材料的稳定性再研究", "王五", 2022,
              references=[_ref("王五. 钙钛矿储能材料综述[J]. 储能科学与技术, 2019.", CITED)]),
        make_record(SECRET, SECRET_TITLE, doc_type="tech_report", tech_report=_report("R-SEC-1"), year=2023,
                    authors=[{"name": "钱七", "order": 1}], keywords=[TOPIC], language="zh",
                    references=[_ref("王五. 钙钛矿储能材料综述[J]. 2019.", CITED),
                                _ref("孙八. 钙钛矿早期工作[J]. 2018.", SHADOW)]),
        paper(SHADOW, f"{TOPIC}早期工作", "孙八", 2018),
        make_record(SECRET2, "限制级报告之二", doc_type="tech_report", tech_report=_report("R-SEC-2"), year=2020,
                    keywords=[TOPIC]),
        make_record(SECRET3, "限制级报告之三", doc_type="tech_report", tech_report=_report("R-SEC-3"), year=2020,
                    keywords=[TOPIC]),
        paper(LONELY, f"{TOPIC}无人引用的一篇", "周九", 2020),
    ]  # fmt: skip


# id -> citations.* as linking would leave them.
CITATIONS: dict[str, dict[str, Any]] = {
    OTHER: {"cites": [CITED, SECRET]},
    SELF: {"cites": [CITED], "cites_self": [CITED]},
    SECRET: {"cites": [CITED, SHADOW]},
    SECRET2: {"cites": [SHADOW]},
    SECRET3: {"cites": [SHADOW]},
    # Stored counts as the refresh leaves them (citeindex/counts.py): visible (non-限制) citers, and
    # apart from them the 限制 ones.
    CITED: {"cited_by_count": 2, "cited_by_others": 1, "cited_by_restricted": 1},
    SHADOW: {"cited_by_count": 0, "cited_by_others": 0, "cited_by_restricted": 3},
}


def write_network(
    es: Elasticsearch,
    index: str,
    tokenizer: Tokenizer,
    extra: Sequence[Record] = (),
    state: Mapping[str, Mapping[str, Any]] = CITATIONS,
) -> None:
    """Index the records with their link state, as citation linking leaves the documents."""
    actions = []
    for record in [*records(), *extra]:
        doc = index_document(record, tokenizer)
        if record.id in state:
            doc["citations"] = dict(state[record.id])
        actions.append({"_index": index, "_id": record.id, "_source": doc})
    ok, errors = helpers.bulk(es, actions, refresh=True, raise_on_error=False)
    assert ok == len(actions) and not errors, errors
