"""Simulcast checks, ledger against ledger: what each subscriber got from a layer against what
the publisher sent on it.

The server says which layer it relays (Janus), or the key frames' sizes do (LiveKit:
``peers.layer_tracking``); the subscriber counts frames,
bytes and the picture size it received meanwhile; the publisher sampled its bytes per layer and
VP8 temporal layer once a second. So for every settled stretch of a subscription on one layer:

* the size received is that layer's size;
* the bitrate received is what the publisher sent on that layer (and the temporal layers let
  through) over the same window, within ``TOLERANCE``;
* the frame rate is what the publisher sent on that layer and temporal layers (a live encoder
  short of CPU sends fewer than the nominal rate: 1/4, 1/2 or all of the camera's);

and each layer a subscriber asked for mid-run was relayed within ``SWITCH_WITHIN_S``. A stretch
shorter than ``MIN_SETTLED_S`` once settled is too short to hold a rate against.
"""

from __future__ import annotations

from bisect import bisect_left

from simulator.ledger import (
    LayerPeriodRecord,
    LayerRequestRecord,
    Ledger,
    PublicationRecord,
    SentLayerRecord,
)
from simulator.peers.simulcast.layers import TEMPORAL_LAYERS, temporal_fps
from simulator.verify.checks import Check

TOLERANCE = 0.15
MIN_SETTLED_S = 2.0
SWITCH_WITHIN_S = 3.0


BYTES, FRAMES = 1, 1 + TEMPORAL_LAYERS  # where a sample's columns start


def _sent_at(layer: SentLayerRecord, at_ms: float, temporal: int, column: int) -> float | None:
    """What the layer had sent by ``at_ms`` on temporal layers up to ``temporal`` (bytes or
    frames, from ``column``), linearly between its one-second samples; None outside them."""
    samples = layer.samples
    if len(samples) < 2 or not samples[0][0] <= at_ms <= samples[-1][0]:
        return None
    times = [s[0] for s in samples]
    index = max(1, bisect_left(times, at_ms))
    before, after = samples[index - 1], samples[index]

    def upto(sample: list[int]) -> int:
        return sum(sample[column : column + temporal + 1])

    span = after[0] - before[0]
    share = (at_ms - before[0]) / span if span else 0.0
    return upto(before) + share * (upto(after) - upto(before))


def sent_rate(
    layer: SentLayerRecord, from_ms: float, to_ms: float, temporal: int, column: int = BYTES
) -> float | None:
    """Bit/s (``BYTES``) or frames/s (``FRAMES``) the layer sent between two moments."""
    start = _sent_at(layer, from_ms, temporal, column)
    end = _sent_at(layer, to_ms, temporal, column)
    if start is None or end is None or to_ms <= from_ms:
        return None
    per_s = (end - start) * 1000 / (to_ms - from_ms)
    return per_s * 8 if column == BYTES else per_s


def _publications(ledger: Ledger) -> dict[str, tuple[str, PublicationRecord]]:
    return {
        pub.stream_id: (person.name, pub)
        for person in ledger.participants.values()
        for pub in person.publications
        if pub.simulcast
    }


def _period_checks(
    who: str, publisher: str, pub: PublicationRecord, period: LayerPeriodRecord
) -> list[Check]:
    layer = next((x for x in pub.layers if x.substream == period.substream), None)
    if layer is None or period.settled_from_ms is None or period.to_ms is None:
        return []
    start, end = period.settled_from_ms, period.to_ms
    if layer.samples:  # a viewer may outlast the publisher's last sample by a moment
        end = min(end, layer.samples[-1][0])
    settled_s = (end - start) / 1000
    if settled_s < MIN_SETTLED_S:
        return []
    temporal = TEMPORAL_LAYERS - 1 if period.temporal is None else period.temporal
    what = f"{who} from {publisher} on layer {layer.rid} (substream {layer.substream}"
    what += f", temporal {temporal})" if period.temporal is not None else ")"
    checks = [
        Check(
            f"{what}: picture size",
            (period.width, period.height) == (layer.width, layer.height),
            f"{layer.width}x{layer.height}",
            f"{period.width}x{period.height}",
            f"{period.frames} frames",
        )
    ]
    sent = sent_rate(layer, start, end, temporal)
    received = period.settled_bytes * 8 / settled_s
    checks.append(
        _within(f"{what}: bitrate", sent, received, 1000, "kbit/s", f"over {settled_s:.1f} s")
    )
    sent_fps = sent_rate(layer, start, end, temporal, FRAMES)
    nominal = f"the layer's nominal {temporal_fps(layer.fps, temporal):g} fps"
    checks.append(
        _within(
            f"{what}: frame rate", sent_fps, period.settled_frames / settled_s, 1, "fps", nominal
        )
    )
    return checks


def _within(
    name: str, sent: float | None, received: float, unit: float, units: str, detail: str
) -> Check:
    if sent is None or sent <= 0:
        return Check(name, False, "publisher samples", "none", detail)
    return Check(
        name,
        abs(received - sent) <= TOLERANCE * sent,
        f"{sent / unit:.1f} {units} sent ± {TOLERANCE:.0%}",
        f"{received / unit:.1f} {units}",
        detail,
    )


def layer_checks(ledger: Ledger) -> list[Check]:
    publications = _publications(ledger)
    checks: list[Check] = []
    for name, pub in publications.values():
        checks.append(
            Check(
                f"{name}: the server took the video as simulcast",
                bool(pub.simulcast_accepted),
                True,
                pub.simulcast_accepted,
            )
        )
        sending = [layer.rid for layer in pub.layers if layer.packets > 0]
        checks.append(
            Check(
                f"{name}: layers sent",
                len(sending) == len(pub.layers),
                ", ".join(layer.rid for layer in pub.layers),
                ", ".join(sending) or "none",
            )
        )
    for person in ledger.participants.values():
        for sub in person.subscriptions:
            if sub.stream_id not in publications:
                continue
            publisher, pub = publications[sub.stream_id]
            for period in sub.layers:
                checks += _period_checks(person.name, publisher, pub, period)
            checks += _switch_checks(person.name, publisher, sub.layer_requests[1:], sub.layers)
    return checks


def _switch_checks(
    who: str,
    publisher: str,
    requests: list[LayerRequestRecord],
    periods: list[LayerPeriodRecord],
) -> list[Check]:
    """Each layer asked for after subscribing came within ``SWITCH_WITHIN_S``."""
    checks: list[Check] = []
    for request in requests:
        came = next(
            (
                p
                for p in periods
                if p.from_ms >= request.at_ms
                and request.substream in (None, p.substream)
                and request.temporal in (None, p.temporal)
            ),
            None,
        )
        took_s = None if came is None else (came.from_ms - request.at_ms) / 1000
        checks.append(
            Check(
                f"{who} asked {publisher} for substream {request.substream}, temporal "
                f"{request.temporal}: relayed",
                took_s is not None and took_s <= SWITCH_WITHIN_S,
                f"within {SWITCH_WITHIN_S:g} s",
                "never" if took_s is None else f"after {took_s:.2f} s",
            )
        )
    return checks
