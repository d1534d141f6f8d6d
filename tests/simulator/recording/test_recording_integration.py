"""The four recording scenarios on the real stack: files on disk, documents in Elasticsearch."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from collector.store import open_client
from rtcsim.library import LIBRARY
from rtcsim.pipeline.outcome import RunOutcome
from rtcsim.pipeline.timeline import run_scenario_file
from rtcsim.services import stack
from simulator.recording.media_info import folder_size, probe
from simulator.settings import Settings
from simulator.verify.store_reader import session_documents

pytestmark = pytest.mark.integration
SCENARIOS = LIBRARY
FINAL_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Expected:
    mode: str
    has_audio: bool
    has_video: bool
    reason: str
    started_s: float
    stopped_s: float
    kinds: tuple[str, ...] = ()
    size: tuple[int, int] | None = None


EXPECTED = {
    "individual": Expected("INDIVIDUAL", True, True, "recordingStoppedByServer", 1.5, 11.5),
    "composed": Expected(
        "COMPOSED",
        True,
        True,
        "recordingStoppedByServer",
        1.5,
        11.5,
        ("video", "audio"),
        (960, 540),
    ),
    "audio-only": Expected("COMPOSED", True, False, "lastParticipantLeft", 1.5, 11.5, ("audio",)),
    "video-only": Expected(
        "COMPOSED", False, True, "sessionClosedByServer", 1.5, 11.5, ("video",), (640, 360)
    ),
}


@dataclass
class Played:
    outcome: RunOutcome
    documents: list[dict[str, Any]]


async def _final_documents(settings: Settings, session_id: str) -> list[dict[str, Any]]:
    """The run's documents once its recordingSummary carries a final status (or time is up)."""
    deadline = time.monotonic() + FINAL_TIMEOUT_S
    async with open_client(settings.es_client_options()) as es:
        while True:
            docs = await session_documents(es, settings.es_index, [session_id])
            summaries = [d for d in docs if d.get("elastic_type") == "recordingSummary"]
            if any(s.get("status") in ("ready", "failed") for s in summaries):
                return docs
            if time.monotonic() > deadline:
                return docs
            await asyncio.sleep(0.5)


async def _play(name: str, settings: Settings) -> Played:
    outcome = await run_scenario_file(
        SCENARIOS / f"recording-{name}.yaml", settings, progress=lambda _m: None
    )
    [session] = outcome.ledger.sessions.values()
    return Played(outcome, await _final_documents(settings, session.session_id))


@pytest.fixture(scope="module")
def stack_settings() -> Settings:
    settings = Settings()
    stack.up(settings)
    return settings


@pytest.fixture(scope="module", params=sorted(EXPECTED))
def played(request: pytest.FixtureRequest, stack_settings: Settings) -> tuple[str, Played]:
    name: str = request.param
    return name, asyncio.run(_play(name, stack_settings))


def test_the_recording_is_ready_with_files_in_its_folder(played: tuple[str, Played]) -> None:
    _name, run = played
    [record] = run.outcome.ledger.recordings
    assert record.status == "ready", record.error
    folder = run.outcome.results_dir / "recordings" / record.recording_id
    assert folder.is_dir()
    assert sorted(str(p) for p in folder.iterdir()) == sorted(record.files)


def test_files_hold_the_right_streams_size_and_duration(played: tuple[str, Played]) -> None:
    name, run = played
    expected = EXPECTED[name]
    [record] = run.outcome.ledger.recordings
    media = [probe(Path(f)) for f in record.files if not f.endswith(".json")]
    if expected.mode == "COMPOSED":
        [info] = media
        assert info.kinds == expected.kinds
        if expected.size is not None:
            assert (info.width, info.height) == expected.size
        assert info.duration_s == pytest.approx(expected.stopped_s - expected.started_s, abs=1.0)
        return
    # INDIVIDUAL: alice published before the start, bob at 4.0 s (recorded although later).
    publish_at = {"alice": 0.5, "bob": 4.0}
    streams = {
        pub.stream_id: (person.name, pub)
        for person in run.outcome.ledger.participants.values()
        for pub in person.publications
    }
    assert len(media) == 4
    for info in media:
        who, publication = streams[info.path.stem]
        assert info.kinds == (("video",) if info.path.suffix == ".webm" else ("audio",))
        if info.kinds == ("video",):
            assert (info.width, info.height) == (publication.width, publication.height)
        expected_s = expected.stopped_s - max(expected.started_s, publish_at[who])
        assert info.duration_s == pytest.approx(expected_s, abs=1.0), info.path.name


def test_recording_summary_has_the_bytes_on_disk_and_openvidus_fields(
    played: tuple[str, Played],
) -> None:
    name, run = played
    expected = EXPECTED[name]
    [record] = run.outcome.ledger.recordings
    [summary] = [d for d in run.documents if d.get("elastic_type") == "recordingSummary"]
    if expected.mode == "INDIVIDUAL":
        on_disk = folder_size(Path(record.folder or ""))
    else:
        [file] = record.files
        on_disk = Path(file).stat().st_size
    assert summary["size"] == on_disk == record.size
    assert summary["duration"] == pytest.approx(expected.stopped_s - expected.started_s, abs=1.0)
    assert summary["id"] == record.recording_id == record.session_id
    assert (summary["outputMode"], summary["hasAudio"], summary["hasVideo"]) == (
        expected.mode,
        expected.has_audio,
        expected.has_video,
    )
    assert summary["reason"] == expected.reason
    assert ("resolution" in summary) == (expected.mode == "COMPOSED" and expected.has_video)


def test_cdr_has_started_stopped_and_ready(played: tuple[str, Played]) -> None:
    name, run = played
    events = [d for d in run.documents if d.get("event") == "recordingStatusChanged"]
    assert sorted(d["status"] for d in events) == ["ready", "started", "stopped"]
    by_status = {d["status"]: d for d in events}
    assert by_status["started"]["timestamp"] == by_status["started"]["startTime"]
    assert by_status["stopped"]["reason"] == EXPECTED[name].reason
    assert by_status["ready"]["size"] > 0
