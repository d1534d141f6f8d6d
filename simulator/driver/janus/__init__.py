"""Janus as a media server: its HTTP API (``http``), the VideoRoom plugin's requests in
OpenVidu's vocabulary (``videoroom``), its recorders (``recording``) and the driver protocol's
implementation on top of them (``server``)."""
