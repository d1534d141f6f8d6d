"""The walking skeleton's verdict: media flowed, and the session's ``cdr`` events are all there.

Expected counts come from the ledger (what the simulator did), found counts from Elasticsearch
(what the collector derived from Janus's events): two independent paths.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Callable

from simulator.ledger import Ledger, SubscriptionRecord
from simulator.verify.checks import Check, check_at_least, check_equal
from simulator.verify.counts import RunCounts, counts_of, is_ours, own_connections
from simulator.verify.store_reader import Document

FRAME_OWED_AFTER_MS = 1_000
"""A subscription live for less than this when its publisher left need not have had a frame."""

CDR_EVENTS = (
    "sessionCreated",
    "participantJoined",
    "webrtcConnectionCreated",
    "webrtcConnectionDestroyed",
    "participantLeft",
    "sessionDestroyed",
)


def expected_cdr_counts(ledger: Ledger) -> dict[str, int]:
    joined = [c for p in ledger.participants.values() for c in p.connections if c.joined_ms]
    endpoints = sum(len(c.publications) + len(c.subscriptions) for c in joined)
    sessions = len(ledger.sessions)
    return {
        "sessionCreated": sessions,
        "participantJoined": len(joined),
        "webrtcConnectionCreated": endpoints,
        "webrtcConnectionDestroyed": endpoints,
        "participantLeft": len(joined),
        "sessionDestroyed": sessions,
    }


def found_cdr_counts(
    documents: list[Document], ours: frozenset[str] | None = None
) -> dict[str, int]:
    """``cdr`` documents by event; with ``ours``, only the run's own connections' (and the
    sessions'): a foreign participant's events are not the ledger's to count."""
    counts = Counter(
        d.get("event")
        for d in documents
        if d.get("elastic_type") == "cdr" and (ours is None or is_ours(d, ours))
    )
    return {event: counts.get(event, 0) for event in CDR_EVENTS}


def _cdr_counts(counts: RunCounts) -> dict[str, int]:
    return {event: counts.cdr_events.get(event, 0) for event in CDR_EVENTS}


def counts_complete(ledger: Ledger) -> Callable[[RunCounts], bool]:
    """Whether the collector has written everything the run should produce: the ``cdr`` events,
    every summary (they may land in a later bulk than ``sessionSummary``) and final recording
    statuses. Counts only (``simulator.verify.counts``): polled by aggregations while the
    collector catches up, without reading a document."""
    expected = expected_cdr_counts(ledger)
    connections = [c for p in ledger.participants.values() for c in p.connections if c.joined_ms]
    users = {
        (c.session_id, p.user_id)
        for p in ledger.participants.values()
        for c in p.connections
        if c.joined_ms
    }
    wanted = {
        "sessionSummary": len({c.session_id for c in connections}),
        "userSummary": len(users),
        "connectionSummary": len(connections),
        "publisherSummary": sum(len(c.publications) for c in connections),
        "subscriberSummary": sum(len(c.subscriptions) for c in connections),
    }
    recordings = len(getattr(ledger, "recordings", []))

    def complete(counts: RunCounts) -> bool:
        return (
            _cdr_counts(counts) == expected
            and all(counts.types[kind] >= n for kind, n in wanted.items())
            and counts.final_recordings >= recordings
        )

    return complete


def cdr_complete(ledger: Ledger) -> Callable[[list[Document]], bool]:
    """:func:`counts_complete` over a list of documents."""
    complete = counts_complete(ledger)
    ours = own_connections(ledger)
    return lambda documents: complete(counts_of(documents, ours))


def skeleton_checks(ledger: Ledger, documents: list[Document]) -> list[Check]:
    return counted_skeleton_checks(ledger, counts_of(documents, own_connections(ledger)))


def counted_skeleton_checks(ledger: Ledger, counts: RunCounts) -> list[Check]:
    """Failed steps, frames each subscription owed, and the ``cdr`` counts against the ledger
    (counts by aggregation for a stored run)."""
    checks = [
        Check(
            f"step {s.index} {s.do} by {s.who}",
            s.ok,
            "ok",
            s.error or "ok",
        )
        for s in ledger.steps
        if not s.ok
    ]
    sent = {p.stream_id: p for person in ledger.participants.values() for p in person.publications}
    for person in ledger.participants.values():
        for sub in person.subscriptions:
            if _publisher_left_at_once(sub):
                continue
            publication = sent.get(sub.stream_id)
            # Owed: the kinds its publisher sent (all, if the ledger lacks the publication).
            kinds = [
                kind
                for kind in ("video", "audio")
                if publication is None or getattr(publication, kind)
            ]
            for kind in kinds:
                frames = sub.received.get(kind)
                checks.append(
                    check_at_least(
                        f"{person.name} received {kind} frames from {sub.publisher}",
                        1,
                        frames.frames if frames else 0,
                    )
                )
    expected = expected_cdr_counts(ledger)
    found = _cdr_counts(counts)
    for event in CDR_EVENTS:
        checks.append(check_equal(f"cdr {event} documents", expected[event], found[event]))
    return checks


def _publisher_left_at_once(sub: SubscriptionRecord) -> bool:
    """Under churn (load runs) a subscription can connect just as its publisher leaves: no
    frame can be owed to a subscription that was live for less than this."""
    return (
        sub.ice_connected_ms is not None
        and sub.ended_ms is not None
        and sub.ended_ms - sub.ice_connected_ms < FRAME_OWED_AFTER_MS
    )


def candidate_checks(ledger: Ledger, allowed_network: str) -> list[Check]:
    """Every ICE candidate in every SDP, ours and Janus's, is a namespace address."""
    network = ipaddress.ip_network(allowed_network)
    checks = []
    for person in ledger.participants.values():
        if not person.publications and not person.subscriptions:
            continue  # nothing negotiated (e.g. a load visit whose join failed): no SDP
        outside = sorted(
            {a for a in person.sdp_candidates if ipaddress.ip_address(a) not in network}
        )
        checks.append(
            Check(
                f"{person.name}: ICE candidates inside {allowed_network}",
                not outside and bool(person.sdp_candidates),
                f"all in {allowed_network}",
                outside or sorted(set(person.sdp_candidates)),
            )
        )
    return checks
