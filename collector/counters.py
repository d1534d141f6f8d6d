"""What the collector has done, for ``GET /stats`` and ``GET /health``: nothing fails unseen."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ServiceCounters:
    events_received: int = 0
    events_accepted: Counter[str] = field(default_factory=Counter)
    events_rejected: Counter[str] = field(default_factory=Counter)
    events_dropped: Counter[str] = field(default_factory=Counter)
    api_requests: Counter[str] = field(default_factory=Counter)
    api_rejected: Counter[str] = field(default_factory=Counter)
    handler_errors: int = 0
    documents_submitted: Counter[str] = field(default_factory=Counter)
    documents_written: int = 0
    write_errors: int = 0
    documents_pending: int = 0
    probe_errors: int = 0

    def snapshot(self, model_counters: Counter[str] | None = None) -> dict[str, Any]:
        return {
            "events": {
                "received": self.events_received,
                "accepted": dict(self.events_accepted),
                "rejected": dict(self.events_rejected),
                "dropped": dict(self.events_dropped),
                "handler_errors": self.handler_errors,
                "model": dict(model_counters or {}),
            },
            "api": {"requests": dict(self.api_requests), "rejected": dict(self.api_rejected)},
            "documents": {
                "submitted": dict(self.documents_submitted),
                "written": self.documents_written,
                "write_errors": self.write_errors,
                "pending": self.documents_pending,
            },
            "probe_errors": self.probe_errors,
        }
