"""``create_app``: the application, from injected parts (no globals)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from collector.app.attribution import key_alive, session_alive
from collector.app.background import background
from collector.app.replay import replay_journal
from collector.app.routes import add_routes
from collector.app.service import COLLECTOR, Collector
from collector.clock import Clock
from collector.counters import ServiceCounters
from collector.journal import Journal, ReplayClock
from collector.journal_index import JournalIndex
from collector.probes import HostProbe
from collector.session_model import SessionModel
from collector.settings import CollectorSettings
from collector.sources.base import EventSource
from collector.sources.janus.source import JanusEventSource
from collector.sources.livekit.source import LiveKitEventSource
from collector.spool import Spool
from collector.store import Store
from collector.writer import DocumentWriter


def event_sources(model: SessionModel) -> dict[str, EventSource[Any]]:
    """Every media server's event source, on one model."""
    sources: list[EventSource[Any]] = [JanusEventSource(model), LiveKitEventSource(model)]
    return {source.name: source for source in sources}


def create_app(
    settings: CollectorSettings,
    store: Store,
    clock: Clock,
    probe: HostProbe | None = None,
) -> web.Application:
    """The application: tests pass a memory store and a fixed clock. A journal left by an
    earlier run is replayed before the first request."""
    counters = ServiceCounters()
    spool_folder = settings.spool_folder
    replay_clock = ReplayClock(clock)
    model = SessionModel(replay_clock)
    collector = Collector(
        settings=settings,
        store=store,
        clock=clock,
        probe=probe,
        model=model,
        sources=event_sources(model),
        counters=counters,
        writer=DocumentWriter(
            store,
            counters,
            batch_size=settings.bulk_max_docs,
            spool=Spool(spool_folder) if spool_folder is not None else None,
            max_memory=settings.max_memory_docs,
        ),
    )
    if settings.journal_path is not None:
        index = JournalIndex(session_alive(collector), key_alive(collector))
        collector.journal = Journal(settings.journal_path, index)
        replay_journal(collector, replay_clock)
    app = web.Application(client_max_size=settings.max_body_bytes)
    app[COLLECTOR] = collector
    add_routes(app)
    app.cleanup_ctx.append(background(app))
    return app
