"""The collector's HTTP application: Janus events in, simulator metadata in, counters out.

Routes (JSON bodies; errors are ``{"error": ...}`` or, for event batches, a per-item list):

* ``POST /events`` — Janus event handler; one event object or an array. Basic auth when
  ``events_user`` is set. 200 ``{"accepted","dropped"}`` when every item was understood. When some
  items are malformed or unknown: the valid ones are still processed and the answer is 400 with
  ``"rejected": [{"index", "error"}]``. Janus may then retransmit the batch; that is harmless
  because every document has a deterministic id and replayed lifecycle events are no-ops. 500 (same
  body) when a handler failed (a collector bug, logged with its traceback and counted).
* ``POST /sessions`` ``/identities`` ``/streams`` ``/client-stats`` ``/signals`` ``/recordings``
  ``/media-server-lost`` ``/generator-stats`` — the simulator; ``Authorization: Bearer <token>``
  when a token is set.
  200 ``{"ok": true, "documents": n}``; 400 invalid body; 401 bad credentials; 404 unknown session.
* ``GET /health`` (200, open sessions and counters) and ``GET /stats`` (counters).
* Any body over ``max_body_bytes``: 413.

Background work (writer, webrtcStats interval, monitoring probe) runs in the app's cleanup
context, so stopping the app flushes every pending document.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hmac
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson
from aiohttp import web
from pydantic import BaseModel, ValidationError

from collector.clock import Clock
from collector.counters import ServiceCounters
from collector.documents import Document, SessionDestroyed
from collector.documents.generator import GeneratorStatsInput, generator_stats
from collector.janus_events import EventError, EventType, parse_event
from collector.journal import EVENT, Journal, ReplayClock
from collector.metadata import (
    ClientStatsSample,
    Identity,
    RecordingInput,
    SessionInfo,
    SignalInput,
    StreamInfo,
)
from collector.probes import HostProbe
from collector.session_model import SessionModel, UnknownSessionError
from collector.settings import CollectorSettings
from collector.spool import Spool
from collector.store import Store
from collector.ticks import (
    SETTLE_INTERVAL_S,
    every,
    guarded_compact_tick,
    monitoring_tick,
    settle_tick,
    webrtc_stats_tick,
)
from collector.writer import DocumentWriter

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
M = TypeVar("M", bound=BaseModel)
_EVENT_NAMES = {t: t.name.lower() for t in EventType}


@dataclass
class Collector:
    """Everything the routes and background tasks share; one per application."""

    settings: CollectorSettings
    store: Store
    clock: Clock
    probe: HostProbe | None
    model: SessionModel
    counters: ServiceCounters
    writer: DocumentWriter
    journal: Journal | None = None
    closed_sessions: set[str] = field(default_factory=set)
    """Sessions whose ``sessionDestroyed`` was emitted: their registrations leave the journal."""

    def record(self, kind: str, body: object) -> None:
        """Journal an input the model accepted (before the answer goes back to its sender)."""
        if self.journal is not None:
            self.journal.record(kind, self.clock.now_ms(), body)

    def emit(self, docs: list[Document]) -> int:
        if self.journal is not None:
            for doc in docs:
                if isinstance(doc, SessionDestroyed):
                    self.closed_sessions.add(doc.sessionId)
        self.writer.submit(docs)
        return len(docs)


COLLECTOR: web.AppKey[Collector] = web.AppKey("collector", Collector)


def json_response(body: object, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")


def _error(status: int, message: str) -> web.HTTPException:
    exc = web.HTTPException(text=orjson.dumps({"error": message}).decode())
    exc.set_status(status)
    exc.content_type = "application/json"
    return exc


async def _read_json(request: web.Request) -> Any:
    limit = request.app[COLLECTOR].settings.max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        raise _error(413, f"body of {request.content_length} bytes exceeds {limit}")
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise _error(413, f"body exceeds {limit} bytes") from None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise _error(400, f"invalid JSON: {exc}") from None


def _basic_auth_ok(request: web.Request, user: str, password: str) -> bool:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return False
    try:
        given = base64.b64decode(header[6:]).decode()
    except ValueError:
        return False
    return hmac.compare_digest(given, f"{user}:{password}")


def _require_token(request: web.Request) -> None:
    token = request.app[COLLECTOR].settings.token
    if token is None:
        return
    header = request.headers.get("Authorization", "")
    if not hmac.compare_digest(header, f"Bearer {token.get_secret_value()}"):
        raise _error(401, "missing or wrong bearer token")


# -- Janus events
async def post_events(request: web.Request) -> web.Response:
    c = request.app[COLLECTOR]
    s = c.settings
    if s.events_user is not None:
        password = s.events_password.get_secret_value() if s.events_password else ""
        if not _basic_auth_ok(request, s.events_user, password):
            c.counters.api_rejected["/events"] += 1
            raise _error(401, "missing or wrong basic auth")
    body = await _read_json(request)
    items = body if isinstance(body, list) else [body]
    rejected: list[dict[str, object]] = []
    accepted = dropped = 0
    failed = False
    counters = c.counters
    counters.events_received += len(items)
    journaled: list[tuple[str, int, object]] = []
    produced: list[Document] = []
    for index, raw in enumerate(items):
        try:
            event = parse_event(raw)
        except EventError as exc:
            kind = raw.get("type") if isinstance(raw, dict) else None
            counters.events_rejected[str(kind)] += 1
            rejected.append({"index": index, "error": str(exc)})
            continue
        name = _EVENT_NAMES[event.type]
        if event.type in (EventType.TRANSPORT, EventType.EXTERNAL):
            counters.events_dropped[name] += 1
            dropped += 1
            continue
        try:
            docs = c.model.handle(event)
        except Exception as exc:
            log.exception("handler failed on event %d (%s)", index, name)
            counters.handler_errors += 1
            rejected.append({"index": index, "error": f"handler failed: {exc!r}"})
            failed = True
            continue
        counters.events_accepted[name] += 1
        accepted += 1
        journaled.append((EVENT, c.clock.now_ms(), raw))
        produced.extend(docs)
    # The whole batch in one journal write, before the answer; its documents in one submit,
    # even when the journal fails (the model has moved on: they are its output).
    try:
        if c.journal is not None:
            c.journal.record_many(journaled)
    finally:
        c.emit(produced)
    answer: dict[str, object] = {"accepted": accepted, "dropped": dropped}
    if rejected:
        answer["rejected"] = rejected
        return json_response(answer, status=500 if failed else 400)
    return json_response(answer)


# -- simulator metadata
def _validated(model: type[M], data: object) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        detail = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in exc.errors()
        )
        raise _error(400, detail) from None


def simulator_route(
    action: Callable[[Collector, Any], list[Document]],
) -> Handler:
    """Auth, JSON parsing, counting and error mapping shared by the simulator's routes."""

    async def handler(request: web.Request) -> web.Response:
        c = request.app[COLLECTOR]
        route = request.path
        c.counters.api_requests[route] += 1
        try:
            _require_token(request)
            body = await _read_json(request) if request.can_read_body else {}
            docs = action(c, body)
            c.record(route, body)
        except web.HTTPException:
            c.counters.api_rejected[route] += 1
            raise
        except UnknownSessionError as exc:
            c.counters.api_rejected[route] += 1
            raise _error(404, str(exc)) from None
        except ValueError as exc:
            c.counters.api_rejected[route] += 1
            raise _error(400, str(exc)) from None
        return json_response({"ok": True, "documents": c.emit(docs)})

    return handler


