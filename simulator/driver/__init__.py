"""Media-server drivers: the signalling side of a run (rooms, joins, SDP exchange, server-side
actions) behind one protocol (``protocol``), in OpenVidu's vocabulary.

``janus`` is the first implementation (Janus's VideoRoom over its HTTP API); a server is chosen
by its ``Driver``, whose capabilities decide which steps a scenario may ask of it.
"""
