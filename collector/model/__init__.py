"""The parts ``collector.session_model.SessionModel`` is built from, one concern a module.

Each part is a class over the model's state (``state.ModelState``) that adds the methods of one
concern; a part that calls another's methods inherits from it, so the layers read bottom up:

- ``state``: the tables (sessions, connections, Janus sessions and handles) and lookups in them
- ``endpoints``: publisher and subscriber endpoints, closed with a reason, fed their handle's
  webrtc, media and jsep events
- ``lifecycle``: sessions opened and closed, participants leaving, leaves settled once Janus
  says why
- ``janus_handles``: Janus's session and handle events
- ``videoroom``: the VideoRoom plugin's events
"""
