"""Conversion of .mjr files: naming, kinds, and every way it can fail."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from simulator.recording.conversion import convert_folder
from simulator.recording.pprec import PpRecError
from tests.simulator.recording.media_fixtures import T0_US, FakePpRec, mjr_name

STARTED_MS = T0_US // 1000


def raw_folder(tmp_path: Path, *names: str) -> Path:
    raw = tmp_path / "raw"
    raw.mkdir()
    for name in names:
        (raw / name).write_bytes(b"MJR00002")
    return raw


def test_each_track_is_converted_with_its_offset_from_the_recording_start(
    tmp_path: Path, media_dir: Path
) -> None:
    raw = raw_folder(
        tmp_path, mjr_name("r", "alice", "audio"), mjr_name("r", "bob", "video", offset_s=2.0)
    )
    fake = FakePpRec(media_dir / "small.webm", media_dir / "tone.opus")
    tracks = convert_folder(
        raw, tmp_path / "out", kinds={"audio", "video"}, started_ms=STARTED_MS, runner=fake
    )
    assert [(t.source.connection_id, t.kind, t.path.suffix) for t in tracks] == [
        ("alice", "audio", ".opus"),
        ("bob", "video", ".webm"),
    ]
    assert tracks[1].offset_s == pytest.approx(2.02)
    assert tracks[1].info.width == 160


def test_only_the_requested_kinds_are_converted(tmp_path: Path, media_dir: Path) -> None:
    raw = raw_folder(tmp_path, mjr_name("r", "alice", "audio"), mjr_name("r", "alice", "video"))
    fake = FakePpRec(media_dir / "small.webm", media_dir / "tone.opus")
    tracks = convert_folder(
        raw, tmp_path / "out", kinds={"video"}, started_ms=STARTED_MS, runner=fake
    )
    assert [t.kind for t in tracks] == ["video"]
    assert [p.suffix for p in (tmp_path / "out").iterdir()] == [".webm"]


def test_a_republished_stream_gets_a_numbered_second_file(tmp_path: Path, media_dir: Path) -> None:
    raw = raw_folder(
        tmp_path, mjr_name("r", "alice", "video"), mjr_name("r", "alice", "video", offset_s=3)
    )
    fake = FakePpRec(media_dir / "small.webm", media_dir / "tone.opus")
    tracks = convert_folder(
        raw,
        tmp_path / "out",
        kinds={"video"},
        started_ms=STARTED_MS,
        runner=fake,
        name=lambda s: "S",
    )
    assert [t.path.name for t in tracks] == ["S.webm", "S-1.webm"]


def test_a_failing_conversion_says_which_file_and_why(tmp_path: Path, media_dir: Path) -> None:
    raw = raw_folder(tmp_path, mjr_name("r", "alice", "video"))
    fake = FakePpRec(media_dir / "small.webm", media_dir / "tone.opus", fail_on="alice")
    with pytest.raises(
        PpRecError, match=r"janus-pp-rec failed on videoroom-r-user-alice.*Invalid header"
    ):
        convert_folder(raw, tmp_path / "out", kinds={"video"}, started_ms=STARTED_MS, runner=fake)


def test_no_media_is_an_error_that_names_what_was_found(tmp_path: Path, media_dir: Path) -> None:
    raw = raw_folder(tmp_path, mjr_name("r", "alice", "audio"))
    fake = FakePpRec(media_dir / "small.webm", media_dir / "tone.opus")
    with pytest.raises(PpRecError, match=r"no video media was recorded .*found: audio"):
        convert_folder(raw, tmp_path / "out", kinds={"video"}, started_ms=STARTED_MS, runner=fake)


def test_tracks_without_packets_are_left_out(tmp_path: Path, media_dir: Path) -> None:
    raw = raw_folder(tmp_path, mjr_name("r", "alice", "video"))
    fake = FakePpRec(media_dir / "small.webm", media_dir / "tone.opus", packets=0)
    with pytest.raises(PpRecError, match="no video media"):
        convert_folder(raw, tmp_path / "out", kinds={"video"}, started_ms=STARTED_MS, runner=fake)


@pytest.mark.skipif(shutil.which("janus-pp-rec") is None, reason="janus-tools not installed")
def test_a_corrupt_mjr_fails_with_janus_pp_recs_own_words(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / mjr_name("r", "alice", "video")).write_bytes(b"garbage, not a recording")
    with pytest.raises(PpRecError, match="cannot read the header"):
        convert_folder(raw, tmp_path / "out", kinds={"video"}, started_ms=STARTED_MS)
