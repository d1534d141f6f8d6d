"""The real LiveKit webhooks of ``tests/data/livekit/webhooks.json``, fed to a model."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from collector.clock import FixedClock
from collector.documents import Document
from collector.session_model import SessionModel
from collector.sources.livekit.source import LiveKitEventSource

DATA = Path(__file__).parents[4] / "tests" / "data" / "livekit" / "webhooks.json"


@dataclass(frozen=True)
class Hook:
    received_ms: int
    authorization: str
    body: str

    @property
    def json(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed

    @property
    def room(self) -> str:
        return str(self.json["room"]["name"])


@cache
def recording() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DATA.read_text())
    return loaded


def hooks(room: str | None = None) -> list[Hook]:
    made = [Hook(h["received_ms"], h["authorization"], h["body"]) for h in recording()["webhooks"]]
    return [h for h in made if room is None or h.room == room]


def keys() -> tuple[str, str]:
    return str(recording()["api_key"]), str(recording()["api_secret"])


class Fed:
    """A model with LiveKit's source, its clock at each webhook's receive time."""

    def __init__(self) -> None:
        self.clock = FixedClock(0)
        self.model = SessionModel(self.clock)
        self.source = LiveKitEventSource(self.model)
        self.docs: list[Document] = []

    def feed(self, recorded: list[Hook]) -> list[Document]:
        for hook in recorded:
            self.clock.current_ms = hook.received_ms
            self.docs += self.source.apply(self.source.parse(hook.json))
        return self.docs

    def settle_at(self, now_ms: int) -> list[Document]:
        self.clock.current_ms = now_ms
        self.docs += self.model.settle_due()
        return self.docs
