"""rtcsim collector: turns media-server events into OpenVidu Pro monitoring documents.

It is a service of its own and never imports ``simulator``: the simulator's ground truth and the
collector's documents must come from separate paths, or a wrong summary could not be caught.
"""
