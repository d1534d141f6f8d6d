"""LiveKit's webhooks as an event source, in OpenVidu's vocabulary: a room is a session, a
participant SID a connection (its identity the ``user`` when the simulator told nothing more),
and one OpenVidu stream the participant's audio and video tracks (its id the simulator's
announced ``streamId``, else the first track's SID).

What the webhooks say (``livekit-findings.md`` §2): ``room_started`` opens the session at the
room's ``creationTimeMs``; ``participant_joined`` (sent when the participant's subscriber peer
connection is up) joins it at its ``joinedAtMs``; ``track_published`` (sent when the track's media
arrives) opens the participant's publisher and starts it; ``track_unpublished`` of its last track
ends it, ``unpublish`` unless the participant's ``participant_left`` follows within the leave
grace period (LiveKit unpublishes a leaving participant's tracks first, in the same
millisecond), then with the leave's reason; ``participant_left`` carries the
``DisconnectReason`` (``reasons``); ``room_finished`` closes a session still open. Webhooks have
no millisecond time of a leave, an unpublish or a room's end: those take the time the collector
received them (the journal keeps it, so a replay gives the same documents).

Nothing here has ICE, media statistics or subscribers: LiveKit exposes none server side. Those
come from the client (``collector.model.client_side``), marked ``rtcsim_side: client``.
"""

from __future__ import annotations

import json

from collector.documents import Document
from collector.events.livekit import Participant, Track, Webhook, WebhookKind, parse_webhook
from collector.journal_index import STATELESS, Key, Owner
from collector.metadata import StreamInfo
from collector.model.leaves import LEAVING_GRACE_MS
from collector.model.state import Connection, Endpoint, Session
from collector.reasons import EndReason
from collector.session_model import SessionModel
from collector.sources.livekit.reasons import SESSION_REASONS, participant_reason

JOURNAL_KIND = "livekit"
UNPUBLISH_GRACE_MS = 250
"""How long the end of a participant's last track waits for its ``participant_left``: LiveKit
sends the two in the same millisecond when a participant leaves (at most 10 ms apart in
``tests/data/livekit/webhooks.json``); an unpublish of its own has no leave after it."""

LEAVES = frozenset({WebhookKind.PARTICIPANT_LEFT, WebhookKind.PARTICIPANT_CONNECTION_ABORTED})

_VIDEO_SOURCES = {"CAMERA": "CAMERA", "SCREEN_SHARE": "SCREEN"}
"""LiveKit's TrackSource as OpenVidu's ``videoSource``."""


def _display(participant: Participant) -> str | None:
    """What the participant says of itself, as OpenVidu's ``clientData``: its metadata's
    ``clientData`` when the metadata is OpenVidu-shaped JSON, else the metadata, else its name."""
    metadata = participant.metadata
    if metadata:
        try:
            parsed = json.loads(metadata)
        except ValueError:
            return metadata
        if isinstance(parsed, dict) and isinstance(parsed.get("clientData"), str):
            return str(parsed["clientData"])
        return metadata
    return participant.name or None


