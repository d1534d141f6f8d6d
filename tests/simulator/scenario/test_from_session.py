"""A recorded session's cdr events become a scenario that replays the same timeline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from simulator.scenario.from_session import SessionReplayError, from_session, scenario_yaml
from simulator.scenario.loader import load_scenario
from simulator.scenario.model import PublishStep, Scenario, VideoSpec

SESSION = "demo-20261128-120000-abcd"
T0 = 1_795_000_000_000
ALICE, BOB, BOB_AGAIN, CAROL = "aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb", "bbbbbbbbbbbbbbb2", "cccc"
USERS = {ALICE: "A1A1A1A1A1A1A1A1", BOB: "B2B2B2B2B2B2B2B2", BOB_AGAIN: "B2B2B2B2B2B2B2B2"}
USERS[CAROL] = "C3C3C3C3C3C3C3C3"
NAMES = {ALICE: "alice", BOB: "bob", BOB_AGAIN: "bob", CAROL: "carol"}
VGA = {
    "videoSource": "CAMERA",
    "videoFramerate": 30,
    "videoDimensions": '{"width":640,"height":480}',
    "audioEnabled": True,
    "videoEnabled": True,
}
AUDIO_ONLY = {"audioEnabled": True, "videoEnabled": False}


def cdr(at_s: float, event: str, **fields: Any) -> dict[str, Any]:
    return {
        "elastic_type": "cdr",
        "event": event,
        "timestamp": T0 + round(at_s * 1000),
        "sessionId": SESSION,
        "uniqueSessionId": f"{SESSION}_{T0}",
        **fields,
    }


def person(conn: str, *, with_user: bool) -> dict[str, Any]:
    fields = {
        "participantId": conn,
        "connectionId": conn,
        "location": "Reus, ES",
        "ip": "",
        "platform": "Chrome 120 on Linux 64-bit",
        "clientData": json.dumps({"name": NAMES[conn]}),
        "serverData": "",
    }
    return fields | ({"user": USERS[conn]} if with_user else {})


def joined(at_s: float, conn: str, *, with_user: bool = True) -> dict[str, Any]:
    return cdr(at_s, "participantJoined", **person(conn, with_user=with_user))


def left(
    at_s: float, conn: str, reason: str, since_s: float, *, with_user: bool = True
) -> dict[str, Any]:
    return cdr(
        at_s,
        "participantLeft",
        startTime=T0 + round(since_s * 1000),
        duration=int(at_s - since_s),
        reason=reason,
        **person(conn, with_user=with_user),
    )


def endpoint(
    at_s: float,
    conn: str,
    *,
    media: dict[str, Any],
    source: str | None = None,
    reason: str | None = None,
    since_s: float = 0.0,
) -> dict[str, Any]:
    """webrtcConnectionCreated, or Destroyed when there is a reason; INBOUND with a source."""
    publisher = source or conn
    fields: dict[str, Any] = {
        **media,
        "streamId": f"{publisher}_CAMERA_ABCDE",
        "participantId": conn,
        "connectionId": conn,
        "connection": "INBOUND" if source else "OUTBOUND",
    }
    if source:
        fields["receivingFrom"] = source
    if reason is None:
        return cdr(at_s, "webrtcConnectionCreated", **fields)
    since = T0 + round(since_s * 1000)
    fields |= {"startTime": since, "duration": int(at_s - since_s), "reason": reason}
    return cdr(at_s, "webrtcConnectionDestroyed", **fields)


def three_people(*, with_user: bool = True) -> list[dict[str, Any]]:
    """alice publishes video, bob audio; carol watches both, unsubscribes from alice; bob is
    kicked and comes back; carol's network vanishes; alice unpublishes and leaves; bob leaves."""
    u = with_user
    return [
        cdr(0.0, "sessionCreated"),
        joined(0.020, ALICE, with_user=u),
        joined(0.031, BOB, with_user=u),
        joined(0.040, CAROL, with_user=u),
        endpoint(0.812, ALICE, media=VGA),
        endpoint(1.204, BOB, media=AUDIO_ONLY),
        endpoint(2.013, BOB, media=VGA, source=ALICE),
        endpoint(2.090, CAROL, media=VGA, source=ALICE),
        endpoint(2.301, CAROL, media=AUDIO_ONLY, source=BOB),
        endpoint(6.002, CAROL, media=VGA, source=ALICE, reason="unsubscribe", since_s=2.09),
        # the kick: the server ends bob's endpoints, those fed by him, then bob
        endpoint(8.001, BOB, media=AUDIO_ONLY, reason="forceDisconnectByServer", since_s=1.2),
        endpoint(8.001, CAROL, media=AUDIO_ONLY, source=BOB, reason="forceDisconnectByServer"),
        endpoint(8.001, BOB, media=VGA, source=ALICE, reason="forceDisconnectByServer"),
        left(8.002, BOB, "forceDisconnectByServer", 0.031, with_user=u),
        joined(9.010, BOB_AGAIN, with_user=u),
        left(22.003, CAROL, "networkDisconnect", 0.040, with_user=u),
        endpoint(24.950, ALICE, media=VGA, reason="unpublish", since_s=0.812),
        left(25.001, ALICE, "disconnect", 0.020, with_user=u),
        left(25.104, BOB_AGAIN, "disconnect", 9.010, with_user=u),
        cdr(25.104, "sessionDestroyed", reason="lastParticipantLeft", startTime=T0),
    ]


