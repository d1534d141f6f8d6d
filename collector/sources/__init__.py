"""Event sources: each media server's events turned into the session model's inputs
(``base.EventSource``); ``janus`` and ``livekit``."""
