"""The soak's verdict: growth after warm-up, caps and churn, each named when broken."""

from __future__ import annotations

import random

from rtcsim.soak.judge import MB_KB, Bounds, Sample, Visits, judge, windows

CHURNED = Visits(joins=400, leaves=395, requests=1500, failures=3)
BOUNDS = Bounds()


def series(rss_kb: list[int], fds: list[int] | None = None, step_s: float = 5.0) -> list[Sample]:
    fds = fds or [12] * len(rss_kb)
    return [Sample(i * step_s, r, f) for i, (r, f) in enumerate(zip(rss_kb, fds, strict=True))]


def flat_noisy(n: int = 60, base_kb: int = 80 * MB_KB) -> list[int]:
    rng = random.Random(7)
    return [base_kb + rng.randint(-2 * MB_KB, 2 * MB_KB) for _ in range(n)]


def test_a_flat_noisy_series_passes() -> None:
    fds = [12 + (i % 3) for i in range(60)]
    verdict = judge(series(flat_noisy(), fds), CHURNED, BOUNDS, users=9, load_minutes=5)
    assert verdict.passed, verdict.problems
    assert [g.metric for g in verdict.growth] == ["rss_kb", "fds"]


def test_start_up_growth_in_the_warm_up_is_not_a_leak() -> None:
    rss = [40 * MB_KB + i * 4 * MB_KB for i in range(15)] + flat_noisy(45)
    verdict = judge(series(rss), CHURNED, BOUNDS, users=9, load_minutes=5)
    assert verdict.passed, verdict.problems


def test_steadily_growing_memory_fails_naming_rss() -> None:
    rss = [80 * MB_KB + i * 512 for i in range(60)]  # +0.5 MB a sample, 30 MB in 5 min
    verdict = judge(series(rss), CHURNED, BOUNDS, users=9, load_minutes=5)
    assert not verdict.passed
    [problem] = verdict.problems
    assert problem.startswith("rss_kb grew by")
    assert not next(g for g in verdict.growth if g.metric == "rss_kb").ok


def test_growing_descriptors_fail_naming_fds() -> None:
    fds = [10 + i // 2 for i in range(60)]
    verdict = judge(series(flat_noisy(), fds), CHURNED, BOUNDS, users=9, load_minutes=5)
    assert [p.split()[0] for p in verdict.problems] == ["fds"]


def test_memory_above_the_cap_fails_even_without_growth() -> None:
    rss = [BOUNDS.rss_max_kb + MB_KB] * 60
    verdict = judge(series(rss), CHURNED, BOUNDS, users=9, load_minutes=5)
    assert any(p.startswith("rss_kb reached") for p in verdict.problems)


def test_a_soak_that_did_not_churn_cannot_pass() -> None:
    idle = Visits(joins=9, leaves=4, requests=40, failures=0)
    verdict = judge(series(flat_noisy()), idle, BOUNDS, users=9, load_minutes=5)
    assert not verdict.passed
    assert "did not churn" in verdict.problems[0]
    assert verdict.min_cycles == 90


def test_a_soak_whose_visits_mostly_failed_cannot_pass() -> None:
    failing = Visits(joins=400, leaves=300, requests=1000, failures=200)
    verdict = judge(series(flat_noisy()), failing, BOUNDS, users=9, load_minutes=5)
    assert verdict.problems == ["200 of 1000 load requests failed, more than 10%"]


def test_too_few_samples_is_no_verdict() -> None:
    verdict = judge(series([80 * MB_KB]), CHURNED, BOUNDS, users=9, load_minutes=5)
    assert not verdict.passed
    assert verdict.problems[0].startswith("too few samples")


def test_a_restarted_collector_fails() -> None:
    verdict = judge(series(flat_noisy()), CHURNED, BOUNDS, users=9, load_minutes=5, restarted=True)
    assert verdict.problems == [
        "the collector's process changed during the soak (it died or restarted)"
    ]


def test_windows_are_the_first_and_last_thirds_after_warm_up() -> None:
    samples = series([1] * 101, step_s=1.0)  # 0..100 s, warm-up 30 s
    first, last = windows(samples, 0.3)
    assert (first[0].t_s, first[-1].t_s) == (30.0, 53.0)
    assert (last[0].t_s, last[-1].t_s) == (77.0, 100.0)
