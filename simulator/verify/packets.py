"""Server packet counts against what the peers sent (a built-in invariant), per publication and
media, and per simulcast layer: each layer is its own RTP stream at the server.

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


def layer_index(value: Any) -> int | None:
    """A document's simulcast layer as Janus's substream index (0 = lowest), whichever way it
    is written: the index, Janus's media name (``video``, ``video-sim1``, ``video-sim2``: with
    the rids in h, m, l order the base m-line stream is the lowest layer) or janus.js's rid."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    text = str(value).lower()
    named = {"video": 0, "video-sim1": 1, "video-sim2": 2, "l": 0, "m": 1, "h": 2}
    if text in named:
        return named[text]
    return int(text[-1]) if text[-1:].isdigit() else None


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


StatsKey = tuple[Any, Any, int | None]
"""(endpoint, mediaType, simulcast layer index or None)."""


def stats_key(doc: Document) -> StatsKey:
    return (doc.get("endpoint"), doc.get("mediaType"), layer_index(doc.get("layer")))


def stats_packet_checks(ledger: Ledger, stats: dict[StatsKey, Document]) -> list[Check]:
    """The peers' sent packets against the server's last stats sample of each stream
    (``RunDigest.last_stats``: the latest server-side ``webrtcStats`` per ``stats_key``)."""
    checks: list[Check] = []
    for person in ledger.participants.values():
        for conn in person.connections:
            for pub in conn.publications:
                loss = _uplink_loss_pct(conn, pub)
                for kind, sent in pub.sent.items():
                    if kind == "video" and pub.layers:
                        # A simulcast publisher's video: one count per layer (its own SSRC).
                        for layer in pub.layers:
                            doc = stats.get((pub.stream_id, kind, layer.substream))
                            if doc is None and layer.substream == 0:
                                doc = stats.get((pub.stream_id, kind, None))
                            label = f"{person.name} video layer {layer.rid} packets at the server"
                            checks += _packet_check(label, doc, layer.packets, loss)
                        continue
                    doc = stats.get((pub.stream_id, kind, None))
                    checks += _packet_check(
                        f"{person.name} {kind} packets at the server", doc, sent.packets, loss
                    )
    return checks


def _packet_check(
    label: str, doc: Document | None, sent_packets: int, loss: float | None
) -> list[Check]:
    if doc is None or sent_packets == 0:
        return [Check(label, False, "server stats", "none")]
    seen = int(doc.get("packetsReceived", 0)) + int(doc.get("packetsLost", 0))
    slack = max(PACKET_FLOOR, PACKET_TOLERANCE * sent_packets)
    checks = [
        Check(
            label,
            abs(seen - sent_packets) <= slack,
            f"{sent_packets} ± {slack:.0f}",
            seen,
            "received + lost",
        )
    ]
    if loss is not None and seen > 0:
        measured = 100 * int(doc.get("packetsLost", 0)) / seen
        checks.append(
            Check(
                label.replace("packets at the server", "uplink loss seen by the server"),
                abs(measured - loss) <= LOSS_TOLERANCE_PCT,
                f"{loss:g} % ± {LOSS_TOLERANCE_PCT:g}",
                round(measured, 1),
            )
        )
    return checks
