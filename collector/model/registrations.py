"""What the simulator told the collector before the server's events came: sessions, who is
behind a connection, the streams it will publish (``collector.metadata``). Kept apart from the
sessions themselves, since registrations arrive before their session opens and outlive it a
while (late client stats still find the identity)."""

from __future__ import annotations

from collector.metadata import Identity, SessionInfo, StreamInfo


class Registrations:
    def __init__(self) -> None:
        self.session_infos: dict[str, SessionInfo] = {}
        self.identities: dict[str, Identity] = {}
        self.streams: dict[str, StreamInfo] = {}
        """Announced streams by connection id, taken by the publisher endpoint they describe."""

    def session_info(self, room: str) -> SessionInfo:
        return self.session_infos.get(room) or SessionInfo(sessionId=room)

    def identity(self, connection_id: str) -> Identity:
        return self.identities.get(connection_id) or Identity.unknown(connection_id)

    def participant_identity(
        self, connection_id: str, display: str | None
    ) -> tuple[Identity, bool]:
        """Who a new participant is: what the simulator said, else what the server knows (a
        display name, as ``clientData``); the flag says the latter, so that the address ICE
        connects to can complete it later (``ip``)."""
        told = self.identities.get(connection_id)
        if told is not None:
            return told, False
        identity = Identity.unknown(connection_id)
        if display:
            identity = identity.model_copy(update={"clientData": display})
        return identity, True

    def take_stream(self, connection_id: str) -> StreamInfo | None:
        return self.streams.pop(connection_id, None)