def timeline(scenario: Scenario) -> list[dict[str, Any]]:
    return [
        step.model_dump(mode="json", exclude_defaults=True, exclude={"label"})
        for step in scenario.timeline
    ]


VGA_VIDEO = {"width": 640, "height": 480, "fps": 30}
EXPECTED = [
    {"at": 0.0, "do": "join", "who": ["alice", "bob", "carol"]},
    {"at": 0.8, "do": "publish", "who": ["alice"]},  # audio and 640x480@30: the defaults
    {"at": 1.2, "do": "publish", "who": ["bob"], "video": None},
    {"at": 2.0, "do": "subscribe", "who": ["bob"], "to": ["alice"]},
    {"at": 2.1, "do": "subscribe", "who": ["carol"], "to": ["alice"]},
    {"at": 2.3, "do": "subscribe", "who": ["carol"], "to": ["bob"]},
    {"at": 6.0, "do": "unsubscribe", "who": ["carol"], "to": ["alice"]},
    {"at": 8.0, "do": "kick", "who": ["bob"]},
    {"at": 9.0, "do": "rejoin", "who": ["bob"], "publish": False},
    {"at": 22.0, "do": "drop", "who": ["carol"]},
    {"at": 25.0, "do": "unpublish", "who": ["alice"]},
    {"at": 25.1, "do": "leave", "who": ["alice", "bob"]},
]


def test_cdr_events_of_three_people_become_their_steps_at_their_offsets() -> None:
    assert timeline(from_session(three_people(), SESSION)) == EXPECTED


def test_the_room_is_the_session_without_its_run_id_and_people_are_named_from_client_data() -> None:
    scenario = from_session(three_people(), SESSION)
    assert [room.name for room in scenario.rooms] == ["demo"]
    assert scenario.name == "replay-demo"
    assert [(p.name, p.room, p.count) for p in scenario.participants] == [
        ("alice", "demo", 1),
        ("bob", "demo", 1),
        ("carol", "demo", 1),
    ]


def test_a_user_with_a_second_connection_rejoins_rather_than_joining_as_someone_new() -> None:
    scenario = from_session(three_people(), SESSION)
    assert scenario.everyone == ["alice", "bob", "carol"]
    assert [step["do"] for step in timeline(scenario) if step["who"] == ["bob"]][-2:] == [
        "kick",
        "rejoin",
    ]


def test_cdr_events_without_a_user_field_group_connections_by_their_client_data() -> None:
    """OpenVidu's own cdr events carry no ``user``; the same client data is the same user."""
    assert timeline(from_session(three_people(with_user=False), SESSION)) == EXPECTED


def test_summaries_name_the_users_when_the_cdr_events_do_not() -> None:
    documents = three_people(with_user=False)
    for doc in documents:
        doc["clientData"] = ""
    summaries = [
        {
            "elastic_type": "connectionSummary",
            "sessionId": SESSION,
            "connectionId": conn,
            "user": USERS[conn],
        }
        for conn in (ALICE, BOB, BOB_AGAIN, CAROL)
    ]
    scenario = from_session(documents + summaries, SESSION)
    assert scenario.everyone == ["user-1", "user-2", "user-3"]  # no names in the client data
    assert [s["do"] for s in timeline(scenario)].count("rejoin") == 1


def test_without_user_or_client_data_every_connection_is_a_user_of_its_own() -> None:
    documents = three_people(with_user=False)
    for doc in documents:
        doc["clientData"] = ""
    scenario = from_session(documents, SESSION)
    assert scenario.everyone == ["user-1", "user-2", "user-3", "user-4"]
    assert "rejoin" not in [s["do"] for s in timeline(scenario)]


