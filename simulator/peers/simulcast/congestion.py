"""How many simulcast layers a publisher's bandwidth estimate allows, as a browser decides.

A browser spreads its send-side estimate over the layers, lowest first, and switches a layer
off when the estimate no longer covers it (WebRTC's simulcast rate allocator); it comes back
only after the estimate has stayed high enough for a while. Two inputs feed the estimate here:

* **REMB** (draft-alvestrand-rmcat-remb): Janus sends the room's ``bitrate`` cap this way, in
  four steps at start-up (1/4, 1/3, 1/2, all of it, within the first few packets) and again
  every 5 s (``janus_videoroom.c``), and a subscriber's own REMB goes through it too;
* **loss** in receiver reports, the loss-based half of Google Congestion Control
  (draft-ietf-rmcat-gcc-02 §6): above 10 % the estimate drops to the sending rate times
  (1 - loss / 2); below 2 % it grows again by 8 % a second.

The estimate is the smaller of the two. A layer goes off after the estimate has been short of
it for ``down_after_s`` (long enough to ride out Janus's start-up ramp) and the next one comes
back after ``up_after_s`` of room for it. What is not modelled: transport-wide congestion
control (TWCC) and probing, frame-rate or resolution degradation inside a layer, and encoder
bitrate changes (a cheap layer's bitrate is its clip's).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

HIGH_LOSS = 0.10
LOW_LOSS = 0.02
GROWTH_PER_S = 0.08
DOWN_AFTER_S = 0.5
UP_AFTER_S = 2.0


class LayerBudget:
    """``bitrates_bps``: the layers' bitrates, lowest first. The lowest never goes off."""

    def __init__(
        self,
        bitrates_bps: Sequence[int],
        clock: Callable[[], float],
        *,
        down_after_s: float = DOWN_AFTER_S,
        up_after_s: float = UP_AFTER_S,
    ) -> None:
        self._needed = [sum(bitrates_bps[: k + 1]) for k in range(len(bitrates_bps))]
        self._clock = clock
        self._down_after_s = down_after_s
        self._up_after_s = up_after_s
        self.active = len(bitrates_bps)
        self.remb_bps: int | None = None
        self.loss_estimate_bps: float | None = None
        self._loss_at: float | None = None
        self._short_since: float | None = None
        self._room_since: float | None = None

    @property
    def estimate_bps(self) -> float | None:
        values = [v for v in (self.remb_bps, self.loss_estimate_bps) if v is not None]
        return min(values) if values else None

    def on_remb(self, bitrate_bps: int) -> None:
        self.remb_bps = bitrate_bps

    def on_loss(self, fraction_lost: float, sending_bps: float) -> None:
        """A receiver report: ``fraction_lost`` 0..1 while sending ``sending_bps`` in all."""
        now = self._clock()
        elapsed = 0.0 if self._loss_at is None else now - self._loss_at
        self._loss_at = now
        if fraction_lost > HIGH_LOSS:
            self.loss_estimate_bps = sending_bps * (1 - fraction_lost / 2)
        elif fraction_lost < LOW_LOSS and self.loss_estimate_bps is not None:
            self.loss_estimate_bps *= (1 + GROWTH_PER_S) ** elapsed
            if self.loss_estimate_bps > self._needed[-1] * 2:
                self.loss_estimate_bps = None  # recovered: no longer a limit

    def allowed(self) -> int:
        """How many layers the estimate covers right now (at least one)."""
        estimate = self.estimate_bps
        if estimate is None:
            return len(self._needed)
        return max(1, sum(1 for needed in self._needed if needed <= estimate))

    def update(self) -> int:
        """Apply the hysteresis; returns the number of layers to send (lowest first)."""
        now = self._clock()
        allowed = self.allowed()
        if allowed < self.active:
            self._room_since = None
            if self._short_since is None:
                self._short_since = now
            if now - self._short_since >= self._down_after_s:
                self.active = allowed
                self._short_since = None
        elif allowed > self.active:
            self._short_since = None
            if self._room_since is None:
                self._room_since = now
            if now - self._room_since >= self._up_after_s:
                self.active += 1
                self._room_since = None
        else:
            self._short_since = self._room_since = None
        return self.active
