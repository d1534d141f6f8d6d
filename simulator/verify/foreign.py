"""Participants in a run's rooms that the run did not make: reported, never counted.

A run's room is a Janus room anyone with the server's address can join: a browser opened on
the same room, a client of another tool. The collector records such a participant as it records
any (it is server truth), but the ledger cannot have expected it, so it must not turn the
ledger's count checks into failures ("participantJoined expected 3 found 4"). A participant is
*foreign* when its connection id is none of the ledger's; the count checks leave foreign
connections out (``simulator.verify.counts``, the ``users`` of each session summary), and one
informational check per session lists them, so a reader sees who else was there.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from simulator.ledger import Ledger
from simulator.verify.checks import Check
from simulator.verify.counts import own_connections
from simulator.verify.store_reader import Document


def foreign_participants(ledger: Ledger, documents: Iterable[Document]) -> dict[str, list[str]]:
    """Session id → a line per foreign connection (id, user, platform), from the ``cdr``
    participantJoined events of the run's sessions."""
    ours = own_connections(ledger)
    sessions = {s.session_id for s in ledger.sessions.values()}
    found: dict[str, list[str]] = defaultdict(list)
    for doc in documents:
        if doc.get("elastic_type") != "cdr" or doc.get("event") != "participantJoined":
            continue
        conn = doc.get("connectionId", doc.get("participantId"))
        session = doc.get("sessionId")
        if conn is None or conn in ours or session not in sessions:
            continue
        found[str(session)].append(
            f"{conn} (user {doc.get('user', '?')}, {doc.get('platform', 'unknown platform')})"
        )
    return {session: sorted(lines) for session, lines in sorted(found.items())}


def foreign_checks(ledger: Ledger, documents: Iterable[Document]) -> list[Check]:
    """One passing, informational check per session that had foreign participants."""
    return [
        Check(
            f"{session}: participants the ledger does not know (foreign)",
            True,
            "informational",
            lines,
            f"{len(lines)} in the run's room but not made by the simulator: recorded by the "
            "collector, left out of the count checks",
        )
        for session, lines in foreign_participants(ledger, documents).items()
    ]
