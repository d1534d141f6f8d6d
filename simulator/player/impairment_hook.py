"""Putting a participant's ``impair`` step into force on its current peers.

``depth: process`` changes the participant's in-process impairer (it covers peers created later
by itself); ``depth: kernel`` installs nftables/tc rules for the participant's UDP ports in the
project's namespaces, so it is re-applied whenever the participant opens a new peer.
"""

from __future__ import annotations

import asyncio

from simulator.impairment.kernel import KernelImpairer
from simulator.impairment.model import NONE, Direction, Impairment, split
from simulator.participant import Participant
from simulator.player.context import RunContext

KERNEL = "kernel_impairer"


def kernel_impairer(ctx: RunContext) -> KernelImpairer:
    impairer = ctx.features.get(KERNEL)
    if not isinstance(impairer, KernelImpairer):
        raise RuntimeError("kernel-level impairment needs the services' settings (none given)")
    return impairer


async def apply_impairment(ctx: RunContext, who: str) -> None:
    step = ctx.impairments[who]
    participant = ctx.participants.get(who)
    if participant is None:
        return
    wanted = Impairment(
        loss_pct=step.loss_pct,
        delay_ms=step.delay_ms,
        jitter_ms=step.jitter_ms,
        rate_kbps=step.rate_kbps,
    )
    up, down = split(wanted, Direction(step.direction.value))
    ports = participant.local_ports()
    if step.depth == "process":
        await ctx.on_media(_set_in_process(participant, up, down))
        if KERNEL in ctx.features and ports:
            await asyncio.to_thread(kernel_impairer(ctx).clear, ports)
    else:
        await ctx.on_media(_set_in_process(participant, NONE, NONE))
        if clear_kernel_rules not in ctx.run_end_hooks:
            ctx.run_end_hooks.append(clear_kernel_rules)
        if ports:
            await asyncio.to_thread(kernel_impairer(ctx).apply, ports, up, down)


async def _set_in_process(participant: Participant, up: Impairment, down: Impairment) -> None:
    """Runs on the client namespace's loop, where the impairer's tasks live."""
    participant.set_impairment(up, down)


async def clear_kernel_rules(ctx: RunContext) -> None:
    if KERNEL in ctx.features:
        await asyncio.to_thread(kernel_impairer(ctx).clear_all)
