"""The live view of a run on a terminal: every peer, its ICE state and its bitrate, each second.

Sampling runs on the client namespace's loop (where the peers are); drawing on the main one.
On a pipe (make, CI) there is no live view: the step lines are the progress there.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from rich.console import Console
from rich.live import Live
from rich.table import Table

from simulator.player.context import RunContext

INTERVAL_S = 1.0


class LiveView:
    def __init__(self, console: Console) -> None:
        self.console = console
        self._task: asyncio.Task[None] | None = None
        self._last: dict[tuple[str, str], tuple[float, int]] = {}

    def start(self, ctx: RunContext) -> None:
        if self.console.is_terminal:
            self._task = asyncio.create_task(self._run(ctx), name="live-view")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self, ctx: RunContext) -> None:
        with Live(
            self._table([]), console=self.console, refresh_per_second=2, transient=True
        ) as live:
            while True:
                await asyncio.sleep(INTERVAL_S)
                rows = []
                for name, participant in list(ctx.participants.items()):
                    try:
                        views = await ctx.on_media(participant.peer_views())
                    except Exception:  # a peer closing under us: skip it this second
                        continue
                    for what, state, total in views:
                        rows.append((name, what, state, self._kbps((name, what), total)))
                live.update(self._table(rows))

    def _kbps(self, key: tuple[str, str], total: int) -> str:
        now = time.monotonic()
        previous = self._last.get(key)
        self._last[key] = (now, total)
        if previous is None or now <= previous[0]:
            return "…"
        return f"{8 * (total - previous[1]) / (now - previous[0]) / 1000:.0f}"

    @staticmethod
    def _table(rows: list[tuple[str, str, str, str]]) -> Table:
        table = Table(title="peers", title_justify="left")
        for column in ("peer", "peer connection", "ICE", "kbit/s"):
            table.add_column(column, justify="right" if column == "kbit/s" else "left")
        for name, what, state, kbps in rows:
            colour = {"completed": "green", "connected": "green", "failed": "red"}.get(
                state, "yellow"
            )
            table.add_row(name, what, f"[{colour}]{state}[/]", kbps)
        return table
