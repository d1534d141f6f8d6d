"""The collector's HTTP application: the media servers' events in, the simulator's inputs in,
counters out. Routes in ``routes`` (declared once), their handlers in ``event_routes``,
``simulator_routes`` and ``observe``, who may post in ``auth``, journal replay in ``replay``,
background work in ``background`` and ``ticks``, the whole built by ``factory.create_app``.
Any body over ``max_body_bytes`` is 413."""

from collector.app.factory import create_app
from collector.app.service import COLLECTOR, Collector

__all__ = ["COLLECTOR", "Collector", "create_app"]
