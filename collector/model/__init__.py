"""The collaborators ``collector.session_model.SessionModel`` is composed of, one concern a
module, no media server in any: ``context`` (clock, outbox, counters), ``state`` (session ▸
connection ▸ endpoint), ``registrations`` (what the simulator told), ``endpoints`` (the
endpoint tracker), ``registry`` (the session registry), ``leaves`` (the leave settler),
``recordings`` (recording statuses)."""
