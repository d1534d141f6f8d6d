"""Server packet counts against what the peers sent (a built-in invariant).

The server's last ``webrtcStats`` sample of a publisher's stream counts what Janus received and
lost; the peer's ledger counts what it sent. They agree within a tolerance, and where the run
injected a steady uplink loss, the server's loss matches it.
"""

from __future__ import annotations

from typing import Any

from simulator.ledger import ConnectionRecord, Ledger, PublicationRecord
from simulator.verify.checks import Check
from simulator.verify.store_reader import Document

PACKET_TOLERANCE = 0.10  # of what was sent, or PACKET_FLOOR, whichever is larger
PACKET_FLOOR = 100  # the server's last stats sample may be a second old (~50 audio packets)
LOSS_TOLERANCE_PCT = 5.0


def _uplink_loss_pct(conn: ConnectionRecord, pub: PublicationRecord) -> float | None:
    """The loss in force on the uplink over the whole publication, or None if it changed."""
    start, end = pub.started_ms, pub.ended_ms or pub.started_ms
    losses = set()
    current = 0.0
    for change in conn.impairments:
        affects_up = change["direction"] in ("up", "both")
        value = float(change["loss_pct"]) if affects_up else 0.0
        if change["at_ms"] <= start + 2000:  # set up to 2 s after publishing: the whole run
            current = value
        elif change["at_ms"] < end:
            losses.add(value)
    losses.add(current)
    return losses.pop() if len(losses) == 1 else None


def stats_packet_checks(ledger: Ledger, stats: dict[tuple[Any, Any], Document]) -> list[Check]:
    """The peers' sent packets against the server's last stats sample of each stream
    (``RunDigest.last_stats``: the latest server-side ``webrtcStats`` per endpoint and kind)."""
    checks: list[Check] = []
    for person in ledger.participants.values():
        for conn in person.connections:
            for pub in conn.publications:
                loss = _uplink_loss_pct(conn, pub)
                for kind, sent in pub.sent.items():
                    doc = stats.get((pub.stream_id, kind))
                    label = f"{person.name} {kind} packets at the server"
                    if doc is None or sent.packets == 0:
                        checks.append(Check(label, False, "server stats", "none"))
                        continue
                    seen = int(doc.get("packetsReceived", 0)) + int(doc.get("packetsLost", 0))
                    slack = max(PACKET_FLOOR, PACKET_TOLERANCE * sent.packets)
                    checks.append(
                        Check(
                            label,
                            abs(seen - sent.packets) <= slack,
                            f"{sent.packets} ± {slack:.0f}",
                            seen,
                            "received + lost",
                        )
                    )
                    if loss is not None and seen > 0:
                        measured = 100 * int(doc.get("packetsLost", 0)) / seen
                        checks.append(
                            Check(
                                f"{person.name} {kind} uplink loss seen by the server",
                                abs(measured - loss) <= LOSS_TOLERANCE_PCT,
                                f"{loss:g} % ± {LOSS_TOLERANCE_PCT:g}",
                                round(measured, 1),
                            )
                        )
    return checks
