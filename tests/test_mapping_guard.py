"""Guards on the published index contract: frozen mapping files, additive versions, no dangling field.

A physical index is built from one mapping file and lives for months; a later edit to that file would
describe an index nobody has, and a field removed or re-analysed in a new version would silently change
what old queries mean. So: a published file never changes (its hash is pinned here when it is
published), a new version only adds, and every field `search/` names exists in the current version.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from mappings.naming import MAPPINGS_DIR, latest_mapping_version, load_mapping
from search import fields as search_fields
from search import policy
from search.query import fields as query_fields

RECORDS = MAPPINGS_DIR / "records"
SEARCH_DIR = Path(search_fields.__file__).resolve().parent

# Pinned when a version is published (merged to main). Add the new file's hash in the same change.
PUBLISHED = {
    1: "7e86728381f03ce059af8e3d406f06d016763e6ef292ff884476efc7b52163ee",
    2: "fb410cf22901dea0a81d93fe0e7e3288d02c2db9574bb31c0b05923e3a00d683",
    3: "ad1b6bbb1b29e734bda2d4f205ec59b1fc7dfc16ce0433cfb79ce7f0500fe142",
    4: "ea328865301db05c13def990332e7c1db9d6b018dc3b6b1c946c67562547282a",
    5: "0b80af65b768d9366f7e4754e2c35c62ae0c01b16b51ab5654cb4f39f30bfec7",
    6: "c61c49fab409ed94cdecc33fd29034f77cc5dd15aceb491faefa8fa1bfbd980b",
    7: "f2e7aaec59981215019af7c040c0d909a272ae36ccd14b59e5c5619cdcad780e",
}
# v2 re-analysed the bigram fields before this rule existed (unigrams in the index); kept as history.
ALLOWED_CHANGES = {(1, 2): {"ix.title_cjk", "ix.abstract_cjk", "ix.keywords_cjk"}}


def _versions() -> list[int]:
    return sorted(int(p.stem.rsplit("-v", 1)[1]) for p in RECORDS.glob("record-v*.json"))


def _paths(props: dict[str, Any], prefix: str = "") -> dict[str, dict[str, Any]]:
    """Every field path (objects, sub-fields) with its own settings, children left out."""
    out: dict[str, dict[str, Any]] = {}
    for name, spec in props.items():
        path = prefix + name
        out[path] = {k: v for k, v in spec.items() if k not in ("properties", "fields")}
        out.update(_paths(spec.get("properties", {}), path + "."))
        for sub, sub_spec in spec.get("fields", {}).items():
            out[f"{path}.{sub}"] = sub_spec
    return out


def _mapping_paths(version: int) -> dict[str, dict[str, Any]]:
    return _paths(load_mapping("records", version)["mappings"]["properties"])


def test_every_mapping_file_is_pinned_and_unchanged() -> None:
    for version in _versions():
        digest = hashlib.sha256((RECORDS / f"record-v{version}.json").read_bytes()).hexdigest()
        assert version in PUBLISHED, f"record-v{version}.json is new: pin its hash {digest} in PUBLISHED"
        assert digest == PUBLISHED[version], f"record-v{version}.json was edited after publication"


@pytest.mark.parametrize("version", _versions()[1:])
def test_a_new_version_only_adds(version: int) -> None:
    before, after = _mapping_paths(version - 1), _mapping_paths(version)
    allowed = ALLOWED_CHANGES.get((version - 1, version), set())
    assert [p for p in before if p not in after] == [], "a field was removed"
    assert [p for p in before if p in after and before[p] != after[p] and p not in allowed] == []
    old_analysis = load_mapping("records", version - 1)["settings"].get("analysis", {})
    new_analysis = load_mapping("records", version)["settings"].get("analysis", {})
    for kind, components in old_analysis.items():
        for name, spec in components.items():
            if kind == "analyzer" and allowed:
                continue
            assert new_analysis.get(kind, {}).get(name) == spec, f"analysis {kind} {name} changed"
    assert load_mapping("records", version)["mappings"]["dynamic"] == "strict"


def _registry_fields() -> set[str]:
    named: set[str] = set()
    named |= {f.field for f in search_fields.FACETS}
    for spec in (*search_fields.JIEBA_FIELDS, *search_fields.BIGRAM_FIELDS):
        named.add(spec.split("^", 1)[0])
    named |= set(search_fields.HIGHLIGHT_FIELDS) | set(search_fields.HIGHLIGHT_FIELDS.values())
    for order in search_fields.SORTS.values():
        named |= {key for clause in order for key in clause if not key.startswith("_")}
    for spec in query_fields.FIELDS:
        named |= set(spec.es_fields)
        for member in spec.members:
            named |= {f for f in (member.jieba, member.phrase, member.equal) if f}
    named |= policy.ABSTRACT_INDEX_FIELDS | policy.FULL_TEXT_INDEX_FIELDS
    return named


_DOTTED = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")


def _dotted_literals() -> set[str]:
    """Dotted field paths written as string literals anywhere in search/ (compiler rules, policy)."""
    top = set(load_mapping("records")["mappings"]["properties"])
    found: set[str] = set()
    for path in SEARCH_DIR.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            value = node.value if isinstance(node, ast.Constant) else None
            if isinstance(value, str) and _DOTTED.match(value) and value.split(".", 1)[0] in top:
                found.add(value)
    return found


def test_every_field_search_names_exists_in_the_current_mapping() -> None:
    current = _mapping_paths(latest_mapping_version("records"))
    named = _registry_fields() | _dotted_literals()
    assert sorted(f for f in named if f not in current) == []


def test_the_pinned_list_reads_the_files_it_guards() -> None:
    raw = json.loads((RECORDS / f"record-v{max(PUBLISHED)}.json").read_text(encoding="utf-8"))
    assert raw["mappings"]["_meta"]["mapping_version"] == max(PUBLISHED)
