"""Typed LiveKit webhooks (livekit-server v1.13.5), as LiveKit posts them.

The body is the protojson of ``livekit.WebhookEvent`` (livekit-protocol ``livekit_webhook.proto``):
``{"event", "id", "createdAt", "room"?, "participant"?, "track"?}``. protojson writes 64-bit
integers as strings (``"creationTimeMs": "1796134746188"``) and leaves out enum defaults (an
AUDIO track has no ``type``, a participant that never left no ``disconnectReason``), so the models
take strings for numbers and give each enum its default. ``createdAt`` is in whole seconds; the
only millisecond times are a room's ``creationTimeMs`` and a participant's ``joinedAtMs``. Only
the fields the collector uses are modelled; the rest is ignored, so a newer LiveKit adding fields
does not break parsing. Real bodies: ``tests/data/livekit/webhooks.json``; what LiveKit sends
and when: ``/work/briefs/livekit-findings.md`` §2 (rtcsim's own measurements).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from collector.events.errors import EventError, describe


class WebhookKind(StrEnum):
    """The webhooks the collector maps (``pkg/service/webhook*.go``); others are dropped."""

    ROOM_STARTED = "room_started"
    ROOM_FINISHED = "room_finished"
    PARTICIPANT_JOINED = "participant_joined"
    PARTICIPANT_LEFT = "participant_left"
    PARTICIPANT_CONNECTION_ABORTED = "participant_connection_aborted"
    TRACK_PUBLISHED = "track_published"
    TRACK_UNPUBLISHED = "track_unpublished"


class _Part(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Room(_Part):
    sid: str = ""
    name: str = Field(min_length=1)
    creationTimeMs: int | None = None


class Participant(_Part):
    sid: str = Field(min_length=1)
    identity: str = ""
    name: str = ""
    metadata: str = ""
    joinedAtMs: int | None = None
    disconnectReason: str = "UNKNOWN_REASON"
    """``livekit.DisconnectReason`` by name; absent (the default) is ``UNKNOWN_REASON``."""


class Track(_Part):
    sid: str = Field(min_length=1)
    type: str = "AUDIO"
    """``livekit.TrackType``: AUDIO (the default, so absent), VIDEO, DATA."""
    source: str = "UNKNOWN"
    """``livekit.TrackSource``: CAMERA, MICROPHONE, SCREEN_SHARE, SCREEN_SHARE_AUDIO."""
    width: int = 0
    height: int = 0
    simulcast: bool = False
    muted: bool = False
    layers: list[dict[str, object]] = Field(default_factory=list)
    """``livekit.VideoLayer`` per simulcast layer LiveKit registered for a video track."""


class Webhook(_Part):
    """One webhook; ``room`` is on every event the collector maps."""

    event: str = Field(min_length=1)
    id: str = ""
    createdAt: int = 0
    room: Room | None = None
    participant: Participant | None = None
    track: Track | None = None

    @property
    def kind(self) -> WebhookKind | None:
        """The event, if it is one the collector maps."""
        try:
            return WebhookKind(self.event)
        except ValueError:
            return None


_NEEDS: dict[WebhookKind, tuple[str, ...]] = {
    WebhookKind.ROOM_STARTED: ("room",),
    WebhookKind.ROOM_FINISHED: ("room",),
    WebhookKind.PARTICIPANT_JOINED: ("room", "participant"),
    WebhookKind.PARTICIPANT_LEFT: ("room", "participant"),
    WebhookKind.PARTICIPANT_CONNECTION_ABORTED: ("room", "participant"),
    WebhookKind.TRACK_PUBLISHED: ("room", "participant", "track"),
    WebhookKind.TRACK_UNPUBLISHED: ("room", "participant", "track"),
}


def parse_webhook(raw: object) -> Webhook:
    """Validate one webhook body (decoded JSON); ``EventError`` naming the field and why."""
    if not isinstance(raw, dict):
        raise EventError(f"a webhook must be a JSON object, got {type(raw).__name__}")
    try:
        hook = Webhook.model_validate(raw)
    except ValidationError as exc:
        raise EventError(describe(exc)) from None
    kind = hook.kind
    if kind is not None:
        for part in _NEEDS[kind]:
            if getattr(hook, part) is None:
                raise EventError(f"{part}: a {kind.value} webhook needs one")
    return hook
