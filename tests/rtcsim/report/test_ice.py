"""The ICE panel's numbers per endpoint: the final state among same-millisecond changes, the
endpoints that never connected, states counted by endpoint rather than by event."""

from __future__ import annotations

from typing import Any

from rtcsim.report.ice import final_state, ice_endpoints


def _hit(state: str, timestamp: int) -> dict[str, Any]:
    return {"_source": {"state": state, "timestamp": timestamp}}


def _endpoint(key: str, connected_ms: float | None, *hits: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": key,
        "connected": {"ms": {"value": connected_ms}},
        "last": {"hits": {"hits": list(hits)}},
    }


def test_of_changes_in_one_millisecond_the_later_state_is_final() -> None:
    assert final_state([_hit("CONNECTED", 10), _hit("READY", 10), _hit("CONNECTING", 5)]) == (
        "READY"
    )


def test_a_failure_after_connecting_is_final() -> None:
    assert final_state([_hit("FAILED", 900), _hit("READY", 40), _hit("CONNECTED", 40)]) == "FAILED"


def test_an_endpoint_without_state_changes_has_no_final_state() -> None:
    assert final_state([]) is None


def test_endpoints_are_counted_once_each_by_final_state_and_time_to_connected() -> None:
    answer = {
        "buckets": [
            _endpoint("a", 30.0, _hit("READY", 3), _hit("CONNECTED", 3)),
            _endpoint("b", 12.0, _hit("READY", 8), _hit("CONNECTED", 8)),
            _endpoint("c", None, _hit("FAILED", 6000), _hit("CONNECTING", 9)),
        ]
    }
    ice = ice_endpoints(answer)
    assert ice.endpoints == 3
    assert ice.connected_ms == (12.0, 30.0)
    assert ice.never_connected == 1
    assert [(b.label, b.count) for b in ice.final_states] == [("READY", 2), ("FAILED", 1)]


def test_no_answer_is_no_endpoint() -> None:
    ice = ice_endpoints(None)
    assert (ice.endpoints, ice.connected_ms, ice.final_states) == (0, (), ())
