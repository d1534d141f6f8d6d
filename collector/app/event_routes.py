"""The media servers' routes: one handler shape for every event source.

A post carries one event or an array (Janus batches them). 200 ``{"accepted","dropped"}`` when
every item was understood. When some items are malformed or unknown, the valid ones are still
processed and the answer is 400 with ``"rejected": [{"index", "error"}]``; the server may then
send the post again, which is harmless: every document has a deterministic id and replayed
lifecycle events are no-ops. 500 (same body) when applying an event failed (a collector bug,
logged with its traceback and counted). 401 when the post is not the server's
(``collector.app.auth``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from collector.app.http import http_error, json_response, parse_json, read_body
from collector.app.service import COLLECTOR, Collector
from collector.documents import Document
from collector.events.errors import EventError
from collector.journal_index import Owner
from collector.settings import CollectorSettings
from collector.sources.base import EventSource

log = logging.getLogger("collector.app")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Denied = Callable[[CollectorSettings, web.Request, bytes], str | None]
"""Why a post is refused (401), given the exact body (a signature may cover it), or None."""


def event_route(source_name: str, denied: Denied) -> Handler:
    """The handler of ``source_name``'s route."""

    async def handler(request: web.Request) -> web.Response:
        c = request.app[COLLECTOR]
        raw = await read_body(request, c.settings.max_body_bytes)
        why = denied(c.settings, request, raw)
        if why is not None:
            c.counters.api_rejected[request.path] += 1
            raise http_error(401, why)
        body = parse_json(raw)
        items = body if isinstance(body, list) else [body]
        await c.writer.admit()  # the store's pace under sustained load (collector.writer)
        return json_response(*apply_items(c, c.sources[source_name], items))

    return handler


def apply_items(
    c: Collector, source: EventSource[Any], items: list[Any]
) -> tuple[dict[str, object], int]:
    """Parse and apply each item in order; the answer and its status."""
    rejected: list[dict[str, object]] = []
    accepted = dropped = 0
    failed = False
    counters = c.counters
    counters.events_received += len(items)
    journaled: list[tuple[str, int, object, Owner]] = []
    produced: list[Document] = []
    now_ms = c.clock.now_ms
    for index, raw in enumerate(items):
        try:
            event = source.parse(raw)
        except EventError as exc:
            counters.events_rejected[source.label(raw)] += 1
            rejected.append({"index": index, "error": str(exc)})
            continue
        name = source.kind(event)
        if source.ignored(event):
            counters.events_dropped[name] += 1
            dropped += 1
            continue
        try:
            before = source.session_of(event)
            docs = source.apply(event)
            owner = source.owner(event, before, bool(docs))
        except Exception as exc:
            log.exception("handler failed on event %d (%s)", index, name)
            counters.handler_errors += 1
            rejected.append({"index": index, "error": f"handler failed: {exc!r}"})
            failed = True
            continue
        counters.events_accepted[name] += 1
        accepted += 1
        journaled.append((source.journal_kind, now_ms(), raw, owner))
        produced.extend(docs)
    # The whole batch in one journal write, before the answer; its documents in one submit,
    # even when the journal fails (the model has moved on: they are its output).
    try:
        if c.journal is not None:
            c.journal.record_many(journaled, c.writer.submitted + len(produced))
    finally:
        c.emit(produced)
    answer: dict[str, object] = {"accepted": accepted, "dropped": dropped}
    if not rejected:
        return answer, 200
    answer["rejected"] = rejected
    return answer, 500 if failed else 400
