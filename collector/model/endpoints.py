"""Endpoints: a publisher created when its participant publishes, any endpoint closed with a
reason (cascading from a publisher to its subscribers, as in OpenVidu), and each handle's webrtc,
media and jsep events routed to its endpoint, or held until the endpoint exists."""

from __future__ import annotations

import hashlib
import string

from collector.documents import WebrtcConnectionDestroyed, WebrtcStats
from collector.documents.summaries import PublisherSummary, SubscriberSummary
from collector.endpoint_events import apply_endpoint_event, webrtc_fields
from collector.janus_events import JanusEvent, JsepEvent, SelectedPairEvent, VideoRoomData
from collector.metadata import StreamInfo
from collector.model.state import ModelState
from collector.reasons import EndReason
from collector.session_state import Connection, Endpoint, Handle, Role
from collector.summary_builder import stream_summary
from collector.webrtc_stats import server_stats

MAX_PENDING_PER_HANDLE = 256


class EndpointLifecycle(ModelState):
    """Endpoints opened, fed and closed."""

    @staticmethod
    def _endpoints(conn: Connection) -> list[Endpoint]:
        eps = list(conn.subscribers.values())
        if conn.publisher is not None:
            eps.append(conn.publisher)
        return eps

    def _default_stream(self, conn: Connection, ts: int) -> StreamInfo:
        """A stream id in OpenVidu's 2.11 format when the simulator did not announce one."""
        digest = hashlib.sha1(f"{conn.connection_id}/{ts}".encode()).digest()
        letters = "".join(string.ascii_uppercase[b % 26] for b in digest[:5])
        # Janus's events say which media a stream has (``published``), never its resolution
        # or frame rate: those stay absent rather than OpenVidu's -1 ("not constrained"),
        # which would be a claim about the client. CAMERA is the source OpenVidu assumes.
        return StreamInfo(
            streamId=f"{conn.connection_id}_CAMERA_{letters}",
            connectionId=conn.connection_id,
            videoFramerate=None,
        )

    def _publisher_endpoint(self, conn: Connection, ts: int) -> Endpoint:
        """The connection's open publisher endpoint, created if it publishes anew."""
        ep = conn.publisher
        if ep is not None and not ep.closed:
            return ep
        stream = self._streams.pop(conn.connection_id, None)
        announced = stream is not None
        if stream is None:
            stream = self._default_stream(conn, ts)
        handle_id = conn.control_handle_id or 0
        ep = Endpoint(
            role=Role.PUBLISHER,
            stream=stream,
            connection=conn,
            handle_id=handle_id,
            created_at_ms=ts,
            remb_bps=self._bitrates.get(handle_id),
            announced=announced,
        )
        conn.publisher = ep
        handle = self._handles.get(handle_id)
        if handle is not None:
            handle.endpoint = ep
        return ep

    @staticmethod
    def _published(ep: Endpoint, data: VideoRoomData) -> None:
        """What Janus's ``published`` tells of a stream: simulcast, and, when nobody announced
        the stream, which media it has."""
        streams = data.streams or []
        if any(bool(s.simulcast) for s in streams):
            ep.simulcast = True
        if not ep.announced and streams:
            kinds = {s.type for s in streams if not s.disabled}
            ep.stream = ep.stream.model_copy(
                update={"audioEnabled": "audio" in kinds, "videoEnabled": "video" in kinds}
            )

    def _close_endpoint(self, ep: Endpoint, reason: EndReason, ts: int) -> None:
        if ep.closed:
            return
        ep.closed = True
        self._flush_stats(ep)
        conn = ep.connection
        if ep.role is Role.PUBLISHER:
            # OpenVidu closes every subscriber of a stream with the publisher's reason.
            for other in conn.session.connections.values():
                for sub in other.subscribers.values():
                    if not sub.closed and sub.stream is ep.stream:
                        self._close_endpoint(sub, reason, ts)
        if ep.started_at_ms is None:
            self.counters["endpoint_closed_before_webrtcup"] += 1
            return
        summary = stream_summary(ep, ts, reason.value)
        if isinstance(summary, PublisherSummary):
            conn.closed_publishers.append(summary)
        elif isinstance(summary, SubscriberSummary):
            conn.closed_subscribers.append(summary)
        self._out.append(
            WebrtcConnectionDestroyed.model_validate(
                {
                    **webrtc_fields(ep, ts),
                    "startTime": ep.started_at_ms,
                    "duration": (ts - ep.started_at_ms) // 1000,
                    "reason": reason.value,
                }
            )
        )

    def _flush_stats(self, ep: Endpoint) -> None:
        for media, sample in ep.media.items():
            if sample.written_ms == sample.latest_ms:
                continue
            doc: WebrtcStats = server_stats(ep, media, sample)
            self._out.append(doc)
            sample.written = sample.latest
            sample.written_ms = sample.latest_ms

    # -- webrtc / media / jsep events of one handle
    def _on_endpoint_event(self, event: JanusEvent) -> None:
        handle = self._handle_of(event)
        if handle is None:
            self.counters["unattributed_endpoint_event"] += 1
            return
        ep = handle.endpoint
        conn = self._connection_of(handle)
        if handle.role is Role.PUBLISHER and conn is not None:
            new_offer = (
                isinstance(event.payload, JsepEvent)
                and event.payload.owner == "remote"
                and event.payload.jsep.type == "offer"
            )
            if ep is None or (ep.closed and new_offer):
                # Janus only negotiates media on the control handle to publish.
                ep = self._publisher_endpoint(conn, event.timestamp_ms)
        if ep is None:
            if len(handle.pending) < MAX_PENDING_PER_HANDLE:
                handle.pending.append(event)
            else:
                self.counters["pending_overflow"] += 1
            return
        if not ep.closed:
            self._apply(ep, event)

    def _replay_pending(self, handle: Handle) -> None:
        pending, handle.pending = handle.pending, []
        for event in pending:
            self._on_endpoint_event(event)

    def _apply(self, ep: Endpoint, event: JanusEvent) -> None:
        if apply_endpoint_event(ep, event, self._out):
            self._network_failure(ep, event.timestamp_ms)
        conn = ep.connection
        payload = event.payload
        if (
            conn.identity_from_janus
            and conn.identity.ip == "unknown"
            and isinstance(payload, SelectedPairEvent)
            and payload.candidates is not None
        ):
            # Nobody told us the client's address: the one ICE connected to is it.
            conn.identity = conn.identity.model_copy(
                update={"ip": payload.candidates.remote.address}
            )

    def _network_failure(self, ep: Endpoint, ts: int) -> None:
        """Janus hung up a PeerConnection whose path broke: that endpoint is gone for the
        network. Only that one: the participant's other connections and its signalling may be
        fine, and Janus says when it is gone (its session's ``timeout``)."""
        self._close_endpoint(ep, EndReason.NETWORK_DISCONNECT, ts)
