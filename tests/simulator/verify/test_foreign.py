"""Participants the ledger does not know are reported as foreign and left out of the counts."""

from __future__ import annotations

from simulator.scenario.loader import parse_scenario
from simulator.verify.foreign import foreign_checks
from simulator.verify.skeleton import skeleton_checks
from simulator.verify.verdict import verify
from tests.simulator.verify.test_skeleton import ALL_DOCS, _ledger

BROWSER = {
    "elastic_type": "cdr",
    "event": "participantJoined",
    "sessionId": "smoke-r1",
    "connectionId": "browser-7",
    "user": "B7",
    "platform": "Chrome 131 on Linux",
}
SCENARIO = parse_scenario(
    "name: smoke\nrooms: [{name: smoke}]\nparticipants: [{name: alice, room: smoke}]\n"
    "timeline: [{at: 0, do: join, who: alice}]\n"
)


def test_a_joined_connection_the_ledger_does_not_know_is_listed_as_foreign() -> None:
    [check] = foreign_checks(_ledger(), [*ALL_DOCS, BROWSER])
    assert check.name == "smoke-r1: participants the ledger does not know (foreign)"
    assert check.ok
    assert check.found == ["browser-7 (user B7, Chrome 131 on Linux)"]


def test_no_foreign_participant_no_check() -> None:
    assert foreign_checks(_ledger(), ALL_DOCS) == []


def test_a_foreign_participant_does_not_fail_the_cdr_counts() -> None:
    left = {**BROWSER, "event": "participantLeft"}
    checks = {c.name: c for c in skeleton_checks(_ledger(), [*ALL_DOCS, BROWSER, left])}
    joined = checks["cdr participantJoined documents"]
    assert (joined.ok, joined.found) == (True, 2)
    assert checks["cdr participantLeft documents"].ok


def _summary(users: list[tuple[str, str]]) -> dict[str, object]:
    content = [
        {"id": user, "connections": {"numberOfElements": 1, "content": [{"connectionId": conn}]}}
        for user, conn in users
    ]
    return {
        "elastic_type": "sessionSummary",
        "sessionId": "smoke-r1",
        "users": {"numberOfElements": len(content), "content": content},
    }


def test_a_foreign_user_is_not_counted_in_the_sessions_users() -> None:
    summary = _summary([("U1", "c-alice"), ("U2", "c-bob"), ("B7", "browser-7")])
    users = next(c for c in verify(SCENARIO, _ledger(), [summary]) if c.name.endswith(": users"))
    assert (users.ok, users.expected, users.found) == (True, 2, 2)


def test_a_missing_user_of_the_ledger_still_fails_the_users_count() -> None:
    summary = _summary([("U1", "c-alice"), ("B7", "browser-7")])
    users = next(c for c in verify(SCENARIO, _ledger(), [summary]) if c.name.endswith(": users"))
    assert (users.ok, users.found) == (False, 1)
