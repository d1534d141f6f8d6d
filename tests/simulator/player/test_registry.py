"""The player's registries: executors keyed by step class, features, and the capability check."""

from __future__ import annotations

import asyncio
import typing
from typing import Any, cast

import pytest

from simulator.driver.capabilities import Capability
from simulator.player.context import RunContext
from simulator.player.registry import FeatureSetups, StepRegistry
from simulator.player.standard import standard_repertoire
from simulator.scenario.loader import parse_scenario
from simulator.scenario.model import JoinStep, KickStep, LeaveStep, Step

CTX = cast(RunContext, object())  # the executors below never look at it

SCENARIO = parse_scenario(
    """
name: asks-much
rooms: [{name: r}]
participants: [{name: a, room: r}, {name: b, room: r}]
timeline:
  - {at: 0, do: join, who: all}
  - {at: 1, do: kick, who: b}
  - {at: 2, do: start_recording, room: r, name: rec}
  - {at: 3, do: leave, who: a}
"""
)


def test_a_step_is_played_by_the_executor_registered_for_its_class() -> None:
    played: list[tuple[str, str]] = []

    async def join(ctx: RunContext, step: JoinStep, who: str) -> None:
        played.append(("join", who))

    async def leave(ctx: RunContext, step: LeaveStep, who: str) -> None:
        played.append(("leave", who))

    steps = StepRegistry()
    steps.add(JoinStep, join)
    steps.add(LeaveStep, leave)
    asyncio.run(steps.run(CTX, SCENARIO.timeline[3], "a"))
    asyncio.run(steps.run(CTX, SCENARIO.timeline[0], "b"))
    assert played == [("leave", "a"), ("join", "b")]


def test_a_step_kind_without_an_executor_is_an_error_naming_the_known_ones() -> None:
    steps = StepRegistry()

    async def join(ctx: RunContext, step: JoinStep, who: str) -> None: ...

    steps.add(JoinStep, join)
    with pytest.raises(KeyError, match="no executor for step KickStep; known: JoinStep"):
        asyncio.run(steps.run(CTX, SCENARIO.timeline[1], "b"))


def test_a_step_kind_cannot_have_two_executors() -> None:
    steps = StepRegistry()

    async def join(ctx: RunContext, step: JoinStep, who: str) -> None: ...

    steps.add(JoinStep, join)
    with pytest.raises(ValueError, match="JoinStep has an executor already"):
        steps.add(JoinStep, join)


def test_steps_a_server_cannot_do_are_refused_with_their_place_in_the_timeline() -> None:
    steps = standard_repertoire().steps
    without = frozenset(Capability) - {Capability.KICK, Capability.RECORDING}
    assert steps.refusals(SCENARIO, without) == [
        "timeline[1] (kick at 1 s): needs kick, which the media server cannot do",
        "timeline[2] (start_recording at 2 s): needs recording, which the media server cannot do",
    ]
    assert steps.refusals(SCENARIO, frozenset(Capability)) == []


def test_a_step_no_executor_plays_is_refused_too() -> None:
    steps = StepRegistry()

    async def kick(ctx: RunContext, step: KickStep, who: str) -> None: ...

    steps.add(KickStep, kick, needs=[Capability.KICK])
    refusals = steps.refusals(SCENARIO, frozenset(Capability))
    assert refusals[0] == "timeline[0] (join at 0 s): no executor plays it; known: KickStep"
    assert len(refusals) == 3  # join, start_recording, leave


def test_the_standard_repertoire_plays_every_step_kind_of_the_scenario_format() -> None:
    union = typing.get_args(typing.get_args(Step)[0])
    assert set(standard_repertoire().steps.kinds()) == set(union)


def test_each_run_gets_a_repertoire_of_its_own() -> None:
    first, second = standard_repertoire(), standard_repertoire()
    first.features.add(lambda ctx: None)
    assert len(first.features.setups) == len(second.features.setups) + 1


def test_features_are_installed_in_the_order_they_were_added() -> None:
    order: list[str] = []
    features = FeatureSetups()
    features.add(lambda ctx: order.append("recording"))
    features.add(lambda ctx: order.append("other"))
    features.install(cast(Any, None))
    assert order == ["recording", "other"]


LAYERED = parse_scenario(
    """
name: layered
rooms: [{name: r}]
participants: [{name: a, room: r}, {name: b, room: r}]
timeline:
  - {at: 0, do: join, who: all}
  - at: 1
    do: publish
    who: a
    media: cheap
    simulcast: true
    video: {width: 640, height: 360, fps: 30}
  - {at: 2, do: publish, who: b}
  - {at: 3, do: subscribe, who: b, to: a, substream: 0}
  - {at: 4, do: subscribe, who: a, to: b}
  - {at: 5, do: leave, who: all}
"""
)


def test_what_a_step_needs_can_depend_on_its_fields() -> None:
    steps = standard_repertoire().steps
    without_layers = frozenset(Capability) - {Capability.SIMULCAST, Capability.LAYER_CHOICE}
    assert steps.refusals(LAYERED, without_layers) == [
        "timeline[1] (publish at 1 s): needs simulcast, which the media server cannot do",
        "timeline[3] (subscribe at 3 s): needs layer_choice, which the media server cannot do",
    ]
