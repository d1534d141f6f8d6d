"""What the simulator's inputs belong to, for the journal's compaction
(``collector.journal_index``), and when the state behind a key or a session is still alive.

The simulator's routes name their session by ``sessionId`` (the room) and their participant by
``connectionId``: a recording status, a client's subscription or endpoint event belong to the
room's session (open, or the last one closed: late inputs); a registration made before its room
opened waits under the room's key (or the connection's, without a ``sessionId``) until an input
of the session names it. Client stats, signals and the generator's stats change no state: their
lines go as soon as their documents are stored or spooled. The media server lost closes every
session; its line goes with its documents too (nothing is open after it).
"""

from __future__ import annotations

from collections.abc import Callable

from collector.app.service import Collector
from collector.journal_index import REGISTRATION_KEEP_MS, STATELESS, Key, Owner
from collector.model.state import Session

STATELESS_ROUTES = frozenset(
    {"/client-stats", "/signals", "/generator-stats", "/media-server-lost"}
)


def _first(body: object) -> dict[str, object]:
    item = body[0] if isinstance(body, list) and body else body
    return item if isinstance(item, dict) else {}


def route_owner(c: Collector, route: str, body: object) -> Owner:
    """The owner of an accepted simulator input (the simulator sends one session's items per
    post; a list is its first item's)."""
    if route in STATELESS_ROUTES:
        return STATELESS
    item = _first(body)
    registry = c.model.registry
    room = item.get("sessionId")
    connection_id = item.get("connectionId")
    if route in ("/identities", "/streams") and isinstance(connection_id, str):
        conn = registry.open_connection(connection_id)
        if conn is not None:
            return Owner(conn.session, (("conn", connection_id),))
        if not isinstance(room, str):
            return Owner(keys=(("conn", connection_id),))
    if not isinstance(room, str):
        return STATELESS
    if route in ("/sessions", "/identities", "/streams"):
        session = registry.sessions.get(room)
        keys: tuple[Key, ...] = (("room", room),)
        return Owner(session, keys) if session is not None else Owner(keys=keys)
    session = registry.sessions.get(room) or registry.last_session.get(room)
    keys = (("room", room),)
    return Owner(session, keys) if session is not None else Owner(keys=keys)


def session_alive(c: Collector) -> Callable[[Session], bool]:
    """Open, or closed with stopped recordings while the model keeps it (a recording's late
    final status rewrites its summaries)."""
    last = c.model.registry.last_session

    def alive(session: Session) -> bool:
        if session.open:
            return True
        return bool(session.stopped_recordings) and last.get(session.session_id) is session

    return alive


def key_alive(c: Collector) -> Callable[[Key, int], bool]:
    """A Janus session until it is destroyed; a room's registration until its room opens; a
    connection's, or a LiveKit room's webhooks, for ``REGISTRATION_KEEP_MS``."""
    janus = c.sources.get("janus")
    holds = getattr(janus, "holds", None)

    def alive(key: Key, newest_ms: int) -> bool:
        kind = key[0]
        if kind == "janus":
            return bool(holds is not None and holds(key[1]))
        if kind == "room":
            return True
        return newest_ms >= c.clock.now_ms() - REGISTRATION_KEEP_MS

    return alive
