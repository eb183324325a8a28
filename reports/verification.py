"""Verification code: a SHA-256 over a canonical serialisation of a report's content.

The code is computed once when the report is issued and stored with the case; `GET /verify/{no}`
compares what a holder reads off the footer with the stored code, so anyone can check a report is
genuine and unaltered without seeing its content.

What is hashed is everything the report says except two fields that are about the report rather
than in it: `draft` (presentation) and `verification_code` itself (it cannot cover itself). The
serialisation is JSON with sorted keys, no insignificant whitespace and ISO dates, under a version
tag, so the code does not depend on Python's dict order, on platform line endings (\r\n is folded to
\n, as browsers submit form text with either) or on the renderer.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import re
from datetime import date, datetime
from enum import Enum

from reports.citation_model import CitationReportData
from reports.model import ReportData

# Bumped whenever the serialisation changes; old codes then keep verifying against their stored value.
SCHEME = "chaxin-report-v1"
# The 收录引证 report hashes under a scheme of its own, so no citation report can share a serialisation
# (and so a code) with a 查新 report, and the 查新 scheme above stays exactly as it was.
CITATION_SCHEME = "chaxin-citation-report-v1"
AnyReport = ReportData | CitationReportData
_EXCLUDED = frozenset({"draft", "verification_code", "verify_url"})
# 16 hex digits (64 bits) on the footer: short enough to type, far beyond guessing for one report no.
DISPLAY_DIGITS = 16
_NOT_HEX = re.compile(r"[^0-9a-f]")


def _plain(value: object) -> object:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return value.replace("\r\n", "\n").replace("\r", "\n")
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if not (f.metadata.get("added") and getattr(value, f.name) == f.default)
        }
    return value


def canonical_bytes(report: AnyReport) -> bytes:
    content = {
        f.name: _plain(getattr(report, f.name)) for f in dataclasses.fields(report) if f.name not in _EXCLUDED
    }
    scheme = CITATION_SCHEME if isinstance(report, CitationReportData) else SCHEME
    body = {"scheme": scheme, "report": content}
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def compute_code(report: AnyReport) -> str:
    """The full code (64 lowercase hex digits) to store with the issued report."""
    return hashlib.sha256(canonical_bytes(report)).hexdigest()


def display_code(code: str) -> str:
    """The form printed on every page footer: `3F2A-9C1B-77E0-1D4C`."""
    head = normalise(code)[:DISPLAY_DIGITS].upper()
    return "-".join(head[i : i + 4] for i in range(0, len(head), 4))


def normalise(text: str) -> str:
    """What a person typed (any case, with dashes or spaces) reduced to bare lowercase hex."""
    return _NOT_HEX.sub("", text.strip().lower())


def code_matches(given: str, stored: str) -> bool:
    """True if `given` is the stored code or its printed short form (at least 16 digits of it)."""
    g = normalise(given)
    s = normalise(stored)
    if len(g) < DISPLAY_DIGITS or len(g) > len(s):
        return False
    return hmac.compare_digest(g, s[: len(g)])


def is_consistent(report: AnyReport) -> bool:
    """Whether the code the report carries is the one its content hashes to."""
    return report.verification_code is not None and hmac.compare_digest(
        normalise(report.verification_code), compute_code(report)
    )
