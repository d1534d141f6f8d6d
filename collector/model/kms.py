"""Janus webrtc/media events translated into the Kurento endpoint events OpenVidu stored.

| Janus event                         | kms ``type``                               |
|-------------------------------------|--------------------------------------------|
| 16/1 ``ice`` gathering…failed        | IceComponentStateChange, ``state`` upper   |
| 8 local JSEP (Janus sends its SDP   | IceGatheringDone (Janus, without full      |
|   once gathering is done)           |   trickle, waits for gathering to finish)  |
| 16/4 selected-pair                  | NewCandidatePairSelected                   |
| 16/6 webrtcup / hangup              | MediaStateChanged + ConnectionStateChanged |
| 32/1 media receiving (publisher)    | MediaFlowInStateChange                     |
| 32/3 first packets sent (subscriber)| MediaFlowOutStateChange FLOWING            |

The dashboard's "ICE gathering time" and "time to select a candidate pair" are the
``msSinceEndpointCreation`` of IceGatheringDone and NewCandidatePairSelected.
"""

from __future__ import annotations

from typing import Any, Literal

from collector.documents import CandidatePair, KmsEvent, KmsEventType
from collector.events.janus import CandidateInfo, SelectedPairEvent
from collector.model.state import Endpoint


def kms_event(
    endpoint: Endpoint, kind: KmsEventType, timestamp_ms: int, **payload: Any
) -> KmsEvent:
    """A kms document for ``endpoint``, with OpenVidu's identity fields filled in."""
    conn = endpoint.connection
    session = conn.session
    return KmsEvent(
        type=kind,
        timestamp=timestamp_ms,
        session=session.session_id,
        sessionId=session.session_id,
        uniqueSessionId=session.unique_id,
        user=conn.identity.user,
        connection=conn.connection_id,
        connectionId=conn.connection_id,
        endpoint=endpoint.name,
        msSinceEndpointCreation=max(0, timestamp_ms - endpoint.created_at_ms),
        rtcsim_run_id=session.run_id,
        **payload,
    )


def media_type(media: str) -> Literal["AUDIO", "VIDEO", "DATA"]:
    kind = media.strip().lower()
    if kind == "audio":
        return "AUDIO"
    if kind.startswith("video"):  # video-sim1, video-sim2: a simulcast layer
        return "VIDEO"
    return "DATA"


def _candidate_text(info: CandidateInfo, component_id: int, known: list[str]) -> str:
    """The SDP candidate reported earlier for this address and of the type Janus's selected
    pair names, else one built from the pair.

    A browser trickles its candidates, and Janus may report a peer-reflexive (``prflx``)
    candidate for an address before the trickled ``host`` one for the same address arrives:
    the pair's own type decides which text is the selected one. Trickled candidates may end
    with CRLF (SDP line endings); kms documents carry the bare attribute value.
    """
    needle = f" {info.address} {info.port} typ {info.type}"
    for candidate in known:
        text = candidate.strip()
        if needle in text and (text + " ")[text.index(needle) + len(needle)] == " ":
            return text if text.startswith("candidate:") else f"candidate:{text}"
    return (
        f"candidate:1 {component_id} {info.transport} 0 {info.address} {info.port} typ {info.type}"
    )


def candidate_pair(endpoint: Endpoint, event: SelectedPairEvent) -> CandidatePair:
    """Kurento's ``candidatePair``; falls back to Janus's text form when no structure is given."""
    if event.candidates is not None:
        local = _candidate_text(
            event.candidates.local, event.component_id, endpoint.local_candidates
        )
        remote = _candidate_text(
            event.candidates.remote, event.component_id, endpoint.remote_candidates
        )
    else:
        local, _, remote = event.selected_pair.partition(" <-> ")
    return CandidatePair(
        streamId=str(event.stream_id),
        componentId=event.component_id,
        localCandidate=local,
        remoteCandidate=remote,
    )


def state_change(endpoint: Endpoint, timestamp_ms: int, up: bool) -> list[KmsEvent]:
    """webrtcup / hangup: both the media state and the connection state flip."""
    old, new = ("DISCONNECTED", "CONNECTED") if up else ("CONNECTED", "DISCONNECTED")
    return [
        kms_event(endpoint, kind, timestamp_ms, oldState=old, newState=new)
        for kind in (KmsEventType.MEDIA_STATE_CHANGED, KmsEventType.CONNECTION_STATE_CHANGED)
    ]
