"""Media-server drivers: the signalling side of a participant (rooms, joins, SDP exchange).

A driver hides the media server's API behind the OpenVidu vocabulary the rest of rtcsim speaks.
Only Janus VideoRoom exists today; the registry keeps the door open without string switches.
"""
