"""Browser tests: Playwright drives Debian's Chromium against a real uvicorn server on a free port.

The server runs the real app (real Elasticsearch, Redis and a SQLite application database of its
own) in a background thread, over an index of its own. Every page a test opens is watched for
JavaScript errors and failed loads; screenshots land in tests/browser/artifacts/ (gitignored).

These tests skip, rather than fail, where the `playwright` package or a Chromium binary is missing:
`.ci/run` installs both, so CI always runs them. `playwright install` is never used: the browser is
Debian's (`CHAXIN_CHROMIUM` overrides the path).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from elasticsearch import Elasticsearch

from conf.settings import Settings
from mappings.analysis.tokenizer import Tokenizer
from mappings.model import AccessLevel, Author, DocType, Record, TechReportInfo
from tests.conftest import new_prefix, settings_for, site_index

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page, Response

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
RESTRICTED_ID = "b-restricted"
RESTRICTED_TITLE = "高能量密度固态电池关键技术限制级科技报告"
ADMIN_USER, ADMIN_PASSWORD = "browser-admin", "Chaxin-Browser-2024!"


def chromium_path() -> str | None:
    explicit = os.environ.get("CHAXIN_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).exists() else None
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


# ---------------------------------------------------------------- records


def _records() -> list[Record]:
    now = datetime(2024, 5, 1, tzinfo=UTC)
    common: dict[str, Any] = {"source": "browser-test", "ingested_at": now, "version": 1, "language": "zh"}
    out: list[Record] = []
    # Enough graphene records for two pages of results and several facet values.
    topics = ["锂离子电池负极", "导热薄膜", "超级电容器", "柔性传感器", "海水淡化膜", "复合涂层"]
    for i in range(24):
        topic = topics[i % len(topics)]
        out.append(
            Record(
                id=f"b-graphene-{i:02d}",
                source_id=f"g{i}",
                doc_type=DocType.thesis if i % 4 == 0 else DocType.journal_article,
                title=f"石墨烯{topic}的制备与性能研究（{i + 1}）",
                authors=[
                    Author(name="张伟" if i % 3 == 0 else "王芳", affiliation="清华大学材料学院", order=1)
                ],
                abstract=f"本文研究了石墨烯在{topic}中的应用，考察了结构与性能的关系。",
                keywords=["石墨烯", topic],
                venue="材料导报" if i % 2 else "功能材料",
                year=2015 + i % 9,
                category="工学",
                discipline="材料科学与工程",
                **common,
            )
        )
    out += [
        Record(
            id="b-lithium",
            source_id="l1",
            doc_type=DocType.journal_article,
            title="锂离子电池硅碳负极材料研究进展",
            abstract="综述了硅碳复合负极材料的制备方法与电化学性能。",
            keywords=["锂离子电池", "硅碳负极"],
            venue="电化学",
            year=2021,
            category="工学",
            discipline="材料科学与工程",
            **common,
        ),
        Record(
            id="b-textcls",
            source_id="t1",
            doc_type=DocType.journal_article,
            title="基于深度学习的中文文本分类方法综述",
            abstract="本文综述了卷积神经网络与预训练语言模型在中文文本分类中的应用。",
            keywords=["深度学习", "文本分类"],
            venue="计算机学报",
            year=2020,
            category="工学",
            discipline="计算机科学与技术",
            **common,
        ),
        Record(
            id=RESTRICTED_ID,
            source_id="r1",
            doc_type=DocType.tech_report,
            title=RESTRICTED_TITLE,
            abstract="本报告涉及固态电池电解质与界面的关键工艺参数。",
            keywords=["固态电池", "电解质"],
            year=2023,
            category="工学",
            tech_report=TechReportInfo(
                report_no="2023YFB-R-001", access_level=AccessLevel.restricted, organisation="某某研究院"
            ),
            **common,
        ),
    ]
    return out


# ---------------------------------------------------------------- the server


@dataclass
class LiveServer:
    url: str
    database_url: str


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serve(settings: Settings) -> Iterator[str]:
    """The real app for `settings` under uvicorn on a free port, in a thread; yields its base URL."""
    import uvicorn

    from web.app import create_app

    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="auto"
        )
    )
    thread = threading.Thread(target=server.run, name="browser-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture(scope="session")
def live_server(
    es: Elasticsearch, tokenizer: Tokenizer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    settings = settings_for(
        new_prefix("browser"), f"sqlite:///{tmp_path_factory.mktemp('browser') / 'browser.sqlite3'}"
    )
    with site_index(es, tokenizer, settings, _records()), serve(settings) as url:
        yield LiveServer(url, settings.effective_database_url)


# ---------------------------------------------------------------- the browser


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright package is not installed (pip install -e '.[dev]')")
    executable = chromium_path()
    if executable is None:
        pytest.skip("no Chromium binary (apt-get install chromium, or set CHAXIN_CHROMIUM)")
    with sync_playwright() as pw:
        # Root (CI) cannot use Chromium's sandbox; the pages are our own.
        launched = pw.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Watched:
    """A page plus everything that went wrong on it: console errors, uncaught exceptions, failed loads."""

    page: Page
    errors: list[str] = field(default_factory=list)

    def clean(self) -> None:
        assert not self.errors, "JavaScript errors or failed loads:\n" + "\n".join(self.errors)

    def shot(self, name: str, *, full_page: bool = True) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path


def open_page(browser: Browser, *, width: int = 1280, height: int = 900, mobile: bool = False) -> Watched:
    context = browser.new_context(
        viewport={"width": width, "height": height},
        locale="zh-CN",
        accept_downloads=True,
        is_mobile=mobile,
        has_touch=mobile,
        device_scale_factor=2 if mobile else 1,
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    watched = Watched(page)

    def on_console(message: ConsoleMessage) -> None:
        # Chromium logs every 4xx page as "Failed to load resource"; a page answering a bad
        # expression with 400 is correct, so statuses are judged in on_response instead.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            watched.errors.append(f"console: {message.text} ({page.url})")

    def on_response(response: Response) -> None:
        document = response.request.resource_type == "document"
        if response.status >= 500 or (response.status >= 400 and not document):
            watched.errors.append(f"HTTP {response.status}: {response.url}")

    page.on("console", on_console)
    page.on("response", on_response)
    page.on("pageerror", lambda exc: watched.errors.append(f"uncaught: {exc} ({page.url})"))
    return watched


@pytest.fixture
def tab(browser: Browser, live_server: LiveServer) -> Iterator[Watched]:
    """A fresh browser context (its own cookies, so its own history) at desktop width."""
    watched = open_page(browser)
    try:
        yield watched
        watched.clean()
    finally:
        watched.page.context.close()


@pytest.fixture
def phone(browser: Browser, live_server: LiveServer) -> Iterator[Watched]:
    """A fresh context the size of a small phone (375 px wide)."""
    watched = open_page(browser, width=375, height=740, mobile=True)
    try:
        yield watched
        watched.clean()
    finally:
        watched.page.context.close()
