"""Media options from a scenario, and what the peers saw of simulcast, key frames and talking.

The peers keep these on the media loop as they happen; the executors copy them into the
ledger's records when a publication or subscription ends, as they copy the frame counters.
"""

from __future__ import annotations

import hashlib

from simulator.ledger import (
    ConnectionRecord,
    KeyframeRecord,
    LatencyRecord,
    LayerPeriodRecord,
    LayerRequestRecord,
    PublicationRecord,
    ReceptionRecord,
    SentLayerRecord,
    SubscriptionRecord,
    TalkingRecord,
    now_ms,
)
from simulator.participant import Participant
from simulator.peers.cheap import PacketTrack
from simulator.peers.peer_state import PublisherState, SubscriptionState
from simulator.peers.publishing import TalkOptions
from simulator.peers.reception import reception
from simulator.peers.simulcast.publisher import SimulcastVideo
from simulator.scenario.model import TalkSpec


def talk_options(scenario_seed: int, who: str, spec: TalkSpec) -> TalkOptions:
    """A talker's options; its seed is the spec's, else one made of the scenario's seed and
    the name, so a rerun speaks the same spurts and two talkers do not speak in unison."""
    seed = spec.seed if spec.seed is not None else _name_seed(scenario_seed, who)
    return TalkOptions(
        pattern=tuple(spec.pattern) if spec.pattern is not None else None,
        speak_mean_s=spec.speak_mean_s,
        pause_mean_s=spec.pause_mean_s,
        seed=seed,
    )


def _name_seed(seed: int, name: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}:{name}".encode()).digest()[:8], "big")


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def publication_media(record: PublicationRecord, state: PublisherState) -> None:
    """Layers sent, key frame requests answered and talk spurts spoken, into ``record``."""
    video = state.video
    if isinstance(video, SimulcastVideo):
        record.simulcast = True
        record.simulcast_accepted = any(
            s.get("type") == "video" and s.get("simulcast") for s in state.server_streams
        )
        record.server_layers = [
            str(layer.get("rid", ""))
            for s in state.server_streams
            if s.get("type") == "video"
            for layer in s.get("layers", [])
        ]
        record.layers = []
        for layer_state in video.states:
            layer = layer_state.layer
            sent = SentLayerRecord(
                rid=layer.rid,
                substream=layer.substream,
                width=layer.width,
                height=layer.height,
                fps=layer.fps,
                target_bitrate_bps=layer.bitrate_bps,
                keyframe_requests=layer_state.source.keyframe_requests,
                keyframe_answer_max_ms=_ms(layer_state.source.keyframe_answer_max_s),
                keyframe_answer_max_frames=layer_state.source.keyframe_answer_max_frames,
                active=[list(period) for period in layer_state.active_periods],
                # The last sample is now: the window of a viewer that leaves with us ends here.
                samples=[list(s) for s in layer_state.samples] + [layer_state.sample(now_ms())],
            )
            if layer_state.stream is not None:
                counters = layer_state.stream.counters
                sent.frames, sent.packets = counters.frames, counters.packets
                sent.bytes, sent.keyframes = counters.bytes, counters.keyframes
            record.layers.append(sent)
    elif isinstance(video, PacketTrack):
        record.keyframes = KeyframeRecord(
            requests=video.keyframe_requests,
            answered=video.keyframes_answered,
            answer_max_ms=_ms(video.keyframe_answer_max_s),
            answer_max_frames=video.keyframe_answer_max_frames,
        )
    audio = state.audio
    if audio is not None and audio.talk is not None:
        record.talk_spurts = audio.talk.spurts_ms()


def subscription_layers(record: SubscriptionRecord, state: SubscriptionState) -> None:
    """The layers Janus relayed to this subscription and what came on each."""
    tracker = state.layers
    record.layer_requests = [
        LayerRequestRecord(r.at_ms, r.substream, r.temporal) for r in tracker.requests
    ]
    record.layers = []
    for period in tracker.periods:
        size = period.size
        record.layers.append(
            LayerPeriodRecord(
                substream=period.substream,
                temporal=period.temporal,
                from_ms=period.from_ms,
                to_ms=period.to_ms if period.to_ms is not None else now_ms(),
                requested_ms=period.requested_ms,
                width=size[0] if size else None,
                height=size[1] if size else None,
                frames=period.frames,
                bytes=period.bytes,
                keyframes=period.keyframes,
                settled_from_ms=period.settled_from_ms,
                settled_frames=period.settled_frames,
                settled_bytes=period.settled_bytes,
            )
        )


def talking(record: ConnectionRecord, participant: Participant) -> None:
    """The talking notifications Janus sent this participant."""
    record.talking = [
        TalkingRecord(at_ms, feed, talking, level)
        for at_ms, feed, talking, level in participant.talking
    ]


def subscription_reception(record: SubscriptionRecord, state: SubscriptionState) -> None:
    """RTP loss and jitter per kind (``peers.reception``) and video latency
    (``peers.latency``) of a subscription that ends."""
    record.reception = {
        kind: ReceptionRecord(seen.expected, seen.lost, seen.jitter_ms)
        for kind, seen in reception(state.pc, state.media_transceivers()).items()
    }
    meter = state.latency
    if meter is not None and (meter.samples or meter.unmatched):
        summary = meter.summary()
        record.latency = LatencyRecord(
            frames=summary.frames,
            unmatched=meter.unmatched,
            p50_ms=_round(summary.p50_ms),
            p95_ms=_round(summary.p95_ms),
            max_ms=_round(summary.max_ms),
            histogram=meter.histogram(),
        )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
