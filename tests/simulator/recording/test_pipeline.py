"""From .mjr files to final files: INDIVIDUAL folder with metadata, COMPOSED grid and mix."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from simulator.recording.media_info import folder_size, probe
from simulator.recording.options import OutputMode, RecordingOptions
from simulator.recording.pipeline import RecordingJob, produce
from tests.simulator.recording.media_fixtures import T0_US, FakePpRec, mjr_name

STARTED_MS = T0_US // 1000


def job(tmp_path: Path, options: RecordingOptions, *, seconds: float = 1.5) -> RecordingJob:
    raw = tmp_path / "raw"
    raw.mkdir()
    for name in (
        mjr_name("r", "alice", "audio"),
        mjr_name("r", "alice", "video"),
        mjr_name("r", "bob", "audio", offset_s=0.5),
        mjr_name("r", "bob", "video", offset_s=0.5),
    ):
        (raw / name).write_bytes(b"MJR00002")
    return RecordingJob(
        recording_id="ses",
        session_id="ses",
        options=options,
        started_ms=STARTED_MS,
        stopped_ms=STARTED_MS + int(seconds * 1000),
        raw_dir=raw,
        out_dir=tmp_path / "recordings" / "ses",
        stream_ids={"alice": "alice_CAMERA_AAAAA", "bob": "bob_CAMERA_BBBBB"},
    )


def fake(media_dir: Path) -> FakePpRec:
    return FakePpRec(media_dir / "small.webm", media_dir / "tone.opus")


def test_individual_folder_holds_one_file_per_track_and_openvidus_metadata(
    tmp_path: Path, media_dir: Path
) -> None:
    the_job = job(tmp_path, RecordingOptions(name="n", output_mode=OutputMode.INDIVIDUAL))
    result = produce(the_job, fake(media_dir))
    names = sorted(p.name for p in the_job.out_dir.iterdir())
    assert names == [
        "alice_CAMERA_AAAAA.opus",
        "alice_CAMERA_AAAAA.webm",
        "bob_CAMERA_BBBBB.opus",
        "bob_CAMERA_BBBBB.webm",
        "ses.json",
    ]
    assert result.size == folder_size(the_job.out_dir)
    metadata = orjson.loads((the_job.out_dir / "ses.json").read_bytes())
    assert (metadata["id"], metadata["name"], metadata["sessionId"]) == ("ses", "n", "ses")
    bob_video = next(f for f in metadata["files"] if f["name"] == "bob_CAMERA_BBBBB.webm")
    assert bob_video["hasVideo"]
    assert not bob_video["hasAudio"]
    assert bob_video["startTimeOffset"] == 520
    assert result.duration_s == pytest.approx(0.52 + 1.0, abs=0.1)


def test_individual_audio_only_leaves_out_the_video_tracks(tmp_path: Path, media_dir: Path) -> None:
    the_job = job(tmp_path, RecordingOptions(output_mode=OutputMode.INDIVIDUAL, has_video=False))
    produce(the_job, fake(media_dir))
    assert {p.suffix for p in the_job.out_dir.iterdir()} == {".opus", ".json"}


def test_composed_is_one_file_at_the_requested_size_lasting_the_recording(
    tmp_path: Path, media_dir: Path
) -> None:
    the_job = job(tmp_path, RecordingOptions(resolution="320x180", frame_rate=10))
    result = produce(the_job, fake(media_dir))
    assert [p.name for p in the_job.out_dir.iterdir()] == ["ses.webm"]
    info = probe(the_job.out_dir / "ses.webm")
    assert info.kinds == ("video", "audio")
    assert (info.width, info.height) == (320, 180)
    assert info.duration_s == pytest.approx(1.5, abs=0.1)
    assert result.size == info.size


@pytest.mark.parametrize(
    ("options", "kinds"),
    [
        (RecordingOptions(has_video=False), ("audio",)),
        (RecordingOptions(has_audio=False, resolution="320x180", frame_rate=10), ("video",)),
    ],
)
def test_composed_holds_only_the_requested_kinds(
    tmp_path: Path, media_dir: Path, options: RecordingOptions, kinds: tuple[str, ...]
) -> None:
    the_job = job(tmp_path, options)
    produce(the_job, fake(media_dir))
    assert probe(the_job.out_dir / "ses.webm").kinds == kinds
