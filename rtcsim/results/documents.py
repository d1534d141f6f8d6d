"""A past run's or a recorded session's documents: from Elasticsearch, or from an NDJSON export
(``rtcsim export``), in timestamp order."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO

import orjson
from elastic_transport import TransportError
from elasticsearch import ApiError, AsyncElasticsearch

from collector.store import StoreError, UnsupportedVersionError, open_client
from rtcsim.results.folders import ResultsError, run_folder
from simulator.ledger import Ledger
from simulator.settings import Settings
from simulator.verify.export import export_run
from simulator.verify.store_reader import (
    Document,
    ReadBackIncomplete,
    Selection,
    read_all,
    run_selection,
)

ES_TIMEOUT_S = 10.0


REPLAY_TYPES = ("cdr", "connectionSummary", "sessionSummary")
"""What ``from_session`` reads of a session (events, and who each connection's user was)."""


@contextlib.asynccontextmanager
async def elasticsearch(settings: Settings) -> AsyncIterator[AsyncElasticsearch]:
    """A client, and every failure to reach Elasticsearch as a ResultsError saying where."""
    try:
        options = settings.es_client_options(request_timeout_s=ES_TIMEOUT_S, max_retries=0)
        async with open_client(options) as es:
            yield es
    except UnsupportedVersionError as exc:
        raise ResultsError(str(exc)) from exc
    except (TransportError, ApiError, StoreError) as exc:
        raise ResultsError(
            f"Elasticsearch unreachable at {settings.es_url} ({type(exc).__name__}: {exc}); "
            "start the services: rtcsim services up"
        ) from exc
    except ReadBackIncomplete as exc:
        raise ResultsError(str(exc)) from exc


async def read_documents(
    settings: Settings,
    session_ids: list[str],
    window_ms: tuple[int, int] | None = None,
    *,
    types: tuple[str, ...] | None = None,
) -> list[Document]:
    """The sessions' documents from Elasticsearch, all of them, sorted by timestamp; with a
    run's time window, the host's samples of that time too; ``types`` narrows them."""
    async with elasticsearch(settings) as es:
        return await read_all(
            es, settings.es_index, Selection(tuple(session_ids), window_ms, types)
        )


async def export_to(settings: Settings, run_id: str, out: IO[bytes]) -> int:
    """Every document of a past run to ``out`` as NDJSON (``simulator.verify.export``);
    ExportIncomplete unless all of them."""
    ledger = Ledger.read(run_folder(settings, run_id) / "ledger.json")
    async with elasticsearch(settings) as es:
        return await export_run(es, settings.es_index, run_selection(ledger), out)


def sessions_and_window(ledger: Ledger) -> tuple[list[str], tuple[int, int]]:
    session_ids = [s.session_id for s in ledger.sessions.values()]
    return session_ids, (ledger.started_ms, ledger.ended_ms or ledger.started_ms)


def ndjson(documents: list[Document]) -> bytes:
    """One JSON object a line, in timestamp order (a stable sort: ties keep their order)."""
    return b"".join(orjson.dumps(d) + b"\n" for d in sorted(documents, key=_timestamp))


def read_ndjson(path: Path) -> list[Document]:
    """Documents from an NDJSON export: plain documents, or search hits with ``_source``."""
    try:
        lines = path.read_bytes().splitlines()
    except OSError as exc:
        raise ResultsError(f"{path}: cannot read: {exc.strerror}") from exc
    documents: list[Document] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise ResultsError(f"{path}:{number}: not JSON: {exc}") from exc
        if not isinstance(value, dict):
            raise ResultsError(f"{path}:{number}: a line must hold one JSON object")
        source = value.get("_source")
        documents.append(source if isinstance(source, dict) else value)
    return documents


def _timestamp(document: Document) -> int:
    value = document.get("timestamp")
    return int(value) if isinstance(value, int | float) else 0
