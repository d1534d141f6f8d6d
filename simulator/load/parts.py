"""Ledger parts as locust messages: cut into chunks on a worker, put together on the master.

A distributed run used to need every worker's ``ledger-<pid>.json`` in one folder, which
separate machines do not share. Now each worker, when its users have stopped, sends its part
(the ledger of every visit it made, with its generator self-watch report in ``generator``) to
the master as locust custom messages (``simulator.load.part_messages``), and the master writes
it into the run folder. A message carries one chunk of the part's JSON text, so a large ledger
never becomes one message that holds up the heartbeats behind it; the last chunk completes the
part and its SHA-256 proves it whole.

Pure: no locust, no sockets; the messages are plain dicts (msgpack carries them).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

MANIFEST = "parts-received.json"
"""What the master received and who is missing; not ``ledger-*.json``, which are the parts."""
CHUNK_CHARS = 512 * 1024
"""Characters of JSON text per message (a 100-user run's part is a few MB)."""


@dataclass(frozen=True)
class Origin:
    """Which locust process a part comes from: the worker's index (the master's numbering),
    its host and pid. ``label`` names it in files and errors: the pid first, as in a part a
    process writes itself (``ledger-<pid>.json``)."""

    index: int
    host: str
    pid: int

    @property
    def label(self) -> str:
        host = re.sub(r"[^A-Za-z0-9_.-]", "-", self.host)[:40] or "host"
        return f"{self.pid}-w{self.index}-{host}"


def chunk_messages(origin: Origin, text: str, size: int = CHUNK_CHARS) -> list[dict[str, Any]]:
    """The messages that carry ``text`` (one part): at least one, even for an empty text."""
    digest = hashlib.sha256(text.encode()).hexdigest()
    pieces = [text[i : i + size] for i in range(0, len(text), size)] or [""]
    return [
        {
            "index": origin.index,
            "host": origin.host,
            "pid": origin.pid,
            "chunk": n,
            "chunks": len(pieces),
            "sha256": digest,
            "text": piece,
        }
        for n, piece in enumerate(pieces)
    ]


def no_part_message(origin: Origin) -> dict[str, Any]:
    """What a worker that ran no user sends: the master stops waiting for it."""
    return {"index": origin.index, "host": origin.host, "pid": origin.pid, "chunks": 0}


class PartError(ValueError):
    """A message that is not a chunk of a part, or a part that does not add up."""


@dataclass
class Assembly:
    """The master's side: chunks from any number of workers, in any order per worker (locust's
    link keeps one worker's messages in order, but nothing here relies on it)."""

    pending: dict[tuple[str, int, str], dict[int, str]] = field(default_factory=dict)

    def add(self, client_id: str, message: dict[str, Any]) -> tuple[Origin, str | None] | None:
        """Take one message. Returns ``(origin, text)`` when it completes a part, ``(origin,
        None)`` for a worker that had no part, ``None`` while a part is incomplete."""
        try:
            origin = Origin(int(message["index"]), str(message["host"]), int(message["pid"]))
            chunks = int(message["chunks"])
            if chunks == 0:
                return origin, None
            chunk, digest, text = int(message["chunk"]), str(message["sha256"]), message["text"]
        except (KeyError, TypeError, ValueError) as exc:
            raise PartError(f"ledger part message from {client_id} lacks {exc}") from exc
        if not isinstance(text, str) or not 0 <= chunk < chunks:
            raise PartError(f"ledger part message from {client_id}: chunk {chunk} of {chunks}")
        key = (client_id, origin.pid, digest)
        got = self.pending.setdefault(key, {})
        got[chunk] = text
        if len(got) < chunks:
            return None
        del self.pending[key]
        whole = "".join(got[n] for n in range(chunks))
        if hashlib.sha256(whole.encode()).hexdigest() != digest:
            raise PartError(f"ledger part from {origin.label} ({client_id}) is corrupt: SHA-256")
        return origin, whole


def missing(expected: dict[str, str], done: set[str]) -> list[str]:
    """The workers (``client_id -> name``) that have not delivered, by name."""
    return [name for client_id, name in sorted(expected.items()) if client_id not in done]
