"""Document stores, looked up by name: ``elasticsearch`` (default) and ``memory``."""

from __future__ import annotations

from collector.settings import CollectorSettings
from collector.store.base import Store, StoreError, WriteResult, load_template
from collector.store.client import (
    ClientOptions,
    ServerVersion,
    UnsupportedVersionError,
    connect,
    open_client,
)
from collector.store.elasticsearch import ElasticsearchStore
from collector.store.memory import MemoryStore

STORE_KINDS = ("elasticsearch", "memory")


def make_store(settings: CollectorSettings) -> Store:
    """The store named by ``settings.store``; an unknown name lists the known ones."""
    if settings.store == "elasticsearch":
        options = ClientOptions(
            tuple(settings.es_hosts),
            user=settings.es_user,
            password=settings.es_password.get_secret_value() if settings.es_password else None,
            api_key=settings.es_api_key.get_secret_value() if settings.es_api_key else None,
            ca_certs=str(settings.es_ca_certs) if settings.es_ca_certs else None,
        )
        return ElasticsearchStore.from_options(
            options, settings.index, retries=settings.write_retries
        )
    if settings.store == "memory":
        return MemoryStore(settings.index, settings.ndjson_path)
    raise ValueError(f"unknown store {settings.store!r}; known: {', '.join(STORE_KINDS)}")


__all__ = [
    "STORE_KINDS",
    "ClientOptions",
    "ElasticsearchStore",
    "MemoryStore",
    "ServerVersion",
    "Store",
    "StoreError",
    "UnsupportedVersionError",
    "WriteResult",
    "connect",
    "load_template",
    "make_store",
    "open_client",
]
