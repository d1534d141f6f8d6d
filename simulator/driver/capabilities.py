"""What a media server can be asked to do, beyond letting participants join and leave.

A driver declares the capabilities of its server; a step kind declares the capability it needs
(``simulator.player.registry``). A scenario with a step its server cannot do is refused before
the run starts, with the step's place in the timeline, never halfway through it.
"""

from __future__ import annotations

from enum import StrEnum


class Capability(StrEnum):
    PUBLISH = "publish"
    SUBSCRIBE = "subscribe"
    MUTE = "mute"
    """Stop relaying a published track on request (the browser's track.enabled = false)."""
    KICK = "kick"
    """Remove a participant server-side (OpenVidu ``forceDisconnect``)."""
    DESTROY_ROOM = "destroy_room"
    RECORDING = "recording"
    SIMULCAST = "simulcast"
    """Take several layers of one video track from a publisher (issue 13)."""
    LAYER_CHOICE = "layer_choice"
    """Let a subscriber choose the layer it receives (issue 13)."""


class ServerReport(StrEnum):
    """What a media server's own events tell the collector, beyond rooms, participants and
    publications (which every server reports). What a server does not report, the client side
    posts where it can (``rtcsim_side: client``), and the checks say what they could not hold
    against the server's view (``simulator.verify``)."""

    MEDIA_STATS = "media_stats"
    """Per-endpoint RTP statistics (server-side ``webrtcStats``)."""
    ICE_EVENTS = "ice_events"
    """ICE, DTLS and media-flow events per endpoint (server-side ``kms`` documents)."""
    SUBSCRIBERS = "subscribers"
    """Subscriptions begun and ended (server-side subscriber documents)."""
