"""Issue 17's benchmark 1 on LiveKit, CI-sized: the same cheap publishers, counting subscribers
and knee search as ``make bench``, through the real LiveKit, from 10 streams with a short
budget. It proves the ramp measures what it claims (every stream at full rate, no loss, the
processes' cores) and that LiveKit runs the ramp with its congestion control off and is put
back as it was; the figures themselves belong to ``make bench``."""

from __future__ import annotations

import pytest
import yaml

from bench import generator
from rtcsim.services import livekit, livekit_build, stack
from rtcsim.services.livekit import LiveKitPaths
from simulator.settings import Settings

pytestmark = pytest.mark.integration


def _congestion_control(settings: Settings) -> bool:
    config = yaml.safe_load(LiveKitPaths.from_settings(settings).config.read_text())
    return bool(config["rtc"]["congestion_control"]["enabled"])


def test_benchmark_one_ramps_on_livekit_and_puts_livekit_back(
    running_stack: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert livekit_build.is_built(running_stack), "make test builds LiveKit (make livekit)"
    lk = running_stack.model_copy(update={"server": "livekit"})
    ran_before = livekit.pid(lk) is not None
    stack.up(lk)  # running before the ramp, with LiveKit's own congestion control
    try:
        _ramp_and_check(running_stack, lk, monkeypatch)
    finally:
        if not ran_before:
            livekit.stop(lk)  # as the suite had it


def _ramp_and_check(running_stack: Settings, lk: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _congestion_control(lk)
    monkeypatch.setattr(generator, "LIVEKIT_FIRST_STEP", 10)
    monkeypatch.setattr(generator, "LIVEKIT_BUDGET_S", 10.0)
    seen: list[str] = []

    def progress(message: str) -> None:
        seen.append(message)
        if "streams/process" in message and not any("during" in s for s in seen):
            seen.append(f"during: congestion control {_congestion_control(lk)}")

    result = generator._livekit_ramp(running_stack, progress)

    assert result is not None
    assert "during: congestion control False" in seen, seen
    first = result.steps[0]
    assert first["per_process"] == 10
    assert first["degraded"] == [], first["degraded"]
    assert result.knee >= 10
    assert result.final is not None
    assert not result.final.degraded()
    final = result.final.brief()
    assert final["streams"] == result.knee
    (receiver,) = final["receivers"]
    assert receiver["loss_pct"] <= 0.5  # the bench's own bound for a healthy window
    assert receiver["video_fps_min"] >= 29
    assert 800 <= receiver["kbps_per_stream"] <= 1400  # ~1 Mbit/s of video plus Opus
    assert receiver["cores"] > 0
    assert final["janus_cores"] > 0  # LiveKit's cores, on LiveKit
    assert all(p["fps_min"] >= 29 for p in final["publishers"])
    # LiveKit was running before, so it runs again, as it was configured.
    assert livekit.pid(lk) is not None
    assert _congestion_control(lk)
