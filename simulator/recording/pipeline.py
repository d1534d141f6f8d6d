"""From a stopped recording's ``.mjr`` files to its final files, size and duration.

Runs in a worker thread (``asyncio.to_thread``): ``janus-pp-rec`` and the PyAV encoders are
blocking. What ``size`` means, as in OpenVidu:

* INDIVIDUAL: the bytes of the whole recording folder, i.e. every track file plus the
  ``<recording-id>.json`` metadata, which is what OpenVidu's INDIVIDUAL zip holds;
* COMPOSED: the bytes of the one media file (``<recording-id>.webm``).

``duration`` is in seconds, read from the produced media: COMPOSED, the file's duration (the
recording's start-to-stop time); INDIVIDUAL, from the recording's start to the end of its last
track.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from simulator.recording.composition import Canvas, compose
from simulator.recording.conversion import Track, convert_folder
from simulator.recording.media_info import folder_size, probe
from simulator.recording.options import OutputMode, RecordingOptions
from simulator.recording.pprec import CommandRunner, run_pprec

TRACKS_FOLDER = "tracks"  # COMPOSED: converted tracks, beside the .mjr files, not in the output


@dataclass(frozen=True)
class RecordingJob:
    recording_id: str
    session_id: str
    options: RecordingOptions
    started_ms: int
    stopped_ms: int
    raw_dir: Path
    """Where Janus wrote the ``.mjr`` files."""
    out_dir: Path
    """``results/<run-id>/recordings/<recording-id>/``."""
    stream_ids: dict[str, str] = field(default_factory=dict)
    """connectionId -> streamId, to name INDIVIDUAL files as OpenVidu does."""

    @property
    def kinds(self) -> set[str]:
        return {
            k
            for k, on in (("audio", self.options.has_audio), ("video", self.options.has_video))
            if on
        }

    @property
    def duration_s(self) -> float:
        return max(0.0, (self.stopped_ms - self.started_ms) / 1000)


@dataclass(frozen=True)
class RecordingResult:
    files: list[Path]
    size: int
    duration_s: float


def metadata_name(recording_id: str) -> str:
    return f"{recording_id}.json"


def produce(job: RecordingJob, runner: CommandRunner = run_pprec) -> RecordingResult:
    if job.out_dir.exists():
        shutil.rmtree(job.out_dir)  # a retried conversion starts clean
    job.out_dir.mkdir(parents=True)
    if job.options.output_mode is OutputMode.INDIVIDUAL:
        return _individual(job, runner)
    return _composed(job, runner)


def _individual(job: RecordingJob, runner: CommandRunner) -> RecordingResult:
    tracks = convert_folder(
        job.raw_dir,
        job.out_dir,
        kinds=job.kinds,
        started_ms=job.started_ms,
        runner=runner,
        name=lambda source: job.stream_ids.get(source.connection_id, source.connection_id),
    )
    metadata = job.out_dir / metadata_name(job.recording_id)
    metadata.write_bytes(orjson.dumps(_metadata(job, tracks), option=orjson.OPT_INDENT_2))
    return RecordingResult(
        files=[t.path for t in tracks] + [metadata],
        size=folder_size(job.out_dir),
        duration_s=round(max(t.end_s for t in tracks), 3),
    )


def _metadata(job: RecordingJob, tracks: list[Track]) -> dict[str, Any]:
    """Like the ``.json`` in OpenVidu's INDIVIDUAL zip, one entry per track file."""
    return {
        "createdAt": job.started_ms,
        "id": job.recording_id,
        "name": job.options.name,
        "sessionId": job.session_id,
        "files": [
            {
                "name": t.path.name,
                "connectionId": t.source.connection_id,
                "streamId": job.stream_ids.get(t.source.connection_id, ""),
                "size": t.info.size,
                "hasAudio": t.kind == "audio",
                "hasVideo": t.kind == "video",
                "codec": t.source.codec,
                "startTimeOffset": round(t.offset_s * 1000),
                "endTimeOffset": round(t.end_s * 1000),
            }
            for t in tracks
        ],
    }


def _composed(job: RecordingJob, runner: CommandRunner) -> RecordingResult:
    tracks = convert_folder(
        job.raw_dir,
        job.raw_dir / TRACKS_FOLDER,
        kinds=job.kinds,
        started_ms=job.started_ms,
        runner=runner,
    )
    target = job.out_dir / f"{job.recording_id}.webm"
    width, height = job.options.size
    canvas = Canvas(width, height, job.options.frame_rate) if job.options.has_video else None
    compose(
        [t for t in tracks if t.kind == "video"],
        [t for t in tracks if t.kind == "audio"],
        target,
        canvas=canvas,
        duration_s=job.duration_s,
    )
    info = probe(target)
    return RecordingResult(files=[target], size=info.size, duration_s=round(info.duration_s, 3))
