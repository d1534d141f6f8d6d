"""The recording manager's lifecycle with a fake Janus, collector and producer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from collector.metadata import RecordingInput
from simulator.ledger import RecordingRecord
from simulator.recording.manager import RecordingManager
from simulator.recording.options import OutputMode, RecordingError, RecordingOptions
from simulator.recording.pipeline import RecordingJob, RecordingResult


class FakeJanus:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Path | None]] = []

    async def start(self, session_id: str, rec_dir: Path) -> None:
        self.calls.append(("start", session_id, rec_dir))

    async def stop(self, session_id: str) -> None:
        self.calls.append(("stop", session_id, None))


class Collector:
    def __init__(self) -> None:
        self.posted: list[dict[str, Any]] = []

    async def post(self, path: str, payload: dict[str, Any]) -> None:
        assert path == "/recordings"
        RecordingInput.model_validate(payload)  # the collector's own contract
        self.posted.append(payload)


async def no_sleep(_s: float) -> None:
    return None


def ok_producer(job: RecordingJob) -> RecordingResult:
    return RecordingResult(files=[job.out_dir / "x.webm"], size=4321, duration_s=9.96)


def failing_producer(job: RecordingJob) -> RecordingResult:
    raise OSError(28, "No space left on device")


def make(
    tmp_path: Path, producer: Any = ok_producer
) -> tuple[RecordingManager, FakeJanus, Collector, list[RecordingRecord]]:
    clock = iter(range(1_000, 10_000_000, 1_000))
    janus, collector, records = FakeJanus(), Collector(), []
    manager = RecordingManager(
        recorder=janus,
        post=collector.post,
        records=records,
        out_root=tmp_path / "recordings",
        raw_root=tmp_path / "mjr",
        producer=producer,
        clock=lambda: next(clock),
        sleep=no_sleep,
    )
    return manager, janus, collector, records


async def test_statuses_started_stopped_ready_with_final_size_and_duration(tmp_path: Path) -> None:
    manager, janus, collector, records = make(tmp_path)
    await manager.start("room", "ses", RecordingOptions(name="r", resolution="640x360"))
    await manager.stop("room", "recordingStoppedByServer")
    await manager.finished()
    assert [p["status"] for p in collector.posted] == ["started", "stopped", "ready"]
    started, stopped, ready = collector.posted
    assert started["timestamp"] == started["startTime"]
    assert started["reason"] is None
    assert stopped["reason"] == ready["reason"] == "recordingStoppedByServer"
    assert (ready["size"], ready["duration"]) == (4321, 9.96)
    assert ready["resolution"] == "640x360"
    assert ready["recordingLayout"] == "BEST_FIT"
    assert janus.calls == [("start", "ses", tmp_path / "mjr" / "ses"), ("stop", "ses", None)]
    assert records[0].status == "ready"
    assert records[0].size == 4321


async def test_consecutive_recordings_of_a_session_get_openvidu_ids(tmp_path: Path) -> None:
    manager, _janus, collector, _records = make(tmp_path)
    for _ in range(3):
        await manager.start("room", "ses", RecordingOptions(output_mode=OutputMode.INDIVIDUAL))
        await manager.stop("room", "recordingStoppedByServer")
    await manager.finished()
    assert sorted({p["id"] for p in collector.posted}) == ["ses", "ses-1", "ses-2"]
    assert "resolution" not in collector.posted[0]


async def test_a_failed_production_ends_failed_with_its_reason_and_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    manager, _janus, collector, records = make(tmp_path, failing_producer)
    await manager.start("room", "ses", RecordingOptions())
    await manager.stop("room", "lastParticipantLeft")
    await manager.finished()
    failed = collector.posted[-1]
    assert (failed["status"], failed["reason"], failed["size"]) == (
        "failed",
        "lastParticipantLeft",
        0,
    )
    assert "No space left on device" in failed["rtcsim_failure"]
    assert records[0].status == "failed"
    assert "No space left" in (records[0].error or "")
    assert "recording ses failed" in caplog.text


async def test_one_recording_at_a_time_per_room(tmp_path: Path) -> None:
    manager, *_ = make(tmp_path)
    await manager.start("room", "ses", RecordingOptions())
    with pytest.raises(RecordingError, match="already being recorded"):
        await manager.start("room", "ses", RecordingOptions())


async def test_stopping_a_room_that_is_not_recording_is_an_error(tmp_path: Path) -> None:
    manager, *_ = make(tmp_path)
    with pytest.raises(RecordingError, match="not being recorded"):
        await manager.stop("room", "recordingStoppedByServer")


async def test_stop_all_stops_every_room_with_the_given_reason(tmp_path: Path) -> None:
    manager, _janus, collector, _records = make(tmp_path)
    await manager.start("a", "ses-a", RecordingOptions())
    await manager.start("b", "ses-b", RecordingOptions())
    await manager.stop_all("sessionClosedByServer")
    await manager.finished()
    assert manager.active_rooms == []
    stopped = [p for p in collector.posted if p["status"] == "stopped"]
    assert {p["reason"] for p in stopped} == {"sessionClosedByServer"}
