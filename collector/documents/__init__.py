"""The ten OpenVidu Pro monitoring document types, one module per family.

``elastic_type`` values: cdr, kms, webrtcStats, monitoringStats, sessionSummary, userSummary,
connectionSummary, publisherSummary, subscriberSummary, recordingSummary.
"""

from collector.documents.base import Container, Document, unique_session_id
from collector.documents.cdr import (
    CdrEvent,
    CdrEventName,
    ParticipantJoined,
    ParticipantLeft,
    RecordingStatusChanged,
    SessionCreated,
    SessionDestroyed,
    SignalSent,
    WebrtcConnectionCreated,
    WebrtcConnectionDestroyed,
)
from collector.documents.kms import CandidatePair, KmsEvent, KmsEventType
from collector.documents.stats import MemoryUsage, MonitoringStats, NetCounters, WebrtcStats
from collector.documents.summaries import (
    ConnectionSummary,
    PublisherSummary,
    RecordingSummary,
    SessionSummary,
    SubscriberSummary,
    UserSummary,
)

ELASTIC_TYPES = (
    "cdr",
    "kms",
    "webrtcStats",
    "monitoringStats",
    "sessionSummary",
    "userSummary",
    "connectionSummary",
    "publisherSummary",
    "subscriberSummary",
    "recordingSummary",
)

__all__ = [
    "ELASTIC_TYPES",
    "CandidatePair",
    "CdrEvent",
    "CdrEventName",
    "ConnectionSummary",
    "Container",
    "Document",
    "KmsEvent",
    "KmsEventType",
    "MemoryUsage",
    "MonitoringStats",
    "NetCounters",
    "ParticipantJoined",
    "ParticipantLeft",
    "PublisherSummary",
    "RecordingStatusChanged",
    "RecordingSummary",
    "SessionCreated",
    "SessionDestroyed",
    "SessionSummary",
    "SignalSent",
    "SubscriberSummary",
    "UserSummary",
    "WebrtcConnectionCreated",
    "WebrtcConnectionDestroyed",
    "WebrtcStats",
    "unique_session_id",
]
