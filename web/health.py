"""/healthz: are Elasticsearch, Redis and the database reachable?"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from appdb.session import engine_for
from web.deps import State
from web.state import AppState

router = APIRouter()


def _red_shards(state: AppState) -> str:
    """Names the primaries that have no copy anywhere, so the operator knows what a red cluster lost."""
    try:
        body = state.es.cat.shards(format="json", h="index,shard,prirep,state").body
    except Exception:  # noqa: BLE001 - the status alone is still worth reporting
        return ""
    rows: list[dict[str, str]] = body if isinstance(body, list) else []
    missing = [f"{row['index']}[{row['shard']}]" for row in rows if row["prirep"] == "p" and row["state"] != "STARTED"]
    return f" (primaries unassigned: {', '.join(missing[:20])})" if missing else ""


def _check_es(state: AppState, cluster: dict[str, Any]) -> str | None:
    try:
        health = state.es.cluster.health(timeout="2s")
    except Exception as exc:  # noqa: BLE001 - any failure means "down", reported by name
        return f"{type(exc).__name__}"
    cluster.update(status=health.get("status"), nodes=health.get("number_of_nodes"),
                   data_nodes=health.get("number_of_data_nodes"))  # fmt: skip
    if health.get("status") == "yellow":
        # Every primary answers; a lost replica is a warning, not an outage.
        cluster["warning"] = f"{health.get('unassigned_shards')} replica shard(s) unassigned"
    if health.get("status") in ("green", "yellow"):
        return None
    return f"status {health.get('status')}{_red_shards(state)}"


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
def healthz(state: State) -> JSONResponse:
    cluster: dict[str, Any] = {}
    checks = {"elasticsearch": _check_es(state, cluster), "redis": _check_redis(state), "database": _check_db(state)}
    down = [name for name, err in checks.items() if err]
    body: dict[str, Any] = {
        "status": "ok" if not down else "unavailable",
        "services": {name: ("ok" if err is None else f"down: {err}") for name, err in checks.items()},
    }
    if cluster:
        body["cluster"] = cluster
    if down:
        body["down"] = down
    else:
        # Queries must be cut like the index was; a mismatch needs `chaxin index rebuild`.
        built = state.search.index_analysis()
        query = state.search.tokenizer.fingerprint
        body["analysis"] = {"index": built, "query": query, "match": built in (None, query)}
    return JSONResponse(body, status_code=503 if down else 200)
