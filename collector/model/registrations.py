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

    def told(self, connection_id: str, *aliases: str) -> Identity | None:
        """What the simulator said of a connection, under its id or another name the server
        knows it by (LiveKit: the participant's identity, chosen by the client before the
        server gives the participant SID that is the connection id)."""
        for name in (connection_id, *aliases):
            identity = self.identities.get(name)
            if identity is not None:
                return identity
        return None

    def participant_identity(
        self,
        connection_id: str,
        display: str | None,
        *,
        aliases: tuple[str, ...] = (),
        user: str | None = None,
    ) -> tuple[Identity, bool]:
        """Who a new participant is: what the simulator said, else what the server knows (a
        display name, as ``clientData``; a user name); the flag says the latter, so that the
        address ICE connects to can complete it later (``ip``)."""
        told = self.told(connection_id, *aliases)
        if told is not None:
            return told, False
        identity = Identity.unknown(connection_id)
        known: dict[str, str] = {}
        if display:
            known["clientData"] = display
        if user:
            known["user"] = user
        if known:
            identity = identity.model_copy(update=known)
        return identity, True

    def take_stream(self, connection_id: str, *aliases: str) -> StreamInfo | None:
        """The stream announced for the connection (under its id or an alias), taken."""
        for name in (connection_id, *aliases):
            stream = self.streams.pop(name, None)
            if stream is not None:
                return stream
        return None
