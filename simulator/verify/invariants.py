"""Built-in invariants, checked on every run: the collector's documents against the ledger.

- the summaries agree with what the simulator did: numbers of users, connections, publishers
  and subscribers; durations within a second; end reasons as caused;
- every nested summary equals its denormalized copy;
- ``cdr`` events of each session come in a valid order;
- the server's packet counts agree with what the peers sent, within a tolerance that accounts
  for the loss the simulator injected.

The ledger's times are the simulator's, the documents' are Janus's: a clean action shows up in
both within a few hundred milliseconds, and the ledger bounds what the server dated itself by
the request that caused it and the answer (``simulator.ledger``'s windows). A vanished peer
is noticed by Janus only later (its PeerConnections by ICE keepalive checks, 30 to 55 s on;
itself when its session times out, up to ``Settings.drop_detection_s``), so ends caused by a
drop get that much more slack (``drop_slack_s``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from simulator.driver.capabilities import ServerReport
from simulator.ledger import (
    ConnectionRecord,
    Ledger,
    ParticipantRecord,
    PublicationRecord,
    SessionRecord,
    SubscriptionRecord,
)
from simulator.verify.checks import Check, check_equal
from simulator.verify.counts import own_connections
from simulator.verify.digest import RunDigest
from simulator.verify.layers import layer_checks
from simulator.verify.packets import stats_packet_checks
from simulator.verify.store_reader import Document
from simulator.verify.talk import talk_checks

DURATION_TOLERANCE_S = 1.0
DROPPED = "networkDisconnect"

SUMMARY_TYPES = (
    "userSummary",
    "connectionSummary",
    "publisherSummary",
    "subscriberSummary",
    "recordingSummary",
)


@dataclass(frozen=True)
class Tolerances:
    duration_s: float = DURATION_TOLERANCE_S
    drop_slack_s: float = 67.0
    # The collector samples the media server host every monitoring_interval_s (0: never); a
    # shorter run may fall between two samples (simulator.verify.verdict.required_types).
    monitoring_interval_s: float = 10.0


def _by_type(documents: Iterable[Document], elastic_type: str) -> list[Document]:
    return [d for d in documents if d.get("elastic_type") == elastic_type]


def _session_of(doc: Document) -> Any:
    return doc.get("sessionId", doc.get("session"))


def _connection_of(doc: Document) -> Any:
    return doc.get("connectionId", doc.get("connection"))


def _seconds(start_ms: int | None, end_ms: int | None) -> float | None:
    if start_ms is None or end_ms is None:
        return None
    return (end_ms - start_ms) / 1000


Window = tuple[int | None, int | None]
"""A moment the server dated itself, as the ledger bounds it: (not before, not after), ms; one
side None when only the other was stamped (``simulator.ledger``)."""


def _window(first: int | None, second: int | None) -> Window:
    """Two stamps in either order; one alone stands for both."""
    if first is None or second is None:
        return (first or second, first or second)
    return (min(first, second), max(first, second))


def _duration_check(
    name: str,
    summary: Document,
    start: Window,
    end: Window,
    slack_s: float,
    keys: tuple[str, str],
    *,
    start_slack_s: float = DURATION_TOLERANCE_S,
) -> Check:
    """The summary's own start and end (ms) each inside the ledger's window for it, within
    ``start_slack_s`` and ``slack_s`` (an end a drop caused is noticed late: more slack); and
    its ``duration`` must be their distance in whole seconds truncated, as OpenVidu computes it.
    Expected: the length the windows allow."""
    shortest, longest = _seconds(start[1], end[0]), _seconds(start[0], end[1])
    first, last = summary.get(keys[0]), summary.get(keys[1])
    found = summary.get("duration")
    if (
        shortest is None
        or longest is None
        or not isinstance(first, int)
        or not isinstance(last, int)
    ):
        return Check(name, False, "a duration", found, "missing on one side")
    exact = (last - first) / 1000
    outside = [
        f"{what} {off:+.1f} s outside its window"
        for what, at, window, slack in (
            ("start", first, start, start_slack_s),
            ("end", last, end, slack_s),
        )
        if (off := _outside_s(at, window)) and abs(off) > slack
    ]
    ok = not outside and found == int(exact)
    span = f"{shortest:.1f}" if abs(longest - shortest) < 0.05 else f"{shortest:.1f}–{longest:.1f}"
    return Check(
        name, ok, f"{span} s ± {slack_s:g}", f"{exact:.1f} s (duration {found})", "; ".join(outside)
    )


def _outside_s(at_ms: int, window: Window) -> float:
    """How far ``at_ms`` lies before (negative) or after the window, s; 0 inside it."""
    low, high = window
    if low is not None and at_ms < low:
        return (at_ms - low) / 1000
    if high is not None and at_ms > high:
        return (at_ms - high) / 1000
    return 0.0


def _foreign_users(summary: Document, ours: frozenset[str]) -> list[Any]:
    """The summary's users none of whose connections the ledger knows (foreign participants,
    ``simulator.verify.foreign``): not the simulator's to count."""
    return [
        user.get("id")
        for user in summary["users"]["content"]
        if (conns := user.get("connections", {}).get("content", []))
        and all(c.get("connectionId") not in ours for c in conns)
    ]


