"""The state machine: Janus events in order, OpenVidu documents out.

Feed every parsed Janus event to ``SessionModel.handle`` in arrival order, plus what the simulator
reports (identities, streams, signals, recordings). Each call returns the documents that event
caused. No I/O and no clock reads on the Janus path: timestamps come from the events, so replaying a
capture produces the same documents (and the same ``_id``s).

Reasons come from what Janus reported (``collector.reasons``): an explicit ``unpublished`` /
``unsubscribed`` / ``leaving`` is a choice of the client; a session ``timeout`` or an ICE failure is
``networkDisconnect``; ``kicked`` is ``forceDisconnectByServer``; a room ``destroyed`` is
``sessionClosedByServer``; a core ``shutdown`` (or ``media_server_lost``) is
``mediaServerDisconnect``. As in OpenVidu, a publisher's end reason cascades to its subscribers, and
a participant's to its publisher and subscribers.
"""

from __future__ import annotations

import logging

from collector.documents import Document, RecordingStatusChanged, SignalSent
from collector.janus_events import CoreEvent, HandleEvent, JanusEvent, PluginEvent, SessionEvent
from collector.metadata import (
    ClientStatsSample,
    Identity,
    RecordingInput,
    SessionInfo,
    SignalInput,
    StreamInfo,
)
from collector.model.endpoints import MAX_PENDING_PER_HANDLE
from collector.model.janus_handles import OPAQUE_PREFIX, JanusHandles
from collector.model.lifecycle import LEAVING_GRACE_MS
from collector.model.state import UnknownSessionError
from collector.model.videoroom import VIDEOROOM, VideoRoomEvents
from collector.reasons import EndReason
from collector.summary_builder import session_summary
from collector.webrtc_stats import client_stats

__all__ = [
    "CLOSED_SESSION_KEEP_MS",
    "LEAVING_GRACE_MS",
    "MAX_PENDING_PER_HANDLE",
    "OPAQUE_PREFIX",
    "VIDEOROOM",
    "SessionModel",
    "UnknownSessionError",
]

log = logging.getLogger(__name__)

CLOSED_SESSION_KEEP_MS = 30 * 60 * 1000
"""How long a closed session stays known: late client stats and recording statuses (a composed
recording's file is ready after the room is gone) still find it. Then it and the simulator's
registrations for it are forgotten, so a collector that runs for days does not grow."""


