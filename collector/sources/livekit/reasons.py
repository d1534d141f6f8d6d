"""LiveKit's ``DisconnectReason`` (``participant_left``) as OpenVidu's ``EndReason``.

The table is in ``docs/documents.md`` too. LiveKit maps its own close reasons to these in
``ParticipantCloseReason.ToDisconnectReason`` (livekit-server v1.13.5 ``pkg/rtc/types``); when
each happens was measured here (``livekit-findings.md`` §3-4). Two end the whole session, not one
participant: a room deleted through RoomService (``sessionClosedByServer``, as Janus's
``destroyed``), LiveKit shutting down (``mediaServerDisconnect``) and a room closed by its empty
or departure timeout with someone still counted in is one participant's end
(``disconnect``), after which the session closes as usual (``lastParticipantLeft``).
"""

from __future__ import annotations

from collector.reasons import EndReason

PARTICIPANT_REASONS: dict[str, EndReason] = {
    # the client sent a LeaveRequest
    "CLIENT_INITIATED": EndReason.DISCONNECT,
    # the peer connection failed and did not resume: a vanished client, or one that closed
    # without a LeaveRequest (~21 s later, findings §4)
    "CONNECTION_TIMEOUT": EndReason.NETWORK_DISCONNECT,
    "JOIN_FAILURE": EndReason.NETWORK_DISCONNECT,
    "SIGNAL_CLOSE": EndReason.NETWORK_DISCONNECT,
    "STATE_MISMATCH": EndReason.NETWORK_DISCONNECT,
    # the application's backend (RoomService RemoveParticipant), or the server replacing it
    "PARTICIPANT_REMOVED": EndReason.FORCE_DISCONNECT_BY_SERVER,
    "DUPLICATE_IDENTITY": EndReason.FORCE_DISCONNECT_BY_SERVER,
    "MIGRATION": EndReason.FORCE_DISCONNECT_BY_SERVER,
    # the whole session ends (SESSION_REASONS)
    "ROOM_DELETED": EndReason.SESSION_CLOSED_BY_SERVER,
    "SERVER_SHUTDOWN": EndReason.MEDIA_SERVER_DISCONNECT,
    "ROOM_CLOSED": EndReason.DISCONNECT,
    # SIP and agents: never produced by rtcsim
    "USER_UNAVAILABLE": EndReason.DISCONNECT,
    "USER_REJECTED": EndReason.DISCONNECT,
    "SIP_TRUNK_FAILURE": EndReason.DISCONNECT,
    "AGENT_ERROR": EndReason.DISCONNECT,
    "MEDIA_FAILURE": EndReason.DISCONNECT,
    "UNKNOWN_REASON": EndReason.DISCONNECT,
}

SESSION_REASONS: dict[str, EndReason] = {
    "ROOM_DELETED": EndReason.SESSION_CLOSED_BY_SERVER,
    "SERVER_SHUTDOWN": EndReason.MEDIA_SERVER_DISCONNECT,
}
"""Disconnect reasons that close the participant's session, with the session's reason (for all
its participants). ``ROOM_CLOSED`` is not one: its participants leave with ``disconnect`` and
the session closes after the last of them, ``lastParticipantLeft``, as any other."""


def participant_reason(disconnect_reason: str) -> EndReason:
    """OpenVidu's reason for a participant LiveKit says left for ``disconnect_reason``; a name
    this table does not know (a newer LiveKit) is ``disconnect``."""
    return PARTICIPANT_REASONS.get(disconnect_reason, EndReason.DISCONNECT)
