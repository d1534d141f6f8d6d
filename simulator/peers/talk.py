"""Talk spurts: when a publisher speaks and when it pauses, and what its audio is meanwhile.

People in a call speak in spurts (ITU-T P.59: a talk spurt lasts about 1.0 s on average and a
pause about 1.6 s, both roughly exponential). A server's audio-level and active-speaker logic
(Janus VideoRoom ``audiolevel_event``, LiveKit's speaker detection) only shows its behaviour on
such a pattern, not on a tone that never stops.

A ``TalkSchedule`` answers, per 20 ms audio slot, what a browser with Opus DTX sends
(RFC 7587 §3.1.3, libopus DTX, WebRTC's 400 ms DTX refresh):

* ``SPEECH``: a normal Opus frame, with the audio level of the voice (RFC 6464);
* ``COMFORT``: during a pause, one frame every 400 ms keeps the stream alive: a TOC byte and no
  frame data (an Opus DTX frame, RFC 6716 §3.2.1), audio level 127 (-127 dBov, silence);
* ``NOTHING``: the other slots of a pause send no packet at all; the RTP timestamps of the next
  packet still advance with the clock, as a DTX sender's do.

Spurts and pauses come from a fixed pattern (seconds, alternating, speaking first, repeated)
or are drawn from exponential distributions with a seed, so a run is reproducible. The
schedule remembers the spurts it played, for the ledger.
"""

from __future__ import annotations

import enum
import random
import time
from bisect import bisect_right
from collections.abc import Sequence

SLOT_S = 0.020
DTX_REFRESH_SLOTS = 20  # one comfort frame every 400 ms
MIN_PERIOD_S = 0.2
P59_TALK_MEAN_S = 1.004
P59_PAUSE_MEAN_S = 1.587
SILENCE_LEVEL = 127  # RFC 6464: -127 dBov


class Slot(enum.Enum):
    SPEECH = "speech"
    COMFORT = "comfort"
    NOTHING = "nothing"


class TalkSchedule:
    """Speaking periods over time since the track started (seconds)."""

    def __init__(
        self,
        pattern: Sequence[float] | None = None,
        *,
        speak_mean_s: float = P59_TALK_MEAN_S,
        pause_mean_s: float = P59_PAUSE_MEAN_S,
        seed: int = 0,
    ) -> None:
        if pattern is not None and (len(pattern) < 2 or any(p <= 0 for p in pattern)):
            raise ValueError("a talk pattern needs positive speak and pause seconds")
        self._pattern = tuple(pattern) if pattern is not None else None
        self._means = (speak_mean_s, pause_mean_s)
        self._rng = random.Random(seed)
        self._edges: list[int] = [0]  # period boundaries in slots; even periods are speech
        self.started_ms: int | None = None
        """Wall-clock ms of the first slot (set by the track when it starts)."""

    def _period_slots(self, index: int) -> int:
        if self._pattern is not None:
            seconds = self._pattern[index % len(self._pattern)]
        else:
            seconds = max(MIN_PERIOD_S, self._rng.expovariate(1 / self._means[index % 2]))
        return max(1, round(seconds / SLOT_S))

    def _period_at(self, slot: int) -> int:
        while self._edges[-1] <= slot:
            self._edges.append(self._edges[-1] + self._period_slots(len(self._edges) - 1))
        return bisect_right(self._edges, slot) - 1

    def begin(self) -> None:
        if self.started_ms is None:
            self.started_ms = int(time.time() * 1000)

    def speaking(self, t_s: float) -> bool:
        return self._period_at(int(t_s / SLOT_S)) % 2 == 0

    def slot(self, index: int) -> Slot:
        """What the ``index``-th 20 ms slot carries."""
        period = self._period_at(index)
        if period % 2 == 0:
            return Slot.SPEECH
        since = index - self._edges[period]
        return Slot.COMFORT if since % DTX_REFRESH_SLOTS == 0 else Slot.NOTHING

    def spurts(self, until_s: float) -> list[tuple[float, float]]:
        """The speaking periods (start, end) seconds that began before ``until_s``."""
        until = int(until_s / SLOT_S)
        self._period_at(until)
        out = []
        for index in range(0, len(self._edges) - 1, 2):
            start, end = self._edges[index], self._edges[index + 1]
            if start < until:
                out.append((start * SLOT_S, min(end, until) * SLOT_S))
        return out

    def spurts_ms(self) -> list[list[int]]:
        """The speaking periods so far as ``[from, to]`` wall-clock ms."""
        if self.started_ms is None:
            return []
        until_s = time.time() - self.started_ms / 1000
        return [
            [self.started_ms + round(a * 1000), self.started_ms + round(b * 1000)]
            for a, b in self.spurts(until_s)
        ]


def dtx_frame(opus_packet: bytes) -> bytes:
    """An Opus DTX frame in the configuration of ``opus_packet``: its TOC byte with frame
    count code 0 and no frame data (RFC 6716 §3.1, §3.2.1)."""
    return bytes([opus_packet[0] & 0xFC])
