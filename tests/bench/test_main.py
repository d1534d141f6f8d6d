"""Choosing benchmarks and finding their functions, without running any."""

from __future__ import annotations

import argparse

import pytest

from bench.__main__ import BENCHMARKS, Benchmark, parse_only, resolve


def test_only_picks_the_named_benchmarks_in_order() -> None:
    assert parse_only("4,3") == [3, 4]
    assert parse_only(None) == [1, 2, 3, 4, 5, 6]


def test_only_rejects_an_unknown_number_listing_the_known_ones() -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=r"known: \[1, 2, 3, 4, 5, 6\]"):
        parse_only("3,9")


def test_a_missing_module_makes_the_benchmark_not_available_instead_of_crashing() -> None:
    missing = Benchmark(9, "nowhere", "bench.does_not_exist", "run")
    assert isinstance(resolve(missing), str)
    assert "not available" in str(resolve(missing))


def test_benchmarks_three_to_five_resolve_to_functions() -> None:
    for bench in BENCHMARKS:
        if bench.number >= 3:
            assert callable(resolve(bench))


def test_benchmark_six_runs_beside_two_to_five_and_is_reported_in_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import threading

    from bench import __main__ as main
    from bench.report import Outcome

    ran: list[tuple[int, str]] = []

    def fake_run_one(bench: Benchmark, *args: object) -> Outcome:
        ran.append((bench.number, threading.current_thread().name))
        return Outcome(bench.number, bench.name)

    monkeypatch.setattr(main, "run_one", fake_run_one)
    outcomes = main.run_all(list(BENCHMARKS), None, None, False, 0.0)  # type: ignore[arg-type]
    assert [o.number for o in outcomes] == [1, 2, 3, 4, 5, 6]
    assert (6, "bench-6") in ran
    assert ran[0] == (1, "MainThread")  # benchmark 1's Janus ramps alone
    foreground = [n for n, thread in ran if thread == "MainThread"]
    assert foreground == [1, 2, 3, 4, 5]


def test_benchmark_six_waits_for_benchmark_ones_janus_ramps_then_runs_beside_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import threading

    from bench import __main__ as main
    from bench.common import JANUS_RAMPS_DONE
    from bench.report import Outcome

    six_started = threading.Event()
    seen: dict[str, bool] = {}

    def fake_run_one(bench: Benchmark, *args: object) -> Outcome:
        if bench.number == 6:
            six_started.set()
        if bench.number == 1:
            seen["six before the gate"] = six_started.wait(0.3)
            JANUS_RAMPS_DONE.reach()
            seen["six after the gate, while 1 runs"] = six_started.wait(10)
        return Outcome(bench.number, bench.name)

    monkeypatch.setattr(main, "run_one", fake_run_one)
    chosen = [b for b in BENCHMARKS if b.number in (1, 6)]
    outcomes = main.run_all(chosen, None, None, False, 0.0)  # type: ignore[arg-type]
    assert [o.number for o in outcomes] == [1, 6]
    assert seen == {"six before the gate": False, "six after the gate, while 1 runs": True}


def test_benchmark_six_starts_when_benchmark_one_ends_without_reaching_its_gate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import threading

    from bench import __main__ as main
    from bench.report import Outcome

    six_ran = threading.Event()

    def fake_run_one(bench: Benchmark, *args: object) -> Outcome:
        if bench.number == 1:
            raise RuntimeError("crashed before its LiveKit ramp")
        six_ran.set()
        return Outcome(bench.number, bench.name)

    monkeypatch.setattr(main, "run_one", fake_run_one)
    chosen = [b for b in BENCHMARKS if b.number in (1, 6)]
    with pytest.raises(RuntimeError):
        main.run_all(chosen, None, None, False, 0.0)  # type: ignore[arg-type]
    assert six_ran.wait(10)  # the gate was reached when benchmark 1 ended


def test_benchmark_six_alone_runs_in_the_foreground(monkeypatch: pytest.MonkeyPatch) -> None:
    from bench import __main__ as main
    from bench.report import Outcome

    monkeypatch.setattr(main, "run_one", lambda bench, *a: Outcome(bench.number, bench.name))
    six = [b for b in BENCHMARKS if b.number == 6]
    assert [o.number for o in main.run_all(six, None, None, False, 0.0)] == [6]  # type: ignore[arg-type]
