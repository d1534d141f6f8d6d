"""Realistic Janus event sequences, built from the real samples in ``tests/data/janus/``.

Each sample is one real event of its class; a ``Janus`` object replays them the way Janus emitted
them in the probe run (same order within a handle: gathering before the local answer, webrtcup
after DTLS, ...), with the rtcsim conventions: string room and participant ids, opaque id
``rtcsim:<connectionId>``, one Janus session per participant. Times are ms offsets from ``T0_MS``.
"""

from __future__ import annotations

import copy
import itertools
import json
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[1] / "data" / "janus"
ICE_FAILED_HANGUP_MS = 5_000
"""Janus hangs up a PeerConnection whose ICE failed 5 s after the failure, if it did not recover."""
T0_MS = 1_795_880_337_886
"""The probe run's first event, in ms."""


@cache
def _sample(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text())
    return data


def sample(name: str) -> dict[str, Any]:
    """A fresh copy of one real sample (``media_stats_video_publisher-side`` ...)."""
    return copy.deepcopy(_sample(name))


class Janus:
    """Emits events as Janus would for the rtcsim simulator's actions."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self._ids = itertools.count(1000)
        self.janus_session: dict[str, int] = {}
        self.control_handle: dict[str, int] = {}
        self.sub_handles: dict[tuple[str, str], int] = {}

    def _emit(
        self,
        name: str,
        at_ms: float,
        *,
        session_id: int | None = None,
        handle_id: int | None = None,
        event: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        opaque: str | None = None,
    ) -> dict[str, Any]:
        ev = sample(name)
        ev["timestamp"] = int((T0_MS + at_ms) * 1000)
        for key, value in (("session_id", session_id), ("handle_id", handle_id)):
            if value is None:
                ev.pop(key, None)
            else:
                ev[key] = value
        if opaque is not None:
            ev["opaque_id"] = opaque
        if event:
            ev["event"].update(event)
        if data is not None:
            ev["event"]["data"] = data
        self.events.append(ev)
        return ev

    # -- rooms
    def create_room(self, room: str, at_ms: float) -> None:
        sid, hid = next(self._ids), next(self._ids)
        self._emit("session_created", at_ms, session_id=sid)
        self._emit("handle_attached", at_ms, session_id=sid, handle_id=hid)
        self._emit(
            "plugin_videoroom_created",
            at_ms + 1,
            session_id=sid,
            handle_id=hid,
            data={"event": "created", "room": room},
        )
        self._emit("handle_detached", at_ms + 2, session_id=sid, handle_id=hid)
        self._emit("session_destroyed", at_ms + 2, session_id=sid)

    def destroy_room(self, room: str, at_ms: float) -> None:
        self._emit("plugin_videoroom_created", at_ms, data={"event": "destroyed", "room": room})

    # -- a participant
    def join(self, conn: str, room: str, at_ms: float) -> None:
        sid, hid = next(self._ids), next(self._ids)
        self.janus_session[conn] = sid
        self.control_handle[conn] = hid
        self._emit("session_created", at_ms, session_id=sid)
        self._emit(
            "handle_attached", at_ms + 1, session_id=sid, handle_id=hid, opaque=f"rtcsim:{conn}"
        )
        self._emit(
            "plugin_videoroom_joined",
            at_ms + 2,
            session_id=sid,
            handle_id=hid,
            data={"event": "joined", "room": room, "id": conn, "private_id": 1, "display": conn},
        )

    def publish(self, conn: str, room: str, at_ms: float) -> None:
        """configure + offer → ICE → DTLS → published → webrtcup → media (probe order)."""
        sid, hid = self.janus_session[conn], self.control_handle[conn]
        ids = {"session_id": sid, "handle_id": hid}
        self._emit("jsep_remote_offer", at_ms, **ids)
        self._emit("webrtc_ice_gathering", at_ms + 1, **ids)
        self._emit("webrtc_remote-candidate", at_ms + 1.3, **ids)
        self._emit("webrtc_local-candidate", at_ms + 2, **ids)
        self._emit(
            "plugin_videoroom_configured",
            at_ms + 2.5,
            **ids,
            data={"event": "configured", "room": room, "id": conn, "bitrate": 1000000},
        )
        self._emit("webrtc_ice_connecting", at_ms + 3, **ids)
        self._emit("jsep_local_answer", at_ms + 3.1, **ids)
        self._emit("webrtc_selected-pair", at_ms + 24, **ids)
        self._emit("webrtc_ice_connected", at_ms + 24.1, **ids)
        self._emit("webrtc_ice_ready", at_ms + 24.2, **ids)
        self._emit("webrtc_dtls_trying", at_ms + 24.3, **ids)
        self._emit("webrtc_dtls_connected", at_ms + 38, **ids)
        published = sample("plugin_videoroom_published")["event"]["data"]
        published.update({"room": room, "id": conn, "display": conn})
        self._emit("plugin_videoroom_published", at_ms + 39, **ids, data=published)
        self._emit("webrtc_pc-state_webrtcup", at_ms + 39.1, **ids)
        self._emit("media_state_audio_receiving", at_ms + 60, **ids)
        self._emit("media_state_video_receiving", at_ms + 69, **ids)

    def publisher_stats(self, conn: str, at_ms: float, scale: int = 1) -> None:
        ids = {"session_id": self.janus_session[conn], "handle_id": self.control_handle[conn]}
        for media in ("audio", "video"):
            ev = self._emit(f"media_stats_{media}_publisher-side", at_ms, **ids)
            for key in ("packets-received", "bytes-received", "lost", "nacks-sent"):
                ev["event"][key] *= scale

    def viewer_session(self, conn: str, at_ms: float) -> int:
        """A Janus session that will only subscribe (janus.js's viewer); its id."""
        sid = next(self._ids)
        self.janus_session[conn] = sid
        self._emit("session_created", at_ms, session_id=sid)
        return sid

    def subscribe(
        self, conn: str, room: str, feed: str, at_ms: float, *, opaque: str | None = None
    ) -> None:
        """A new handle in the subscriber's Janus session receiving ``feed``."""
        sid, hid = self.janus_session[conn], next(self._ids)
        self.sub_handles[(conn, feed)] = hid
        ids = {"session_id": sid, "handle_id": hid}
        self._emit("handle_attached", at_ms, **ids, opaque=opaque or f"rtcsim:{conn}")
        subscribing = sample("plugin_videoroom_subscribing")["event"]["data"]
        subscribing["room"] = room
        for stream in subscribing["streams"]:
            stream["feed_id"] = feed
            stream["feed_display"] = feed
        self._emit("plugin_videoroom_subscribing", at_ms + 1, **ids, data=subscribing)
        self._emit("webrtc_ice_gathering", at_ms + 1.2, **ids)
        self._emit("webrtc_local-candidate", at_ms + 1.5, **ids)
        self._emit("jsep_local_offer", at_ms + 2, **ids)
        self._emit("jsep_remote_answer", at_ms + 10, **ids)
        self._emit("webrtc_remote-candidate", at_ms + 10.2, **ids)
        self._emit("webrtc_ice_connecting", at_ms + 10.5, **ids)
        self._emit("webrtc_selected-pair", at_ms + 20, **ids)
        self._emit("webrtc_ice_connected", at_ms + 20.1, **ids)
        self._emit("webrtc_ice_ready", at_ms + 20.2, **ids)
        self._emit("webrtc_dtls_trying", at_ms + 20.3, **ids)
        self._emit("webrtc_dtls_connected", at_ms + 35, **ids)
        self._emit(
            "plugin_videoroom_subscribed",
            at_ms + 36,
            **ids,
            data={"event": "subscribed", "room": room},
        )
        self._emit("webrtc_pc-state_webrtcup", at_ms + 36.1, **ids)

    def subscriber_stats(self, conn: str, feed: str, at_ms: float) -> None:
        ids = {"session_id": self.janus_session[conn], "handle_id": self.sub_handles[(conn, feed)]}
        for media in ("audio", "video"):
            self._emit(f"media_stats_{media}_subscriber-side", at_ms, **ids)

    # -- leaving
    def unsubscribe(self, conn: str, room: str, feed: str, at_ms: float) -> None:
        """``leave`` on the subscriber handle, then detach (clean)."""
        sid, hid = self.janus_session[conn], self.sub_handles.pop((conn, feed))
        ids = {"session_id": sid, "handle_id": hid}
        for mid in ("0", "1"):
            self._emit(
                "plugin_videoroom_unsubscribed",
                at_ms,
                **ids,
                data={"event": "unsubscribed", "room": room, "feed": feed, "mid": mid},
            )
        self._emit("webrtc_pc-state_hangup", at_ms + 2, **ids)
        self._emit("handle_detached", at_ms + 3, **ids)

    def unpublish(self, conn: str, room: str, at_ms: float) -> None:
        ids = {"session_id": self.janus_session[conn], "handle_id": self.control_handle[conn]}
        self._emit(
            "plugin_videoroom_unpublished",
            at_ms,
            data={"event": "unpublished", "room": room, "id": conn},
        )
        self._emit("webrtc_pc-state_hangup", at_ms + 1, **ids, event={"reason": "Close PC"})

    def leave(self, conn: str, room: str, at_ms: float) -> None:
        """``leave`` + detach of the control handle, then ``destroy`` of the Janus session."""
        sid, hid = self.janus_session.pop(conn), self.control_handle.pop(conn)
        self._emit(
            "plugin_videoroom_leaving", at_ms, data={"event": "leaving", "room": room, "id": conn}
        )
        self._emit("handle_detached", at_ms + 2, session_id=sid, handle_id=hid)
        self._emit("session_destroyed", at_ms + 3, session_id=sid)

    def clean_leave(self, conn: str, room: str, at_ms: float, *, publishing: bool = True) -> None:
        for sub, feed in [k for k in self.sub_handles if k[0] == conn]:
            self.unsubscribe(sub, room, feed, at_ms)
        if publishing:
            self.unpublish(conn, room, at_ms + 5)
        self.leave(conn, room, at_ms + 10)

    def ice_failure(self, conn: str, at_ms: float, *, room: str | None = None) -> None:
        """The client vanished: libnice gives up, and Janus, having given ICE 5 s to recover,
        hangs up the PeerConnection (``ice.c``, ``janus_ice_check_failed``). The VideoRoom hears
        of the hangup first: a publisher (``room`` given) is ``unpublished`` before the event
        handler gets the ``hangup`` (``janus_ice_webrtc_free`` notifies last)."""
        ids = {"session_id": self.janus_session[conn], "handle_id": self.control_handle[conn]}
        self._emit("webrtc_ice_ready", at_ms, **ids, event={"ice": "failed"})
        hangup_ms = at_ms + ICE_FAILED_HANGUP_MS
        if room is not None:
            self._emit(
                "plugin_videoroom_unpublished",
                hangup_ms,
                data={"event": "unpublished", "room": room, "id": conn},
            )
        self._emit("webrtc_pc-state_hangup", hangup_ms, **ids, event={"reason": "ICE failed"})

    def subscription_ice_failure(self, conn: str, room: str, feed: str, at_ms: float) -> None:
        """A subscription's path broke: ICE fails, and 5 s later Janus hangs it up (the VideoRoom
        reports the streams ``unsubscribed`` first); the handle stays attached."""
        ids = {"session_id": self.janus_session[conn], "handle_id": self.sub_handles[(conn, feed)]}
        self._emit("webrtc_ice_ready", at_ms, **ids, event={"ice": "failed"})
        hangup_ms = at_ms + ICE_FAILED_HANGUP_MS
        for mid in ("0", "1"):
            self._emit(
                "plugin_videoroom_unsubscribed",
                hangup_ms,
                **ids,
                data={"event": "unsubscribed", "room": room, "feed": feed, "mid": mid},
            )
        self._emit("webrtc_pc-state_hangup", hangup_ms, **ids, event={"reason": "ICE failed"})

    def ice_recovery(self, conn: str, at_ms: float) -> None:
        """ICE reports ``failed`` and connects again within Janus's 5 s: no hangup follows."""
        ids = {"session_id": self.janus_session[conn], "handle_id": self.control_handle[conn]}
        self._emit("webrtc_ice_ready", at_ms, **ids, event={"ice": "failed"})
        self._emit("webrtc_ice_connected", at_ms + 2_000, **ids)
        self._emit("webrtc_ice_ready", at_ms + 2_001, **ids)

    def session_timeout(self, conn: str, at_ms: float) -> None:
        sid = self.janus_session.pop(conn)
        self.control_handle.pop(conn, None)
        self._emit("session_timeout", at_ms, session_id=sid)

    def destroy_session(self, conn: str, at_ms: float) -> None:
        """The client ends its Janus session: Janus detaches what is left, then ``destroyed``."""
        sid = self.janus_session.pop(conn)
        for key in [k for k in self.sub_handles if k[0] == conn]:
            hid = self.sub_handles.pop(key)
            self._emit("handle_detached", at_ms, session_id=sid, handle_id=hid)
        self._emit("session_destroyed", at_ms + 1, session_id=sid)

    def vanish(self, conn: str, room: str, at_ms: float) -> None:
        """What Janus 1.1.2 reports when a vanished client's session times out (captured on
        the real stack): the VideoRoom's ``leaving`` and the handle's detach come *before* the
        session's ``timeout`` event."""
        sid, hid = self.janus_session.pop(conn), self.control_handle.pop(conn)
        self._emit(
            "plugin_videoroom_leaving", at_ms, data={"event": "leaving", "room": room, "id": conn}
        )
        self._emit("handle_detached", at_ms + 1, session_id=sid, handle_id=hid)
        self._emit("session_timeout", at_ms + 2, session_id=sid)

    def leave_keeping_session(self, conn: str, room: str, at_ms: float) -> None:
        """The client leaves the room but keeps its Janus session (no session event follows)."""
        self._emit(
            "plugin_videoroom_leaving", at_ms, data={"event": "leaving", "room": room, "id": conn}
        )

    def kick(self, conn: str, room: str, at_ms: float) -> None:
        self._emit(
            "plugin_videoroom_leaving", at_ms, data={"event": "kicked", "room": room, "id": conn}
        )

    def shutdown(self, at_ms: float) -> None:
        self._emit("core_shutdown", at_ms)

    def transport_request(self, at_ms: float) -> None:
        self._emit("transport_request", at_ms)
