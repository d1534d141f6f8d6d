"""Choosing benchmarks and finding their functions, without running any."""

from __future__ import annotations

import argparse

import pytest

from bench.__main__ import BENCHMARKS, Benchmark, parse_only, resolve


def test_only_picks_the_named_benchmarks_in_order() -> None:
    assert parse_only("4,3") == [3, 4]
    assert parse_only(None) == [1, 2, 3, 4, 5]


def test_only_rejects_an_unknown_number_listing_the_known_ones() -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=r"known: \[1, 2, 3, 4, 5\]"):
        parse_only("3,9")


def test_a_missing_module_makes_the_benchmark_not_available_instead_of_crashing() -> None:
    missing = Benchmark(9, "nowhere", "bench.does_not_exist", "run")
    assert isinstance(resolve(missing), str)
    assert "not available" in str(resolve(missing))


def test_benchmarks_three_to_five_resolve_to_functions() -> None:
    for bench in BENCHMARKS:
        if bench.number >= 3:
            assert callable(resolve(bench))
