"""The endpoint tracker: publisher and subscriber endpoints opened, their stats written, and
each closed once with a reason, a publisher's cascading to its subscribers as in OpenVidu."""

from __future__ import annotations

import hashlib
import string

from collector.documents import WebrtcConnectionCreated, WebrtcConnectionDestroyed, WebrtcStats
from collector.documents.summaries import PublisherSummary, SubscriberSummary
from collector.metadata import StreamInfo
from collector.model.context import ModelContext
from collector.model.registrations import Registrations
from collector.model.state import Connection, Endpoint, Role
from collector.model.summaries import stream_summary
from collector.model.webrtc_stats import server_stats
from collector.reasons import EndReason


def webrtc_fields(ep: Endpoint, ts: int) -> dict[str, object]:
    """The fields webrtcConnectionCreated and ...Destroyed share (CDREventWebrtcConnection)."""
    conn = ep.connection
    session = conn.session
    opts = ep.stream
    return {
        "timestamp": ts,
        "sessionId": session.session_id,
        "uniqueSessionId": session.unique_id,
        "rtcsim_run_id": session.run_id,
        "streamId": ep.stream_id,
        "participantId": conn.connection_id,
        "connectionId": conn.connection_id,
        "user": conn.identity.user,
        "connection": "OUTBOUND" if ep.role is Role.PUBLISHER else "INBOUND",
        "receivingFrom": ep.receiving_from,
        "videoSource": opts.videoSource if opts.videoEnabled else None,
        "videoFramerate": opts.videoFramerate if opts.videoEnabled else None,
        "videoDimensions": opts.videoDimensions if opts.videoEnabled else None,
        "audioEnabled": opts.audioEnabled,
        "videoEnabled": opts.videoEnabled,
        "rtcsim_side": "client" if ep.client_side else None,
    }


def default_stream(connection_id: str, ts: int) -> StreamInfo:
    """A stream id in OpenVidu's 2.11 format when the simulator did not announce one."""
    digest = hashlib.sha1(f"{connection_id}/{ts}".encode()).digest()
    letters = "".join(string.ascii_uppercase[b % 26] for b in digest[:5])
    # A server's events say which media a stream has, never its resolution or frame rate:
    # those stay absent rather than OpenVidu's -1 ("not constrained"), which would be a claim
    # about the client. CAMERA is the source OpenVidu assumes.
    return StreamInfo(
        streamId=f"{connection_id}_CAMERA_{letters}",
        connectionId=connection_id,
        videoFramerate=None,
    )


class EndpointTracker:
    """Endpoints opened, started, fed stats and closed."""

    def __init__(self, ctx: ModelContext, registrations: Registrations) -> None:
        self._ctx = ctx
        self._registrations = registrations

    @staticmethod
    def endpoints(conn: Connection) -> list[Endpoint]:
        eps = list(conn.subscribers.values())
        if conn.publisher is not None:
            eps.append(conn.publisher)
        return eps

    def open_publisher(
        self,
        conn: Connection,
        ts: int,
        *,
        key: int | str,
        remb_bps: int | None = None,
        aliases: tuple[str, ...] = (),
    ) -> Endpoint:
        """The connection's open publisher endpoint, created if it publishes anew, with the
        stream the simulator announced (``POST /streams``) or a default one."""
        ep = conn.publisher
        if ep is not None and not ep.closed:
            return ep
        announced = self._registrations.take_stream(conn.connection_id, *aliases)
        ep = Endpoint(
            role=Role.PUBLISHER,
            stream=announced or default_stream(conn.connection_id, ts),
            connection=conn,
            key=key,
            created_at_ms=ts,
            remb_bps=remb_bps,
            announced=announced is not None,
        )
        conn.publisher = ep
        return ep

    @staticmethod
    def open_subscriber(
        conn: Connection,
        publisher: Endpoint,
        ts: int,
        *,
        key: int | str,
        client_side: bool = False,
    ) -> Endpoint:
        """A subscription of ``conn`` to ``publisher``'s stream."""
        ep = Endpoint(
            role=Role.SUBSCRIBER,
            stream=publisher.stream,
            connection=conn,
            key=key,
            created_at_ms=ts,
            receiving_from=publisher.connection.connection_id,
            client_side=client_side,
        )
        conn.subscribers[key] = ep
        return ep

    def start(self, ep: Endpoint, ts: int) -> bool:
        """The endpoint's media connection is up: ``webrtcConnectionCreated``, once (False when
        it had started already)."""
        if ep.started_at_ms is not None:
            return False
        ep.started_at_ms = ts
        self._ctx.out.append(WebrtcConnectionCreated.model_validate(webrtc_fields(ep, ts)))
        return True

    def close(self, ep: Endpoint, reason: EndReason, ts: int) -> None:
        if ep.closed:
            return
        ep.closed = True
        self.flush_stats(ep)
        conn = ep.connection
        if ep.role is Role.PUBLISHER:
            # OpenVidu closes every subscriber of a stream with the publisher's reason, but
            # one whose participant left first (its leave still settling) ends with that leave.
            for other in conn.session.connections.values():
                if other.leaving_at_ms is not None and other.leaving_at_ms <= ts:
                    continue
                for sub in other.subscribers.values():
                    if not sub.closed and sub.stream is ep.stream:
                        self.close(sub, reason, ts)
        if ep.started_at_ms is None:
            self._ctx.counters["endpoint_closed_before_webrtcup"] += 1
            return
        summary = stream_summary(ep, ts, reason.value)
        if isinstance(summary, PublisherSummary):
            conn.closed_publishers.append(summary)
        elif isinstance(summary, SubscriberSummary):
            conn.closed_subscribers.append(summary)
        self._ctx.out.append(
            WebrtcConnectionDestroyed.model_validate(
                {
                    **webrtc_fields(ep, ts),
                    "startTime": ep.started_at_ms,
                    "duration": (ts - ep.started_at_ms) // 1000,
                    "reason": reason.value,
                }
            )
        )

    def network_failure(self, ep: Endpoint, ts: int) -> None:
        """The server hung up a PeerConnection whose path broke: that endpoint is gone for the
        network. Only that one: the participant's other connections and its signalling may be
        fine, and the server says when it is gone."""
        self.close(ep, EndReason.NETWORK_DISCONNECT, ts)

    def flush_stats(self, ep: Endpoint) -> None:
        """A webrtcStats per media with a server sample newer than the last written."""
        for media, sample in ep.media.items():
            if sample.written_ms == sample.latest_ms:
                continue
            doc: WebrtcStats = server_stats(ep, media, sample)
            self._ctx.out.append(doc)
            sample.written = sample.latest
            sample.written_ms = sample.latest_ms
