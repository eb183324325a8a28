"""/healthz: are Elasticsearch, Redis and the database reachable?"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from sqlalchemy import text

from appdb.session import engine_for
from web.state import AppState, app_state

router = APIRouter()


def _check_es(state: AppState) -> str | None:
    try:
        health = state.es.cluster.health(timeout="2s")
    except Exception as exc:  # noqa: BLE001 - any failure means "down", reported by name
        return f"{type(exc).__name__}"
    return None if health.get("status") in ("green", "yellow") else f"status {health.get('status')}"


def _check_redis(state: AppState) -> str | None:
    try:
        state.redis.ping()
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}"
    return None


def _check_db(state: AppState) -> str | None:
    try:
        with engine_for(state.settings.effective_database_url).connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}"
    return None


@router.get("/healthz")
def healthz(state: Annotated[AppState, Depends(app_state)]) -> JSONResponse:
    checks = {"elasticsearch": _check_es(state), "redis": _check_redis(state), "database": _check_db(state)}
    down = [name for name, err in checks.items() if err]
    body: dict[str, Any] = {
        "status": "ok" if not down else "unavailable",
        "services": {name: ("ok" if err is None else f"down: {err}") for name, err in checks.items()},
    }
    if down:
        body["down"] = down
    else:
        # Queries must be cut like the index was; a mismatch needs `chaxin index rebuild`.
        built = state.search.index_analysis()
        query = state.search.tokenizer.fingerprint
        body["analysis"] = {"index": built, "query": query, "match": built in (None, query)}
    return JSONResponse(body, status_code=503 if down else 200)
