"""OpenVidu end reasons and how Janus's own reports map onto them.

Reasons are derived only from what Janus reported (plugin events, hangup reasons, session timeout,
core shutdown) so that a test comparing the simulator's ledger with the documents can catch a
collector that guesses wrong. Values: OpenVidu ``core/EndReason.java``
(``openvidu-documents.md`` §2).
"""

from __future__ import annotations

from enum import StrEnum


class EndReason(StrEnum):
    UNSUBSCRIBE = "unsubscribe"
    UNPUBLISH = "unpublish"
    DISCONNECT = "disconnect"
    FORCE_UNPUBLISH_BY_SERVER = "forceUnpublishByServer"
    FORCE_DISCONNECT_BY_SERVER = "forceDisconnectByServer"
    LAST_PARTICIPANT_LEFT = "lastParticipantLeft"
    SESSION_CLOSED_BY_SERVER = "sessionClosedByServer"
    NETWORK_DISCONNECT = "networkDisconnect"
    MEDIA_SERVER_DISCONNECT = "mediaServerDisconnect"
    RECORDING_STOPPED_BY_SERVER = "recordingStoppedByServer"
    AUTOMATIC_STOP = "automaticStop"


# Hangup reasons Janus gives when the PeerConnection ended by the client's or the plugin's choice
# (``ice.c`` / ``janus.c``: "Close PC" after unpublish/leave, "DTLS alert" for a close_notify,
# "Detach", "Janus API" for a hangup request). Anything else (notably "ICE failed") means the path
# to the client broke.
_CLEAN_HANGUPS = frozenset({"close pc", "dtls alert", "detach", "janus api", "hangup", "destroy"})


def hangup_means_network_failure(reason: str | None) -> bool:
    """True when a ``pc-state hangup`` reason says the network failed, not that someone hung up."""
    if reason is None:
        return False
    text = reason.strip().lower()
    if text in _CLEAN_HANGUPS:
        return False
    return any(word in text for word in ("fail", "error", "timeout", "consent", "lost"))


def ice_state_means_network_failure(state: str) -> bool:
    return state.strip().lower() == "failed"
