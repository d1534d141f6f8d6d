"""The session model's tables, and the lookups every part of the model shares."""

from __future__ import annotations

from collections import Counter, deque

from collector.clock import Clock
from collector.documents import Document
from collector.janus_events import JanusEvent
from collector.metadata import Identity, SessionInfo, StreamInfo
from collector.session_state import Connection, Endpoint, Handle, JanusSession, Session


class UnknownSessionError(LookupError):
    """The simulator referred to a session the collector never saw."""


class ModelState:
    """Sessions, connections, Janus sessions and handles, and the documents not yet returned."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._out: list[Document] = []
        self._session_infos: dict[str, SessionInfo] = {}
        self._identities: dict[str, Identity] = {}
        self._streams: dict[str, StreamInfo] = {}
        self._sessions: dict[str, Session] = {}
        self._last_session: dict[str, Session] = {}
        self._connections: dict[str, Connection] = {}
        self._participants: dict[tuple[str, str], Connection] = {}
        self._janus_sessions: dict[int, JanusSession] = {}
        self._handles: dict[int, Handle] = {}
        self._bitrates: dict[int, int] = {}
        self.counters: Counter[str] = Counter()
        """Events the model could not attribute or chose to skip, by why (shown in /stats)."""
        self._leaving: dict[str, tuple[Connection, int]] = {}
        """Participants Janus reported ``leaving``, not yet told why (see ``_on_leaving``)."""
        self._closed_sessions: deque[tuple[Session, list[str]]] = deque()
        """Closed sessions and their connection ids, oldest first, for CLOSED_SESSION_KEEP_MS."""
        self._ending: dict[int, tuple[Endpoint, int]] = {}
        """Subscriber endpoints Janus ended (``unsubscribed``/detach), not yet told why: a
        timed-out session's handles may go before its ``leaving`` and its ``timeout``."""

    def _janus_session(self, sid: int | None) -> JanusSession | None:
        return None if sid is None else self._janus_sessions.get(sid)

    def _handle_of(self, event: JanusEvent) -> Handle | None:
        """The handle an event is about, created on first sight (we may have missed its attach)."""
        hid = event.handle_id
        if hid is None:
            return None
        handle = self._handles.get(hid)
        if handle is None:
            if event.session_id is None:
                return None
            janus_session = self._janus_sessions.setdefault(
                event.session_id, JanusSession(event.session_id)
            )
            handle = Handle(hid, event.session_id)
            self._handles[hid] = handle
            janus_session.handles[hid] = handle
        return handle

    def _connection_of_janus_session(self, janus_session: JanusSession) -> Connection | None:
        if janus_session.connection_id is None:
            return None
        conn = self._connections.get(janus_session.connection_id)
        return conn if conn is not None and conn.open else None

    def _connection_of(self, handle: Handle) -> Connection | None:
        janus_session = self._janus_session(handle.janus_session_id)
        return None if janus_session is None else self._connection_of_janus_session(janus_session)

    def _identity(self, connection_id: str) -> Identity:
        return self._identities.get(connection_id) or Identity.unknown(connection_id)

    def _participant_identity(
        self, connection_id: str, display: str | None
    ) -> tuple[Identity, bool]:
        """Who a new participant is: what the simulator said, else what Janus knows (its
        display name, as ``clientData``); the flag says the latter, so that the address ICE
        connects to completes it later (``ip``)."""
        told = self._identities.get(connection_id)
        if told is not None:
            return told, False
        identity = Identity.unknown(connection_id)
        if display:
            identity = identity.model_copy(update={"clientData": display})
        return identity, True

    def _known_session(self, session_id: str) -> Session:
        session = self._sessions.get(session_id) or self._last_session.get(session_id)
        if session is None:
            raise UnknownSessionError(f"sessionId {session_id!r} was never created")
        return session

    def _drain(self) -> list[Document]:
        out, self._out = self._out, []
        return out
