"""Session tokens known to belong to no signed-in session, so an anonymous visitor's every request
does not look its cookie up in the database again.

What is remembered stays true: a signed-in session always starts with a new random token
(`accounts.create_session`), so a token once found to be no session never becomes one. Only that
negative answer is kept; a signed-in token is looked up on every request (sign-out, expiry and a
disabled account take effect at once). Each process keeps its own, bounded, least recently used.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from starlette.applications import Starlette

MAX_TOKENS = 50_000  # about 6 MB


class AnonymousTokens:
    def __init__(self, capacity: int = MAX_TOKENS) -> None:
        self.capacity = capacity
        self._tokens: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()  # requests run in a thread pool

    @classmethod
    def of(cls, app: Starlette) -> AnonymousTokens:
        """The app's own memo, made on first use (a new app, as in each test, starts empty)."""
        found: AnonymousTokens | None = getattr(app.state, "chaxin_anonymous_tokens", None)
        if found is None:
            found = app.state.chaxin_anonymous_tokens = cls()
        return found

    def known(self, token: str) -> bool:
        with self._lock:
            if token not in self._tokens:
                return False
            self._tokens.move_to_end(token)
            return True

    def add(self, token: str) -> None:
        with self._lock:
            self._tokens[token] = None
            self._tokens.move_to_end(token)
            while len(self._tokens) > self.capacity:
                self._tokens.popitem(last=False)
