"""One active recording per room, its statuses reported to the collector, its files produced.

OpenVidu's lifecycle (``openvidu-documents.md`` §1.8): ``started`` when the recording starts,
``stopped`` (with a reason) when it stops, then ``ready`` once the files are final, or
``failed``. Stopping returns at once; the files are produced in the background (a worker thread)
so a stop step, or the room-closed hook that runs inside a participant's ``leave``, never waits
for an encoder. ``finished()`` waits for every production; the run's end hook calls it, so every
recording has its final status before the run's documents are read.

Janus, the collector, the producer, the clock and sleep are passed in: unit tests fake them all.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from simulator.ledger import RecordingRecord, now_ms
from simulator.recording.options import (
    RecordingError,
    RecordingOptions,
    RecordingStatus,
    recording_id,
)
from simulator.recording.pipeline import RecordingJob, RecordingResult, produce

log = logging.getLogger(__name__)

Post = Callable[[str, dict[str, Any]], Awaitable[None]]
Producer = Callable[[RecordingJob], RecordingResult]
Sleep = Callable[[float], Awaitable[None]]

SETTLE_POLL_S = 0.2
SETTLE_MAX_S = 3.0


class RoomRecorder(Protocol):
    """The media server's side: record a room's streams into a folder, and stop."""

    async def start(self, session_id: str, rec_dir: Path) -> None: ...

    async def stop(self, session_id: str) -> None: ...


@dataclass
class _Active:
    record: RecordingRecord
    options: RecordingOptions
    raw_dir: Path


class RecordingManager:
    def __init__(
        self,
        *,
        recorder: RoomRecorder,
        post: Post,
        records: list[RecordingRecord],
        out_root: Path,
        raw_root: Path,
        producer: Producer = produce,
        clock: Callable[[], int] = now_ms,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        """``out_root``: ``results/<run-id>/recordings``; ``raw_root``: where Janus writes the
        ``.mjr`` files, one folder per recording (absolute: Janus resolves nothing)."""
        self._recorder = recorder
        self._post = post
        self.records = records
        self._out_root = out_root
        self._raw_root = raw_root.absolute()
        self._producer = producer
        self._clock = clock
        self._sleep = sleep
        self._active: dict[str, _Active] = {}
        self._serials: dict[str, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def active(self, room: str) -> RecordingRecord | None:
        current = self._active.get(room)
        return current.record if current is not None else None

    @property
    def active_rooms(self) -> list[str]:
        return list(self._active)

    async def start(self, room: str, session_id: str, options: RecordingOptions) -> RecordingRecord:
        if room in self._active:
            # OpenVidu answers 409: a session has one recording at a time.
            raise RecordingError(f"room {room} is already being recorded")
        serial = self._serials.get(session_id, 0)
        self._serials[session_id] = serial + 1
        rid = recording_id(session_id, serial)
        raw_dir = self._raw_root / rid
        await self._recorder.start(session_id, raw_dir)
        composed = options.composed_video
        record = RecordingRecord(
            recording_id=rid,
            room=room,
            session_id=session_id,
            name=options.name,
            output_mode=options.output_mode.value,
            has_audio=options.has_audio,
            has_video=options.has_video,
            resolution=options.resolution if composed else None,
            frame_rate=options.frame_rate if composed else None,
            started_ms=self._clock(),
            folder=str(self._out_root / rid),
        )
        self.records.append(record)
        self._active[room] = _Active(record, options, raw_dir)
        await self._report(record, options, RecordingStatus.STARTED, record.started_ms)
        return record

    async def stop(
        self, room: str, reason: str, stream_ids: dict[str, str] | None = None
    ) -> RecordingRecord:
        """Stop ``room``'s recording with an OpenVidu reason; its files follow in the background."""
        current = self._active.pop(room, None)
        if current is None:
            raise RecordingError(f"room {room} is not being recorded")
        record = current.record
        try:
            await self._recorder.stop(record.session_id)
        finally:
            record.stopped_ms = self._clock()
            record.reason = reason
            record.status = RecordingStatus.STOPPED.value
        await self._report(record, current.options, RecordingStatus.STOPPED, record.stopped_ms)
        job = RecordingJob(
            recording_id=record.recording_id,
            session_id=record.session_id,
            options=current.options,
            started_ms=record.started_ms,
            stopped_ms=record.stopped_ms,
            raw_dir=current.raw_dir,
            out_dir=self._out_root / record.recording_id,
            stream_ids=dict(stream_ids or {}),
        )
        task = asyncio.create_task(
            self._finish(record, job), name=f"recording {record.recording_id}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return record

    async def stop_all(self, reason: str, stream_ids: dict[str, str] | None = None) -> None:
        for room in list(self._active):
            try:
                await self.stop(room, reason, stream_ids)
            except Exception as exc:
                log.error("recording of room %s could not be stopped: %s", room, exc)

    async def finished(self) -> None:
        """Wait until every stopped recording is ready or failed."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks))

    async def _finish(self, record: RecordingRecord, job: RecordingJob) -> None:
        began = time.monotonic()
        try:
            await self._settle(job.raw_dir)
            result = await asyncio.to_thread(self._producer, job)
        except Exception as exc:  # a failed recording is a result to report, not a crash
            record.status = RecordingStatus.FAILED.value
            record.error = f"{type(exc).__name__}: {exc}"
            log.error("recording %s failed: %s", record.recording_id, record.error)
        else:
            record.status = RecordingStatus.READY.value
            record.files = [str(path) for path in result.files]
            record.size = result.size
            record.duration_s = result.duration_s
            log.info(
                "recording %s ready: %d files, %d bytes, %.3f s",
                record.recording_id,
                len(result.files),
                result.size,
                result.duration_s,
            )
        record.processing_s = round(time.monotonic() - began, 3)
        try:
            await self._report(record, job.options, RecordingStatus(record.status), self._clock())
        except Exception as exc:
            log.error(
                "recording %s: the collector did not take its final status: %s",
                record.recording_id,
                exc,
            )
            record.error = (record.error + "; " if record.error else "") + f"not reported: {exc}"

    async def _settle(self, folder: Path) -> None:
        """Janus closes a leaving publisher's recorder on its own thread, a moment after the
        leave is answered: wait until the ``.mjr`` sizes stop changing (bounded)."""
        previous: list[tuple[str, int]] | None = None
        waited = 0.0
        while waited < SETTLE_MAX_S:
            sizes = _mjr_sizes(folder)
            if sizes == previous:
                return
            previous = sizes
            await self._sleep(SETTLE_POLL_S)
            waited += SETTLE_POLL_S

    async def _report(
        self,
        record: RecordingRecord,
        options: RecordingOptions,
        status: RecordingStatus,
        timestamp_ms: int,
    ) -> None:
        await self._post("/recordings", status_payload(record, options, status, timestamp_ms))


def _mjr_sizes(folder: Path) -> list[tuple[str, int]]:
    if not folder.is_dir():
        return []
    return sorted((p.name, p.stat().st_size) for p in folder.glob("*.mjr"))


def status_payload(
    record: RecordingRecord, options: RecordingOptions, status: RecordingStatus, timestamp_ms: int
) -> dict[str, Any]:
    """The collector's ``POST /recordings`` body (``collector.metadata.RecordingInput``)."""
    payload: dict[str, Any] = {
        "id": record.recording_id,
        "sessionId": record.session_id,
        **options.fields(),
        "status": status.value,
        "reason": None if status is RecordingStatus.STARTED else record.reason,
        "size": record.size if status is RecordingStatus.READY else 0,
        "duration": record.duration_s if status is RecordingStatus.READY else 0.0,
        "startTime": record.started_ms,
        "timestamp": timestamp_ms,
    }
    if status is RecordingStatus.FAILED and record.error:
        payload["rtcsim_failure"] = record.error
    return payload
