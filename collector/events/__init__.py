"""The media servers' events, typed: ``janus`` (event handler) and ``livekit`` (webhooks).

The ground floor of the event sources (``collector.sources``): parsing only, no state.
"""
