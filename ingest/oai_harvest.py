"""An OAI-PMH harvester: ListRecords with from/until/set, following resumptionTokens page by page.

Each page comes back as a `HarvestPage` (its records, its RecordErrors, the raw body), so a pipeline can
store and index one page before asking for the next. Nothing here raises for a bad server: a page
that cannot be fetched (HTTP errors, 503 after its retries, network failures) or cannot be read
(malformed XML, an OAI error such as badResumptionToken) becomes a page of RecordErrors, and the
harvest stops there, since without that page's token there is no next page to ask for. A
`noRecordsMatch` answer is an empty harvest, not an error.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from ingest.errors import RecordError
from ingest.formats.oai import PageInfo, parse_stream
from mappings.model import Record

# Codes that end a harvest; noRecordsMatch is just an empty result.
_EMPTY = "noRecordsMatch"
_DEFAULT_WAIT = 10.0


@dataclass
class HarvestPage:
    number: int
    url: str
    items: list[Record | RecordError] = field(default_factory=list)
    resumption_token: str | None = None
    complete_list_size: int | None = None
    body: bytes | None = None  # the response as received, for the raw store

    @property
    def records(self) -> list[Record]:
        return [i for i in self.items if isinstance(i, Record)]

    @property
    def errors(self) -> list[RecordError]:
        return [i for i in self.items if isinstance(i, RecordError)]


def _retry_after(value: str | None, attempt: int) -> float:
    """Seconds to wait: Retry-After as seconds or an HTTP date, else exponential back-off."""
    if value:
        value = value.strip()
        if value.isdigit():
            return float(value)
        try:
            delta: float = (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds()
            return max(0.0, delta)
        except (TypeError, ValueError):
            pass
    return min(_DEFAULT_WAIT * 2.0**attempt, 300.0)


def _fetch(
    client: httpx.Client,
    base_url: str,
    params: dict[str, str],
    *,
    max_retries: int,
    max_wait: float,
    sleep: Callable[[float], None],
) -> tuple[httpx.Response | None, str | None]:
    """The 200 response, or None and the reason it could not be had."""
    problem = "未请求"
    for attempt in range(max_retries + 1):
        last = attempt == max_retries
        try:
            response = client.get(base_url, params=params)
        except httpx.HTTPError as exc:
            problem = f"网络错误：{type(exc).__name__}: {exc}"
            if not last:
                sleep(min(_retry_after(None, attempt), max_wait))
            continue
        if response.status_code == 200:
            return response, None
        if response.status_code != 503:
            return None, f"HTTP {response.status_code}"
        problem = f"HTTP 503（服务器忙），重试 {max_retries} 次后仍不可用"
        if not last:
            sleep(min(_retry_after(response.headers.get("Retry-After"), attempt), max_wait))
    return None, problem


def _page(
    number: int, response: httpx.Response, *, now: datetime, version: int, source: str | None
) -> tuple[HarvestPage, PageInfo]:
    info = PageInfo()
    body = response.content
    items: list[Record | RecordError] = []
    for item in parse_stream(io.BytesIO(body), info, now=now, version=version, source=source):
        if isinstance(item, RecordError):
            if _EMPTY in info.error_codes and str(item).startswith(f"OAI-PMH 错误 {_EMPTY}"):
                continue
            item = RecordError(f"第 {number} 页：{item}")
        items.append(item)
    page = HarvestPage(
        number=number,
        url=str(response.url),
        items=items,
        resumption_token=info.resumption_token,
        complete_list_size=info.complete_list_size,
        body=body,
    )
    return page, info


def harvest(
    base_url: str,
    metadata_prefix: str,
    *,
    from_: str | None = None,
    until: str | None = None,
    set_: str | None = None,
    client: httpx.Client | None = None,
    now: datetime | None = None,
    version: int = 1,
    source: str | None = None,
    max_retries: int = 3,
    max_wait: float = 600.0,
    max_pages: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[HarvestPage]:
    """ListRecords pages from `base_url`, first to last; `from_`/`until` are OAI datestamps."""
    own_client = client is None
    http = client or httpx.Client(timeout=60.0, follow_redirects=True)
    stamp = now or datetime.now(UTC)
    params: dict[str, str] = {"verb": "ListRecords", "metadataPrefix": metadata_prefix}
    for key, value in (("from", from_), ("until", until), ("set", set_)):
        if value:
            params[key] = value
    seen: set[str] = set()
    try:
        number = 0
        while max_pages is None or number < max_pages:
            number += 1
            response, problem = _fetch(
                http, base_url, params, max_retries=max_retries, max_wait=max_wait, sleep=sleep
            )
            if response is None:
                yield HarvestPage(
                    number=number, url=base_url, items=[RecordError(f"第 {number} 页：{problem}")]
                )
                return
            page, info = _page(number, response, now=stamp, version=version, source=source)
            token = info.resumption_token
            if token and token in seen:
                page.items.append(RecordError(f"第 {number} 页：resumptionToken 重复（{token}），停止采集"))
                token = None
            yield page
            # No token (the last page, or one cut short by bad XML) or an OAI error ends the list.
            if not token or [c for c in info.error_codes if c != _EMPTY]:
                return
            seen.add(token)
            # A resumptionToken is exclusive: no other argument may accompany it.
            params = {"verb": "ListRecords", "resumptionToken": token}
    finally:
        if own_client:
            http.close()
