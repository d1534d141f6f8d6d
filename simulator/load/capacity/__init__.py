"""The capacity search: rooms of N added step by step until a service level breaks.

``search.CapacitySearch`` drives one process's ``LoadSession`` (the same executors, ledger and
collector calls as any load run) from its control loop: a step's seats arrive at the
scenario's rate (``seats``), the step becomes **steady**, a window is measured
(``window``), judged against every SLO (``verdict``), and the next step adds rooms, until a
step breaks. ``result`` holds what it found and writes ``capacity.json``.

**Steady**, precisely: every seat the step added has finished arriving - joined; a publisher
published and Janus reported its ICE/DTLS up (``webrtcup``); a subscriber subscribed to every
publisher of its room that made it and got each one's first video frame - or has failed (a
join, ICE or first frame that did not come within its timeout is a failure, measured by the
SLOs, not something to wait for). No seat of the step is then still moving. ``warmup_s``
later the window begins and lasts ``hold_s``; nobody joins or leaves during it.
"""