def summary_checks(ledger: Ledger, documents: list[Document], tol: Tolerances) -> list[Check]:
    checks: list[Check] = []
    ours = own_connections(ledger)
    sessions = {s.session_id: s for s in ledger.sessions.values()}
    summaries = {_session_of(d): d for d in _by_type(documents, "sessionSummary")}
    connections = {d.get("connectionId"): d for d in _by_type(documents, "connectionSummary")}
    publishers = {d.get("streamId"): d for d in _by_type(documents, "publisherSummary")}
    subscribers = {
        (_connection_of(d), d.get("streamId")): d for d in _by_type(documents, "subscriberSummary")
    }
    joined: dict[str, list[tuple[ParticipantRecord, ConnectionRecord]]] = defaultdict(list)
    for p in ledger.participants.values():
        for c in p.connections:
            if c.joined_ms is not None:
                joined[c.session_id].append((p, c))
    for session_id, record in sessions.items():
        conns = joined.get(session_id, [])
        if not conns:
            continue
        summary = summaries.get(session_id)
        if summary is None:
            checks.append(Check(f"{session_id}: sessionSummary written", False, 1, 0))
            continue
        users = {p.user_id for p, _ in conns}
        found_users = summary["users"]["numberOfElements"] - len(_foreign_users(summary, ours))
        checks.append(check_equal(f"{session_id}: users", len(users), found_users))
        per_user = {u["id"]: u for u in summary["users"]["content"]}
        for user_id in sorted(users):
            expected = sum(1 for p, _ in conns if p.user_id == user_id)
            found = per_user.get(user_id, {}).get("connections", {}).get("numberOfElements", 0)
            checks.append(
                check_equal(f"{session_id}: connections of user {user_id}", expected, found)
            )
        expected_reason = record.end or (
            "sessionClosedByServer" if record.destroyed_by_server else "lastParticipantLeft"
        )
        checks.append(
            check_equal(f"{session_id}: session end reason", expected_reason, summary.get("reason"))
        )
        last_drop = any(c.end == DROPPED for _, c in conns)
        checks.append(
            _duration_check(
                f"{session_id}: session duration",
                summary,
                _window(record.create_asked_ms, record.created_ms),
                _session_end(record, [c for _, c in conns], expected_reason),
                tol.duration_s + (tol.drop_slack_s if last_drop else 0),
                ("createdAt", "destroyedAt"),
                start_slack_s=tol.duration_s,
            )
        )
        for person, conn in conns:
            checks += _connection_checks(
                person.name, conn, connections, publishers, subscribers, tol
            )
    return checks


def _session_end(record: SessionRecord, conns: list[ConnectionRecord], reason: str) -> Window:
    """A session its last participant left ends with the last of their leaves, each between
    its goodbye and the answer: so between the latest goodbye and the latest answer. (Which
    leave the server handled last, when several overlap, the ledger cannot know.)"""
    left = [c.left_ms for c in conns if c.left_ms is not None]
    if reason != "lastParticipantLeft" or len(left) < len(conns):
        return _window(record.close_asked_ms, record.closed_ms)
    asked = [c.leave_asked_ms or c.left_ms for c in conns if c.left_ms is not None]
    return _window(max(a for a in asked if a is not None), max(left))


