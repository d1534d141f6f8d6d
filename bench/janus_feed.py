"""Synthetic but Janus-shaped event-handler events, for feeding a collector without Janus.

The shapes are those of Janus 1.1.2's ``sampleevh`` as captured in ``tests/data/janus/`` (same
classes, subtypes and fields the collector reads), with rtcsim's conventions: string room and
participant ids, opaque id ``rtcsim:<connectionId>``, one Janus session per participant. The
order within a handle is the probe run's (offer, ICE, DTLS, ``published``, ``webrtcup``, media).

Times are µs since the epoch, advanced by the caller's ``at_ms`` so that every document the
collector makes from them is distinct (deterministic ids hash the body).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, TypedDict, Unpack

Event = dict[str, Any]


class Ids(TypedDict, total=False):
    """The envelope ids of an event about one handle."""

    session_id: int
    handle_id: int


VIDEOROOM = "janus.plugin.videoroom"
SFU_ADDRESS = "198.18.0.1"
CLIENT_ADDRESS = "198.18.0.2"


@dataclass
class Participant:
    connection_id: str
    room: str
    session_id: int
    control_handle: int
    publishing: bool = False
    subscriptions: dict[str, int] = field(default_factory=dict)
    """feed (publisher's connection id) → subscriber handle id"""


class JanusFeed:
    """Builds the events Janus would emit for rooms, joins, publishing, subscribing and leaving."""

    def __init__(self, emitter: str = "rtcsim-bench", first_id: int = 7_000_000_000) -> None:
        self.emitter = emitter
        self._ids = itertools.count(first_id)
        self._ports = itertools.count(20_000)
        self.participants: dict[str, Participant] = {}

    def _event(
        self,
        kind: int,
        at_ms: float,
        event: dict[str, Any],
        *,
        subtype: int | None = None,
        session_id: int | None = None,
        handle_id: int | None = None,
        opaque_id: str | None = None,
    ) -> Event:
        ev: Event = {"emitter": self.emitter, "type": kind, "timestamp": int(at_ms * 1000)}
        if subtype is not None:
            ev["subtype"] = subtype
        if session_id is not None:
            ev["session_id"] = session_id
        if handle_id is not None:
            ev["handle_id"] = handle_id
        if opaque_id is not None:
            ev["opaque_id"] = opaque_id
        ev["event"] = event
        return ev

    def _plugin(self, at_ms: float, data: dict[str, Any], **ids: Unpack[Ids]) -> Event:
        return self._event(64, at_ms, {"plugin": VIDEOROOM, "data": data}, **ids)

    # -- rooms
    def create_room(self, room: str, at_ms: float) -> list[Event]:
        sid, hid = next(self._ids), next(self._ids)
        return [
            self._event(1, at_ms, {"name": "created"}, session_id=sid),
            self._event(
                2,
                at_ms,
                {"name": "attached", "plugin": VIDEOROOM},
                session_id=sid,
                handle_id=hid,
            ),
            self._plugin(
                at_ms + 1, {"event": "created", "room": room}, session_id=sid, handle_id=hid
            ),
            self._event(
                2,
                at_ms + 2,
                {"name": "detached", "plugin": VIDEOROOM},
                session_id=sid,
                handle_id=hid,
            ),
            self._event(1, at_ms + 2, {"name": "destroyed"}, session_id=sid),
        ]

    # -- a participant
    def join(self, conn: str, room: str, at_ms: float) -> list[Event]:
        sid, hid = next(self._ids), next(self._ids)
        self.participants[conn] = Participant(conn, room, sid, hid)
        return [
            self._event(1, at_ms, {"name": "created"}, session_id=sid),
            self._event(
                2,
                at_ms + 1,
                {"name": "attached", "plugin": VIDEOROOM},
                session_id=sid,
                handle_id=hid,
                opaque_id=f"rtcsim:{conn}",
            ),
            self._plugin(
                at_ms + 2,
                {"event": "joined", "room": room, "id": conn, "private_id": 1, "display": conn},
                session_id=sid,
                handle_id=hid,
            ),
        ]

    def _ice_and_dtls(self, at_ms: float, sid: int, hid: int) -> list[Event]:
        ids: Ids = {"session_id": sid, "handle_id": hid}
        local_port, remote_port = next(self._ports), next(self._ports)
        local = f"1 1 udp 2015363583 {SFU_ADDRESS} {local_port} typ host"
        remote = f"c0ffee 1 udp 2130706431 {CLIENT_ADDRESS} {remote_port} typ host"
        pair = {
            "selected-pair": (
                f"{SFU_ADDRESS}:{local_port} [host,udp] <-> {CLIENT_ADDRESS}:{remote_port} "
                "[host,udp]"
            ),
            "candidates": {
                "local": {
                    "address": SFU_ADDRESS,
                    "port": local_port,
                    "type": "host",
                    "transport": "udp",
                    "family": 4,
                },
                "remote": {
                    "address": CLIENT_ADDRESS,
                    "port": remote_port,
                    "type": "host",
                    "transport": "udp",
                    "family": 4,
                },
            },
            "stream_id": 1,
            "component_id": 1,
        }
        component = {"stream_id": 1, "component_id": 1}
        return [
            self._event(16, at_ms + 1, {"ice": "gathering", **component}, subtype=1, **ids),
            self._event(
                16, at_ms + 1.3, {"remote-candidate": remote, **component}, subtype=3, **ids
            ),
            self._event(16, at_ms + 2, {"local-candidate": local, **component}, subtype=2, **ids),
            self._event(16, at_ms + 3, {"ice": "connecting", **component}, subtype=1, **ids),
            self._event(16, at_ms + 24, pair, subtype=4, **ids),
            self._event(16, at_ms + 24.1, {"ice": "connected", **component}, subtype=1, **ids),
            self._event(16, at_ms + 24.2, {"ice": "ready", **component}, subtype=1, **ids),
            self._event(16, at_ms + 24.3, {"dtls": "trying", **component}, subtype=5, **ids),
            self._event(
                16,
                at_ms + 38,
                {"dtls": "connected", "retransmissions": 0, **component},
                subtype=5,
                **ids,
            ),
        ]

    def publish(self, conn: str, at_ms: float) -> list[Event]:
        p = self.participants[conn]
        p.publishing = True
        ids: Ids = {"session_id": p.session_id, "handle_id": p.control_handle}
        streams = [
            {"type": "audio", "mindex": 0, "mid": "0", "codec": "opus"},
            {"type": "video", "mindex": 1, "mid": "1", "codec": "vp8"},
        ]
        return [
            self._event(
                8, at_ms, {"owner": "remote", "jsep": {"type": "offer", "sdp": "v=0\r\n"}}, **ids
            ),
            self._plugin(
                at_ms + 2.5,
                {"event": "configured", "room": p.room, "id": conn, "bitrate": 1_000_000},
                **ids,
            ),
            *self._ice_and_dtls(at_ms, p.session_id, p.control_handle),
            self._event(
                8,
                at_ms + 3.1,
                {"owner": "local", "jsep": {"type": "answer", "sdp": "v=0\r\n"}},
                **ids,
            ),
            self._plugin(
                at_ms + 39,
                {
                    "event": "published",
                    "room": p.room,
                    "id": conn,
                    "display": conn,
                    "streams": streams,
                },
                **ids,
            ),
            self._event(16, at_ms + 39.1, {"connection": "webrtcup"}, subtype=6, **ids),
            self._event(
                32, at_ms + 60, {"media": "audio", "mid": "0", "receiving": True}, subtype=1, **ids
            ),
            self._event(
                32, at_ms + 69, {"media": "video", "mid": "1", "receiving": True}, subtype=1, **ids
            ),
        ]

    def subscribe(self, conn: str, feed: str, at_ms: float) -> list[Event]:
        p = self.participants[conn]
        hid = next(self._ids)
        p.subscriptions[feed] = hid
        ids: Ids = {"session_id": p.session_id, "handle_id": hid}
        streams = [
            {"type": kind, "active": True, "mindex": i, "mid": str(i), "feed_id": feed}
            for i, kind in enumerate(("audio", "video"))
        ]
        return [
            self._event(
                2,
                at_ms,
                {"name": "attached", "plugin": VIDEOROOM},
                opaque_id=f"rtcsim:{conn}",
                **ids,
            ),
            self._plugin(
                at_ms + 1, {"event": "subscribing", "room": p.room, "streams": streams}, **ids
            ),
            self._event(
                8, at_ms + 2, {"owner": "local", "jsep": {"type": "offer", "sdp": "v=0\r\n"}}, **ids
            ),
            self._event(
                8,
                at_ms + 10,
                {"owner": "remote", "jsep": {"type": "answer", "sdp": "v=0\r\n"}},
                **ids,
            ),
            *self._ice_and_dtls(at_ms + 10, p.session_id, hid),
            self._plugin(at_ms + 49, {"event": "subscribed", "room": p.room}, **ids),
            self._event(16, at_ms + 49.1, {"connection": "webrtcup"}, subtype=6, **ids),
        ]

    def media_stats(self, conn: str, at_ms: float, seconds: int) -> list[Event]:
        """One 32/3 sample per m-line of every endpoint of ``conn``, ``seconds`` into the media
        (cumulative counters, as Janus reports them every ``stats_period``)."""
        p = self.participants[conn]
        events: list[Event] = []
        handles = [(p.control_handle, True), *((h, False) for h in p.subscriptions.values())]
        for handle_id, publishing in handles:
            if publishing and not p.publishing:
                continue
            for mid, media, pps, size in (("0", "audio", 50, 120), ("1", "video", 90, 1100)):
                packets = pps * seconds
                side = "received" if publishing else "sent"
                body: dict[str, Any] = {
                    "mid": mid,
                    "mindex": int(mid),
                    "media": media,
                    "codec": "opus" if media == "audio" else "vp8",
                    "rtt": 1,
                    "lost": seconds // 10,
                    "lost-by-remote": 0,
                    "jitter-local": 2,
                    "jitter-remote": 1,
                    f"packets-{side}": packets,
                    f"bytes-{side}": packets * size,
                    "nacks-received": 0,
                    "nacks-sent": 0,
                }
                if not publishing:
                    body["remb-bitrate"] = 300_000
                events.append(
                    self._event(
                        32, at_ms, body, subtype=3, session_id=p.session_id, handle_id=handle_id
                    )
                )
        return events

    def leave(self, conn: str, at_ms: float) -> list[Event]:
        """A clean leave: hang up every subscription, ``leaving``, detach, destroy the session."""
        p = self.participants.pop(conn)
        events: list[Event] = []
        for feed, hid in p.subscriptions.items():
            ids: Ids = {"session_id": p.session_id, "handle_id": hid}
            events.append(
                self._plugin(at_ms, {"event": "unsubscribed", "room": p.room, "feed": feed}, **ids)
            )
            events.append(self._event(16, at_ms + 1, {"connection": "hangup"}, subtype=6, **ids))
            events.append(
                self._event(2, at_ms + 2, {"name": "detached", "plugin": VIDEOROOM}, **ids)
            )
        events.append(self._plugin(at_ms + 3, {"event": "leaving", "room": p.room, "id": conn}))
        events.append(
            self._event(
                2,
                at_ms + 4,
                {"name": "detached", "plugin": VIDEOROOM},
                session_id=p.session_id,
                handle_id=p.control_handle,
            )
        )
        events.append(self._event(1, at_ms + 5, {"name": "destroyed"}, session_id=p.session_id))
        return events