class LiveKitEventSource:
    name = "livekit"
    journal_kind = JOURNAL_KIND

    def __init__(self, model: SessionModel) -> None:
        self._model = model
        self._counters = model.ctx.counters
        self.tracks: dict[str, str] = {}
        """Published track SIDs and the participant SID each belongs to."""
        self.published: dict[str, set[str]] = {}
        """Each participant's published track SIDs."""
        self.unpublished: dict[str, tuple[Endpoint, int]] = {}
        """Publishers whose last track went, by participant SID, waiting for a leave."""
        self.starting: dict[str, tuple[Endpoint, int]] = {}
        """Publishers nobody announced with one track so far, by participant SID, waiting up to
        the grace period for the other (LiveKit publishes a camera's two tracks ms apart), so
        that ``webrtcConnectionCreated`` names both media."""
        model.on_media_server_lost(self.forget)
        model.on_settle(self.settle)

    def forget(self) -> None:
        """LiveKit is gone: its tracks with it."""
        self.tracks.clear()
        self.published.clear()
        self.unpublished.clear()
        self.starting.clear()

    def settle(self, now_ms: int, leaving: str | None = None, about: str | None = None) -> None:
        """Publishers waiting for their second track start once the grace period passed, or
        when something else happens to their participant (``about``); publishers whose last
        track went more than the grace period ago with no leave of their participant after it
        end as ``unpublish``, at that time; one whose participant is ``leaving`` now ends with
        the leave."""
        for sid, (ep, ts) in list(self.starting.items()):
            if sid in (about, leaving) or now_ms - ts > UNPUBLISH_GRACE_MS:
                del self.starting[sid]
                self._start(ep, ts)
        for sid, (ep, ts) in list(self.unpublished.items()):
            if sid == leaving and now_ms - ts <= UNPUBLISH_GRACE_MS:
                del self.unpublished[sid]  # the leave closes it, with its reason
            elif now_ms - ts > UNPUBLISH_GRACE_MS or sid == leaving:
                del self.unpublished[sid]
                self._model.endpoints.close(ep, EndReason.UNPUBLISH, ts)

    def parse(self, raw: object) -> Webhook:
        return parse_webhook(raw)

    def label(self, raw: object) -> str:
        return str(raw.get("event") if isinstance(raw, dict) else None)

    def kind(self, event: Webhook) -> str:
        return event.event

    def ignored(self, event: Webhook) -> bool:
        """Egress, ingress and any webhook the collector does not map."""
        return event.kind is None

    def session_of(self, event: Webhook) -> Session | None:
        """The open session of the webhook's room."""
        room = event.room
        return None if room is None else self._model.registry.sessions.get(room.name)

    def owner(self, event: Webhook, before: Session | None, produced: bool) -> Owner:
        """A webhook belongs to its room's session; one of a room not open (yet, or any
        more) to the room's name, kept for a while."""
        room = event.room
        if room is None:
            return STATELESS
        session = before if before is not None else self.session_of(event)
        keys: tuple[Key, ...] = (("room", room.name),)
        if event.participant is not None:
            keys += (("conn", event.participant.sid),)
        if session is None:
            return Owner(keys=(("livekit", room.name), *keys))
        return Owner(session, keys)

    def apply(self, event: Webhook) -> list[Document]:
        model = self._model
        now_ms = model.ctx.clock.now_ms()
        model.leaves.settle(before_ms=now_ms - LEAVING_GRACE_MS)
        kind = event.kind
        if self.unpublished:
            leaving = event.participant.sid if event.participant is not None else None
            left = kind in (
                WebhookKind.PARTICIPANT_LEFT,
                WebhookKind.PARTICIPANT_CONNECTION_ABORTED,
            )
            self.settle(now_ms, leaving if left else None)
        # parse_webhook checked that each mapped webhook has the parts it needs.
        room, participant, track = event.room, event.participant, event.track
        registry = model.registry
        if room is None:
            return model.drain()
        if kind is WebhookKind.ROOM_STARTED:
            if room.name not in registry.sessions:
                registry.open_session(room.name, room.creationTimeMs or now_ms)
        elif kind is WebhookKind.ROOM_FINISHED:
            session = registry.sessions.get(room.name)
            if session is not None:
                registry.close_session(session, EndReason.LAST_PARTICIPANT_LEFT, now_ms)
        elif participant is None:
            return model.drain()
        elif kind is WebhookKind.PARTICIPANT_JOINED:
            self._joined(room.name, participant, now_ms)
        elif kind in LEAVES:
            self._left(room.name, participant, kind, now_ms)
        elif track is None:
            return model.drain()
        elif kind is WebhookKind.TRACK_PUBLISHED:
            self._track_published(room.name, participant, track, now_ms)
        elif kind is WebhookKind.TRACK_UNPUBLISHED:
            self._track_unpublished(room.name, participant, track, now_ms)
        return model.drain()

    def _connection(self, room: str, participant: Participant) -> Connection | None:
        conn = self._model.registry.participants.get((room, participant.sid))
        if conn is None or not conn.open:
            self._counters["livekit_unknown_participant"] += 1
            return None
        return conn

    def _joined(self, room: str, participant: Participant, now_ms: int) -> None:
        registry = self._model.registry
        existing = registry.participants.get((room, participant.sid))
        if existing is not None and existing.open:
            return  # LiveKit sent it again
        registry.join(
            participant.sid,
            room,
            participant.joinedAtMs or now_ms,
            display=_display(participant),
            aliases=(participant.identity,) if participant.identity else (),
            user=participant.identity or None,
        )

    def _left(self, room: str, participant: Participant, kind: WebhookKind, now_ms: int) -> None:
        self._drop_tracks(participant.sid)
        conn = self._model.registry.participants.get((room, participant.sid))
        if conn is None or not conn.open:
            return  # left with its session (a room deleted), or sent again
        if kind is WebhookKind.PARTICIPANT_CONNECTION_ABORTED:
            reason = EndReason.NETWORK_DISCONNECT
        else:
            reason = participant_reason(participant.disconnectReason)
        whole = SESSION_REASONS.get(participant.disconnectReason)
        if whole is not None:
            # The room itself ended (deleted, LiveKit shutting down): everyone in it with it.
            self._model.registry.close_session(conn.session, whole, now_ms)
        else:
            self._model.registry.leave(conn, reason, now_ms)

    def _drop_tracks(self, participant_sid: str) -> None:
        for sid in self.published.pop(participant_sid, set()):
            self.tracks.pop(sid, None)

    def _track_published(
        self, room: str, participant: Participant, track: Track, now_ms: int
    ) -> None:
        if track.sid in self.tracks:
            return  # LiveKit sent it again
        conn = self._connection(room, participant)
        if conn is None:
            return
        model = self._model
        waiting = self.unpublished.pop(participant.sid, None)
        if waiting is not None:
            # It publishes anew before its last unpublish settled: that one was an unpublish.
            model.endpoints.close(waiting[0], EndReason.UNPUBLISH, waiting[1])
        mine = self.published.setdefault(participant.sid, set())
        mine.add(track.sid)
        self.tracks[track.sid] = participant.sid
        ep = model.endpoints.open_publisher(
            conn,
            now_ms,
            key=participant.sid,
            aliases=(participant.identity,) if participant.identity else (),
        )
        if track.type == "VIDEO" and len(track.layers) > 1:  # its media decide ``simulcast``
            ep.simulcast, ep.simulcast_layers = True, len(track.layers)
        if ep.announced or ep.started_at_ms is not None:
            self._start(ep, now_ms)
            return
        _learn(ep, track, first=len(mine) == 1)
        waiting = self.starting.pop(participant.sid, None)
        if waiting is not None:
            self._start(ep, waiting[1])  # the other track: both media are known
        elif len(mine) == 1:
            self.starting[participant.sid] = (ep, now_ms)

    def _start(self, ep: Endpoint, ts: int) -> None:
        model = self._model
        if not ep.closed and model.endpoints.start(ep, ts):
            model.client.publisher_opened(ep.connection.session.session_id)

    def _track_unpublished(
        self, room: str, participant: Participant, track: Track, now_ms: int
    ) -> None:
        owner = self.tracks.pop(track.sid, None)
        if owner is None:
            return  # never seen published, or sent again
        mine = self.published.get(owner, set())
        mine.discard(track.sid)
        if mine:
            return
        self.published.pop(owner, None)
        conn = self._connection(room, participant)
        publisher = conn.publisher if conn is not None else None
        if publisher is not None and not publisher.closed:
            publisher.ended_at_ms = now_ms
            self.unpublished[participant.sid] = (publisher, now_ms)


def _learn(ep: Endpoint, track: Track, *, first: bool) -> None:
    """What a track tells of a stream nobody announced: its media, the video's size and
    source; the first track's SID names the stream."""
    old = ep.stream
    update: dict[str, object] = {}
    if first:
        update = {"streamId": track.sid, "audioEnabled": False, "videoEnabled": False}
    if track.type == "AUDIO":
        update["audioEnabled"] = True
    elif track.type == "VIDEO":
        update["videoEnabled"] = True
        update["videoSource"] = _VIDEO_SOURCES.get(track.source, "CAMERA")
        if track.width and track.height:
            update["videoDimensions"] = json.dumps(
                {"width": track.width, "height": track.height}, separators=(",", ":")
            )
    new: StreamInfo = old.model_copy(update=update)
    ep.stream = new
    # Subscribers share their publisher's stream object (the cascade of its end finds them so).
    for other in ep.connection.session.connections.values():
        for sub in other.subscribers.values():
            if sub.stream is old:
                sub.stream = new