def _slack(reason: str | None, tol: Tolerances) -> float:
    return tol.duration_s + (tol.drop_slack_s if reason == DROPPED else 0.0)


def _connection_checks(
    name: str,
    conn: ConnectionRecord,
    connections: dict[Any, Document],
    publishers: dict[Any, Document],
    subscribers: dict[Any, Document],
    tol: Tolerances,
) -> list[Check]:
    label = f"{name} ({conn.connection_id})"
    summary = connections.get(conn.connection_id)
    if summary is None:
        return [Check(f"{label}: connectionSummary written", False, 1, 0)]
    checks = [
        check_equal(
            f"{label}: publishers",
            len(conn.publications),
            summary["publishers"]["numberOfElements"],
        ),
        check_equal(
            f"{label}: subscribers",
            len(conn.subscriptions),
            summary["subscribers"]["numberOfElements"],
        ),
        check_equal(f"{label}: end reason", conn.end, summary.get("reason")),
        _duration_check(
            f"{label}: duration",
            summary,
            _window(conn.join_asked_ms, conn.joined_ms),
            _window(conn.leave_asked_ms, conn.left_ms),
            _slack(conn.end, tol),
            ("createdAt", "destroyedAt"),
            start_slack_s=tol.duration_s,
        ),
    ]
    for pub in conn.publications:
        checks += _endpoint_checks(
            f"{label} publishes {pub.stream_id}", pub, publishers.get(pub.stream_id), tol
        )
    for sub in conn.subscriptions:
        doc = subscribers.get((conn.connection_id, sub.stream_id))
        checks += _endpoint_checks(f"{label} receives {sub.stream_id}", sub, doc, tol)
        if doc is not None:
            checks.append(
                check_equal(
                    f"{label} receives {sub.stream_id}: receivingFrom",
                    sub.receiving_from,
                    doc.get("receivingFrom"),
                )
            )
    return checks


def _endpoint_checks(
    label: str,
    record: PublicationRecord | SubscriptionRecord,
    summary: Document | None,
    tol: Tolerances,
) -> list[Check]:
    if summary is None:
        return [Check(f"{label}: summary written", False, 1, 0)]
    start = record.ice_connected_ms or record.started_ms
    return [
        check_equal(f"{label}: end reason", record.end, summary.get("reason")),
        _duration_check(
            f"{label}: duration",
            summary,
            _window(record.negotiated_ms, start),
            _window(record.ended_ms, record.end_answered_ms),
            _slack(record.end, tol),
            ("startTime", "timestamp"),
            start_slack_s=tol.duration_s,
        ),
    ]


# -- nested summaries equal their denormalized copies ---------------------------------------------
def _nested(summary: Document) -> Iterable[Document]:
    for user in summary.get("users", {}).get("content", []):
        yield user
        for conn in user.get("connections", {}).get("content", []):
            yield conn
            yield from conn.get("publishers", {}).get("content", [])
            yield from conn.get("subscribers", {}).get("content", [])
    yield from summary.get("recordings", {}).get("content", [])


def _identity(doc: Document) -> tuple[Any, ...]:
    kind = doc.get("elastic_type")
    if kind == "userSummary":
        return (kind, _session_of(doc), doc.get("id"))
    if kind == "connectionSummary":
        return (kind, doc.get("connectionId"))
    if kind == "recordingSummary":
        return (kind, doc.get("id"))
    return (kind, _connection_of(doc), doc.get("streamId"))


