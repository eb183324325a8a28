"""The raw store: every source file an ingest reads, kept under its content hash.

Records name the hash of the file they came from (`sources[].raw_sha256`), so any record can be
traced back to the bytes it was parsed from, and `chaxin ingest replay` can parse them all again.
The same bytes submitted twice are stored once.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_BLOCK = 1024 * 1024


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    path: Path  # where the bytes are kept; tasks read this, never the submitted path
    name: str  # the file's name as submitted, for messages and tracing


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


class RawStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def _manifest_path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / f"{sha256}.json"

    def put(self, source: Path, *, fmt: str, name: str | None = None, move: bool = False) -> StoredFile:
        """Keep a file's bytes (once per content) and note the format and name it arrived with."""
        sha = sha256_of(source)
        target = self.path_for(sha)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            # Written beside the target and renamed, so a crash never leaves a truncated file
            # under a hash it does not have.
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
            os.close(fd)
            try:
                if move:
                    shutil.move(str(source), tmp)
                else:
                    shutil.copyfile(source, tmp)
                os.chmod(tmp, 0o444)
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        elif move:
            source.unlink()
        shown = name or source.name
        self._note(sha, fmt, shown)
        return StoredFile(sha, target, shown)

    def _note(self, sha256: str, fmt: str, name: str) -> None:
        manifest = self.manifest(sha256)
        formats: list[str] = manifest.setdefault("formats", [])
        names: list[str] = manifest.setdefault("names", [])
        if fmt in formats and name in names:
            return
        if fmt not in formats:
            formats.append(fmt)
        if name not in names:
            names.append(name)
        path = self._manifest_path(sha256)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".manifest-")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(manifest, f, ensure_ascii=False)
        os.replace(tmp, path)

    def manifest(self, sha256: str) -> dict[str, Any]:
        path = self._manifest_path(sha256)
        if not path.exists():
            return {"sha256": sha256}
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return data

    def entries(self) -> list[dict[str, Any]]:
        """Every stored file with its manifest, oldest name first; for replaying the whole store."""
        if not self.root.exists():
            return []
        return [self.manifest(p.stem) for p in sorted(self.root.glob("??/*.json"))]
