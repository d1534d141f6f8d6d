"""LiveKit's webhooks as an event source: the DisconnectReason table (``reasons``) and the
translation into the session model's inputs (``source.LiveKitEventSource``)."""
