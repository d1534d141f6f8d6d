"""Helpers for feeding the session model and picking documents out of its output."""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from typing import Any

from collector.documents import Document
from collector.events.janus import parse_event
from collector.metadata import Identity, SessionInfo, StreamInfo
from collector.session_model import SessionModel
from collector.sources.janus.source import JanusEventSource

ROOM = "room-a1"
RUN = "run-0001"


def register(model: SessionModel, room: str = ROOM, *conns: str) -> None:
    """What the simulator posts before acting: the session, identities and streams."""
    model.register_session(SessionInfo(sessionId=room, runId=RUN))
    for i, conn in enumerate(conns):
        model.register_identity(
            Identity(
                connectionId=conn,
                sessionId=room,
                runId=RUN,
                user=f"{i:016X}",
                location="Mumbai, India",
                geoPoints="19.09,72.87",
                platform="Chrome 120.0 on Linux 64-bit",
                ip="198.18.0.2",
            )
        )
        model.register_stream(
            StreamInfo(
                streamId=f"{conn}_CAMERA_ABCDE",
                connectionId=conn,
                sessionId=room,
                videoFramerate=30,
                videoDimensions='{"width":640,"height":480}',
            )
        )


_JANUS: weakref.WeakKeyDictionary[SessionModel, JanusEventSource] = weakref.WeakKeyDictionary()


def janus(model: SessionModel) -> JanusEventSource:
    """The Janus event source on ``model`` (one per model, as in the app)."""
    source = _JANUS.get(model)
    if source is None:
        source = _JANUS[model] = JanusEventSource(model)
    return source


def feed(model: SessionModel, events: Iterable[dict[str, Any]]) -> list[Document]:
    """Janus events, through the Janus event source, into ``model``."""
    source = janus(model)
    out: list[Document] = []
    for raw in events:
        out.extend(source.apply(parse_event(raw)))
    return out


def bodies(docs: Iterable[Document], **match: object) -> list[dict[str, Any]]:
    """Bodies of the documents whose fields equal ``match``."""
    found = []
    for doc in docs:
        body = doc.body()
        if all(body.get(k) == v for k, v in match.items()):
            found.append(body)
    return found


def one(docs: Iterable[Document], **match: object) -> dict[str, Any]:
    found = bodies(docs, **match)
    assert len(found) == 1, f"expected one document matching {match}, found {len(found)}"
    return found[0]