def denormalization_checks(documents: list[Document]) -> list[Check]:
    copies = {_identity(d): d for t in SUMMARY_TYPES for d in _by_type(documents, t)}
    by_session: dict[Any, list[tuple[Any, Document]]] = defaultdict(list)
    for key, copy in copies.items():  # grouped once: a run has hundreds of sessions
        by_session[_session_of(copy)].append((key, copy))
    checks = []
    for summary in _by_type(documents, "sessionSummary"):
        nested = list(_nested(summary))
        differing = [
            "/".join(str(p) for p in _identity(n) if p is not None)
            for n in nested
            if copies.get(_identity(n)) != n
        ]
        inside = {_identity(n) for n in nested}
        differing += [
            "/".join(str(p) for p in key if p is not None) + " (not nested)"
            for key, _copy in by_session.get(_session_of(summary), [])
            if key not in inside
        ]
        checks.append(
            Check(
                f"{_session_of(summary)}: nested summaries equal their own documents",
                not differing,
                f"{len(nested)} equal",
                differing or f"{len(nested)} equal",
            )
        )
    return checks


# -- cdr order ----------------------------------------------------------------------------------
def cdr_order_checks(documents: list[Document]) -> list[Check]:
    """sessionCreated first, sessionDestroyed last; per connection: joined ≤ created ≤
    destroyed ≤ left; every created endpoint destroyed once."""
    by_session: dict[Any, list[Document]] = defaultdict(list)
    for doc in _by_type(documents, "cdr"):
        by_session[_session_of(doc)].append(doc)
    checks = []
    for session_id, events in by_session.items():
        problems: list[str] = []
        # A recording may become ready after its session closed; nothing else may.
        stamps = [e["timestamp"] for e in events if e.get("event") != "recordingStatusChanged"]
        created = [e["timestamp"] for e in events if e.get("event") == "sessionCreated"]
        destroyed = [e["timestamp"] for e in events if e.get("event") == "sessionDestroyed"]
        if len(created) != 1 or created[0] != min(stamps):
            problems.append("sessionCreated is not the single first event")
        if len(destroyed) != 1 or destroyed[0] != max(stamps):
            problems.append("sessionDestroyed is not the single last event")
        per_conn: dict[Any, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        endpoints: dict[tuple[Any, Any], list[str]] = defaultdict(list)
        for e in events:
            conn = e.get("connectionId", e.get("participantId"))
            if conn is not None:
                per_conn[conn][e["event"]].append(e["timestamp"])
            if e.get("event", "").startswith("webrtcConnection"):
                endpoints[(conn, e.get("streamId"))].append(e["event"])
        for conn, kinds in per_conn.items():
            joined, left = kinds.get("participantJoined", []), kinds.get("participantLeft", [])
            if len(joined) != 1 or len(left) != 1:
                problems.append(f"{conn}: {len(joined)} joined / {len(left)} left")
                continue
            inside = kinds.get("webrtcConnectionCreated", []) + kinds.get(
                "webrtcConnectionDestroyed", []
            )
            if any(not joined[0] <= t <= left[0] for t in inside):
                problems.append(f"{conn}: an endpoint event outside its participant's stay")
        for (conn, stream), kinds_seen in endpoints.items():
            if (
                kinds_seen.count("webrtcConnectionCreated") != 1
                or kinds_seen.count("webrtcConnectionDestroyed") != 1
            ):
                problems.append(f"{conn}/{stream}: {kinds_seen}")
        checks.append(
            Check(
                f"{session_id}: cdr events in a valid order",
                not problems,
                "valid",
                problems or "valid",
            )
        )
    return checks


def invariant_checks(ledger: Ledger, documents: list[Document], tol: Tolerances) -> list[Check]:
    return digest_invariant_checks(ledger, RunDigest.of(documents), tol)


def digest_invariant_checks(ledger: Ledger, digest: RunDigest, tol: Tolerances) -> list[Check]:
    """Every invariant from a digest: the summaries and cdr events it kept whole, the last
    stats sample of each stream."""
    return (
        summary_checks(ledger, digest.kept, tol)
        + denormalization_checks(digest.kept)
        + cdr_order_checks(digest.kept)
        + (
            stats_packet_checks(ledger, digest.last_stats)
            if ServerReport.MEDIA_STATS.value in ledger.server.reports
            else []  # the server's events carry no media statistics (LiveKit)
        )
        + layer_checks(ledger)
        + talk_checks(ledger)
    )
