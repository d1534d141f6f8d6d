"""Talk spurts against what Janus told the room about who talks, ledger against ledger.

A publisher speaking on a pattern (``peers.talk``) records its spurts; every participant of a
room with ``audiolevel_event`` records Janus's ``talking`` / ``stopped-talking`` notifications.
Janus decides every ``audio_active_packets`` packets from their average level, so:

* a ``talking`` notification comes while the publisher speaks, or up to ``LATE_S`` after a
  spurt ended (the decision, then the long-poll that brings it);
* a ``stopped-talking`` never comes in the middle of a spurt (a voice at the tone's level is
  well over Janus's threshold);
* every spurt of ``MIN_SPURT_S`` or more is announced, once the room announces anything at all
  for that publisher (whether a room reports talking is the room's setting, not in the ledger).
"""

from __future__ import annotations

from simulator.ledger import Ledger, TalkingRecord
from simulator.verify.checks import Check

LATE_S = 1.5
MIN_SPURT_S = 1.0


def _spurt_of(at_ms: int, spurts: list[list[int]], late_ms: int) -> list[int] | None:
    return next((s for s in spurts if s[0] <= at_ms <= s[1] + late_ms), None)


def talk_checks(ledger: Ledger) -> list[Check]:
    checks: list[Check] = []
    for person in ledger.participants.values():
        for conn in person.connections:
            spurts = [s for pub in conn.publications for s in pub.talk_spurts]
            if not spurts:
                continue
            heard: list[tuple[str, TalkingRecord]] = [
                (other.name, note)
                for other in ledger.participants.values()
                for other_conn in other.connections
                for note in other_conn.talking
                if note.feed == conn.connection_id
            ]
            if not heard:
                continue
            checks += _notification_checks(person.name, spurts, heard)
    return checks


def _notification_checks(
    name: str, spurts: list[list[int]], heard: list[tuple[str, TalkingRecord]]
) -> list[Check]:
    late_ms = int(LATE_S * 1000)
    misplaced = [
        f"{who}: {'talking' if note.talking else 'stopped'} at {note.at_ms}"
        for who, note in heard
        if (note.talking and _spurt_of(note.at_ms, spurts, late_ms) is None)
        or (not note.talking and any(s[0] + late_ms < note.at_ms < s[1] for s in spurts))
    ]
    listeners = {who for who, _ in heard}
    unannounced = [
        spurt
        for spurt in spurts
        if spurt[1] - spurt[0] >= MIN_SPURT_S * 1000
        for who in listeners
        if not any(
            w == who and n.talking and spurt[0] <= n.at_ms <= spurt[1] + late_ms for w, n in heard
        )
    ]
    return [
        Check(
            f"{name}: Janus's talking notifications follow the talk spurts",
            not misplaced,
            f"talking within a spurt (+{LATE_S:g} s), stopped only in pauses",
            "; ".join(misplaced[:3]) or f"{len(heard)} in place",
        ),
        Check(
            f"{name}: every spurt of {MIN_SPURT_S:g} s or more was announced",
            not unannounced,
            f"{sum(1 for s in spurts if s[1] - s[0] >= MIN_SPURT_S * 1000)} spurts",
            f"{len(unannounced)} not announced" if unannounced else "all",
            f"to {', '.join(sorted(listeners))}",
        ),
    ]
