"""LiveKit as the media server: its WebSocket signalling, RoomService and aiortc peers.

LiveKit (the engine of OpenVidu 3) gives every participant two peer connections: a publisher
one the client offers on (after announcing each track with ``AddTrackRequest``) and a
subscriber one the server offers on, renegotiated whenever subscriptions change. Signalling is
protobuf over one WebSocket (``livekit_rtc.proto``); server-side control (removing a
participant, deleting a room) is the Twirp RoomService over HTTP.

* ``tokens``: access tokens (JWT) for joining and for RoomService.
* ``signal``: the WebSocket, its protobuf messages, pings and waiting for answers.
* ``candidates``: trickle ICE between LiveKit's JSON ``candidateInit`` and aiortc.
* ``room_service``: RemoveParticipant, DeleteRoom, ListParticipants over Twirp.
* ``participant``: one synthetic participant with its two peer connections.
"""
