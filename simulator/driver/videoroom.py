"""The Janus VideoRoom plugin spoken in OpenVidu's vocabulary.

room = OpenVidu session (``string_ids = true``, so the room id *is* the ``sessionId``);
participant = one Janus session whose first handle joins as a publisher with
``id = connectionId``; each subscription is a further handle of that session, one per feed,
as OpenVidu has one subscriber endpoint per stream. The collector relies on these conventions
(see ``docs/architecture.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from simulator.driver.janus_http import JanusError, JanusHandle, JanusSession, PluginReply

PLUGIN = "janus.plugin.videoroom"
ROOM_EXISTS = 427


@dataclass(frozen=True)
class RoomOptions:
    """What a room is created with (VideoRoom ``create``)."""

    publishers: int = 16
    bitrate_bps: int = 1_000_000
    audiocodec: str = "opus"
    videocodec: str = "vp8"
    fir_freq_s: int = 10


def opaque_id(connection_id: str) -> str:
    """Tag every handle of a participant so Janus's events name the connection."""
    return f"rtcsim:{connection_id}"


async def create_room(handle: JanusHandle, room: str, options: RoomOptions) -> bool:
    """Create the room; ``False`` when it already existed (a rerun reusing the name)."""
    try:
        await handle.message(
            {
                "request": "create",
                "room": room,
                "permanent": False,
                "publishers": options.publishers,
                "bitrate": options.bitrate_bps,
                "audiocodec": options.audiocodec,
                "videocodec": options.videocodec,
                "fir_freq": options.fir_freq_s,
            }
        )
    except JanusError as exc:
        if exc.code == ROOM_EXISTS:
            return False
        raise
    return True


async def destroy_room(handle: JanusHandle, room: str) -> None:
    await handle.message({"request": "destroy", "room": room})


async def list_participants(handle: JanusHandle, room: str) -> list[dict[str, Any]]:
    reply = await handle.message({"request": "listparticipants", "room": room})
    participants: list[dict[str, Any]] = reply.data.get("participants", [])
    return participants


async def kick(handle: JanusHandle, room: str, connection_id: str) -> None:
    await handle.message({"request": "kick", "room": room, "id": connection_id})


async def join_as_participant(
    session: JanusSession, room: str, connection_id: str, display: str
) -> JanusHandle:
    """Enter the room (VideoRoom ``join`` as publisher, which publishes nothing yet)."""
    handle = await session.attach(PLUGIN, opaque_id(connection_id))
    await handle.message(
        {
            "request": "join",
            "ptype": "publisher",
            "room": room,
            "id": connection_id,
            "display": display,
        }
    )
    return handle


async def publish(handle: JanusHandle, offer_sdp: str, *, audio: bool, video: bool) -> PluginReply:
    """Send our offer (all candidates inside: aiortc does not trickle) and get Janus's answer."""
    return await handle.message(
        {"request": "configure", "audio": audio, "video": video},
        {"type": "offer", "sdp": offer_sdp, "trickle": False},
    )


async def unpublish(handle: JanusHandle) -> None:
    await handle.message({"request": "unpublish"})


async def leave(handle: JanusHandle) -> None:
    await handle.message({"request": "leave"})


async def subscribe(
    session: JanusSession, room: str, connection_id: str, feed: str
) -> tuple[JanusHandle, str]:
    """Open a subscriber handle on one feed; returns it and Janus's SDP offer."""
    handle = await session.attach(PLUGIN, opaque_id(connection_id))
    reply = await handle.message(
        {"request": "join", "ptype": "subscriber", "room": room, "streams": [{"feed": feed}]}
    )
    if reply.jsep is None:
        raise JanusError(0, "no SDP offer in the subscriber join reply", "join")
    return handle, str(reply.jsep["sdp"])


async def start(handle: JanusHandle, answer_sdp: str) -> None:
    await handle.message(
        {"request": "start"}, {"type": "answer", "sdp": answer_sdp, "trickle": False}
    )