def test_steps_of_one_person_rounded_to_the_same_time_are_played_in_order() -> None:
    """The runner plays steps of one time concurrently: an unsubscribe and a leave 30 ms
    apart must not race."""
    documents = [
        cdr(0.0, "sessionCreated"),
        joined(0.0, ALICE),
        joined(0.0, CAROL),
        endpoint(0.5, ALICE, media=VGA),
        endpoint(1.0, CAROL, media=VGA, source=ALICE),
        endpoint(5.01, CAROL, media=VGA, source=ALICE, reason="unsubscribe", since_s=1.0),
        endpoint(5.02, ALICE, media=VGA, reason="unpublish", since_s=0.5),
        left(5.04, CAROL, "disconnect", 0.0),
        left(5.05, ALICE, "disconnect", 0.0),
    ]
    steps = [(s["at"], s["do"], s["who"]) for s in timeline(from_session(documents))]
    assert steps[-4:] == [
        (5.0, "unsubscribe", ["carol"]),
        (5.1, "unpublish", ["alice"]),  # after carol's unsubscribe from her
        (5.1, "leave", ["carol"]),
        (5.2, "leave", ["alice"]),
    ]


def test_a_drop_noticed_after_the_user_came_back_is_played_before_the_rejoin() -> None:
    documents = [
        cdr(0.0, "sessionCreated"),
        joined(0.0, BOB),
        joined(5.0, BOB_AGAIN),
        left(14.0, BOB, "networkDisconnect", 0.0),  # Janus noticed the vanished peer late
    ]
    steps = [(s["at"], s["do"]) for s in timeline(from_session(documents))]
    assert steps == [(0.0, "join"), (5.0, "drop"), (5.1, "rejoin")]


def test_a_session_closed_by_the_server_is_one_destroy_room_and_no_participant_steps() -> None:
    documents = [
        cdr(0.0, "sessionCreated"),
        joined(0.0, ALICE),
        endpoint(0.6, ALICE, media=VGA),
        endpoint(3.0, ALICE, media=VGA, reason="sessionClosedByServer", since_s=0.6),
        left(3.0, ALICE, "sessionClosedByServer", 0.0),
        cdr(3.0, "sessionDestroyed", reason="sessionClosedByServer", startTime=T0),
    ]
    assert timeline(from_session(documents))[-1] == {
        "at": 3.0,
        "do": "destroy_room",
        "room": "demo",
    }
    assert len(from_session(documents).timeline) == 3


def test_screen_share_and_unconstrained_framerate_become_valid_video_options() -> None:
    screen = {
        "videoSource": "SCREEN",
        "videoFramerate": -1,
        "videoDimensions": '{"width":5120,"height":1440}',
        "audioEnabled": False,
        "videoEnabled": True,
    }
    documents = [cdr(0.0, "sessionCreated"), joined(0.0, ALICE), endpoint(1.0, ALICE, media=screen)]
    publish = from_session(documents).timeline[-1]
    assert isinstance(publish, PublishStep)
    assert publish.audio is False
    assert publish.video == VideoSpec(width=3840, height=1440, fps=30, source="SCREEN")


def test_a_signal_between_participants_becomes_a_signal_step() -> None:
    documents = [
        cdr(0.0, "sessionCreated"),
        joined(0.0, ALICE),
        joined(0.0, CAROL),
        cdr(3.0, "signalSent", **{"from": ALICE, "to": [CAROL], "type": "chat", "data": "hi"}),
        cdr(3.5, "signalSent", **{"from": None, "to": [CAROL], "type": "x", "data": ""}),
    ]
    assert timeline(from_session(documents))[-1] == {
        "at": 3.0,
        "do": "signal",
        "who": ["alice"],
        "to": ["carol"],
        "data": "hi",
    }


def test_documents_of_other_sessions_are_ignored() -> None:
    other = [dict(doc, sessionId="other") for doc in three_people()]
    assert timeline(from_session(three_people() + other, SESSION)) == EXPECTED


def test_several_sessions_and_no_session_id_is_an_error_that_lists_them() -> None:
    other = [dict(doc, sessionId="other") for doc in three_people()]
    with pytest.raises(SessionReplayError, match=f"sessions found: {SESSION}, other"):
        from_session(three_people() + other)


def test_a_session_without_joins_cannot_be_replayed() -> None:
    with pytest.raises(SessionReplayError, match="no participantJoined"):
        from_session([cdr(0.0, "sessionCreated")], SESSION)


def test_the_yaml_loads_with_the_scenario_loader_and_has_one_step_a_line(tmp_path: Path) -> None:
    scenario = from_session(three_people(), SESSION)
    text = scenario_yaml(scenario)
    path = tmp_path / "replay.yaml"
    path.write_text(text)
    assert load_scenario(path) == scenario
    assert "  - {at: 2.3, do: subscribe, who: [carol], to: [bob]}" in text.splitlines()
