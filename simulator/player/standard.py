"""The repertoire every run plays with: every step kind of ``simulator.scenario.model`` and the
recording feature. Built fresh for each run (and each test), never shared."""

from __future__ import annotations

from simulator.player.recording_steps import add_recording
from simulator.player.registry import Repertoire
from simulator.player.steps import add_core_steps


def standard_repertoire() -> Repertoire:
    repertoire = Repertoire()
    add_core_steps(repertoire.steps)
    add_recording(repertoire)
    return repertoire
