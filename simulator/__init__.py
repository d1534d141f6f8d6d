"""rtcsim simulator: synthetic WebRTC participants, the media-server driver and the services.

Dependency direction: scenario -> simulator -> driver -> media server. The simulator may read the
collector's document models to verify them; the collector never imports the simulator.
"""
