"""Journal replay at start-up: the inputs a killed collector had accepted, fed again, in order
and at their own times, into the fresh model (``collector.journal``). Each line's owner is
worked out again as it is applied, so the journal's index (``collector.journal_index``) is the
one the collector had, and compaction goes on where it stopped."""

from __future__ import annotations

import logging

from collector.app.attribution import route_owner
from collector.app.routes import SIMULATOR_ACTIONS
from collector.app.service import Collector
from collector.documents import Document
from collector.journal import ReplayClock
from collector.journal_index import STATELESS, Owner

log = logging.getLogger("collector.app")


def replay_journal(c: Collector, replay_clock: ReplayClock) -> int:
    """Feed the journal's inputs again into the (fresh) model; returns how many were replayed.

    The documents they produce are submitted again: same ids, so they overwrite themselves.
    """
    if c.journal is None:
        return 0
    sources = {source.journal_kind: source for source in c.sources.values()}
    index = c.journal.index
    replayed = 0
    for size, entry in c.journal.lines():
        if entry is None:  # unreadable: dropped at the next compaction
            index.add(size, 0, 0, STATELESS)
            continue
        kind, now_ms, body = entry
        replay_clock.fixed_ms = now_ms
        docs: list[Document] = []
        owner: Owner = STATELESS
        try:
            source = sources.get(kind)
            if source is not None:
                event = source.parse(body)
                before = source.session_of(event)
                docs = source.apply(event)
                owner = source.owner(event, before, bool(docs))
            else:
                docs = SIMULATOR_ACTIONS[kind](c, body)
                owner = route_owner(c, kind, body)
        except Exception:
            log.exception("journal replay: %s input failed", kind)
            c.counters.handler_errors += 1
            index.add(size, now_ms, 0, STATELESS)
            continue
        finally:
            replay_clock.fixed_ms = None
        index.add(size, now_ms, c.writer.submitted + len(docs), owner)
        c.emit(docs)
        replayed += 1
    c.journal.replayed = replayed
    if replayed:
        opened = len(c.model.open_sessions())
        log.info("journal replayed: %d inputs, %d open sessions", replayed, opened)
    return replayed
