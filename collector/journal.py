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

import asyncio
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import orjson

from collector.clock import Clock
from collector.journal_index import MIN_DEAD_BYTES, STATELESS, JournalIndex, Owner

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
    def __init__(self, path: Path, index: JournalIndex | None = None) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        _cut_torn_tail(path)
        self._fh: IO[bytes] = path.open("ab")
        self.index = index or JournalIndex()
        """What each line belongs to (``collector.journal_index``); rebuilt by the replay."""
        self.recorded = 0
        self.compactions = 0
        self.replayed = 0
        """Inputs fed again at start-up (``collector.app.replay``): shows on ``/stats`` that a
        restarted collector resumed its sessions rather than starting blank."""
        self.syncs = 0

    def record(
        self, kind: str, now_ms: int, body: Any, owner: Owner = STATELESS, seq: int = 0
    ) -> None:
        self.record_many([(kind, now_ms, body, owner)], seq)

    def record_many(self, entries: Sequence[tuple[str, int, Any, Owner]], seq: int) -> None:
        """Append ``entries`` in order with one ``write`` + ``flush``: the collector journals a
        whole batch of Janus events this way before answering the request that carried them
        (a flush per event cost about a tenth of its CPU under load, make bench). ``seq``: the
        writer's sequence number of the last document these inputs produced."""
        if not entries:
            return
        dumps = orjson.dumps
        newline = orjson.OPT_APPEND_NEWLINE
        add = self.index.add
        chunks: list[bytes] = []
        for kind, now_ms, body, owner in entries:
            line = dumps((kind, now_ms, body), option=newline)
            chunks.append(line)
            add(len(line), now_ms, seq, owner)
        self._fh.write(b"".join(chunks))
        self._fh.flush()
        self.recorded += len(entries)

    @property
    def bytes(self) -> int:
        return self._fh.tell()

    def lines(self) -> Iterator[tuple[int, tuple[str, int, Any] | None]]:
        """Every complete line, in order: its size and its entry (None when unreadable)."""
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
                    yield len(line), None
                    continue
                yield len(line), entry

    def entries(self) -> Iterator[tuple[str, int, Any]]:
        """Every complete, readable line's entry, in order."""
        for _, entry in self.lines():
            if entry is not None:
                yield entry

    def compact(
        self, min_dead_bytes: int = MIN_DEAD_BYTES, before: Callable[[], None] | None = None
    ) -> bool:
        """Rewrite the journal without the lines the index marked dead, when that is worth it
        (``JournalIndex.worth_compacting``); True when it was rewritten. ``before`` runs first
        (the spool's ``fsync``: the dead lines' documents may be only there). The new file is
        ``fsync``-ed before it replaces the old one, so a crash leaves one or the other."""
        index = self.index
        if not index.worth_compacting(min_dead_bytes):
            return False
        if before is not None:
            before()
        self._fh.flush()
        tmp = self.path.with_suffix(".tmp")
        with self.path.open("rb") as old, tmp.open("wb") as new:
            pending: list[bytes] = []
            for line in index.lines:
                data = old.read(line.size)
                if not line.dead:
                    pending.append(data)
                    if len(pending) >= 4096:
                        new.write(b"".join(pending))
                        pending.clear()
            new.write(b"".join(pending))
            new.flush()
            os.fsync(new.fileno())
        self._fh.close()
        os.replace(tmp, self.path)
        _sync_folder(self.path.parent)
        self._fh = self.path.open("ab")
        index.compacted()
        self.compactions += 1
        return True

    async def sync(self) -> None:
        """``fsync`` what was appended, in a thread (the policy: README, Faults)."""
        fd = os.dup(self._fh.fileno())
        try:
            await asyncio.to_thread(os.fsync, fd)
        finally:
            os.close(fd)
        self.syncs += 1

    def close(self) -> None:
        self._fh.close()

    def stats(self) -> dict[str, int]:
        return {
            "recorded": self.recorded,
            "replayed": self.replayed,
            "bytes": self.bytes,
            "compactions": self.compactions,
            **self.index.stats(),
        }


def _sync_folder(folder: Path) -> None:
    """The rename itself survives a crash once the folder is ``fsync``-ed."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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
