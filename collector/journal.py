"""A journal of the inputs the collector accepted, so a killed collector resumes its sessions.

Every Janus event the model handled and every simulator post it accepted is appended (one
``[kind, now_ms, body]`` JSON line, ``kind`` being ``"event"`` or the route) before the answer
goes back; at start-up the lines are fed again, in order, into a fresh ``SessionModel``, with the
clock set to each input's original time. The documents this produces have the ids they had the
first time, so writing them again overwrites rather than duplicates.

Why a journal of inputs and not snapshots of the model: the model is a deterministic function of
its inputs and its clock (``collector/session_model.py``), so its inputs are a complete, small and
stable record of its state, while a snapshot would need a serialised form of every state class,
kept in step with a model that changes often. The journal is compacted whenever no session is
open and every document it produced has reached the store or the spool: only the simulator's
registrations (``/sessions``, ``/identities``, ``/streams``) of sessions not yet closed are kept,
since those arrive before their session opens. So it holds the inputs since the collector was last
idle. (Sessions that overlap without pause keep it growing until a pause; per-session compaction
would need the model to say which inputs belong to which session.)

Lines are written to the operating system (``write`` + ``flush``, once per request: every event
of a Janus batch is in the journal before the batch is answered), not ``fsync``-ed: the journal
survives the collector being killed, not the machine losing power. A torn last line (a kill in the
middle of a write) is skipped.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import orjson

from collector.clock import Clock

log = logging.getLogger(__name__)

EVENT = "event"


class ReplayClock:
    """The real clock, except while the journal is replayed: then each input's own time."""

    def __init__(self, inner: Clock) -> None:
        self.inner = inner
        self.fixed_ms: int | None = None

    def now_ms(self) -> int:
        return self.fixed_ms if self.fixed_ms is not None else self.inner.now_ms()


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        _cut_torn_tail(path)
        self._fh: IO[bytes] = path.open("ab")
        self.recorded = 0
        self.compactions = 0
        self.replayed = 0
        """Inputs fed again at start-up (``collector.app.replay``): shows on ``/stats`` that a
        restarted collector resumed its sessions rather than starting blank."""
        self.dirty = path.stat().st_size > 0
        """Inputs recorded since the last compaction."""

    def record(self, kind: str, now_ms: int, body: Any) -> None:
        self.record_many([(kind, now_ms, body)])

    def record_many(self, entries: Sequence[tuple[str, int, Any]]) -> None:
        """Append ``entries`` in order with one ``write`` + ``flush``: the collector journals a
        whole batch of Janus events this way before answering the request that carried them
        (a flush per event cost about a tenth of its CPU under load, make bench)."""
        if not entries:
            return
        self._fh.write(b"".join(orjson.dumps(entry) + b"\n" for entry in entries))
        self._fh.flush()
        self.recorded += len(entries)
        self.dirty = True

    @property
    def bytes(self) -> int:
        return self._fh.tell()

    def entries(self) -> Iterator[tuple[str, int, Any]]:
        """Every complete line, in order."""
        with self.path.open("rb") as fh:
            for number, line in enumerate(fh, 1):
                if not line.endswith(b"\n"):
                    log.warning("journal %s: torn last line %d skipped", self.path, number)
                    break
                try:
                    kind, now_ms, body = orjson.loads(line)
                    entry = str(kind), int(now_ms), body
                except (orjson.JSONDecodeError, TypeError, ValueError) as exc:
                    # Not ours to judge further: one damaged line costs its input, not the
                    # collector's start-up and every input after it.
                    log.error("journal %s: line %d unreadable, skipped: %s", self.path, number, exc)
                    continue
                yield entry

    def compact(self, keep: Callable[[str, int, Any], bool] = lambda *_: False) -> None:
        """Rewrite the journal with only the entries ``keep`` wants (no session is open)."""
        kept = [entry for entry in self.entries() if keep(*entry)]
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("wb") as fh:
            fh.write(b"".join(orjson.dumps(list(entry)) + b"\n" for entry in kept))
        self._fh.close()
        os.replace(tmp, self.path)
        self._fh = self.path.open("ab")
        self.compactions += 1
        self.dirty = False

    def close(self) -> None:
        self._fh.close()

    def stats(self) -> dict[str, int]:
        return {
            "recorded": self.recorded,
            "replayed": self.replayed,
            "bytes": self.bytes,
            "compactions": self.compactions,
        }


def _cut_torn_tail(path: Path) -> None:
    """A kill in the middle of a write leaves a last line without its newline; appending after
    it would glue the next entry onto it. Cut the file back to its last complete line."""
    if not path.exists():
        return
    with path.open("r+b") as fh:
        size = fh.seek(0, os.SEEK_END)
        if size == 0:
            return
        fh.seek(size - 1)
        if fh.read(1) == b"\n":
            return
        keep = size - 1
        while keep > 0:
            step = min(keep, 65536)
            fh.seek(keep - step)
            chunk = fh.read(step)
            newline = chunk.rfind(b"\n")
            if newline >= 0:
                keep = keep - step + newline + 1
                break
            keep -= step
        fh.truncate(keep)
        log.warning("journal %s: torn last line cut (%d bytes)", path, size - keep)
