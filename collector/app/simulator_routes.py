"""The simulator's routes: what it tells the collector that the server cannot.

``POST /sessions`` ``/identities`` ``/streams`` ``/client-stats`` ``/subscriptions``
``/client-events`` ``/signals`` ``/recordings`` ``/media-server-lost`` ``/generator-stats``;
``Authorization: Bearer <token>`` when a token is set. 200 ``{"ok": true, "documents": n}``;
400 invalid body; 401 bad credentials; 404 unknown session. Each route is an action on the
collector; the journal replays the same actions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from collector.app.attribution import route_owner
from collector.app.auth import token_denied
from collector.app.event_routes import Handler
from collector.app.http import http_error, json_response, parse_json, read_body, validated
from collector.app.service import COLLECTOR, Collector
from collector.documents import Document
from collector.documents.generator import GeneratorStatsInput, generator_stats
from collector.metadata import (
    ClientEndpointEvent,
    ClientStatsSample,
    Identity,
    RecordingInput,
    SessionInfo,
    SignalInput,
    StreamInfo,
    SubscriptionInput,
)
from collector.session_model import UnknownSessionError

Action = Callable[[Collector, Any], list[Document]]


def simulator_route(action: Action) -> Handler:
    """Auth, JSON parsing, counting and error mapping shared by the simulator's routes."""

    async def handler(request: web.Request) -> web.Response:
        c = request.app[COLLECTOR]
        route = request.path
        c.counters.api_requests[route] += 1
        try:
            why = token_denied(c.settings, request)
            if why is not None:
                raise http_error(401, why)
            body: object = {}
            if request.can_read_body:
                body = parse_json(await read_body(request, c.settings.max_body_bytes))
            await c.writer.admit()
            docs = action(c, body)
            c.record(route, body, route_owner(c, route, body), len(docs))
        except web.HTTPException:
            c.counters.api_rejected[route] += 1
            raise
        except UnknownSessionError as exc:
            c.counters.api_rejected[route] += 1
            raise http_error(404, str(exc)) from None
        except ValueError as exc:
            c.counters.api_rejected[route] += 1
            raise http_error(400, str(exc)) from None
        return json_response({"ok": True, "documents": c.emit(docs)})

    return handler


def sessions(c: Collector, body: object) -> list[Document]:
    c.model.register_session(validated(SessionInfo, body))
    return []


def identities(c: Collector, body: object) -> list[Document]:
    c.model.register_identity(validated(Identity, body))
    return []


def streams(c: Collector, body: object) -> list[Document]:
    c.model.register_stream(validated(StreamInfo, body))
    return []


def client_stats(c: Collector, body: object) -> list[Document]:
    docs: list[Document] = []
    for item in body if isinstance(body, list) else [body]:
        docs.extend(c.model.client_stats(validated(ClientStatsSample, item)))
    return docs


def subscriptions(c: Collector, body: object) -> list[Document]:
    docs: list[Document] = []
    for item in body if isinstance(body, list) else [body]:
        docs.extend(c.model.subscription(validated(SubscriptionInput, item)))
    return docs


def client_events(c: Collector, body: object) -> list[Document]:
    docs: list[Document] = []
    for item in body if isinstance(body, list) else [body]:
        docs.extend(c.model.client_endpoint_event(validated(ClientEndpointEvent, item)))
    return docs


def signals(c: Collector, body: object) -> list[Document]:
    return c.model.signal(validated(SignalInput, body))


def recordings(c: Collector, body: object) -> list[Document]:
    return c.model.recording(validated(RecordingInput, body))


def media_server_lost(c: Collector, body: object) -> list[Document]:
    ts = body.get("timestamp") if isinstance(body, dict) else None
    # bool is an int to Python, but `true` is no timestamp.
    if ts is not None and (isinstance(ts, bool) or not isinstance(ts, int)):
        raise ValueError("timestamp: must be ms since the epoch")
    return c.model.media_server_lost(ts)


def generator_stats_action(c: Collector, body: object) -> list[Document]:
    """The generator's own health (``generatorStats``); no session involved."""
    items = body if isinstance(body, list) else [body]
    return [generator_stats(validated(GeneratorStatsInput, item)) for item in items]
