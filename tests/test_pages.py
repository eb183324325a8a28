"""The server-rendered search pages, against a real Elasticsearch with a few seeded records."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from html import unescape
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from conf.clients import make_es
from conf.settings import Settings
from ingest.index_admin import create, drop_all
from ingest.writer import write_records
from mappings.analysis.tokenizer import get_tokenizer
from mappings.model import AccessLevel, Author, DocType, Record, TechReportInfo
from mappings.naming import IndexNames
from web.app import create_app

pytestmark = pytest.mark.usefixtures("services")

NOW = datetime(2024, 5, 1, tzinfo=UTC)


def _records() -> list[Record]:
    common = {"source": "test", "ingested_at": NOW, "version": 1, "language": "zh"}
    return [
        Record(
            id="r-graphene",
            source_id="t-1",
            doc_type=DocType.journal_article,
            title="石墨烯复合负极材料在锂离子电池中的应用研究",
            title_en="Graphene composite anodes for lithium-ion batteries",
            authors=[
                Author(name="张伟", affiliation="清华大学材料学院", order=1, corresponding=True),
                Author(name="李娜", affiliation="中国科学院物理研究所", order=2),
            ],
            abstract="本文制备了石墨烯/硅复合负极材料，研究了其在锂离子电池中的循环性能与倍率性能。"
            "结果表明，石墨烯的引入显著提高了电极的导电性和结构稳定性。",
            keywords=["石墨烯", "锂离子电池", "负极材料"],
            venue="电化学",
            year=2019,
            volume="25",
            issue="3",
            pages="301-310",
            doi="10.1234/dhx.2019.003",
            clc=["TM912"],
            category="工学",
            discipline="材料科学与工程",
            funds=["国家自然科学基金（51872001）"],
            **common,
        ),
        Record(
            id="r-graphene-2",
            source_id="t-2",
            doc_type=DocType.thesis,
            title="石墨烯导热薄膜的制备与性能",
            abstract="以氧化石墨烯为原料，通过刮涂和热还原制备了高导热石墨烯薄膜。",
            keywords=["石墨烯", "导热薄膜"],
            venue="浙江大学",
            year=2021,
            category="理学",
            discipline="物理学",
            **common,
        ),
        Record(
            id="r-textcls",
            source_id="t-3",
            doc_type=DocType.journal_article,
            title="基于深度学习的中文文本分类方法综述",
            abstract="文本分类是自然语言处理的基础任务。本文综述了卷积神经网络、循环神经网络和预训练语言模型"
            "在中文文本分类中的应用，并讨论了未来的研究方向。",
            keywords=["深度学习", "文本分类", "自然语言处理"],
            venue="计算机学报",
            year=2020,
            category="工学",
            discipline="计算机科学与技术",
            **common,
        ),
        Record(
            id="r-report",
            source_id="t-4",
            doc_type=DocType.tech_report,
            title="高比能锂电池关键材料研发科技报告",
            abstract="本报告总结了高比能锂电池正负极关键材料的研发进展。",
            keywords=["锂电池", "正极材料"],
            year=2022,
            category="工学",
            discipline="材料科学与工程",
            tech_report=TechReportInfo(
                report_no="2022YFB001-01", access_level=AccessLevel.public, organisation="某某研究院"
            ),
            **common,
        ),
    ]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    from appdb.session import upgrade

    prefix = f"pagetest-{secrets.token_hex(4)}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CHAXIN_INDEX_PREFIX", prefix)
        # Pages ask who is signing in (web.identity reads the session table): a migrated database of their own.
        mp.setenv("DATABASE_URL", f"sqlite:///{tmp_path_factory.mktemp('pages') / 'pages.sqlite3'}")
        settings = Settings()
    assert settings.index_prefix == prefix
    upgrade(settings.effective_database_url)
    es = make_es(settings)
    names = IndexNames(prefix)
    tokenizer = get_tokenizer("rjieba")
    try:
        create(es, names, tokenizer)
        result = write_records(
            es, names.write_alias, [(str(i), r) for i, r in enumerate(_records(), 1)], tokenizer, refresh=True
        )
        assert result.indexed == len(_records()) and not result.failed
        with TestClient(create_app(settings)) as c:
            yield c
    finally:
        drop_all(es, names)
        es.close()


def _text(html: str) -> str:
    """Visible text, tags dropped and whitespace collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _hit_ids(html: str) -> list[str]:
    return re.findall(r'class="hit-title"><a href="/records/([^"]+)"', html)


