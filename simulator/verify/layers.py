"""Simulcast checks, ledger against ledger: what each subscriber got from a layer against what
the publisher sent on it.

Janus says which layer it relays (``peers.layer_tracking``); the subscriber counts frames,
bytes and the picture size it received meanwhile; the publisher sampled its bytes per layer and
VP8 temporal layer once a second. So for every settled stretch of a subscription on one layer:

* the size received is that layer's size;
* the bitrate received is what the publisher sent on that layer (and the temporal layers let
  through) over the same window, within ``TOLERANCE``;
* the frame rate is the layer's, thinned by the temporal layers let through (1/4, 1/2, all);

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


def _sent_bytes_at(layer: SentLayerRecord, at_ms: float, temporal: int) -> float | None:
    """Bytes the layer had sent by ``at_ms`` on temporal layers up to ``temporal``, linearly
    between its one-second samples; None outside them."""
    samples = layer.samples
    if len(samples) < 2 or not samples[0][0] <= at_ms <= samples[-1][0]:
        return None
    times = [s[0] for s in samples]
    index = max(1, bisect_left(times, at_ms))
    before, after = samples[index - 1], samples[index]

    def upto(sample: list[int]) -> int:
        return sum(sample[1 : 2 + temporal])

    span = after[0] - before[0]
    share = (at_ms - before[0]) / span if span else 0.0
    return upto(before) + share * (upto(after) - upto(before))


def sent_rate_bps(
    layer: SentLayerRecord, from_ms: float, to_ms: float, temporal: int
) -> float | None:
    start = _sent_bytes_at(layer, from_ms, temporal)
    end = _sent_bytes_at(layer, to_ms, temporal)
    if start is None or end is None or to_ms <= from_ms:
        return None
    return (end - start) * 8000 / (to_ms - from_ms)


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
    settled_s = (period.to_ms - period.settled_from_ms) / 1000
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
    sent = sent_rate_bps(layer, period.settled_from_ms, period.to_ms, temporal)
    received = period.settled_bytes * 8 / settled_s
    if sent is None or sent <= 0:
        checks.append(Check(f"{what}: bitrate", False, "publisher samples", "none"))
    else:
        checks.append(
            Check(
                f"{what}: bitrate",
                abs(received - sent) <= TOLERANCE * sent,
                f"{sent / 1000:.0f} kbit/s ± {TOLERANCE:.0%}",
                f"{received / 1000:.0f} kbit/s",
                f"over {settled_s:.1f} s",
            )
        )
    fps = temporal_fps(layer.fps, temporal)
    got_fps = period.settled_frames / settled_s
    checks.append(
        Check(
            f"{what}: frame rate",
            abs(got_fps - fps) <= TOLERANCE * fps,
            f"{fps:g} fps ± {TOLERANCE:.0%}",
            f"{got_fps:.1f} fps",
        )
    )
    return checks


def layer_checks(ledger: Ledger) -> list[Check]:
    publications = _publications(ledger)
    checks: list[Check] = []
    for name, pub in publications.values():
        checks.append(
            Check(
                f"{name}: Janus took the video as simulcast",
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
