from simulator.ledger import (
    ConnectionRecord,
    LayerPeriodRecord,
    LayerRequestRecord,
    Ledger,
    ParticipantRecord,
    PublicationRecord,
    SentLayerRecord,
    SubscriptionRecord,
)
from simulator.verify.layers import FRAMES, layer_checks, sent_rate

T0 = 1_000_000


def _layer(rid: str, substream: int, width: int, height: int, bps: int) -> SentLayerRecord:
    per_s = bps // 8
    # Cumulative once a second: TID 0/1/2 carry 40/20/40 % of the bytes and 7.5/7.5/15 of
    # the 30 frames a second.
    samples = []
    for s in range(21):
        sent = per_s * s
        samples.append([T0 + 1000 * s, sent * 4 // 10, sent * 2 // 10, sent * 4 // 10])
        samples[-1] += [s * 15 // 2, s * 15 // 2, s * 15]
    return SentLayerRecord(rid, substream, width, height, 30, bps, packets=100, samples=samples)


def _ledger(period: LayerPeriodRecord, requests: list[LayerRequestRecord]) -> Ledger:
    pub = PublicationRecord(
        "cam_CAMERA_X", True, True, 1280, 720, 30, T0, simulcast=True, simulcast_accepted=True
    )
    pub.layers = [
        _layer("h", 2, 1280, 720, 1_500_000),
        _layer("m", 1, 640, 360, 500_000),
        _layer("l", 0, 320, 180, 150_000),
    ]
    sub = SubscriptionRecord(
        "cam", "c", "cam_CAMERA_X", T0, layers=[period], layer_requests=requests
    )
    ledger = Ledger("run", "s", 0, T0)
    for name, conn in (
        ("cam", ConnectionRecord("c", "s", publications=[pub])),
        ("viewer", ConnectionRecord("v", "s", subscriptions=[sub])),
    ):
        ledger.participants[name] = ParticipantRecord(name, name, "r", "", "", [conn])
    return ledger


def _period(**changes: object) -> LayerPeriodRecord:
    fields: dict[str, object] = dict(
        substream=1,
        temporal=2,
        from_ms=T0 + 2000,
        to_ms=T0 + 12_000,
        width=640,
        height=360,
        settled_from_ms=T0 + 3000,
        settled_frames=270,
        settled_bytes=500_000 // 8 * 9,
    )
    fields.update(changes)
    return LayerPeriodRecord(**fields)  # type: ignore[arg-type]


def _failed(ledger: Ledger) -> list[str]:
    return [c.name for c in layer_checks(ledger) if not c.ok]


def test_a_viewer_that_got_its_layer_at_its_size_rate_and_frame_rate_passes() -> None:
    checks = layer_checks(_ledger(_period(), []))
    assert [c.ok for c in checks]
    assert all(c.ok for c in checks)
    assert {c.name.split(": ")[-1] for c in checks} >= {"picture size", "bitrate", "frame rate"}


def test_the_wrong_size_or_a_rate_off_by_more_than_15_percent_fails() -> None:
    assert _failed(_ledger(_period(width=1280, height=720), [])) == [
        "viewer from cam on layer m (substream 1, temporal 2): picture size"
    ]
    assert _failed(_ledger(_period(settled_bytes=500_000 // 8 * 9 * 13 // 10), [])) == [
        "viewer from cam on layer m (substream 1, temporal 2): bitrate"
    ]


def test_a_base_temporal_layer_is_held_against_its_share_of_bytes_and_frames() -> None:
    base = _period(temporal=0, settled_frames=68, settled_bytes=500_000 // 8 * 9 * 4 // 10)
    assert _failed(_ledger(base, [])) == []
    assert _failed(_ledger(_period(temporal=0), [])) != []


def test_a_layer_asked_for_that_never_came_fails() -> None:
    asked = [LayerRequestRecord(T0, None, None), LayerRequestRecord(T0 + 5000, 0, None)]
    assert _failed(_ledger(_period(), asked)) == [
        "viewer asked cam for substream 0, temporal None: relayed"
    ]


def test_the_sent_rate_is_read_between_the_publishers_samples() -> None:
    layer = _layer("m", 1, 640, 360, 500_000)
    assert sent_rate(layer, T0 + 1500, T0 + 3500, 2) == 500_000
    assert sent_rate(layer, T0 + 1500, T0 + 3500, 0) == 200_000
    assert sent_rate(layer, T0 + 1500, T0 + 3500, 1, FRAMES) == 15
    assert sent_rate(layer, T0 + 1500, T0 + 99_000, 2) is None