def test_home_page(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert '<html lang="zh-CN">' in r.text
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in r.text
    assert "Chaxin 查新平台" in r.text
    assert "科技文献与科技报告检索" in r.text
    assert 'action="/" method="get"' in r.text
    assert "/static/chaxin.css" in r.text
    assert "已收录文献 4 篇" in _text(r.text)
    assert 'class="hit-list"' not in r.text


def test_static_css(client: TestClient) -> None:
    r = client.get("/static/chaxin.css")
    assert r.status_code == 200
    assert "PingFang SC" in r.text and "Microsoft YaHei" in r.text and "Noto Sans CJK SC" in r.text


def test_search_shows_exact_count_and_highlights(client: TestClient) -> None:
    r = client.get("/", params={"q": "石墨烯"})
    assert r.status_code == 200
    assert "共找到 2 条结果" in r.text
    assert sorted(_hit_ids(r.text)) == ["r-graphene", "r-graphene-2"]
    assert "<em>石墨烯</em>" in r.text
    assert 'value="石墨烯"' in r.text  # search box prefilled
    assert "期刊论文" in r.text and "学位论文" in r.text  # doc type labels
    assert "工学 › 材料科学与工程" in r.text
    # facets with their Chinese labels, each value a link that adds a filter
    for label in ("文献类型", "年份", "学科门类", "学科"):
        assert f'<h2 class="facet-title">{label}</h2>' in r.text
    assert 'href="/?q=%E7%9F%B3%E5%A2%A8%E7%83%AF&amp;category=%E5%B7%A5%E5%AD%A6"' in r.text


def test_abstract_snippet_without_highlight(client: TestClient) -> None:
    r = client.get("/", params={"category": "理学"})
    assert r.status_code == 200
    assert "共找到 1 条结果" in r.text
    assert "以氧化石墨烯为原料" in r.text


def test_facet_link_filters(client: TestClient) -> None:
    r = client.get("/", params={"q": "锂电池"})
    assert r.status_code == 200
    assert "共找到 2 条结果" in r.text
    link = re.search(
        r'<a class="facet-item" href="([^"]+)"><span class="facet-label">科技报告</span>', r.text
    )
    assert link, "doc_type facet value 科技报告 missing"
    url = unescape(link.group(1))
    assert "q=" in url and "doc_type=tech_report" in url and "page=" not in url

    filtered = client.get(url)
    assert filtered.status_code == 200
    assert "共找到 1 条结果" in filtered.text
    assert _hit_ids(filtered.text) == ["r-report"]
    # the active filter shows as a removable chip; removing it keeps the query
    chip = re.search(
        r'<a class="chip" href="([^"]+)"[^>]*><span aria-hidden="true">×</span> 科技报告', filtered.text
    )
    assert chip
    back = client.get(unescape(chip.group(1)))
    assert "共找到 2 条结果" in back.text


def test_repeated_facet_params(client: TestClient) -> None:
    r = client.get("/?category=工学&year=2019&year=2022")
    assert r.status_code == 200
    assert "共找到 2 条结果" in r.text
    assert sorted(_hit_ids(r.text)) == ["r-graphene", "r-report"]


def test_empty_result(client: TestClient) -> None:
    r = client.get("/", params={"q": "量子色动力学格点计算"})
    assert r.status_code == 200
    assert "共找到 0 条结果" in r.text
    assert "没有找到相关文献" in r.text


def test_paging(client: TestClient) -> None:
    r = client.get("/", params={"category": "工学", "size": 1})
    assert r.status_code == 200
    assert "共找到 3 条结果" in r.text
    assert len(_hit_ids(r.text)) == 1
    assert 'rel="next"' in r.text
    assert 'href="/?category=%E5%B7%A5%E5%AD%A6&amp;size=1&amp;page=3"' in r.text
    last = client.get("/", params={"category": "工学", "size": 1, "page": 3})
    assert 'rel="prev"' in last.text and 'rel="next"' not in last.text
    ids = {*_hit_ids(r.text), *_hit_ids(last.text)}
    assert len(ids) == 2


def test_record_page(client: TestClient) -> None:
    r = client.get("/records/r-graphene")
    assert r.status_code == 200
    text = _text(r.text)
    for expected in (
        "石墨烯复合负极材料在锂离子电池中的应用研究",
        "Graphene composite anodes for lithium-ion batteries",
        "张伟",
        "清华大学材料学院",
        "电化学",
        "2019, 25(3): 301-310",
        "期刊论文",
        "10.1234/dhx.2019.003",
        "工学 › 材料科学与工程",
        "TM912",
        "国家自然科学基金（51872001）",
        "本文制备了石墨烯/硅复合负极材料",
    ):
        assert expected in text, expected
    assert 'href="/?q=%E9%94%82%E7%A6%BB%E5%AD%90%E7%94%B5%E6%B1%A0"' in r.text  # keyword 锂离子电池


def test_tech_report_record(client: TestClient) -> None:
    r = client.get("/records/r-report")
    assert r.status_code == 200
    text = _text(r.text)
    assert "科技报告" in text and "2022YFB001-01" in text and "公开" in text


def test_record_404(client: TestClient) -> None:
    r = client.get("/records/no-such-record")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert "没有找到该文献记录" in r.text


def test_query_is_escaped(client: TestClient) -> None:
    r = client.get("/", params={"q": "<script>alert(1)</script>"})
    assert r.status_code == 200
    assert "<script>alert(1)</script>" not in r.text
    assert "<script" not in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text


def test_filter_value_is_escaped(client: TestClient) -> None:
    r = client.get("/", params={"category": '"><img src=x onerror=alert(1)>'})
    assert r.status_code == 200
    assert "<img" not in r.text
    assert "共找到 0 条结果" in r.text


@pytest.mark.parametrize(
    "params",
    [
        {"q": "石墨烯", "page": "abc"},
        {"q": "石墨烯", "page": "0"},
        {"q": "石墨烯", "page": "-3"},
        {"q": "石墨烯", "size": "1000"},
        {"q": "石墨烯", "size": "x"},
        {"q": "石墨烯", "sort": "citations"},
        {"year": "二〇一九"},  # BadQuery from the service
        {"q": "石" * 501},  # query too long
    ],
)
def test_bad_params_give_400_html(client: TestClient, params: dict[str, str]) -> None:
    r = client.get("/", params=params)
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("text/html")
    assert '<html lang="zh-CN">' in r.text
    assert "请求有误" in r.text


def test_error_page_for_html_clients(client: TestClient) -> None:
    r = client.get("/", params={"q": "石墨烯", "page": "abc"}, headers={"accept": "text/html"})
    assert r.status_code == 400
    assert "页码" in r.text


def test_search_unavailable_gives_503_html(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from appdb.session import upgrade

    monkeypatch.setenv("CHAXIN_INDEX_PREFIX", f"pagetest-{secrets.token_hex(4)}")
    monkeypatch.setenv("ES_URL", "http://127.0.0.1:1")  # nothing listens here
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'pages.sqlite3'}")
    upgrade(Settings().effective_database_url)
    with TestClient(create_app(Settings())) as c:
        r = c.get("/", params={"q": "石墨烯"})
        assert r.status_code == 503
        assert r.headers["content-type"].startswith("text/html")
        assert "检索服务暂时不可用" in r.text
        home = c.get("/")  # the home page still renders, without the collection overview
        assert home.status_code == 200
        assert "科技文献与科技报告检索" in home.text and "已收录文献" not in home.text


def test_a_page_past_the_end_shows_the_last_page(client: TestClient) -> None:
    for page in ("600", "999999999", "3"):
        r = client.get("/", params={"q": "石墨烯", "page": page, "size": "10"})
        assert r.status_code == 200, page
        assert 'aria-current="page">1<' in r.text or 'class="hit"' in r.text
        assert "该页没有结果" not in r.text


def test_sort_by_year_and_jump_to_page(client: TestClient) -> None:
    relevance = client.get("/", params={"q": "石墨烯"}).text
    newest = client.get("/", params={"q": "石墨烯", "sort": "year_desc"}).text
    assert "排序：" in relevance and '<strong aria-current="true">年份（新→旧）</strong>' in newest
    years = [int(y) for y in re.findall(r'class="meta-year">(\d{4})<', newest)]
    assert years == sorted(years, reverse=True) and len(years) > 1
    # Facet links keep the order; the 跳页 form carries the whole search but the page.
    assert "sort=year_desc" in re.search(r'class="facet-item[^"]*" href="([^"]+)"', newest).group(1)  # type: ignore[union-attr]
    small = client.get("/", params={"q": "石墨烯", "size": "1", "sort": "year_asc"}).text
    assert 'class="pager-jump"' in small
    assert '<input type="hidden" name="sort" value="year_asc">' in small
    assert '<input type="hidden" name="size" value="1">' in small


def test_terms_with_no_common_record_offer_each_term_and_advanced_search(client: TestClient) -> None:
    r = client.get("/", params={"q": "石墨烯 文本分类"})
    assert r.status_code == 200
    page = _text(r.text)
    assert "没有同时包含全部检索词的文献" in page
    assert re.search(r"石墨烯 ：\s*2 条", page) and re.search(r"文本分类 ：\s*1 条", page)
    assert 'href="/?q=%E7%9F%B3%E5%A2%A8%E7%83%AF"' in r.text
    assert re.search(r'class="to-advanced" href="/advanced\?rows=2&amp;f1=SU&amp;m1=fuzzy&amp;v1=', r.text)
