"""py-spy's raw stacks summarized: self time by function and package, own modules inclusive."""

from __future__ import annotations

from bench.profile import summarize

LOOP = "thread (1): MainThread;run (asyncio/base_events.py:600)"
RAW = "\n".join(
    [
        f"{LOOP};handle (collector/app.py:10);parse (pydantic/main.py:5) 6",
        f"{LOOP};handle (collector/app.py:10) 2",
        f"{LOOP};flush (collector/writer.py:9);bulk (elasticsearch/client.py:3) 2",
    ]
)


def test_self_time_goes_to_the_innermost_frame_and_its_package() -> None:
    summary = summarize(RAW)
    assert summary["samples"] == 10
    assert summary["self_by_function"]["parse (pydantic/main.py:5)"] == 60.0
    assert summary["by_package"] == {"pydantic": 60.0, "collector.app": 20.0, "elasticsearch": 20.0}


def test_the_projects_own_modules_are_counted_wherever_they_are_on_the_stack() -> None:
    summary = summarize(RAW)
    assert summary["inclusive_by_own_module"] == {"collector.app": 80.0, "collector.writer": 20.0}


def test_nothing_sampled_says_so() -> None:
    assert summarize("") == {"samples": 0}
