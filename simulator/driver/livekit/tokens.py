"""Access tokens: the JWTs LiveKit admits participants and API callers with.

A participant's token names its room and identity and grants ``roomJoin`` (publish and
subscribe); RoomService calls get a short-lived token of their own with ``roomAdmin`` (and
``roomCreate``/``roomList`` where asked), as livekit-api signs per call. Tokens are signed with
the stack's API secret (``keys``); see LiveKit's "Authentication"
docs for the grants.
"""

from __future__ import annotations

import datetime

from livekit.api import AccessToken, VideoGrants

from simulator.driver.livekit.keys import LiveKitCredentials

DEFAULT_TTL = datetime.timedelta(hours=6)


def participant_token(
    keys: LiveKitCredentials,
    *,
    room: str,
    identity: str,
    name: str = "",
    metadata: str = "",
    can_publish: bool = True,
    can_subscribe: bool = True,
    ttl: datetime.timedelta = DEFAULT_TTL,
) -> str:
    """A token that lets ``identity`` join ``room`` (created on first join: auto_create)."""
    grants = VideoGrants(
        room_join=True,
        room=room,
        can_publish=can_publish,
        can_subscribe=can_subscribe,
        can_publish_data=True,
    )
    token = (
        AccessToken(keys.api_key, keys.api_secret)
        .with_identity(identity)
        .with_grants(grants)
        .with_ttl(ttl)
    )
    if name:
        token = token.with_name(name)
    if metadata:
        token = token.with_metadata(metadata)
    return token.to_jwt()