def _sessions(c: Collector, body: object) -> list[Document]:
    c.model.register_session(_validated(SessionInfo, body))
    return []


def _identities(c: Collector, body: object) -> list[Document]:
    c.model.register_identity(_validated(Identity, body))
    return []


def _streams(c: Collector, body: object) -> list[Document]:
    c.model.register_stream(_validated(StreamInfo, body))
    return []


def _client_stats(c: Collector, body: object) -> list[Document]:
    docs: list[Document] = []
    for item in body if isinstance(body, list) else [body]:
        docs.extend(c.model.client_stats(_validated(ClientStatsSample, item)))
    return docs


def _signals(c: Collector, body: object) -> list[Document]:
    return c.model.signal(_validated(SignalInput, body))


def _recordings(c: Collector, body: object) -> list[Document]:
    return c.model.recording(_validated(RecordingInput, body))


def _media_server_lost(c: Collector, body: object) -> list[Document]:
    ts = body.get("timestamp") if isinstance(body, dict) else None
    # bool is an int to Python, but `true` is no timestamp.
    if ts is not None and (isinstance(ts, bool) or not isinstance(ts, int)):
        raise ValueError("timestamp: must be ms since the epoch")
    return c.model.media_server_lost(ts)


def _generator_stats(c: Collector, body: object) -> list[Document]:
    """The generator's own health (``generatorStats``); no session involved."""
    items = body if isinstance(body, list) else [body]
    return [generator_stats(_validated(GeneratorStatsInput, item)) for item in items]


SIMULATOR_ROUTES: dict[str, Callable[[Collector, Any], list[Document]]] = {
    "/sessions": _sessions,
    "/identities": _identities,
    "/streams": _streams,
    "/client-stats": _client_stats,
    "/signals": _signals,
    "/recordings": _recordings,
    "/media-server-lost": _media_server_lost,
    "/generator-stats": _generator_stats,
}


