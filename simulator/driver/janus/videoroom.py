"""The Janus VideoRoom plugin spoken in OpenVidu's vocabulary.

room = OpenVidu session (``string_ids = true``, so the room id *is* the ``sessionId``);
participant = one Janus session whose first handle joins as a publisher with
``id = connectionId``; each subscription is a further handle of that session, one per feed,
as OpenVidu has one subscriber endpoint per stream. The collector relies on these conventions
(see ``docs/architecture.md``).
"""

from __future__ import annotations

from typing import Any

from simulator.driver.janus.http import JanusError, JanusHandle, JanusSession, PluginReply
from simulator.driver.protocol import RoomOptions

PLUGIN = "janus.plugin.videoroom"
ROOM_EXISTS = 427


def opaque_id(connection_id: str) -> str:
    """Tag every handle of a participant so Janus's events name the connection."""
    return f"rtcsim:{connection_id}"


async def create_room(handle: JanusHandle, room: str, options: RoomOptions) -> bool:
    """Create the room; ``False`` when it already existed (a rerun reusing the name)."""
    body: dict[str, Any] = {
        "request": "create",
        "room": room,
        "permanent": False,
        "publishers": options.publishers,
        "bitrate": options.bitrate_bps,
        "audiocodec": options.audiocodec,
        "videocodec": options.videocodec,
        "fir_freq": options.fir_freq_s,
    }
    if options.audiolevel_event:
        body["audiolevel_event"] = True
        if options.audio_active_packets is not None:
            body["audio_active_packets"] = options.audio_active_packets
        if options.audio_level_average is not None:
            body["audio_level_average"] = options.audio_level_average
    try:
        await handle.message(body)
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


def layer_choice(substream: int | None, temporal: int | None) -> dict[str, int]:
    """The simulcast fields of a VideoRoom stream entry (join or configure): ``substream``
    (0 = lowest layer) and, for VP8, ``temporal`` (0 = base temporal layer only)."""
    choice = {}
    if substream is not None:
        choice["substream"] = substream
    if temporal is not None:
        choice["temporal"] = temporal
    return choice


async def subscribe(
    session: JanusSession,
    room: str,
    connection_id: str,
    feed: str,
    *,
    substream: int | None = None,
    temporal: int | None = None,
) -> tuple[JanusHandle, str]:
    """Open a subscriber handle on one feed; returns it and Janus's SDP offer. A layer asked
    for applies to the feed's simulcast video (Janus ignores it for other streams)."""
    handle = await session.attach(PLUGIN, opaque_id(connection_id))
    stream = {"feed": feed, **layer_choice(substream, temporal)}
    reply = await handle.message(
        {"request": "join", "ptype": "subscriber", "room": room, "streams": [stream]}
    )
    if reply.jsep is None:
        raise JanusError(0, "no SDP offer in the subscriber join reply", "join")
    return handle, str(reply.jsep["sdp"])


async def set_layer(
    handle: JanusHandle, mid: str, *, substream: int | None, temporal: int | None
) -> None:
    """Ask for another simulcast layer of a subscribed video (VideoRoom ``configure``)."""
    await handle.message(
        {"request": "configure", "streams": [{"mid": mid, **layer_choice(substream, temporal)}]}
    )


async def configure_send(handle: JanusHandle, mids: list[str], send: bool) -> None:
    """Stop or resume relaying a publisher's streams (``configure`` with per-stream ``send``)."""
    await handle.message(
        {"request": "configure", "streams": [{"mid": mid, "send": send} for mid in mids]}
    )


async def start(handle: JanusHandle, answer_sdp: str) -> None:
    await handle.message(
        {"request": "start"}, {"type": "answer", "sdp": answer_sdp, "trickle": False}
    )
