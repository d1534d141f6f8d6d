"""Building the summary documents of a closed session from the session model's state.

Only closed items are summarised, as OpenVidu does (``openvidu-documents.md`` §5.1): publishers and
subscribers when their webrtcConnectionDestroyed fired, connections on participantLeft, recordings
when they reached ``stopped``.
"""

from __future__ import annotations

from collector.documents import (
    ConnectionSummary,
    Container,
    PublisherSummary,
    RecordingSummary,
    SessionSummary,
    SubscriberSummary,
    UserSummary,
)
from collector.model.state import Connection, Endpoint, Session


def stream_summary(
    endpoint: Endpoint, destroyed_ms: int, reason: str
) -> PublisherSummary | SubscriberSummary:
    """The summary of a publisher or subscriber that just closed."""
    conn = endpoint.connection
    session = conn.session
    started = endpoint.started_at_ms if endpoint.started_at_ms is not None else destroyed_ms
    opts = endpoint.stream
    fields = {
        "sessionId": session.session_id,
        "uniqueSessionId": session.unique_id,
        "timestamp": destroyed_ms,
        "startTime": started,
        "duration": (destroyed_ms - started) // 1000,
        "reason": reason,
        "streamId": endpoint.stream_id,
        "videoSource": opts.videoSource if opts.videoEnabled else None,
        "videoFramerate": opts.videoFramerate if opts.videoEnabled else None,
        "videoDimensions": opts.videoDimensions if opts.videoEnabled else None,
        "audioEnabled": opts.audioEnabled,
        "videoEnabled": opts.videoEnabled,
        "session": session.session_id,
        "user": conn.identity.user,
        "connection": conn.connection_id,
        "connectionId": conn.connection_id,
        "rtcsim_run_id": session.run_id,
        "rtcsim_side": "client" if endpoint.client_side else None,
    }
    if endpoint.receiving_from is None:
        if endpoint.simulcast:
            fields["simulcastLayers"] = endpoint.simulcast_layers or sum(
                1 for m in endpoint.media if m.startswith("video")
            )
        return PublisherSummary.model_validate(fields)
    if endpoint.substreams:
        fields["rtcsim_substream"] = endpoint.substreams[-1][0]
        fields["rtcsim_substreams"] = [
            {"substream": substream, "since": since} for substream, since in endpoint.substreams
        ]
    return SubscriberSummary.model_validate({**fields, "receivingFrom": endpoint.receiving_from})


def connection_summary(conn: Connection, destroyed_ms: int) -> ConnectionSummary:
    session = conn.session
    left = conn.left_at_ms if conn.left_at_ms is not None else destroyed_ms
    ident = conn.identity
    return ConnectionSummary(
        createdAt=conn.joined_at_ms,
        destroyedAt=left,
        connectionId=conn.connection_id,
        clientData=ident.clientData,
        serverData=ident.serverData,
        duration=(left - conn.joined_at_ms) // 1000,
        reason=conn.reason.value if conn.reason is not None else "NULL",
        publishers=Container.of(list(conn.closed_publishers)),
        subscribers=Container.of(list(conn.closed_subscribers)),
        geoPoints=ident.geoPoints,
        location=ident.location,
        platform=ident.platform,
        ip=ident.ip,
        session=session.session_id,
        sessionId=session.session_id,
        uniqueSessionId=session.unique_id,
        user=ident.user,
        timestamp=destroyed_ms,
        rtcsim_run_id=session.run_id,
    )


def session_summary(session: Session, destroyed_ms: int) -> SessionSummary:
    """The nested sessionSummary; ``SessionSummary.denormalized()`` splits it for indexing."""
    by_user: dict[str, list[Connection]] = {}
    for conn in session.connections.values():
        by_user.setdefault(conn.identity.user, []).append(conn)
    users = []
    for user_id, conns in by_user.items():
        first = conns[0].identity
        users.append(
            UserSummary(
                id=user_id,
                location=first.location,
                ip=first.ip,
                platform=first.platform,
                connections=Container.of([connection_summary(c, destroyed_ms) for c in conns]),
                session=session.session_id,
                sessionId=session.session_id,
                uniqueSessionId=session.unique_id,
                timestamp=destroyed_ms,
                rtcsim_run_id=session.run_id,
            )
        )
    recordings = [
        RecordingSummary.model_validate(
            {
                **rec.model_dump(exclude={"elastic_type", "event"}),
                "elastic_type": "recordingSummary",
            }
        )
        for rec in session.stopped_recordings.values()
    ]
    return SessionSummary(
        createdAt=session.created_at_ms,
        destroyedAt=destroyed_ms,
        sessionId=session.session_id,
        uniqueSessionId=session.unique_id,
        customSessionId=session.info.customSessionId,
        mediaMode=session.info.mediaMode,
        recordingMode=session.info.recordingMode,
        duration=(destroyed_ms - session.created_at_ms) // 1000,
        reason=session.reason.value if session.reason is not None else "",
        users=Container.of(users),
        recordings=Container.of(recordings),
        timestamp=destroyed_ms,
        rtcsim_run_id=session.run_id,
    )
