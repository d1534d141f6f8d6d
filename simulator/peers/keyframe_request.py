"""A subscriber without a key frame asks for one, as a browser's receiver does.

Janus sends the publisher a PLI when a subscriber's connection comes up, but the key frame that
answers it can be lost on its way to a subscriber that is just starting, and for a simulcast
feed Janus relays nothing at all until a key frame of some layer comes (it asks again itself
only after a second without relaying). A browser does not wait for that: while it has no frame
it can decode it sends PLIs (RFC 4585 §6.3.1; WebRTC asks for a key frame when its first frame
is not one, and again when it has waited ~200 ms for one). aiortc's decoding receiver asks
only on a decoder error, and a cheap subscriber decodes nothing, so ``KeyframeRequester`` does
it for both: ``WAIT_S`` after the connection came up and then every ``INTERVAL_S`` while no key
frame came, and (cheap) at an inter frame before any key frame, at most every ``INTERVAL_S``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

WAIT_S = 0.2
INTERVAL_S = 0.5
MAX_REQUESTS = 20


class KeyframeRequester:
    def __init__(
        self,
        send_pli: Callable[[], None],
        has_keyframe: Callable[[], bool],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._send_pli = send_pli
        self._has_keyframe = has_keyframe
        self._clock = clock
        self._asked_at: float | None = None
        self.requests = 0

    def _ask(self) -> None:
        if self.requests >= MAX_REQUESTS:
            return
        self._asked_at = self._clock()
        self.requests += 1
        self._send_pli()

    def on_frame(self) -> None:
        """An (inter) frame arrived: ask if there is still no key frame to start from."""
        if self._has_keyframe():
            return
        if self._asked_at is None or self._clock() - self._asked_at >= INTERVAL_S:
            self._ask()

    async def watch(self, sleep: Callable[[float], Any] = asyncio.sleep) -> None:
        """Run from the connection coming up until a key frame came."""
        await sleep(WAIT_S)
        while not self._has_keyframe() and self.requests < MAX_REQUESTS:
            if self._asked_at is None or self._clock() - self._asked_at >= INTERVAL_S * 0.9:
                self._ask()
            await sleep(INTERVAL_S)


def video_ssrc(sdp: str, mid: str | None = None) -> int | None:
    """The SSRC a remote party announced for its first video m-line (``a=ssrc:<n> ...``), or
    for the video m-line ``mid``."""
    in_video = False
    section_mid: str | None = None
    found: int | None = None
    for line in sdp.splitlines():
        if line.startswith("m="):
            if in_video and found is not None and (mid is None or section_mid == mid):
                return found
            in_video, section_mid, found = line.startswith("m=video"), None, None
        elif in_video and line.startswith("a=mid:"):
            section_mid = line[len("a=mid:") :].strip()
        elif in_video and found is None and line.startswith("a=ssrc:"):
            found = int(line[len("a=ssrc:") :].split(" ")[0])
    if in_video and found is not None and (mid is None or section_mid == mid):
        return found
    return None


def pli_sender(receiver: Any, media_ssrc: int) -> Callable[[], None]:
    """Send a PLI for ``media_ssrc`` through an aiortc receiver (on the running loop)."""
    tasks: set[asyncio.Task[None]] = set()

    def send() -> None:
        task = asyncio.ensure_future(receiver._send_rtcp_pli(media_ssrc))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    return send
