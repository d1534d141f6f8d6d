"""Journal replay at start-up: the inputs a killed collector had accepted, fed again, in order
and at their own times, into the fresh model (``collector.journal``)."""

from __future__ import annotations

import logging

from collector.app.routes import SIMULATOR_ACTIONS
from collector.app.service import Collector
from collector.journal import ReplayClock

log = logging.getLogger("collector.app")


def replay_journal(c: Collector, replay_clock: ReplayClock) -> int:
    """Feed the journal's inputs again into the (fresh) model; returns how many were replayed.

    The documents they produce are submitted again: same ids, so they overwrite themselves.
    """
    if c.journal is None:
        return 0
    sources = {source.journal_kind: source for source in c.sources.values()}
    replayed = 0
    for kind, now_ms, body in c.journal.entries():
        replay_clock.fixed_ms = now_ms
        try:
            source = sources.get(kind)
            if source is not None:
                docs = source.apply(source.parse(body))
            else:
                docs = SIMULATOR_ACTIONS[kind](c, body)
        except Exception:
            log.exception("journal replay: %s input failed", kind)
            c.counters.handler_errors += 1
            continue
        finally:
            replay_clock.fixed_ms = None
        c.emit(docs)
        replayed += 1
    c.journal.replayed = replayed
    if replayed:
        opened = len(c.model.open_sessions())
        log.info("journal replayed: %d inputs, %d open sessions", replayed, opened)
    return replayed
