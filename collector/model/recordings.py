"""Recording statuses, as the simulator reports them (Janus and LiveKit say nothing of them
that the collector reads), kept on their session for its ``recordingSummary``."""

from __future__ import annotations

from collector.documents import RecordingStatusChanged
from collector.metadata import RecordingInput
from collector.model.context import ModelContext
from collector.model.registry import SessionRegistry
from collector.model.summaries import session_summary
from collector.reasons import EndReason


class RecordingStatuses:
    def __init__(self, ctx: ModelContext, registry: SessionRegistry) -> None:
        self._ctx = ctx
        self._registry = registry

    def change(self, rec: RecordingInput) -> None:
        """One status change of a recording.

        A repeated ``started`` or ``stopped`` is dropped: when a session closes, the model stops
        its recordings itself (with the session's reason), and the simulator's own ``stopped``
        for the same recording may arrive before or after that.

        The final size and duration reach ``recordingSummary`` although files are produced
        after ``stopped``, often after the session closed and its summaries were written. A
        ``ready`` or ``failed`` status updates the recording's summary entry and, if the
        session is already closed, writes the session's summaries again; their ``_id``s are
        deterministic (``uniqueSessionId`` + recording id), so Elasticsearch overwrites the
        earlier ones. This keeps the model free of clocks and timers, never holds back any
        session's summaries, and a recording that never gets a final status simply keeps its
        ``stopped`` values, as OpenVidu's do (``openvidu-documents.md`` §5.6). Holding the
        summaries until every recording is final would need a timer and a timeout here, and
        the simulator cannot keep a room open, since sessions close on the server's own events.
        """
        session = self._registry.known_session(rec.sessionId)
        known = rec.id in session.recordings or rec.id in session.stopped_recordings
        if (rec.status == "started" and known) or (
            rec.status == "stopped" and rec.id in session.stopped_recordings
        ):
            self._ctx.counters["recording_status_repeated"] += 1
            return
        reason = rec.reason
        if reason is None and rec.status != "started":
            # OpenVidu always gives an ending status a reason; a stop asked through the API is this.
            reason = EndReason.RECORDING_STOPPED_BY_SERVER.value
        doc = RecordingStatusChanged.model_validate(
            {
                **rec.model_dump(exclude={"sessionId"}),
                "reason": reason,
                "sessionId": session.session_id,
                "uniqueSessionId": session.unique_id,
                "rtcsim_run_id": session.run_id,
            }
        )
        out = self._ctx.out
        out.append(doc)
        if rec.status == "started":
            session.recordings[rec.id] = doc
            return
        stopped = session.recordings.pop(rec.id, None) or session.stopped_recordings.get(rec.id)
        if rec.status == "stopped" or stopped is None:
            session.stopped_recordings[rec.id] = doc
        else:
            session.stopped_recordings[rec.id] = stopped.model_copy(
                update={
                    "status": rec.status,
                    "size": rec.size,
                    "duration": rec.duration,
                    "rtcsim_failure": rec.rtcsim_failure,
                }
            )
        if not session.open and session.closed_at_ms is not None:
            out.extend(session_summary(session, session.closed_at_ms).denormalized())
