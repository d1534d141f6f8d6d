"""The timeline played in the mind before it plays for real: who is in which room, who
publishes, who receives whom, which recordings run, at each moment. A step that would fail, or
silently do nothing, is a problem at its place in the file: a leave before any join, a subscribe
to someone who publishes nothing then, a stop of a recording never started.

The order is the player's (``simulator.player.runner``): steps sorted by ``at``, and the steps
of one ``at`` run together, so none of them sees what another of the same moment does (a join
and a publish at the same second race; the publish would find nobody in the room).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import groupby

from simulator.scenario.base import ALL, ParticipantStep, StepBase
from simulator.scenario.media import SetLayerStep
from simulator.scenario.model import (
    DestroyRoomStep,
    DropStep,
    ImpairStep,
    JoinStep,
    KickStep,
    LeaveStep,
    MuteStep,
    PublishStep,
    RejoinStep,
    Scenario,
    SignalStep,
    StartRecordingStep,
    StopRecordingStep,
    SubscribeStep,
    UnpublishStep,
    UnsubscribeStep,
)
from simulator.scenario.problems import Problem

NEEDS_ROOM = (
    PublishStep,
    UnpublishStep,
    SubscribeStep,
    UnsubscribeStep,
    SetLayerStep,
    MuteStep,
    SignalStep,
    LeaveStep,
    DropStep,
    KickStep,
)


@dataclass
class _Person:
    room: str
    joined_at: float | None = None
    """When the current connection joined; None while out of the room."""
    ever_joined: bool = False
    out_since: tuple[float, str] | None = None
    """(when, how) the last connection ended: left, dropped, kicked, room destroyed."""
    publishing: PublishStep | None = None
    published_at: float = 0.0
    last_publish: PublishStep | None = None
    """What a ``rejoin`` with ``publish: true`` publishes again."""
    receiving: set[str] = field(default_factory=set)


@dataclass
class _World:
    scenario: Scenario
    people: dict[str, _Person]
    destroyed: dict[str, float] = field(default_factory=dict)
    recording: dict[tuple[str, str], float] = field(default_factory=dict)


def sequence_problems(scenario: Scenario) -> list[Problem]:
    """Every step that would fail or do nothing when it plays, at its place in the timeline.
    Names that do not resolve are ``reference_problems``' to report; they are skipped here."""
    known = {m for p in scenario.participants for m in p.members}
    world = _World(scenario, {name: _Person(scenario.room_of(name)) for name in known})
    problems: list[Problem] = []
    ordered = sorted(enumerate(scenario.timeline), key=lambda pair: pair[1].at)
    for _at, group in groupby(ordered, key=lambda pair: pair[1].at):
        steps = list(group)
        for index, step in steps:  # every step of a moment sees the world before it
            problems += [Problem(("timeline", index), m) for m in _check(world, step, known)]
        for _index, step in steps:
            _apply(world, step, known)
    return sorted(problems, key=lambda p: p.path)


# -- checks -------------------------------------------------------------------------------------
def _check(world: _World, step: StepBase, known: set[str]) -> list[str]:
    at = step.at
    if isinstance(step, DestroyRoomStep):
        return _room_gone(world, step.room, at, "destroy_room")
    if isinstance(step, StartRecordingStep):
        running = world.recording.get((step.room, step.name))
        if running is not None:
            return [
                f"recording {step.name!r} of room {step.room!r} runs already (since "
                f"t={running:g} s)"
            ]
        return _room_gone(world, step.room, at, "start_recording")
    if isinstance(step, StopRecordingStep):
        if (step.room, step.name) not in world.recording:
            return [
                f"no recording {step.name!r} of room {step.room!r} is running at t={at:g} s "
                "(no start_recording before)"
            ]
        return []
    if not isinstance(step, ParticipantStep):
        return []
    problems: list[str] = []
    for who in _members(world.scenario, step.who, known):
        person = world.people[who]
        if isinstance(step, JoinStep | RejoinStep):
            if isinstance(step, JoinStep) and person.joined_at is not None:
                problems.append(
                    f"{who} joins again: in the room since t={person.joined_at:g} s "
                    "(rejoin makes a new connection)"
                )
            problems += _room_gone(world, person.room, at, f"{who} cannot join")
        elif isinstance(step, ImpairStep):
            if not person.ever_joined:
                problems.append(f"{who} has not joined by t={at:g} s (impair needs a join before)")
        elif isinstance(step, NEEDS_ROOM) and person.joined_at is None:
            problems.append(_not_in_room(who, person, step.do, at))
        else:
            problems += _media_problems(world, step, who, person, known)
    return problems


def _media_problems(
    world: _World, step: ParticipantStep, who: str, person: _Person, known: set[str]
) -> list[str]:
    at = step.at
    if isinstance(step, PublishStep) and person.publishing is not None:
        return [f"{who} publishes already (since t={person.published_at:g} s; unpublish first)"]
    if isinstance(step, UnpublishStep) and person.publishing is None:
        return [f"{who} publishes nothing at t={at:g} s"]
    if isinstance(step, MuteStep):
        published = person.publishing
        if published is None:
            return [f"{who} publishes nothing to {step.do} at t={at:g} s"]
        has = published.audio if step.kind == "audio" else published.video is not None
        if not has:
            return [f"{who} publishes no {step.kind} to {step.do}"]
    if isinstance(step, SubscribeStep):
        return _subscribe_problems(world, step, who, person, known)
    if isinstance(step, UnsubscribeStep | SetLayerStep):
        named = [n for n in _members(world.scenario, step.to, known) if n != who]
        if named and not person.receiving.intersection(named):
            return [
                f"{who} receives none of {', '.join(step.to)} at t={at:g} s "
                f"({step.do} needs a subscribe before)"
            ]
    return []


