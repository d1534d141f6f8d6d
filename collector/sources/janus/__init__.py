"""Janus's event handler as an event source: its sessions and handles (``handles``), the
VideoRoom plugin's events (``videoroom``), webrtc/media/jsep events on endpoints
(``endpoint_events``), composed in ``source.JanusEventSource``."""
