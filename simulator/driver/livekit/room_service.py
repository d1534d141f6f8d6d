"""LiveKit's RoomService (Twirp over HTTP): what the application server does, not the client.

OpenVidu's ``forceDisconnect`` and ``session.close()`` are, on LiveKit, ``RemoveParticipant``
and ``DeleteRoom``: the server tells the participant (a ``LeaveRequest`` with reason
``PARTICIPANT_REMOVED`` / ``ROOM_DELETED``) and ends it. Calls go from the client namespace,
like a backend next to the clients, signed per call with the stack's key pair (livekit-api
signs a short ``roomAdmin`` token for each). Region failover is off: it is only for LiveKit
Cloud hosts anyway, and a retry would hide a failure rtcsim should see.
"""

from __future__ import annotations

import aiohttp
from livekit.api import ServerError
from livekit.api.room_service import RoomService
from livekit.protocol import models
from livekit.protocol import room as room_pb

from simulator.driver.livekit.keys import LiveKitCredentials


class RoomServiceError(RuntimeError):
    """LiveKit refused a RoomService call (unknown room or participant, bad credentials)."""

    def __init__(self, call: str, code: str, message: str, status: int) -> None:
        super().__init__(f"LiveKit refused {call}: {message} ({code}, HTTP {status})")
        self.code = code
        self.status = status


class LiveKitRooms:
    """RoomService calls for one LiveKit, on the caller's aiohttp session and event loop."""

    def __init__(self, http: aiohttp.ClientSession, http_url: str, keys: LiveKitCredentials):
        self._service = RoomService(http, http_url, keys.api_key, keys.api_secret, failover=False)

    async def create_room(
        self, room: str, *, empty_timeout_s: int, departure_timeout_s: int
    ) -> models.Room:
        """Open ``room`` now (``room_started``), or get it if it exists; ``empty_timeout_s``:
        how long it waits for its first participant, ``departure_timeout_s``: how long it
        stays after its last one left."""
        try:
            return await self._service.create_room(
                room_pb.CreateRoomRequest(
                    name=room,
                    empty_timeout=empty_timeout_s,
                    departure_timeout=departure_timeout_s,
                )
            )
        except ServerError as exc:
            raise _refused("CreateRoom", exc) from exc

    async def remove_participant(self, room: str, identity: str) -> None:
        """Kick ``identity`` out of ``room`` (its webhook reason: ``PARTICIPANT_REMOVED``)."""
        try:
            await self._service.remove_participant(
                room_pb.RoomParticipantIdentity(room=room, identity=identity)
            )
        except ServerError as exc:
            raise _refused("RemoveParticipant", exc) from exc

    async def delete_room(self, room: str) -> None:
        """End ``room`` for everyone in it (reason ``ROOM_DELETED``, then ``room_finished``)."""
        try:
            await self._service.delete_room(room_pb.DeleteRoomRequest(room=room))
        except ServerError as exc:
            raise _refused("DeleteRoom", exc) from exc

    async def list_participants(self, room: str) -> list[models.ParticipantInfo]:
        try:
            reply = await self._service.list_participants(
                room_pb.ListParticipantsRequest(room=room)
            )
        except ServerError as exc:
            raise _refused("ListParticipants", exc) from exc
        return list(reply.participants)

    async def list_rooms(self, names: list[str] | None = None) -> list[models.Room]:
        try:
            reply = await self._service.list_rooms(room_pb.ListRoomsRequest(names=names or []))
        except ServerError as exc:
            raise _refused("ListRooms", exc) from exc
        return list(reply.rooms)


def _refused(call: str, exc: ServerError) -> RoomServiceError:
    return RoomServiceError(call, str(exc.code), exc.message, exc.status)
