"""Every route of the collector, declared once: ``create_app`` adds them, the journal replays
the simulator's actions and the sources' events by the same names.

| route | who posts | what |
|---|---|---|
| ``POST /events`` | Janus's event handler | Janus events (``collector.sources.janus``) |
| ``POST /livekit`` | LiveKit | its webhooks, signed (``collector.sources.livekit``) |
| ``POST /sessions`` ... ``/generator-stats`` | the simulator | ``collector.app.simulator_routes`` |
| ``POST /monitoring-sample`` | the simulator | a ``monitoringStats`` now (``sample_route``) |
| ``GET /health``, ``GET /stats`` | anyone | counters |
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from collector.app import simulator_routes as sim
from collector.app.auth import janus_denied, livekit_denied
from collector.app.event_routes import Denied, Handler, event_route
from collector.app.observe import get_health, get_stats
from collector.app.sample_route import PATH as SAMPLE_PATH
from collector.app.sample_route import monitoring_sample


@dataclass(frozen=True)
class EventRoute:
    path: str
    source: str
    """The name of the event source the route feeds (``Collector.sources``)."""
    denied: Denied


EVENT_ROUTES = (
    EventRoute("/events", "janus", janus_denied),
    EventRoute("/livekit", "livekit", livekit_denied),
)

SIMULATOR_ACTIONS: dict[str, sim.Action] = {
    "/sessions": sim.sessions,
    "/identities": sim.identities,
    "/streams": sim.streams,
    "/client-stats": sim.client_stats,
    "/subscriptions": sim.subscriptions,
    "/client-events": sim.client_events,
    "/signals": sim.signals,
    "/recordings": sim.recordings,
    "/media-server-lost": sim.media_server_lost,
    "/generator-stats": sim.generator_stats_action,
}
"""The simulator's routes by path; the journal names their inputs by the same paths."""

GET_ROUTES: dict[str, Handler] = {
    "/health": get_health,
    "/stats": get_stats,
}


def add_routes(app: web.Application) -> None:
    for route in EVENT_ROUTES:
        app.router.add_post(route.path, event_route(route.source, route.denied))
    for path, action in SIMULATOR_ACTIONS.items():
        app.router.add_post(path, sim.simulator_route(action))
    app.router.add_post(SAMPLE_PATH, monitoring_sample)
    for path, handler in GET_ROUTES.items():
        app.router.add_get(path, handler)
