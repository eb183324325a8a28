"""Names the platform shows or resolves: a label for every ingest format, the newest physical index."""

from __future__ import annotations

from datetime import UTC, datetime

from elasticsearch import Elasticsearch

from ingest.formats import FORMATS
from ingest.index_admin import current_index
from mappings.naming import IndexNames
from search.fields import SOURCE_LABELS, source_label
from tests.conftest import new_prefix


def test_every_ingest_format_has_a_display_label() -> None:
    # The public must not see a bare internal name such as "cssci" as a record's source.
    missing = [f for f in FORMATS if f != "zotero" and f not in SOURCE_LABELS]
    assert missing == []
    assert source_label("zotero:cnki") == "Zotero 题录"


def test_current_index_is_the_newest_build_not_the_last_name(es: Elasticsearch) -> None:
    names = IndexNames(new_prefix("naming"))
    older = names.physical(9, datetime(2026, 1, 1, tzinfo=UTC))
    newer = names.physical(10, datetime(2026, 6, 1, tzinfo=UTC))
    assert sorted([older, newer])[-1] == older  # by name alone v9 wins: what this test guards against
    try:
        for index in (older, newer):
            es.indices.create(index=index, aliases={names.read_alias: {}})
        assert current_index(es, names.read_alias) == newer
    finally:
        es.indices.delete(index=f"{names.prefix}-*")
