"""Refuse an over-long URL first, in Chinese, before anything reads it.

uvicorn's own limit (httptools: about 64 KB) answered a plain English "Invalid HTTP request received."
`chaxin serve` therefore runs h11 with room for 1 MiB (see chaxin/cli.py), and this middleware answers
414 with a Chinese message for anything past CHAXIN_MAX_URL_BYTES: the same for every route, before
routing, sessions or the database. Requests past h11's own room still get uvicorn's English answer.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send


def message(limit: int) -> str:
    return f"请求地址过长（超过 {limit // 1024} KB），请缩短检索式或分批操作"


class UrlLengthLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope.get("raw_path") or scope.get("path", "").encode("utf-8")
            if len(path) + len(scope.get("query_string", b"")) > self.max_bytes:
                await self._refuse(scope, send)
                return
        await self.app(scope, receive, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        text = message(self.max_bytes)
        headers = dict(scope.get("headers") or [])
        if not scope.get("path", "").startswith("/api/") and b"text/html" in headers.get(b"accept", b""):
            body = f'<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>请求地址过长</title><p>{text}</p>'
            kind = b"text/html; charset=utf-8"
            data = body.encode("utf-8")
        else:
            data = json.dumps({"error": {"message": text}}, ensure_ascii=False).encode("utf-8")
            kind = b"application/json"
        await send({"type": "http.response.start", "status": 414,
                    "headers": [(b"content-type", kind), (b"content-length", str(len(data)).encode())]})  # fmt: skip
        await send({"type": "http.response.body", "body": data})