def replay_journal(c: Collector, replay_clock: ReplayClock) -> int:
    """Feed the journal's inputs again into the (fresh) model; returns how many were replayed.

    The documents they produce are submitted again: same ids, so they overwrite themselves.
    """
    if c.journal is None:
        return 0
    replayed = 0
    for kind, now_ms, body in c.journal.entries():
        replay_clock.fixed_ms = now_ms
        try:
            if kind == EVENT:
                docs = c.model.handle(parse_event(body))
            else:
                docs = SIMULATOR_ROUTES[kind](c, body)
        except Exception:
            log.exception("journal replay: %s input failed", kind)
            c.counters.handler_errors += 1
            continue
        finally:
            replay_clock.fixed_ms = None
        c.emit(docs)
        replayed += 1
    c.journal.replayed = replayed
    if replayed:
        opened = len(c.model.open_sessions())
        log.info("journal replayed: %d inputs, %d open sessions", replayed, opened)
    return replayed


# -- observability
async def get_health(request: web.Request) -> web.Response:
    c = request.app[COLLECTOR]
    return json_response(
        {
            "status": "ok",
            "open_sessions": len(c.model.open_sessions()),
            **_stats(c),
        }
    )


async def get_stats(request: web.Request) -> web.Response:
    c = request.app[COLLECTOR]
    return json_response(_stats(c))


def _stats(c: Collector) -> dict[str, Any]:
    stats = c.counters.snapshot(c.model.counters)
    stats["spool"] = c.writer.stats()
    stats["journal"] = c.journal.stats() if c.journal is not None else None
    return stats


# -- background work
def _background(app: web.Application) -> Callable[[web.Application], AsyncIterator[None]]:
    async def context(_: web.Application) -> AsyncIterator[None]:
        c = app[COLLECTOR]
        s = c.settings
        tasks = [asyncio.create_task(c.writer.run(s.flush_interval_s), name="writer")]
        if s.webrtc_stats_interval_s > 0:
            tasks.append(
                asyncio.create_task(
                    every(s.webrtc_stats_interval_s, lambda: webrtc_stats_tick(c)),
                    name="webrtc-stats",
                )
            )
        tasks.append(
            asyncio.create_task(every(SETTLE_INTERVAL_S, lambda: settle_tick(c)), name="settle")
        )
        if c.journal is not None:
            tasks.append(
                asyncio.create_task(
                    every(SETTLE_INTERVAL_S, lambda: guarded_compact_tick(c)),
                    name="journal-compaction",
                )
            )
        if s.monitoring_interval_s > 0 and c.probe is not None:
            tasks.append(
                asyncio.create_task(
                    every(s.monitoring_interval_s, lambda: monitoring_tick(c)),
                    name="monitoring",
                )
            )
        yield
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        # Shutting down: pending leaves, the last stats of open endpoints, then the rest.
        c.emit(c.model.settle_due())
        c.emit(c.model.webrtc_stats_due())
        await c.writer.flush()
        if c.writer.pending:
            log.error("%d documents could not be written before exit", c.writer.pending)
        if c.writer.spool is not None:
            c.writer.spool.close()
        if c.journal is not None:
            c.journal.close()

    return context


def create_app(
    settings: CollectorSettings,
    store: Store,
    clock: Clock,
    probe: HostProbe | None = None,
) -> web.Application:
    """The application, from injected parts (no globals): tests pass a memory store and clock."""
    counters = ServiceCounters()
    spool_folder = settings.spool_folder
    journal_path = settings.journal_path
    replay_clock = ReplayClock(clock)
    collector = Collector(
        settings=settings,
        store=store,
        clock=clock,
        probe=probe,
        model=SessionModel(replay_clock),
        counters=counters,
        writer=DocumentWriter(
            store,
            counters,
            batch_size=settings.bulk_max_docs,
            spool=Spool(spool_folder) if spool_folder is not None else None,
            max_memory=settings.max_memory_docs,
        ),
    )
    if journal_path is not None:
        previous = Journal(journal_path)
        collector.journal = previous
        replay_journal(collector, replay_clock)
    app = web.Application(client_max_size=settings.max_body_bytes)
    app[COLLECTOR] = collector
    app.router.add_post("/events", post_events)
    app.router.add_post("/sessions", simulator_route(_sessions))
    app.router.add_post("/identities", simulator_route(_identities))
    app.router.add_post("/streams", simulator_route(_streams))
    app.router.add_post("/client-stats", simulator_route(_client_stats))
    app.router.add_post("/signals", simulator_route(_signals))
    app.router.add_post("/recordings", simulator_route(_recordings))
    app.router.add_post("/media-server-lost", simulator_route(_media_server_lost))
    app.router.add_post("/generator-stats", simulator_route(_generator_stats))
    app.router.add_get("/health", get_health)
    app.router.add_get("/stats", get_stats)
    app.cleanup_ctx.append(_background(app))
    return app