class SessionModel(VideoRoomEvents, JanusHandles):
    """Sessions, connections and endpoints, kept from Janus events.

    Its parts are in ``collector.model``; this class is the model's interface: what the
    simulator tells it, and the Janus events in.
    """

    # -- what the simulator tells us
    def register_session(self, info: SessionInfo) -> None:
        self._session_infos[info.sessionId] = info

    def register_identity(self, identity: Identity) -> None:
        self._identities[identity.connectionId] = identity
        conn = self._connections.get(identity.connectionId)
        if conn is not None and conn.open:
            conn.identity = identity

    def register_stream(self, stream: StreamInfo) -> None:
        self._streams[stream.connectionId] = stream

    def open_sessions(self) -> list[str]:
        return sorted(self._sessions)

    # -- entry points
    def handle(self, event: JanusEvent) -> list[Document]:
        """Apply one Janus event; return the documents it produced."""
        self._settle_leaves(before_ms=event.timestamp_ms - LEAVING_GRACE_MS)
        payload = event.payload
        if isinstance(payload, SessionEvent):
            self._on_session(event, payload)
        elif isinstance(payload, HandleEvent):
            self._on_handle(event, payload)
        elif isinstance(payload, PluginEvent):
            if payload.plugin == VIDEOROOM and payload.data is not None:
                self._on_videoroom(event, payload.data)
            else:
                self.counters["other_plugin"] += 1
        elif isinstance(payload, CoreEvent):
            if payload.status == "shutdown":
                self._media_server_lost(event.timestamp_ms)
        elif event.ignored:
            self.counters["ignored"] += 1
        else:
            self._on_endpoint_event(event)
        return self._drain()

    def media_server_lost(self, timestamp_ms: int | None = None) -> list[Document]:
        """Janus is gone without a shutdown event (killed -9): close everything."""
        self._media_server_lost(timestamp_ms if timestamp_ms is not None else self._clock.now_ms())
        return self._drain()

    def signal(self, signal: SignalInput) -> list[Document]:
        session = self._known_session(signal.sessionId)
        self._out.append(
            SignalSent(
                timestamp=signal.timestamp or self._clock.now_ms(),
                sessionId=session.session_id,
                uniqueSessionId=session.unique_id,
                rtcsim_run_id=session.run_id,
                from_=signal.from_,
                to=signal.to,
                type=signal.type,
                data=signal.data,
            )
        )
        return self._drain()

    def recording(self, rec: RecordingInput) -> list[Document]:
        """One status change of a recording, as the simulator reports it.

        A repeated ``started`` or ``stopped`` is dropped: when a session closes, the model stops
        its recordings itself (with the session's reason), and the simulator's own ``stopped``
        for the same recording may arrive before or after that.

        The final size and duration reach ``recordingSummary`` although files are produced
        after ``stopped``, often after the session closed and its summaries were written. A
        ``ready`` or ``failed`` status updates the recording's summary entry and, if the
        session is already closed, writes the session's summaries again; their ``_id``s are
        deterministic (``uniqueSessionId`` + recording id), so Elasticsearch overwrites the
        earlier ones. This keeps the model free of clocks and timers, never holds back any
        session's summaries, and a recording that never gets a final status simply keeps its
        ``stopped`` values, as OpenVidu's do (``openvidu-documents.md`` §5.6). Holding the
        summaries until every recording is final would need a timer and a timeout here, and
        the simulator cannot keep a room open, since sessions close on Janus's own events.
        """
        session = self._known_session(rec.sessionId)
        known = rec.id in session.recordings or rec.id in session.stopped_recordings
        if (rec.status == "started" and known) or (
            rec.status == "stopped" and rec.id in session.stopped_recordings
        ):
            self.counters["recording_status_repeated"] += 1
            return []
        reason = rec.reason
        if reason is None and rec.status != "started":
            # OpenVidu always gives an ending status a reason; a stop asked through the API is this.
            reason = EndReason.RECORDING_STOPPED_BY_SERVER.value
        doc = RecordingStatusChanged.model_validate(
            {
                **rec.model_dump(exclude={"sessionId"}),
                "reason": reason,
                "sessionId": session.session_id,
                "uniqueSessionId": session.unique_id,
                "rtcsim_run_id": session.run_id,
            }
        )
        self._out.append(doc)
        if rec.status == "started":
            session.recordings[rec.id] = doc
            return self._drain()
        stopped = session.recordings.pop(rec.id, None) or session.stopped_recordings.get(rec.id)
        if rec.status == "stopped" or stopped is None:
            session.stopped_recordings[rec.id] = doc
        else:
            session.stopped_recordings[rec.id] = stopped.model_copy(
                update={
                    "status": rec.status,
                    "size": rec.size,
                    "duration": rec.duration,
                    "rtcsim_failure": rec.rtcsim_failure,
                }
            )
        if not session.open and session.closed_at_ms is not None:
            self._out.extend(session_summary(session, session.closed_at_ms).denormalized())
        return self._drain()

    def client_stats(self, sample: ClientStatsSample) -> list[Document]:
        sample.validate_extras()
        conn = self._connections.get(sample.connectionId)
        identity = conn.identity if conn is not None else self._identity(sample.connectionId)
        session = self._sessions.get(sample.sessionId) or self._last_session.get(sample.sessionId)
        self._out.append(client_stats(sample, identity, session))
        return self._drain()

    def settle_due(self) -> list[Document]:
        """Settle ``leaving`` participants whose grace period passed with nothing more said,
        and forget sessions closed longer than ``CLOSED_SESSION_KEEP_MS`` ago."""
        now_ms = self._clock.now_ms()
        self._settle_leaves(before_ms=now_ms - LEAVING_GRACE_MS)
        self._forget_closed(before_ms=now_ms - CLOSED_SESSION_KEEP_MS)
        return self._drain()

    def webrtc_stats_due(self) -> list[Document]:
        """One webrtcStats per open endpoint and media with a sample newer than the last written."""
        for session in list(self._sessions.values()):
            for conn in session.open_connections():
                for ep in self._endpoints(conn):
                    if not ep.closed:
                        self._flush_stats(ep)
        return self._drain()
