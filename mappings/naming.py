"""Index and alias names. Every name starts with the configured prefix."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

MAPPINGS_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class IndexNames:
    """Names for one logical index (e.g. `records`) under one prefix."""

    prefix: str
    kind: str = "records"

    @property
    def read_alias(self) -> str:
        return f"{self.prefix}-{self.kind}"

    @property
    def write_alias(self) -> str:
        return f"{self.prefix}-{self.kind}-write"

    @property
    def pattern(self) -> str:
        """Matches every physical index of this kind, and nothing of other prefixes."""
        return f"{self.prefix}-{self.kind}-v*"

    def physical(self, version: int, now: datetime | None = None) -> str:
        stamp = (now or datetime.now(UTC)).strftime("%Y%m%d%H%M%S%f")
        return f"{self.prefix}-{self.kind}-v{version}-{stamp}"


def latest_mapping_version(kind: str = "records") -> int:
    versions = [int(p.stem.rsplit("-v", 1)[1]) for p in (MAPPINGS_DIR / kind).glob(f"{kind[:-1]}-v*.json")]
    if not versions:
        raise FileNotFoundError(f"no mapping files for {kind}")
    return max(versions)


@lru_cache(maxsize=8)
def _load(kind: str, version: int) -> str:
    return (MAPPINGS_DIR / kind / f"{kind[:-1]}-v{version}.json").read_text(encoding="utf-8")


def load_mapping(kind: str = "records", version: int | None = None) -> dict[str, Any]:
    """The index body (settings + mappings) of a mapping file; a fresh copy each call."""
    body: dict[str, Any] = json.loads(_load(kind, version or latest_mapping_version(kind)))
    body.pop("_comment", None)
    return body
