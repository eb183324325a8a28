"""The services `make services` starts are the real thing."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from conf.settings import Settings

pytestmark = pytest.mark.usefixtures("services")


def test_elasticsearch_root_reports_8_14() -> None:
    settings = Settings()
    info = httpx.get(settings.es_urls[0], timeout=10).json()
    assert info["version"]["number"].startswith("8.14.")
    assert info["tagline"] == "You Know, for Search"
    assert info["cluster_name"]


def test_elasticsearch_has_the_analysis_components_the_mappings_use() -> None:
    settings = Settings()
    body = {"tokenizer": "standard", "filter": ["cjk_width", "lowercase", "cjk_bigram"], "text": "ＡＢ石墨烯"}
    resp = httpx.post(f"{settings.es_urls[0]}/_analyze", json=body, timeout=10)
    assert [t["token"] for t in resp.json()["tokens"]] == ["ab", "石墨", "墨烯"]


@pytest.mark.parametrize("action", ["start"])
def test_services_start_is_idempotent(action: str) -> None:
    from chaxin.services import start_all

    urls = start_all(Settings())
    assert set(urls) == {"ES_URL", "REDIS_URL"}


def test_every_unpack_of_the_distribution_happens(tmp_path: Path) -> None:
    """Two unpacks from one checkout (the single node's, then a cluster's elsewhere) both leave a
    distribution: Maven's "already unpacked" marker of the first once made the second a silent no-op."""
    from chaxin.services import _resolve_distribution

    for name in ("first", "second"):
        home = _resolve_distribution(tmp_path / name)
        assert (home / "bin" / "elasticsearch").exists(), name
        assert (tmp_path / name / ".unpack-markers").is_dir(), "markers sit beside what they mark"