def _subscribe_problems(
    world: _World, step: SubscribeStep, who: str, person: _Person, known: set[str]
) -> list[str]:
    """A subscribe skips whoever publishes nothing in the subscriber's room, silently: name by
    name that is a mistake; for a group or ``all``, only when nobody in it publishes."""
    problems = []
    any_source = False
    if not _members(world.scenario, step.to, known):
        return []  # names that do not resolve: reference_problems says so
    for target in step.to:
        if target not in known and target != ALL and not _is_group(world.scenario, target):
            continue
        members = [m for m in _members(world.scenario, [target], known) if m != who]
        sources = [m for m in members if _publishes_to(world, m, person.room)]
        any_source = any_source or bool(sources)
        if target in known and target != who and not sources:
            problems.append(_why_not_a_source(world, target, person.room, step.at))
    if not problems and not any_source:
        names = ", ".join(step.to)
        problems.append(
            f"{who} subscribes to {names}, but nobody there publishes in room "
            f"{person.room!r} at t={step.at:g} s"
        )
    return problems


def _why_not_a_source(world: _World, target: str, room: str, at: float) -> str:
    other = world.people[target]
    if other.room != room:
        return f"{target} is in room {other.room!r}, not {room!r}: nothing to subscribe to there"
    later = _next_publish(world.scenario, target, at)
    if later == at:
        when = " (its publish at the same moment plays at the same time: subscribe later)"
    elif later is not None:
        when = f" (it publishes from t={later:g} s)"
    else:
        when = " (it never publishes)"
    return f"{target} publishes nothing at t={at:g} s{when}"


def _next_publish(scenario: Scenario, who: str, after: float) -> float | None:
    times = [
        step.at
        for step in scenario.timeline
        if isinstance(step, PublishStep | RejoinStep)
        and step.at >= after
        and who in scenario.resolve([n for n in step.who if _resolves(scenario, n)])
    ]
    return min(times) if times else None


def _not_in_room(who: str, person: _Person, do: str, at: float) -> str:
    if not person.ever_joined:
        return f"{who} has not joined by t={at:g} s ({do} needs a join at an earlier time)"
    assert person.out_since is not None
    when, how = person.out_since
    return f"{who} {how} at t={when:g} s and is not in the room at t={at:g} s ({do})"


def _room_gone(world: _World, room: str, at: float, what: str) -> list[str]:
    if room in world.destroyed:
        return [f"{what}: room {room!r} was destroyed at t={world.destroyed[room]:g} s"]
    return []


# -- effects ------------------------------------------------------------------------------------
def _apply(world: _World, step: StepBase, known: set[str]) -> None:
    at = step.at
    if isinstance(step, DestroyRoomStep):
        world.destroyed.setdefault(step.room, at)
        for name, person in world.people.items():
            if person.room == step.room and person.joined_at is not None:
                _leave(world, name, at, "was removed with its room")
        for key in [k for k in world.recording if k[0] == step.room]:
            del world.recording[key]
        return
    if isinstance(step, StartRecordingStep):
        world.recording.setdefault((step.room, step.name), at)
        return
    if isinstance(step, StopRecordingStep):
        world.recording.pop((step.room, step.name), None)
        return
    if not isinstance(step, ParticipantStep):
        return
    for who in _members(world.scenario, step.who, known):
        person = world.people[who]
        if isinstance(step, JoinStep | RejoinStep):
            if person.room in world.destroyed:
                continue
            if person.joined_at is not None and isinstance(step, RejoinStep):
                _leave(world, who, at, "left")
            person.joined_at, person.ever_joined, person.out_since = at, True, None
            if isinstance(step, RejoinStep) and step.publish and person.last_publish is not None:
                person.publishing, person.published_at = person.last_publish, at
        elif person.joined_at is None:
            continue
        elif isinstance(step, PublishStep):
            person.publishing = person.publishing or step
            person.last_publish, person.published_at = step, at
        elif isinstance(step, UnpublishStep):
            _stop_publishing(world, who)
        elif isinstance(step, SubscribeStep):
            for target in _members(world.scenario, step.to, known):
                if target != who and _publishes_to(world, target, person.room):
                    person.receiving.add(target)
        elif isinstance(step, UnsubscribeStep):
            person.receiving -= set(_members(world.scenario, step.to, known))
        elif isinstance(step, LeaveStep | DropStep | KickStep):
            how = {"leave": "left", "drop": "dropped", "kick": "was kicked"}[step.do]
            _leave(world, who, at, how)


def _leave(world: _World, who: str, at: float, how: str) -> None:
    person = world.people[who]
    _stop_publishing(world, who)
    person.joined_at, person.out_since = None, (at, how)
    person.receiving.clear()


def _stop_publishing(world: _World, who: str) -> None:
    world.people[who].publishing = None
    for other in world.people.values():
        other.receiving.discard(who)


# -- names --------------------------------------------------------------------------------------
def _publishes_to(world: _World, who: str, room: str) -> bool:
    person = world.people[who]
    return person.room == room and person.joined_at is not None and person.publishing is not None


def _members(scenario: Scenario, names: list[str], known: set[str]) -> list[str]:
    return [m for m in scenario.resolve([n for n in names if _resolves(scenario, n)]) if m in known]


def _resolves(scenario: Scenario, name: str) -> bool:
    return name == ALL or any(name == p.name or name in p.members for p in scenario.participants)


def _is_group(scenario: Scenario, name: str) -> bool:
    return any(p.name == name and p.count > 1 for p in scenario.participants)
