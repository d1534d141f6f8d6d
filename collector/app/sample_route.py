"""``POST /monitoring-sample``: one ``monitoringStats`` now, on the simulator's demand.

The periodic tick samples the host every ``monitoring_interval_s``; a run shorter than that may
fall between two ticks and have none. The simulator asks for a sample when a run starts and
when it ends (issue 15), so every run has two and the built-in ``monitoringStats`` check always
applies. Authenticated like the simulator's other routes (bearer token). Not journaled: a
replayed sample would be one of the replay's host, not of the run's.

200 ``{"ok": true, "documents": 1, "timestamp": ms}``; 401 bad credentials; 409 monitoring off
(no probe); 500 the probe failed (logged and counted as ``probe_errors``).
"""

from __future__ import annotations

import logging

from aiohttp import web

from collector.app.auth import token_denied
from collector.app.http import http_error, json_response
from collector.app.service import COLLECTOR

log = logging.getLogger("collector.app")

PATH = "/monitoring-sample"


async def monitoring_sample(request: web.Request) -> web.Response:
    c = request.app[COLLECTOR]
    c.counters.api_requests[PATH] += 1
    why = token_denied(c.settings, request)
    if why is not None:
        c.counters.api_rejected[PATH] += 1
        raise http_error(401, why)
    if c.probe is None:
        c.counters.api_rejected[PATH] += 1
        raise http_error(409, "monitoring is off (monitoring_interval_s 0): no host probe")
    await c.writer.admit()
    try:
        doc = c.probe.sample(c.clock.now_ms())
    except Exception as exc:
        log.exception("monitoring probe failed (on demand)")
        c.counters.probe_errors += 1
        raise http_error(500, f"the host probe failed: {exc}") from None
    c.emit([doc])
    return json_response({"ok": True, "documents": 1, "timestamp": doc.timestamp})
