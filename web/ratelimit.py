"""Rate limits kept in Redis (fixed windows, through the `limits` library): logins, anonymous search and export.

Addresses are the client's as the server sees it: forwarded headers count only from the proxies in
CHAXIN_TRUSTED_PROXIES (`chaxin serve` hands them to uvicorn), so a spoofed X-Forwarded-For changes nothing.

When Redis cannot be reached the limits are not applied (and a warning is logged): refusing every
login and every search because the limiter's store is down would be the worse failure.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from functools import lru_cache

from fastapi import HTTPException, Request
from limits import RateLimitItem, RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import RedisStorage
from limits.strategies import FixedWindowRateLimiter

from conf.settings import Settings
from web.deps import Who
from web.identity import client_ip
from web.state import app_state

log = logging.getLogger(__name__)
__all__ = ["Limits", "client_ip", "limits_for", "rate_limit_anonymous_export", "rate_limit_anonymous_search"]


@lru_cache(maxsize=8)
def _limiter(redis_url: str) -> FixedWindowRateLimiter:
    return FixedWindowRateLimiter(RedisStorage(redis_url, wrap_exceptions=True))


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # seconds until the window resets, when refused


class Limits:
    """The limits of one deployment. Keys carry the index prefix, so sites sharing a Redis stay apart."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.limiter = _limiter(settings.effective_redis_url)
        self.namespace = f"chaxin:{settings.index_prefix}"
        window = settings.login_window_seconds
        self.login_failures = RateLimitItemPerSecond(settings.login_max_failures, window)
        self.login_attempts = RateLimitItemPerSecond(settings.login_max_per_ip, window)
        self.login_account = RateLimitItemPerSecond(settings.login_max_per_account, window)
        self.anon_export = RateLimitItemPerMinute(settings.anon_export_per_minute)
        self.anon_search = RateLimitItemPerMinute(settings.anon_search_per_minute)
        self.verify = RateLimitItemPerMinute(settings.verify_per_minute)

    def _retry_after(self, item: RateLimitItem, *keys: str) -> int:
        reset = self.limiter.get_window_stats(item, self.namespace, *keys).reset_time
        return max(1, int(reset - time.time()) + 1)

    def _hit(self, item: RateLimitItem, *keys: str) -> Verdict:
        try:
            if self.limiter.hit(item, self.namespace, *keys):
                return Verdict(True)
            return Verdict(False, self._retry_after(item, *keys))
        except StorageError:
            log.warning("rate limiter unavailable; %s not limited", keys[0], exc_info=True)
            return Verdict(True)

    def _test(self, item: RateLimitItem, *keys: str) -> Verdict:
        try:
            if self.limiter.test(item, self.namespace, *keys):
                return Verdict(True)
            return Verdict(False, self._retry_after(item, *keys))
        except StorageError:
            log.warning("rate limiter unavailable; %s not limited", keys[0], exc_info=True)
            return Verdict(True)

    def login_allowed(self, username: str, ip: str) -> Verdict:
        """Counts this attempt against the address, and checks the failures of this username from it."""
        per_ip = self._hit(self.login_attempts, "login-ip", ip)
        if not per_ip.allowed:
            return per_ip
        name = username.strip().lower()
        if name:
            account = self._test(self.login_account, "login-account", name)
            if not account.allowed:
                return account
        return self._test(self.login_failures, "login-fail", name, ip)

    def login_failed(self, username: str, ip: str) -> None:
        name = username.strip().lower()
        self._hit(self.login_failures, "login-fail", name, ip)
        if name:
            self._hit(self.login_account, "login-account", name)

    def login_succeeded(self, username: str, ip: str) -> None:
        try:
            self.limiter.clear(
                self.login_failures, self.namespace, "login-fail", username.strip().lower(), ip
            )
        except StorageError:
            log.warning("rate limiter unavailable; failures not cleared", exc_info=True)

    def anonymous_search(self, ip: str) -> Verdict:
        return self._hit(self.anon_search, "anon-search", ip)

    def anonymous_export(self, ip: str) -> Verdict:
        return self._hit(self.anon_export, "anon-export", ip)

    def verification(self, ip: str) -> Verdict:
        return self._hit(self.verify, "verify", ip)


def limits_for(request: Request) -> Limits:
    """One Limits per app, made on first use."""
    found: Limits | None = getattr(request.app.state, "chaxin_limits", None)
    if found is None:
        found = Limits(app_state(request).settings)
        request.app.state.chaxin_limits = found
    return found


def refuse_past_limit(verdict: Verdict, message: str) -> None:
    """429 with Retry-After when `verdict` refuses; `{seconds}` in `message` becomes the wait."""
    if not verdict.allowed:
        raise HTTPException(
            status_code=429,
            detail=message.format(seconds=verdict.retry_after),
            headers={"Retry-After": str(verdict.retry_after)},
        )


def rate_limit_verification(request: Request) -> None:
    """A FastAPI dependency for report verification, which anyone may use: 429 past the per-address limit."""
    refuse_past_limit(
        limits_for(request).verification(client_ip(request)), "核验过于频繁，请 {seconds} 秒后再试。"
    )


def rate_limit_anonymous_export(request: Request, principal: Who) -> None:
    """A FastAPI dependency for exports: anonymous visitors get a few per minute (and few records each)."""
    if principal.authenticated:
        return
    refuse_past_limit(
        limits_for(request).anonymous_export(client_ip(request)),
        "导出过于频繁，请 {seconds} 秒后再试；登录后不受此限制。",
    )


def rate_limit_anonymous_search(request: Request, principal: Who) -> None:
    """A FastAPI dependency for search routes: anonymous visitors get 429 past the per-address limit."""
    if principal.authenticated:
        return
    refuse_past_limit(
        limits_for(request).anonymous_search(client_ip(request)),
        "检索过于频繁，请 {seconds} 秒后再试；登录后不受此限制。",
    )
