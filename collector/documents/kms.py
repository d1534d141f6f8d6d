"""``elastic_type: "kms"``: endpoint events, named as Kurento names them.

OpenVidu stored Kurento's WebRtcEndpoint events (``openvidu-documents.md`` §3). Janus reports the
same facts as webrtc/media events; ``collector.model.kms`` translates them. Names are Kurento 6
(OpenVidu ≤ 2.23, the seed's era): ``IceComponentStateChange``, ``MediaFlowInStateChange``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict

from collector.documents.base import Document


class KmsEventType(StrEnum):
    ICE_COMPONENT_STATE_CHANGE = "IceComponentStateChange"
    ICE_GATHERING_DONE = "IceGatheringDone"
    NEW_CANDIDATE_PAIR_SELECTED = "NewCandidatePairSelected"
    CONNECTION_STATE_CHANGED = "ConnectionStateChanged"
    MEDIA_STATE_CHANGED = "MediaStateChanged"
    MEDIA_FLOW_IN_STATE_CHANGE = "MediaFlowInStateChange"
    MEDIA_FLOW_OUT_STATE_CHANGE = "MediaFlowOutStateChange"


class CandidatePair(BaseModel):
    """Kurento ``IceCandidatePair``: ``streamId`` is a string there, unlike the event's."""

    model_config = ConfigDict(frozen=True)

    streamId: str
    componentId: int
    localCandidate: str
    remoteCandidate: str


class KmsPayload(BaseModel):
    """The fields of an endpoint event that depend on its ``type`` (Kurento's event classes)."""

    streamId: int | None = None
    componentId: int | None = None
    state: str | None = None
    candidatePair: CandidatePair | None = None
    oldState: str | None = None
    newState: str | None = None
    padName: str | None = None
    mediaType: Literal["AUDIO", "VIDEO", "DATA"] | None = None


class KmsEvent(Document, KmsPayload):
    """One endpoint event; payload fields (``KmsPayload``) depend on ``type``."""

    elastic_type: Literal["kms"] = "kms"
    type: KmsEventType
    timestamp: int
    session: str
    sessionId: str
    uniqueSessionId: str
    user: str
    connection: str
    connectionId: str
    endpoint: str
    msSinceEndpointCreation: int
    rtcsim_run_id: str | None = None
    rtcsim_side: Literal["client"] | None = None
    """``client``: the client observed this event (its own ICE agent; ``msSinceEndpointCreation``
    counted from its own peer connection's creation), the server reports none (LiveKit)."""

    def identity(self) -> tuple[object, ...]:
        return (
            self.uniqueSessionId,
            self.endpoint,
            self.type.value,
            self.timestamp,
            self.state,
            self.newState,
            self.mediaType,
            self.streamId,
            self.componentId,
        )
