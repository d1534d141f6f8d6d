"""Turning a VideoRoom's recording on and off (Janus 1.1.2, measured).

What works on this Janus: ``edit`` with ``new_rec_dir`` points the room's recorders at a folder
of our choosing, then ``enable_recording`` (``record: true``) starts a recorder for every stream
already published *and* for every stream published while it stays on; ``record: false`` closes
them all. A per-publisher ``configure`` with ``record``/``filename`` would need each publisher's
own handle and would miss later publishers, which OpenVidu records. A fresh ``rec_dir`` per
recording keeps each recording's ``.mjr`` files apart without parsing timestamps.

``filename`` and ``rec_dir`` are read by Janus, in its namespace, on the same file system: the
folder must be absolute (``janus-aiortc.md`` §5). Janus creates it if missing (measured).
"""

from __future__ import annotations

import logging
from pathlib import Path

from simulator.driver.janus.http import JanusError, JanusHandle

log = logging.getLogger(__name__)

NO_SUCH_ROOM = 426  # JANUS_VIDEOROOM_ERROR_NO_SUCH_ROOM


async def start(handle: JanusHandle, room: str, rec_dir: Path) -> None:
    """Record every stream of ``room`` (present and future) into ``rec_dir`` (absolute)."""
    if not rec_dir.is_absolute():
        raise ValueError(f"Janus needs an absolute rec_dir, not {rec_dir}")
    await handle.message({"request": "edit", "room": room, "new_rec_dir": str(rec_dir)})
    await handle.message({"request": "enable_recording", "room": room, "record": True})


async def stop(handle: JanusHandle, room: str) -> bool:
    """Close the room's recorders; ``False`` if the room is already gone (its recorders too)."""
    try:
        await handle.message({"request": "enable_recording", "room": room, "record": False})
    except JanusError as exc:
        if exc.code == NO_SUCH_ROOM:
            log.info("room %s is gone: Janus closed its recorders with it", room)
            return False
        raise
    return True
