"""Settings read from the environment (and an optional .env file)."""

from __future__ import annotations

import os
import re
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Everything configurable, with the defaults a developer machine needs."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # Empty means "the node that `make services` starts"; see services_state_dir.
    es_url: str = Field(default="", alias="ES_URL")
    es_request_timeout: float = Field(default=30.0, alias="CHAXIN_ES_TIMEOUT")
    redis_url: str = Field(default="", alias="REDIS_URL")
    # A task taken by a worker that then died unacknowledged (SIGKILL, OOM, power loss) goes back to
    # the queue after this many seconds. Keep it above the longest chunk plus its retry countdown (60 s),
    # or a slow task is handed out twice (harmless, chunks are recorded once, but wasted work).
    broker_visibility_timeout: int = Field(default=600, ge=1, alias="CHAXIN_BROKER_VISIBILITY_TIMEOUT")
    database_url: str = Field(default="", alias="DATABASE_URL")
    index_prefix: str = Field(default="chaxin", alias="CHAXIN_INDEX_PREFIX")
    services_dir: Path = Field(default=REPO_ROOT / ".services", alias="CHAXIN_SERVICES_DIR")
    tokenizer_backend: Literal["rjieba", "jieba"] = Field(default="rjieba", alias="CHAXIN_TOKENIZER")
    # Every source file an ingest reads is kept here under its SHA-256; empty means services_dir/raw.
    raw_store_dir: Path | None = Field(default=None, alias="CHAXIN_RAW_STORE")
    # Uploads through POST /api/v1/ingest larger than this are refused (bytes).
    upload_max_bytes: int = Field(default=2 * 1024**3, ge=1, alias="CHAXIN_UPLOAD_MAX_BYTES")
    # Whole-file formats: small files travel together, so per-task overhead does not dominate.
    ingest_batch_files: int = Field(default=50, ge=1, alias="CHAXIN_INGEST_BATCH_FILES")
    ingest_batch_bytes: int = Field(default=16 * 1024 * 1024, ge=1, alias="CHAXIN_INGEST_BATCH_BYTES")
    ingest_chunk_lines: int = Field(default=1000, ge=1, alias="CHAXIN_INGEST_CHUNK_LINES")
    # Per job of a line format: lines read and bytes decompressed (a small gzip can hold billions of lines).
    ingest_max_lines: int = Field(default=10_000_000, ge=1, alias="CHAXIN_INGEST_MAX_LINES")
    ingest_max_bytes: int = Field(default=20 * 1024**3, ge=1, alias="CHAXIN_INGEST_MAX_BYTES")
    # Chunks of a job queued at each priority step: a later job's first chunks overtake an earlier job's rest.
    ingest_fair_share: int = Field(default=4, ge=1, alias="CHAXIN_INGEST_FAIR_SHARE")
    # Tests only: a parsed chunk waits before writing while <this folder>/hold-<chunk no> exists.
    ingest_test_hold_dir: Path | None = Field(default=None, alias="CHAXIN_INGEST_TEST_HOLD")
    # Physical indices a rebuild keeps besides the live one, for `chaxin index rollback`; older ones
    # are deleted after the swap. `chaxin index prune` deletes the kept ones too.
    index_keep_previous: int = Field(default=1, ge=0, le=100, alias="CHAXIN_INDEX_KEEP_PREVIOUS")
    # Link each written chunk's references to the records they cite (citeindex/); off for a bulk load
    # that runs `chaxin citations relink` once at the end, or to measure ingest without it.
    citation_linking: bool = Field(default=True, alias="CHAXIN_CITATION_LINKING")
    bulk_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024, alias="CHAXIN_BULK_MAX_BYTES")
    bulk_max_docs: int = Field(default=1000, ge=1, alias="CHAXIN_BULK_MAX_DOCS")
    # One shard suits a developer's corpus; 1.05 billion records want tens of shards of 30-50 GB each.
    index_shards: int | None = Field(default=None, ge=1, le=1024, alias="CHAXIN_INDEX_SHARDS")
    # Replica copies of each physical index; empty means 1 when the cluster has more than one data node, else 0.
    index_replicas: int | None = Field(default=None, ge=0, le=16, alias="CHAXIN_INDEX_REPLICAS")
    es_port: int = Field(default=9200, alias="CHAXIN_ES_PORT")
    redis_port: int = Field(default=6379, alias="CHAXIN_REDIS_PORT")
    es_heap: str = Field(default="1g", alias="CHAXIN_ES_HEAP")
    # Local nodes `make services` starts: 1 is a single node; more form one cluster on es_port, es_port+1, ...
    es_nodes: int = Field(default=1, ge=1, le=9, alias="CHAXIN_ES_NODES")
    # Signs CSRF tokens. Empty means a random key kept in services_dir/secret_key, so a single machine
    # works out of the box; set it when several hosts serve the same site.
    secret_key: str = Field(default="", alias="CHAXIN_SECRET_KEY")
    session_hours: int = Field(default=7 * 24, ge=1, alias="CHAXIN_SESSION_HOURS")
    # Behind HTTPS, mark the session cookie Secure.
    cookie_secure: bool = Field(default=False, alias="CHAXIN_COOKIE_SECURE")
    # Failed logins allowed per username and client address in one window before further tries are refused.
    login_max_failures: int = Field(default=5, ge=1, alias="CHAXIN_LOGIN_MAX_FAILURES")
    # Login attempts of any outcome allowed per client address in one window (slows password spraying).
    login_max_per_ip: int = Field(default=50, ge=1, alias="CHAXIN_LOGIN_MAX_PER_IP")
    login_window_seconds: int = Field(default=900, ge=1, alias="CHAXIN_LOGIN_WINDOW")
    # Failures for one account from all addresses together: guessing spread over many addresses stops too.
    login_max_per_account: int = Field(default=20, ge=1, alias="CHAXIN_LOGIN_MAX_PER_ACCOUNT")
    # Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (comma-separated addresses or
    # networks, e.g. "10.0.0.5,172.16.0.0/12"). Empty: none, so no client can pick the address it is
    # rate-limited under.
    trusted_proxies: str = Field(default="", alias="CHAXIN_TRUSTED_PROXIES")
    # Longest path + query string answered (414 in Chinese past it); room for the longest expression
    # an export takes (10,000 CJK characters, URL-encoded).
    max_url_bytes: int = Field(default=128 * 1024, ge=1024, le=1024 * 1024, alias="CHAXIN_MAX_URL_BYTES")
    # Anonymous exports: records per export and exports per minute for one address.
    anon_export_max_records: int = Field(default=500, ge=1, alias="CHAXIN_ANON_EXPORT_MAX")
    anon_export_per_minute: int = Field(default=5, ge=1, alias="CHAXIN_ANON_EXPORT_PER_MINUTE")
    # Records one export may hold: a query with more hits is refused unless `limit` asks for at most this many.
    export_max_records: int = Field(default=100_000, ge=1, alias="CHAXIN_EXPORT_MAX")
    # Exports of more records than this run as a background job (progress, file kept for download).
    export_job_threshold: int = Field(default=20_000, ge=1, alias="CHAXIN_EXPORT_JOB_THRESHOLD")
    # Where export jobs keep their files (empty: services_dir/exports), and for how long after they finish.
    export_dir: Path | None = Field(default=None, alias="CHAXIN_EXPORT_DIR")
    export_keep_hours: int = Field(default=72, ge=1, alias="CHAXIN_EXPORT_KEEP_HOURS")
    # Searches per minute an anonymous client address may run; signed-in users are not limited.
    anon_search_per_minute: int = Field(default=60, ge=1, alias="CHAXIN_ANON_SEARCH_PER_MINUTE")
    # Report verifications per minute per client address (slows guessing report numbers and codes).
    verify_per_minute: int = Field(default=30, ge=1, alias="CHAXIN_VERIFY_PER_MINUTE")
    # Processes `chaxin serve` runs (each with its own thread pool): one per core, up to 4.
    api_workers: int = Field(default_factory=lambda: min(os.cpu_count() or 1, 4), ge=1, le=64,
                             alias="CHAXIN_API_WORKERS")  # fmt: skip
    # The public address issued reports print for /verify (and encode in the cover's QR code); empty:
    # the address the staff member's browser used to reach the site.
    public_url: str = Field(default="", alias="CHAXIN_PUBLIC_URL")

    @field_validator("index_prefix")
    @classmethod
    def _prefix_is_index_safe(cls, value: str) -> str:
        # Elasticsearch index names must be lowercase and cannot start with -, _ or +.
        if not re.fullmatch(r"[a-z0-9][a-z0-9_\-]{0,40}", value):
            raise ValueError("CHAXIN_INDEX_PREFIX must be lowercase letters, digits, '-' or '_'")
        return value

    @property
    def effective_es_url(self) -> str:
        if self.es_url:
            return self.es_url
        return ",".join(f"http://127.0.0.1:{self.es_port + i}" for i in range(self.es_nodes))

    @property
    def es_urls(self) -> list[str]:
        """ES_URL may list several nodes, comma-separated; the client round-robins over them."""
        return [url.strip() for url in self.effective_es_url.split(",") if url.strip()]

    @property
    def effective_redis_url(self) -> str:
        return self.redis_url or f"redis://127.0.0.1:{self.redis_port}/0"

    @property
    def effective_raw_store_dir(self) -> Path:
        return self.raw_store_dir or self.services_dir / "raw"

    @property
    def effective_export_dir(self) -> Path:
        return self.export_dir or self.services_dir / "exports"

    @property
    def effective_secret_key(self) -> str:
        if self.secret_key:
            return self.secret_key
        path = self.services_dir / "secret_key"
        if not path.exists():
            self.services_dir.mkdir(parents=True, exist_ok=True)
            # Written aside and linked into place: of two processes starting at once, one key wins whole.
            tmp = path.with_name(f"secret_key.{os.getpid()}.{secrets.token_hex(4)}")
            tmp.write_text(secrets.token_hex(32))
            tmp.chmod(0o600)
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        return path.read_text().strip()

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        self.services_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{self.services_dir / 'chaxin.sqlite3'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
