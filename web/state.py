"""Long-lived objects the routes share, built once per app."""

from __future__ import annotations

from dataclasses import dataclass

import redis
from elasticsearch import Elasticsearch
from fastapi import Request

from appdb.session import relaxed_session_factory, session_factory
from conf.clients import make_es, make_redis
from conf.settings import Settings
from mappings.analysis.tokenizer import get_tokenizer
from mappings.naming import IndexNames
from search.history import HistoryStore
from search.service import SearchService


@dataclass
class AppState:
    settings: Settings
    es: Elasticsearch
    redis: redis.Redis
    search: SearchService
    history: HistoryStore

    @classmethod
    def build(cls, settings: Settings) -> AppState:
        es = make_es(settings)
        url = settings.effective_database_url
        return cls(
            settings=settings,
            es=es,
            redis=make_redis(settings),
            search=SearchService(es, IndexNames(settings.index_prefix), get_tokenizer(settings.tokenizer_backend)),
            history=HistoryStore(session_factory(url), writes=relaxed_session_factory(url)),
        )


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.chaxin
    return state
