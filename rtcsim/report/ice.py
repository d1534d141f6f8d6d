"""The ICE panel's numbers: time to connected and final state, per endpoint.

A donut of every IceComponentStateChange by state gave each state ~25 % (every endpoint passes
through GATHERING, CONNECTING, CONNECTED and READY once), a ratio that says nothing (issue 15).
What a reader wants is how long endpoints took to connect (a distribution over endpoints) and
how many ended in which state. Both come from ``queries.ice_endpoints``: per endpoint the first
CONNECTED's ``msSinceEndpointCreation`` and its last state changes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from rtcsim.report.model import Bucket, IceEndpoints

Aggs = Mapping[str, Any]

STATE_ORDER = ("NEW", "GATHERING", "CONNECTING", "CONNECTED", "READY", "DISCONNECTED", "FAILED")
"""Janus's ICE states in the order they come (docs/documents.md, kms): among changes of the same
millisecond (CONNECTED and READY), the later one in this order is the endpoint's final state."""


def _rank(state: str) -> int:
    return STATE_ORDER.index(state) if state in STATE_ORDER else -1


def final_state(hits: list[Aggs]) -> str | None:
    """The last state of an endpoint from its last changes (``top_hits``, newest first)."""
    changes = [h.get("_source") or {} for h in hits]
    changes = [c for c in changes if isinstance(c.get("state"), str)]
    if not changes:
        return None
    last_ms = max(int(c.get("timestamp") or 0) for c in changes)
    latest = [str(c["state"]) for c in changes if int(c.get("timestamp") or 0) == last_ms]
    return max(latest, key=_rank)


def ice_endpoints(agg: Aggs | None) -> IceEndpoints:
    """``IceEndpoints`` from the ``endpoints`` terms answer of ``queries.ice_endpoints``."""
    buckets = list((agg or {}).get("buckets", []))
    connected: list[float] = []
    finals: Counter[str] = Counter()
    for bucket in buckets:
        ms = ((bucket.get("connected") or {}).get("ms") or {}).get("value")
        if ms is not None:
            connected.append(float(ms))
        hits = ((bucket.get("last") or {}).get("hits") or {}).get("hits") or []
        state = final_state(list(hits))
        if state is not None:
            finals[state] += 1
    ordered = sorted(finals.items(), key=lambda kv: (-kv[1], _rank(kv[0])))
    return IceEndpoints(
        endpoints=len(buckets),
        connected_ms=tuple(sorted(connected)),
        final_states=tuple(Bucket(state, n) for state, n in ordered),
    )
