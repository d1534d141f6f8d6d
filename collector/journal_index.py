"""Which journal lines belong to which session, and which of them a compaction may drop.

Every input the collector journals comes with its ``Owner``, which the session model's side
says (the event sources' ``owner``, ``collector.app.attribution`` for the simulator's routes):

- the **session** it belongs to: a Janus event of a participant in a room, a recording status,
  a client's subscription. Its line is kept while the session is open and until every document
  the session produced is in the store or the spool (the writer's ``durable_seq``), then it
  goes: a closed session's documents are written for good, and a replay needs none of its
  inputs. A closed session with stopped recordings stays while the model keeps it (a
  recording's late final status rewrites its summaries, from the model's state).
- or **keys** of state that belongs to no session yet: a Janus session before its participant
  joins a room (``("janus", id)``), a registration for a room that has not opened
  (``("room", name)``) or of a connection (``("conn", id)``). When an input of a session later
  names the same key, the lines under it become that session's. Until then they are kept while
  the state they made is alive (``key_alive``: the Janus session not destroyed; a room
  registration until its room opens; a connection's for ``REGISTRATION_KEEP_MS``).
- or nothing (**stateless**: client stats, signals, generator stats): the line only made
  documents, and goes as soon as they are in the store or the spool.
- and, for an input that only replaces the previous one of its kind without producing a
  document (Janus's cumulative media stats of one m-line, every second), a **superseding** key:
  the previous line with the same key goes at once. So a room that stays open for hours keeps
  its lifecycle inputs and the latest stats of each m-line, not an hour of stats.

The index keeps, per line, only its size and what it belongs to; the journal's bytes stay on
disk. ``sweep`` marks the lines that may go; ``worth_compacting`` says when rewriting the file is
worth it (the dead bytes are at least a quarter of the live ones, and ``min_dead_bytes``), so the
file stays within 1.25x of the open sessions' inputs (plus ``min_dead_bytes``) however long the
collector runs, at a rewrite cost proportional to what is kept.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from collector.model.state import Session

Key = tuple[Hashable, ...]
REGISTRATION_KEEP_MS = 10 * 60 * 1000
"""How long a connection's registration that no session named is kept."""
MIN_DEAD_BYTES = 256 * 1024
"""The least dead bytes worth rewriting the journal for."""


@dataclass(frozen=True, slots=True)
class Owner:
    """What one journaled input belongs to (see the module's doc)."""

    session: Session | None = None
    keys: tuple[Key, ...] = ()
    superseding: Key | None = None

    @property
    def stateless(self) -> bool:
        return self.session is None and not self.keys


STATELESS = Owner()


class _Line:
    __slots__ = ("dead", "now_ms", "seq", "size")

    def __init__(self, size: int, now_ms: int, seq: int) -> None:
        self.size = size
        self.now_ms = now_ms
        self.seq = seq
        """The writer's sequence number of the last document submitted with this input."""
        self.dead = False


class _Group:
    """The lines of one session or one key."""

    __slots__ = ("closed_seq", "lines", "newest_ms", "seq")

    def __init__(self) -> None:
        self.lines: list[_Line] = []
        self.seq = 0
        self.newest_ms = 0
        self.closed_seq: int | None = None

    def add(self, line: _Line) -> None:
        self.lines.append(line)
        if line.seq > self.seq:
            self.seq = line.seq
        if line.now_ms > self.newest_ms:
            self.newest_ms = line.now_ms


class JournalIndex:
    """The journal's lines in file order, grouped by what they belong to."""

    def __init__(
        self,
        session_alive: Callable[[Session], bool] = lambda s: s.open,
        key_alive: Callable[[Key, int], bool] | None = None,
    ) -> None:
        self._session_alive = session_alive
        self._key_alive = key_alive or _registration_alive
        self.lines: list[_Line] = []
        self.live_bytes = 0
        self.dead_bytes = 0
        self._sessions: dict[int, tuple[Session, _Group]] = {}
        self._pending: dict[Key, _Group] = {}
        self._stateless: deque[_Line] = deque()
        self._latest: dict[Key, _Line] = {}

    def add(self, size: int, now_ms: int, seq: int, owner: Owner) -> None:
        """One line appended to the journal (``seq``: see ``_Line.seq``)."""
        line = _Line(size, now_ms, seq)
        self.lines.append(line)
        self.live_bytes += size
        if owner.superseding is not None:
            previous = self._latest.get(owner.superseding)
            self._latest[owner.superseding] = line
            if previous is not None:
                self._kill(previous)
        session = owner.session
        if session is not None:
            group = self._group_of(session)
            pending = self._pending
            if pending:
                for key in owner.keys:
                    moved = pending.pop(key, None)
                    if moved is not None:  # its lines are the session's from now on
                        for old in moved.lines:
                            group.add(old)
            group.add(line)
        elif owner.keys:
            waiting = self._pending.get(owner.keys[0])
            if waiting is None:
                waiting = self._pending[owner.keys[0]] = _Group()
            waiting.add(line)
        else:
            self._stateless.append(line)

    def _group_of(self, session: Session) -> _Group:
        entry = self._sessions.get(id(session))
        if entry is None or entry[0] is not session:
            entry = self._sessions[id(session)] = (session, _Group())
        return entry[1]

    def _kill(self, line: _Line) -> None:
        if not line.dead:
            line.dead = True
            self.live_bytes -= line.size
            self.dead_bytes += line.size

    def sweep(self, now_ms: int, submitted: int, durable_seq: int) -> None:
        """Mark the lines that may go: ``submitted`` is the writer's last sequence number,
        ``durable_seq`` the one up to which every document is stored or spooled."""
        stateless = self._stateless
        while stateless and stateless[0].seq <= durable_seq:
            self._kill(stateless.popleft())
        for ident, (session, group) in list(self._sessions.items()):
            if self._session_alive(session):
                group.closed_seq = None
                continue
            if group.closed_seq is None:
                # Everything it produced has been submitted by now (the model emits a closing
                # session's documents at once): once they are all durable, its lines go.
                group.closed_seq = max(submitted, group.seq)
            if durable_seq >= group.closed_seq:
                for line in group.lines:
                    self._kill(line)
                del self._sessions[ident]
        for key, group in list(self._pending.items()):
            if group.seq <= durable_seq and not self._key_alive(key, group.newest_ms):
                for line in group.lines:
                    self._kill(line)
                del self._pending[key]

    def worth_compacting(self, min_dead_bytes: int = MIN_DEAD_BYTES) -> bool:
        return self.dead_bytes > 0 and self.dead_bytes >= max(min_dead_bytes, self.live_bytes // 4)

    def compacted(self) -> None:
        """The file was rewritten with the live lines only."""
        self.lines = [line for line in self.lines if not line.dead]
        self._latest = {key: line for key, line in self._latest.items() if not line.dead}
        for _, group in self._sessions.values():
            group.lines = [line for line in group.lines if not line.dead]
        for group in self._pending.values():
            group.lines = [line for line in group.lines if not line.dead]
        self.dead_bytes = 0

    def stats(self) -> dict[str, int]:
        return {
            "live_bytes": self.live_bytes,
            "dead_bytes": self.dead_bytes,
            "sessions": len(self._sessions),
            "pending_keys": len(self._pending),
        }


def _registration_alive(key: Key, newest_ms: int) -> bool:
    """A room's registration waits for its room however long; a connection's no longer than
    ``REGISTRATION_KEEP_MS`` (``newest_ms`` against the clock is the caller's business: this
    default knows no clock and keeps both)."""
    return True
