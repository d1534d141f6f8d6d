"""The generator watch: lag probe, CPU meter, the saturation rule and the run verdict."""

from __future__ import annotations

import asyncio
import threading
import time

from simulator.ledger import percentile
from simulator.watch import (
    GeneratorReport,
    GeneratorSample,
    GeneratorWatch,
    LagSummary,
    LoopLagProbe,
    ProcessMeter,
    SaturationRule,
    invalid_reason,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class FakeCpu:
    def __init__(self) -> None:
        self.used_s = 0.0

    def __call__(self) -> float:
        return self.used_s


class FakeLoopProbe(LoopLagProbe):
    """A probe fed by the test instead of a running loop."""

    def __init__(self) -> None:
        super().__init__(asyncio.new_event_loop())
        self.loop.close()

    def start(self) -> None:  # nothing runs: the test records lags itself
        pass


def fake_watch(
    clock: FakeClock, cpu: FakeCpu, probe: FakeLoopProbe, sink: list[GeneratorSample]
) -> GeneratorWatch:
    meter = ProcessMeter(cpu_s=cpu, clock=clock, memory_kb=lambda: 1000)
    return GeneratorWatch(
        "run-1",
        {},
        probes={"media": probe},
        meter=meter,
        sink=sink.append,
        clock_ms=lambda: int(clock.now * 1000),
        monotonic=clock,
    )


def test_the_meter_reports_cores_used_between_samples() -> None:
    clock, cpu = FakeClock(), FakeCpu()
    meter = ProcessMeter(cpu_s=cpu, clock=clock, memory_kb=lambda: 5)
    clock.now += 2.0
    cpu.used_s += 1.0
    assert meter.cpu_cores() == 0.5
    clock.now += 1.0
    cpu.used_s += 1.5  # two threads busy: more than one core
    assert meter.cpu_cores() == 1.5


def test_percentile_is_nearest_rank_and_zero_without_values() -> None:
    assert percentile([], 95) == 0.0
    assert percentile([float(i) for i in range(1, 101)], 95) == 95.0
    assert percentile([3.0], 50) == 3.0


def test_a_quiet_process_is_not_saturated_and_every_sample_reaches_the_sink() -> None:
    clock, cpu, probe, sink = FakeClock(), FakeCpu(), FakeLoopProbe(), []
    watch = fake_watch(clock, cpu, probe, sink)
    for _ in range(4):
        for _ in range(40):
            probe.record(0.002)
        clock.now += 2.0
        cpu.used_s += 0.4
        watch.sample()
    report = watch.report()
    assert len(sink) == 4
    assert report.samples == 4
    assert report.cpu_avg_cores == 0.2
    assert report.loop_lag_p95_ms == 2.0
    assert not report.saturated
    assert report.reasons == []
    assert sink[0].as_input()["cpuCores"] == 0.2


def test_a_late_media_loop_saturates_the_run_and_says_which_loop() -> None:
    clock, cpu, probe, sink = FakeClock(), FakeCpu(), FakeLoopProbe(), []
    watch = fake_watch(clock, cpu, probe, sink)
    for _ in range(10):
        probe.record(0.002)
    for _ in range(10):
        probe.record(0.250)
    clock.now += 2.0
    watch.sample()
    report = watch.report()
    assert report.saturated
    assert report.reasons == ["media event loop lag p95 250 ms > 100 ms"]
    assert sink[0].saturated
    assert sink[0].as_input()["loopLagMaxMs"] == 250.0


def test_a_loop_thread_at_one_core_in_more_than_a_quarter_of_samples_saturates() -> None:
    rule = SaturationRule()
    assert rule.reasons({"media": [0.95, 0.2, 0.2, 0.2]}, {}) == []  # one burst: a start-up
    [reason] = rule.reasons({"media": [0.95, 0.92, 0.2, 0.2]}, {})
    assert "media event loop thread" in reason
    assert "2 of 4 samples" in reason


def test_codec_threads_beyond_one_core_do_not_saturate_a_punctual_loop() -> None:
    clock, cpu, probe, sink = FakeClock(), FakeCpu(), FakeLoopProbe(), []
    loop_thread = FakeCpu()
    probe.thread_id = 4242
    meter = ProcessMeter(
        cpu_s=cpu, clock=clock, memory_kb=lambda: 1, thread_cpu=lambda _tid: loop_thread()
    )
    watch = GeneratorWatch("run-1", {}, probes={"media": probe}, meter=meter, sink=sink.append)
    for _ in range(4):
        probe.record(0.003)
        clock.now += 2.0
        cpu.used_s += 3.0  # 1.5 cores: decoders run without the GIL
        loop_thread.used_s += 0.6  # the loop's own thread: 0.3 core
        watch.sample()
    report = watch.report()
    assert report.cpu_avg_cores == 1.5
    assert report.loop_cpu_max_cores == {"media": 0.3}
    assert not report.saturated


def test_a_loop_blocked_for_a_whole_window_reports_its_overdue_time() -> None:
    clock = FakeClock()
    loop = asyncio.new_event_loop()
    probe = LoopLagProbe(loop, interval_s=0.05, clock=clock)
    try:
        probe._sleeping_since = clock.now  # the probe went to sleep and never woke up
        clock.now += 3.0
        assert probe.drain() == [3.0 - 0.05]
    finally:
        loop.close()


def test_a_blocked_real_loop_shows_lag_on_its_probe() -> None:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    watch = GeneratorWatch("test", {"media": loop}, interval_s=60.0, probe_interval_s=0.02)
    try:
        watch.start()
        time.sleep(0.2)
        loop.call_soon_threadsafe(time.sleep, 0.4)  # a synchronous call blocks the loop
        time.sleep(0.4)
        time.sleep(0.2)
        sample = watch.sample()
        report = watch.stop()
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()
    assert sample.loops["media"].max_ms >= 300  # the loop was blocked 400 ms
    assert report.loop_lag_max_ms >= 300
    assert report.samples >= 1


def _report(saturated: bool, reasons: list[str]) -> GeneratorReport:
    return GeneratorReport("run-7", 7, "h", saturated=saturated, reasons=reasons)


def test_a_run_is_invalid_only_when_some_generator_was_saturated() -> None:
    assert invalid_reason([]) is None
    assert invalid_reason([_report(False, [])]) is None
    reason = invalid_reason([_report(False, []), _report(True, ["media lag p95 300 ms"])])
    assert reason == "run-7 (pid 7): media lag p95 300 ms"


def test_lag_summary_in_ms() -> None:
    lag = LagSummary.of([0.001, 0.002, 0.5])
    assert (lag.p50_ms, lag.max_ms, lag.wakeups) == (2.0, 500.0, 3)
