"""``GET /health`` (200, open sessions and counters) and ``GET /stats`` (counters): nothing the
collector does fails unseen."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from collector.app.http import json_response
from collector.app.service import COLLECTOR, Collector


async def get_health(request: web.Request) -> web.Response:
    c = request.app[COLLECTOR]
    return json_response(
        {"status": "ok", "open_sessions": len(c.model.open_sessions()), **stats(c)}
    )


async def get_stats(request: web.Request) -> web.Response:
    return json_response(stats(request.app[COLLECTOR]))


def stats(c: Collector) -> dict[str, Any]:
    snapshot = c.counters.snapshot(c.model.counters)
    snapshot["spool"] = c.writer.stats()
    snapshot["writer"] = c.writer.bulk_stats()
    snapshot["journal"] = c.journal.stats() if c.journal is not None else None
    return snapshot
