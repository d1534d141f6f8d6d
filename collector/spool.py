"""A disk queue of documents, kept while the store is unavailable and replayed in order later.

Layout of the spool folder (setting ``spool_dir``):

* ``<n>.ndjson`` — segments, one ``[doc_id, body]`` JSON array per line, appended in submission
  order; a new segment starts once one passes ``segment_bytes``.
* ``head`` — ``<segment number> <byte offset>``: where the next replay starts. Rewritten (write to
  a temporary file, then rename) after every batch the store took, so a crash mid-replay re-sends
  at most that one batch, which the documents' deterministic ids make harmless.
* ``rejected.ndjson`` — documents the store refused for good (a mapping conflict, say), each with
  the store's reason: recorded for a person to look at, never silently dropped, and never in the
  way of the replay.

Appends go to the operating system (``write`` + ``flush``), and the collector ``fsync``-s the
tail every second (``collector.app.ticks.sync_journal``): the spool survives the collector
being killed; a machine that loses power loses at most about the last second of it. Only the
batch being replayed is ever held in memory, so memory stays bounded however long the store is
away.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import orjson

Item = tuple[str, Mapping[str, Any]]
SEGMENT_BYTES = 8 * 1024 * 1024


class Spool:
    """Append at the tail, read and acknowledge at the head; survives restarts."""

    def __init__(self, folder: Path, *, segment_bytes: int = SEGMENT_BYTES) -> None:
        self.folder = folder
        self._segment_bytes = segment_bytes
        folder.mkdir(parents=True, exist_ok=True)
        segments = self._segments()
        head_file = folder / "head"
        if head_file.exists():
            seg, offset = (int(x) for x in head_file.read_text().split())
        else:
            seg, offset = (segments[0] if segments else 1), 0
        self._head_seg, self._head_offset = seg, offset
        for old in segments:
            if old < seg:  # consumed before a crash, not yet removed
                (folder / f"{old}.ndjson").unlink(missing_ok=True)
        self._tail_seg = max(segments[-1] if segments else seg, seg)
        self._tail: IO[bytes] | None = None
        self._peeked_end: tuple[int, int] | None = None
        self.spooled = 0
        self.replayed = 0
        self.rejected = 0
        self._bytes = sum(p.stat().st_size for p in folder.glob("*.ndjson") if p.stem.isdigit())
        self._bytes -= offset if (folder / f"{seg}.ndjson").exists() else 0

    def _segments(self) -> list[int]:
        return sorted(int(p.stem) for p in self.folder.glob("*.ndjson") if p.stem.isdigit())

    def _path(self, seg: int) -> Path:
        return self.folder / f"{seg}.ndjson"

    @property
    def bytes(self) -> int:
        """Bytes of documents waiting in the spool."""
        return max(self._bytes, 0)

    @property
    def empty(self) -> bool:
        return self.bytes == 0

    def append(self, items: list[Item]) -> None:
        """Add ``items`` at the tail, in order."""
        if not items:
            return
        data = b"".join(orjson.dumps([doc_id, body]) + b"\n" for doc_id, body in items)
        if self._tail is None:
            self._tail = self._path(self._tail_seg).open("ab")
        elif self._tail.tell() >= self._segment_bytes:
            os.fsync(self._tail.fileno())  # the periodic sync only reaches the tail segment
            self._tail.close()
            self._tail_seg += 1
            self._tail = self._path(self._tail_seg).open("ab")
        self._tail.write(data)
        self._tail.flush()
        self._bytes += len(data)
        self.spooled += len(items)

    def peek(self, limit: int) -> list[Item]:
        """Up to ``limit`` items from the head, not yet removed (``ack`` removes them)."""
        items: list[Item] = []
        seg, offset = self._head_seg, self._head_offset
        while len(items) < limit and seg <= self._tail_seg:
            path = self._path(seg)
            if not path.exists():
                seg, offset = seg + 1, 0
                continue
            with path.open("rb") as fh:
                fh.seek(offset)
                while len(items) < limit:
                    line = fh.readline()
                    if not line.endswith(b"\n"):  # end of segment (or a torn last line)
                        break
                    offset += len(line)
                    doc_id, body = orjson.loads(line)
                    items.append((str(doc_id), body))
            if len(items) < limit:
                if seg == self._tail_seg:
                    break
                seg, offset = seg + 1, 0
        self._peeked_end = (seg, offset)
        return items

    def ack(self, count: int) -> None:
        """The items of the last ``peek`` were handled: move the head past them."""
        if self._peeked_end is None:
            return
        seg, offset = self._peeked_end
        self._peeked_end = None
        consumed = self._consumed_bytes(seg, offset)
        for old in range(self._head_seg, seg):
            if old != self._tail_seg:
                self._path(old).unlink(missing_ok=True)
        self._head_seg, self._head_offset = seg, offset
        self._bytes -= consumed
        self.replayed += count
        if self._bytes <= 0 and seg == self._tail_seg:
            self._reset()
        else:
            tmp = self.folder / "head.tmp"
            tmp.write_text(f"{seg} {offset}")
            os.replace(tmp, self.folder / "head")

    def _consumed_bytes(self, seg: int, offset: int) -> int:
        total, s, start = 0, self._head_seg, self._head_offset
        while s < seg:
            path = self._path(s)
            total += (path.stat().st_size if path.exists() else 0) - start
            s, start = s + 1, 0
        return total + offset - start

    def _reset(self) -> None:
        """Everything replayed: start over with an empty first segment."""
        if self._tail is not None:
            self._tail.close()
            self._tail = None
        for seg in self._segments():
            self._path(seg).unlink(missing_ok=True)
        (self.folder / "head").unlink(missing_ok=True)
        self._head_seg = self._tail_seg = 1
        self._head_offset = 0
        self._bytes = 0

    def reject(self, doc_id: str, reason: str, body: Mapping[str, Any] | None) -> None:
        """Record a document the store refused for good, with its reason."""
        with (self.folder / "rejected.ndjson").open("ab") as fh:
            fh.write(orjson.dumps({"_id": doc_id, "reason": reason, "body": body}) + b"\n")
        self.rejected += 1

    def sync_now(self) -> None:
        """``fsync`` the tail segment at once: before the journal lets go of inputs whose
        documents are only here (``collector.app.ticks.compact_tick``)."""
        if self._tail is not None:
            os.fsync(self._tail.fileno())

    async def sync(self) -> None:
        """``fsync`` the tail segment, in a thread (the README's fsync policy, Faults)."""
        if self._tail is None:
            return
        fd = os.dup(self._tail.fileno())
        try:
            await asyncio.to_thread(os.fsync, fd)
        finally:
            os.close(fd)

    def close(self) -> None:
        if self._tail is not None:
            self._tail.close()
            self._tail = None

    def stats(self) -> dict[str, int]:
        return {
            "spooled": self.spooled,
            "replayed": self.replayed,
            "rejected": self.rejected,
            "bytes": self.bytes,
        }
