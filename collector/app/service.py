"""What the routes and background tasks of one application share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from collector.clock import Clock
from collector.counters import ServiceCounters
from collector.documents import Document
from collector.journal import Journal
from collector.journal_index import Owner
from collector.probes import HostProbe
from collector.session_model import SessionModel
from collector.settings import CollectorSettings
from collector.sources.base import EventSource
from collector.store import Store
from collector.writer import DocumentWriter


@dataclass
class Collector:
    """Everything the routes and background tasks share; one per application."""

    settings: CollectorSettings
    store: Store
    clock: Clock
    probe: HostProbe | None
    model: SessionModel
    sources: dict[str, EventSource[Any]]
    """The event sources by name (``janus``, ``livekit``), each on ``model``."""
    counters: ServiceCounters
    writer: DocumentWriter
    journal: Journal | None = None

    def record(self, kind: str, body: object, owner: Owner, documents: int) -> None:
        """Journal an input the model accepted (before the answer goes back to its sender),
        with what it belongs to and the ``documents`` it produced (not yet emitted)."""
        if self.journal is not None:
            seq = self.writer.submitted + documents
            self.journal.record(kind, self.clock.now_ms(), body, owner, seq)

    def emit(self, docs: list[Document]) -> int:
        self.writer.submit(docs)
        return len(docs)


COLLECTOR: web.AppKey[Collector] = web.AppKey("collector", Collector)
