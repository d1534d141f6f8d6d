"""What Janus's webrtc, media and jsep events do to endpoints.

``JanusEndpointEvents`` decides which endpoint an event belongs to (the handle's, a publisher's
created when its control handle negotiates, or held until the endpoint exists);
``apply_endpoint_event`` what it does there: kms documents (see ``collector.model.kms``), a
webrtcConnectionCreated on ``webrtcup``, or a new stats sample. A return value of True says the
network failed (a hangup with a failure reason, such as ``ICE failed``), so the endpoint closes
with ``networkDisconnect``. An ICE ``failed`` state alone is not that yet: Janus gives ICE 5 s (15 s
while trickled candidates or the answer are pending) to recover before it hangs up
(``ice.c``, ``janus_ice_check_failed``); it marks the endpoint (``Endpoint.ice_failed``), so
that what Janus then ends first (the VideoRoom's ``unpublished``/``unsubscribed``, which it
reports before the ``hangup`` itself) ends for the network.
"""

from __future__ import annotations

from collector.documents import KmsEventType
from collector.events.janus import (
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
from collector.model.context import ModelContext, Outbox
from collector.model.endpoints import EndpointTracker
from collector.model.kms import candidate_pair, kms_event, media_type, state_change
from collector.model.state import Connection, Endpoint, MediaSample, Role
from collector.model.webrtc_stats import LAYERS
from collector.reasons import hangup_means_network_failure
from collector.sources.janus.handles import Handle, JanusHandles

MAX_PENDING_PER_HANDLE = 256


def apply_endpoint_event(
    ep: Endpoint, event: JanusEvent, endpoints: EndpointTracker, out: Outbox
) -> bool:
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
        return _on_pc_state(ep, p, ts, endpoints, out)
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


def _on_pc_state(
    ep: Endpoint, p: PcStateEvent, ts: int, endpoints: EndpointTracker, out: Outbox
) -> bool:
    if p.connection == "webrtcup":
        if endpoints.start(ep, ts):
            out.extend(state_change(ep, ts, up=True))
    elif p.connection == "hangup":
        if ep.started_at_ms is not None:
            out.extend(state_change(ep, ts, up=False))
        return hangup_means_network_failure(p.reason)
    return False


def _on_stats(ep: Endpoint, p: MediaStatsEvent, ts: int, out: Outbox) -> None:
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


class JanusEndpointEvents:
    """Routes each webrtc/media/jsep event to its endpoint, or holds it until there is one."""

    def __init__(
        self, ctx: ModelContext, handles: JanusHandles, endpoints: EndpointTracker
    ) -> None:
        self._handles = handles
        self._endpoints = endpoints
        self._out = ctx.out
        self.counters = ctx.counters

    def publisher(self, conn: Connection, ts: int) -> Endpoint:
        """The connection's open publisher endpoint, created (on its control handle) if it
        publishes anew."""
        key = conn.control_handle_id or 0
        ep = self._endpoints.open_publisher(
            conn, ts, key=key, remb_bps=self._handles.bitrates.get(key)
        )
        handle = self._handles.handles.get(key)
        if handle is not None:
            handle.endpoint = ep
        return ep

    def on_event(self, event: JanusEvent) -> None:
        handles = self._handles
        handle = handles.handle_of(event)
        if handle is None:
            self.counters["unattributed_endpoint_event"] += 1
            return
        ep = handle.endpoint
        conn = handles.connection_of(handle)
        if handle.role is Role.PUBLISHER and conn is not None:
            new_offer = (
                isinstance(event.payload, JsepEvent)
                and event.payload.owner == "remote"
                and event.payload.jsep.type == "offer"
            )
            if ep is None or (ep.closed and new_offer):
                # Janus only negotiates media on the control handle to publish.
                ep = self.publisher(conn, event.timestamp_ms)
        if ep is None:
            if len(handle.pending) < MAX_PENDING_PER_HANDLE:
                handle.pending.append(event)
            else:
                self.counters["pending_overflow"] += 1
            return
        if not ep.closed:
            self._apply(ep, event)

    def replay_pending(self, handle: Handle) -> None:
        pending, handle.pending = handle.pending, []
        for event in pending:
            self.on_event(event)

    def _apply(self, ep: Endpoint, event: JanusEvent) -> None:
        if apply_endpoint_event(ep, event, self._endpoints, self._out):
            self._endpoints.network_failure(ep, event.timestamp_ms)
        conn = ep.connection
        payload = event.payload
        if (
            conn.identity_from_janus
            and conn.identity.ip == "unknown"
            and isinstance(payload, SelectedPairEvent)
            and payload.candidates is not None
        ):
            # Nobody told us the client's address: the one ICE connected to is it.
            conn.identity = conn.identity.model_copy(
                update={"ip": payload.candidates.remote.address}
            )
