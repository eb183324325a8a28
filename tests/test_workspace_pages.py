"""The advanced search form and the analyst workspace, server side (the browser tests drive them in Chromium)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from ingest.index_admin import create, drop_all
from ingest.writer import write_records
from mappings.analysis.tokenizer import Tokenizer
from mappings.naming import IndexNames
from search.errors import BadQuery
from search.query import parse
from search.query.ast import BoolOp, Term, Text
from tests.conftest import make_record, new_prefix, settings_for
from web.advanced_form import AdvancedForm, Row, build_expression, form_params, read_form
from web.app import create_app

HTML = {"accept": "text/html"}


def _form(**params: str | list[str]) -> AdvancedForm:
    return read_form({k: v if isinstance(v, list) else [v] for k, v in params.items()})


# ---------------------------------------------------------------- building the expression


def test_rows_years_and_types_become_one_expression() -> None:
    form = _form(
        v1="石墨烯",
        f2="KY",
        m2="exact",
        v2="导热薄膜",
        op2="AND",
        y1="2015",
        y2="2023",
        dt=["journal_article", "thesis"],
    )
    expression = build_expression(form)
    assert expression == (
        "SU%'石墨烯' AND KY='导热薄膜' AND PY BETWEEN ('2015','2023') AND DT=('期刊论文'+'学位论文')"
    )
    parse(expression)


def test_or_rows_are_bracketed_before_the_limits() -> None:
    form = _form(f1="TI", v1="石墨烯", f2="TI", v2="碳纳米管", op2="OR", y1="2020")
    assert build_expression(form) == "(TI%'石墨烯' OR TI%'碳纳米管') AND PY>=2020"
    assert build_expression(_form(f1="TI", v1="石墨烯", f2="TI", v2="碳纳米管", op2="OR")) == (
        "TI%'石墨烯' OR TI%'碳纳米管'"
    )
    assert build_expression(_form(y2="2010")) == "PY<=2010"


def test_exact_only_fields_ignore_a_fuzzy_choice() -> None:
    assert build_expression(_form(f1="DOI", m1="fuzzy", v1="10.1000/xyz")) == "DOI='10.1000/xyz'"


def test_empty_rows_are_skipped_and_the_first_operator_ignored() -> None:
    form = _form(rows="3", f1="TI", v1="", f2="AU", v2="张伟", op2="OR", f3="JN", v3="")
    assert build_expression(form) == "AU%'张伟'"


def test_not_cannot_open_the_expression() -> None:
    with pytest.raises(BadQuery, match="不能使用"):
        build_expression(_form(f1="TI", v1="", f2="AU", v2="张伟", op2="NOT"))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"f1": "XX", "v1": "a"}, "检索字段"),
        ({"m1": "regex", "v1": "a"}, "匹配方式"),
        ({"v1": "a", "v2": "b", "op2": "XOR"}, "逻辑关系"),
        ({"y1": "二〇二〇"}, "起始年"),
        ({"y1": "2022", "y2": "2020"}, "不能晚于"),
        ({"dt": "novel"}, "文献类型"),
        ({"rows": "many"}, "条件行数"),
        ({"v1": "长" * 201}, "过长"),
    ],
)
def test_bad_form_values_are_refused_in_chinese(params: dict[str, str], message: str) -> None:
    with pytest.raises(BadQuery, match=message):
        _form(**params)


def test_form_params_submit_the_same_form_again() -> None:
    form = _form(v1="石墨烯", f2="AU", v2="O'Brien", op2="OR", y1="2015", dt="patent")
    again = read_form({k: [v for kk, v in form_params(form) if kk == k] for k, _ in form_params(form)})
    assert again == form


# Characters the value reader treats specially (position operators, wildcards) stay out: they are features.
_VALUE_CHARS = st.sampled_from(
    list("石墨烯锂电池 abcXYZ019'‘’＇\"“”＂()（）=+-,，.·:;、&") + ["AND", "OR", "NOT"]
)


@given(st.lists(_VALUE_CHARS, min_size=1, max_size=12).map("".join))
def test_any_value_reads_back_exactly(value: str) -> None:
    if not value.strip():
        return
    form = AdvancedForm(rows=[Row("TI", "exact", value.strip()), Row("AU", "fuzzy", "张伟", "AND")])
    tree = parse(build_expression(form))
    assert isinstance(tree, BoolOp) and isinstance(tree.left, Term)
    assert isinstance(tree.left.value, Text) and tree.left.value.text == value.strip()


# ---------------------------------------------------------------- the pages


@pytest.fixture(scope="module")
def app_client(
    es: Elasticsearch, tokenizer: Tokenizer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    from appdb.session import upgrade

    settings = settings_for(new_prefix("wsp"), f"sqlite:///{tmp_path_factory.mktemp('wsp') / 'wsp.sqlite3'}")
    upgrade(settings.effective_database_url)
    names = IndexNames(settings.index_prefix)
    create(es, names, tokenizer)
    records = [
        make_record("w1", "石墨烯锂电池负极材料", keywords=["石墨烯", "锂电池"], year=2019, venue="电源技术"),
        make_record("w2", "石墨烯导热薄膜", keywords=["石墨烯"], year=2021, venue="材料导报"),
        make_record("w3", "深度学习文本分类", keywords=["深度学习"], year=2020, venue="计算机应用"),
    ]
    write_records(es, names.write_alias, [(r.id, r) for r in records], tokenizer, refresh=True)
    with TestClient(create_app(settings)) as c:
        yield c
    drop_all(es, names)


@pytest.fixture
def client(app_client: TestClient) -> TestClient:
    """The shared app with a browser of its own: fresh cookies, so an empty history."""
    app_client.cookies.clear()
    return app_client


def _csrf(client: TestClient) -> str:
    found = re.search(r'name="csrf_token" value="([^"]*)"', client.get("/workspace", headers=HTML).text)
    assert found
    return found.group(1)


def _search(client: TestClient, q: str) -> str:
    r = client.post("/workspace/search", data={"q": q, "csrf_token": _csrf(client)}, follow_redirects=False)
    assert r.status_code == 303, r.text[:500]
    return r.headers["location"]


def test_advanced_page_shows_form_expression_and_results(client: TestClient) -> None:
    empty = client.get("/advanced", headers=HTML)
    assert empty.status_code == 200 and 'name="v1"' in empty.text and "生成的检索式" not in empty.text
    r = client.get("/advanced", params={"v1": "石墨烯", "y1": "2020"}, headers=HTML)
    assert r.status_code == 200
    assert "SU%&#39;石墨烯&#39; AND PY&gt;=2020" in r.text
    assert "共找到 1 条结果" in r.text and "/records/w2" in r.text
    # Facet and paging links keep the form.
    assert re.search(r'href="/advanced\?rows=3&amp;f1=SU&amp;m1=fuzzy&amp;v1=%E7%9F%B3[^"]*venue=', r.text)


def test_advanced_page_refuses_bad_input_with_400(client: TestClient) -> None:
    r = client.get("/advanced", params={"f1": "ZZ", "v1": "a"}, headers=HTML)
    assert r.status_code == 400 and "检索字段" in r.text
    r = client.get("/advanced", params={"f1": "TI", "v1": "石墨*"}, headers=HTML)
    assert r.status_code == 400 and "expr-caret" in r.text and "截词符" in r.text
    r = client.get("/advanced", params={"v1": "a", "page": "x"}, headers=HTML)
    assert r.status_code == 400


def test_advanced_add_row_without_javascript(client: TestClient) -> None:
    r = client.get("/advanced", params={"rows": "3", "v1": "石墨烯", "add": "1"}, headers=HTML)
    assert r.status_code == 200
    assert 'name="v4"' in r.text and 'value="石墨烯"' in r.text and "共找到" not in r.text


def test_workspace_search_redirects_and_numbers_history(client: TestClient) -> None:
    assert _search(client, "TI='石墨烯'").endswith("&h=1")
    assert _search(client, "KY='锂电池'").endswith("&h=2")
    location = _search(client, "#1 AND #2")
    page = client.get(location, headers=HTML)
    assert page.status_code == 200
    assert "共找到 1 条结果" in page.text and 'value="w1"' in page.text
    assert page.text.count('class="history-row') == 3
    # Paging and facet links carry filters beside the expression and add nothing to the history.
    client.get(location + "&venue=电源技术&page=1", headers=HTML)
    assert len(client.get("/api/v1/history").json()["entries"]) == 3


def test_workspace_syntax_error_marks_the_position(client: TestClient) -> None:
    r = client.post("/workspace/search", data={"q": "TI='a' AND", "csrf_token": _csrf(client)}, headers=HTML)
    assert r.status_code == 400
    assert 'data-position="10"' in r.text and "AND 后缺少检索项" in r.text
    assert client.get("/api/v1/history").json()["entries"] == []


def test_workspace_posts_need_the_csrf_token(client: TestClient) -> None:
    r = client.post("/workspace/search", data={"q": "TI='石墨烯'"}, headers=HTML, follow_redirects=False)
    assert r.status_code == 403
    r = client.post("/workspace/search", data={"q": "TI='石墨烯'", "csrf_token": "0" * 64}, headers=HTML)
    assert r.status_code == 403


def test_rename_save_and_run_strategy(client: TestClient) -> None:
    _search(client, "TI='石墨烯'")
    token = _csrf(client)
    r = client.post(
        "/workspace/history/1/name",
        data={"name": "石墨烯篇名", "csrf_token": token, "return_to": "https://evil.example/workspace"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/workspace", "no open redirect"
    r = client.post(
        "/workspace/strategies",
        data={"from_history": "1", "name": "", "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    strategies = client.get("/api/v1/strategies").json()["strategies"]
    assert [s["name"] for s in strategies] == ["石墨烯篇名"]
    r = client.post(
        f"/workspace/strategies/{strategies[0]['id']}/run", data={"csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"].endswith("&h=2")
    r = client.post("/workspace/history/1/rerun", data={"csrf_token": token}, follow_redirects=False)
    assert r.headers["location"].endswith("&h=3")
    r = client.post("/workspace/history/99/rerun", data={"csrf_token": token}, headers=HTML)
    assert r.status_code == 404 and "#99" in r.text
    r = client.post(
        "/workspace/strategies",
        data={"from_history": "1", "name": "石墨烯篇名", "csrf_token": token},
        headers=HTML,
    )
    assert r.status_code == 400 and "已有名为" in r.text


def test_history_is_per_browser(app_client: TestClient) -> None:
    app_client.cookies.clear()
    _search(app_client, "TI='石墨烯'")
    app_client.cookies.clear()
    page = app_client.get("/workspace", headers=HTML)
    assert 'class="history-row' not in page.text


def test_export_of_a_selection(client: TestClient) -> None:
    r = client.get("/workspace/export", params={"ids": ["w1", "w2"], "format": "ris"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith(
        "/api/v1/export?format=ris&ids=w1&ids=w2"
    )
    body = client.get(r.headers["location"]).text
    assert body.count("TY  - ") == 2
    assert client.get("/workspace/export", params={"format": "ris"}, headers=HTML).status_code == 400
    assert (
        client.get("/workspace/export", params={"ids": "w1", "format": "docx"}, headers=HTML).status_code
        == 400
    )


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/workspace", {"q": "TI='石墨烯'", "page": "9" * 5000}, 400),
        ("/workspace", {"q": "TI='石墨烯'", "size": "²"}, 400),
        ("/workspace", {"q": "TI='石墨烯'", "sort": "score desc"}, 400),
        ("/workspace", {"q": "TI='石墨烯'", "h": "1" * 5000}, 200),
        ("/workspace", {"q": "石" * 3000}, 400),
        ("/advanced", {"y1": "2" * 5000}, 400),
        ("/advanced", {"rows": "9" * 5000}, 400),
        ("/advanced", {"v1": "石墨烯", "doc_type": "<script>"}, 200),
    ],
)
def test_odd_parameters_never_give_5xx(
    client: TestClient, path: str, params: dict[str, str], status: int
) -> None:
    r = client.get(path, params=params, headers=HTML)
    assert r.status_code == status
    assert "<script>" not in r.text.split("</header>", 1)[-1].replace(
        '<script src="/static/workspace.js"', ""
    )


def test_history_references_are_spelt_out_and_survive_deletion(client: TestClient) -> None:
    _search(client, "TI='石墨烯'")
    _search(client, "KY='锂电池'")
    _search(client, "#1 AND #2")
    token = _csrf(client)
    entries = client.get("/api/v1/history").json()["entries"]
    assert entries[2]["normalized"] == "(TI='石墨烯') AND (KY='锂电池')"
    r = client.post("/workspace/strategies", data={"from_history": "3", "name": "两词", "csrf_token": token},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    [strategy] = client.get("/api/v1/strategies").json()["strategies"]
    assert strategy["expression"] == "(TI='石墨烯') AND (KY='锂电池')", "stored spelt out, not #1 AND #2"

    # Deleting #1 changes neither #3's reading nor what re-running #3 finds.
    r = client.post("/workspace/history/1/delete", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    page = client.get("/workspace", headers=HTML).text
    assert page.count('class="history-row') == 2 and 'id="h1"' not in page
    assert "(TI=&#39;石墨烯&#39;) AND (KY=&#39;锂电池&#39;)" in page
    r = client.post("/workspace/history/3/rerun", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("&h=4")
    assert client.get("/api/v1/history").json()["entries"][-1]["total"] == 1
    assert client.post("/workspace/history/1/delete", data={"csrf_token": token}, headers=HTML).status_code == 404

    # 本次登录: an anonymous browser's history is all of this session.
    assert client.get("/workspace?history=session", headers=HTML).text.count('class="history-row') == 3
    r = client.post("/workspace/history/clear", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/api/v1/history").json()["entries"] == []
    assert [s["name"] for s in client.get("/api/v1/strategies").json()["strategies"]] == ["两词"]
    assert _search(client, "TI='石墨烯'").endswith("&h=1"), "numbering starts again"


def test_history_api_deletes_and_clears(client: TestClient) -> None:
    _search(client, "TI='石墨烯'")
    _search(client, "#1 OR KY='深度学习'")
    r = client.post("/api/v1/strategies", json={"name": "API", "from_history": 2})
    assert r.status_code == 201 and r.json()["expression"] == "(TI='石墨烯') OR KY='深度学习'"
    assert client.delete("/api/v1/history/1").status_code == 204
    assert client.delete("/api/v1/history/1").status_code == 404
    assert client.post("/api/v1/history/2/rerun").json()["total"] == 3
    assert client.delete("/api/v1/history").json() == {"deleted": 2}


def test_a_refused_advanced_form_comes_back_filled_with_the_field_marked(client: TestClient) -> None:
    r = client.get("/advanced", params={"rows": "3", "f1": "TI", "v1": "石墨烯", "y1": "2022", "y2": "2019"},
                   headers=HTML)  # fmt: skip
    assert r.status_code == 400 and "起始年（2022）不能晚于结束年（2019）" in r.text
    assert 'value="石墨烯"' in r.text and 'value="2019"' in r.text
    assert re.search(r'name="y1" value="2022" class="invalid" aria-invalid="true"', r.text)
    r = client.get("/advanced", params={"f1": "TI", "v1": "石墨烯", "y2": "20x9"}, headers=HTML)
    assert r.status_code == 400 and 'name="y2" value="20x9" class="invalid"' in r.text
    assert 'value="石墨烯"' in r.text
    r = client.get("/advanced", params={"f2": "ZZ", "v2": "张伟", "v1": "石墨烯"}, headers=HTML)
    assert r.status_code == 400 and "检索字段" in r.text
    assert 'value="张伟"' in r.text and re.search(r'name="f2" class="adv-field invalid" aria-invalid="true"', r.text)
