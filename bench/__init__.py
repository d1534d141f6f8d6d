"""Benchmarks run by ``make bench`` (``python -m bench``): each prints a ratio measured side by side
in one run, against its target. Numbers live here, never in timed unit tests."""
