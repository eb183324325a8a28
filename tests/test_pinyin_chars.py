"""mappings/citations/pinyin.py leaves out pypinyin's phrase dictionary without changing a syllable."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys

from conf.settings import REPO_ROOT
from mappings.citations.names import same_author
from mappings.citations.pinyin import syllables

# CJK Extension A and the URO: the ranges names.py converts.
CHARS = [chr(c) for c in [*range(0x3400, 0x4DC0), *range(0x4E00, 0xA000)]]

_WITH_PHRASES = """
import json, sys
from pypinyin import Style, lazy_pinyin
from pypinyin.constants import PHRASES_DICT
assert PHRASES_DICT, "the phrase dictionary should be loaded in this interpreter"
chars = json.load(sys.stdin)
json.dump([lazy_pinyin([c], style=Style.NORMAL) for c in chars], sys.stdout)
"""


def test_every_character_reads_as_with_the_phrase_dictionary() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYPINYIN_")}
    done = subprocess.run(
        [sys.executable, "-c", _WITH_PHRASES], input=json.dumps(CHARS), env=env,
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    reference = json.loads(done.stdout)
    ours = [syllables([c]) for c in CHARS]
    assert len(ours) == len(reference) == 27_584
    assert ours == reference


def test_the_phrase_dictionary_is_not_loaded() -> None:
    from pypinyin.constants import PHRASES_DICT  # noqa: PLC0415 - after our module set the flag

    assert same_author("张三", "Zhang San")
    assert PHRASES_DICT == {}


def test_no_other_module_imports_pypinyin() -> None:
    importers = []
    for path in REPO_ROOT.rglob("*.py"):
        if ".venv" in path.parts or "tests" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(n.split(".")[0] == "pypinyin" for n in names):
                importers.append(path.relative_to(REPO_ROOT).as_posix())
    assert importers == ["mappings/citations/pinyin.py"]
