"""What one Janus webrtc/media/jsep event does to a known endpoint.

Split from ``collector.session_model`` (which decides *which* endpoint an event belongs to): here
each event becomes kms documents (see ``collector.kms_mapping``), a webrtcConnectionCreated on
``webrtcup``, or a new stats sample. A return value of True tells the model the network failed
(a hangup with a failure reason, such as ``ICE failed``), so it can close the endpoint with
``networkDisconnect``. An ICE ``failed`` state alone is not that yet: Janus gives ICE 5 s (15 s
while trickled candidates or the answer are pending) to recover before it hangs up
(``ice.c``, ``janus_ice_check_failed``); it marks the endpoint (``Endpoint.ice_failed``), so
that what Janus then ends first (the VideoRoom's ``unpublished``/``unsubscribed``, which it
reports before the ``hangup`` itself) ends for the network.
"""

from __future__ import annotations

from collector.documents import Document, KmsEventType, WebrtcConnectionCreated
from collector.janus_events import (
    IceStateEvent,
    JanusEvent,
    JsepEvent,
    LocalCandidateEvent,
    MediaStateEvent,
    MediaStatsEvent,
    PcStateEvent,
    RemoteCandidateEvent,
    SelectedPairEvent,
)
from collector.kms_mapping import candidate_pair, kms_event, media_type, state_change
from collector.reasons import hangup_means_network_failure
from collector.session_state import Endpoint, MediaSample, Role
from collector.webrtc_stats import LAYERS


def webrtc_fields(ep: Endpoint, ts: int) -> dict[str, object]:
    """The fields webrtcConnectionCreated and ...Destroyed share (CDREventWebrtcConnection)."""
    conn = ep.connection
    session = conn.session
    opts = ep.stream
    return {
        "timestamp": ts,
        "sessionId": session.session_id,
        "uniqueSessionId": session.unique_id,
        "rtcsim_run_id": session.run_id,
        "streamId": ep.stream_id,
        "participantId": conn.connection_id,
        "connectionId": conn.connection_id,
        "user": conn.identity.user,
        "connection": "OUTBOUND" if ep.role is Role.PUBLISHER else "INBOUND",
        "receivingFrom": ep.receiving_from,
        "videoSource": opts.videoSource if opts.videoEnabled else None,
        "videoFramerate": opts.videoFramerate if opts.videoEnabled else None,
        "videoDimensions": opts.videoDimensions if opts.videoEnabled else None,
        "audioEnabled": opts.audioEnabled,
        "videoEnabled": opts.videoEnabled,
    }


def apply_endpoint_event(ep: Endpoint, event: JanusEvent, out: list[Document]) -> bool:
    """Append the documents ``event`` causes on ``ep``; True when it says the network failed."""
    ts = event.timestamp_ms
    p = event.payload
    if isinstance(p, JsepEvent):
        if p.owner == "local" and not ep.gathering_done:
            ep.gathering_done = True
            out.append(kms_event(ep, KmsEventType.ICE_GATHERING_DONE, ts))
    elif isinstance(p, IceStateEvent):
        state = p.ice.upper()
        out.append(
            kms_event(
                ep,
                KmsEventType.ICE_COMPONENT_STATE_CHANGE,
                ts,
                streamId=p.stream_id,
                componentId=p.component_id,
                state=state,
            )
        )
        if state == "FAILED":
            ep.ice_failed = True
        elif state in ("CONNECTED", "READY"):
            ep.ice_failed = False
    elif isinstance(p, LocalCandidateEvent):
        ep.local_candidates.append(p.candidate.strip())
    elif isinstance(p, RemoteCandidateEvent):
        ep.remote_candidates.append(p.candidate.strip())
    elif isinstance(p, SelectedPairEvent):
        pair = candidate_pair(ep, p)
        out.append(kms_event(ep, KmsEventType.NEW_CANDIDATE_PAIR_SELECTED, ts, candidatePair=pair))
    elif isinstance(p, PcStateEvent):
        return _on_pc_state(ep, p, ts, out)
    elif isinstance(p, MediaStateEvent):
        kind = (
            KmsEventType.MEDIA_FLOW_IN_STATE_CHANGE
            if ep.role is Role.PUBLISHER
            else KmsEventType.MEDIA_FLOW_OUT_STATE_CHANGE
        )
        state = "FLOWING" if p.receiving else "NOT_FLOWING"
        out.append(
            kms_event(ep, kind, ts, state=state, padName="default", mediaType=media_type(p.media))
        )
    elif isinstance(p, MediaStatsEvent):
        _on_stats(ep, p, ts, out)
    return False


def _on_pc_state(ep: Endpoint, p: PcStateEvent, ts: int, out: list[Document]) -> bool:
    if p.connection == "webrtcup":
        if ep.started_at_ms is not None:
            return False
        ep.started_at_ms = ts
        out.append(WebrtcConnectionCreated.model_validate(webrtc_fields(ep, ts)))
        out.extend(state_change(ep, ts, up=True))
    elif p.connection == "hangup":
        if ep.started_at_ms is not None:
            out.extend(state_change(ep, ts, up=False))
        return hangup_means_network_failure(p.reason)
    return False


def _on_stats(ep: Endpoint, p: MediaStatsEvent, ts: int, out: list[Document]) -> None:
    if p.media not in LAYERS and p.media != "audio":
        return  # a data channel's counters: not RTP, no webrtcStats of OpenVidu's
    if p.media != "video" and p.media in LAYERS:
        ep.simulcast = True
    sample = ep.media.get(p.media)
    if sample is None:
        sample = ep.media[p.media] = MediaSample(latest=p, latest_ms=ts)
    else:
        sample.latest, sample.latest_ms = p, ts
    if ep.role is Role.SUBSCRIBER:
        if p.remb_bitrate is not None:
            ep.remb_bps = p.remb_bitrate
        if p.packets_sent > 0 and not sample.flowing_reported:
            # Janus has no "media flowing out" event; the first packets sent are that fact.
            sample.flowing_reported = True
            out.append(
                kms_event(
                    ep,
                    KmsEventType.MEDIA_FLOW_OUT_STATE_CHANGE,
                    ts,
                    state="FLOWING",
                    padName="default",
                    mediaType=media_type(p.media),
                )
            )
