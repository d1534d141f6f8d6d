"""Recording steps (``start_recording``, ``stop_recording``): filled in by the recording work."""
