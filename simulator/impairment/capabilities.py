"""What the kernel here offers for impairment, and how the kernel impairer runs its commands.

The probe works in a throwaway namespace of its own, so nothing the team runs is touched, and
is cached: the kernel does not change during a run.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from collector.netns import exec_in

log = logging.getLogger(__name__)

FAMILY = "inet"
COMMAND_TIMEOUT_S = 10.0


class KernelImpairmentError(RuntimeError):
    """A command the kernel impairer needs is missing or failed."""


class ImpairmentUnsupported(KernelImpairmentError):
    """This kernel cannot apply the requested impairment at kernel depth."""


Runner = Callable[[Sequence[str], str | None], str]
"""Runs ``argv`` (with ``stdin`` text when not None) and returns stdout; raises
``KernelImpairmentError`` on failure. Injected so tests can see the commands without root."""


def run_command(argv: Sequence[str], stdin: str | None = None) -> str:
    try:
        done = subprocess.run(
            list(argv),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_S,
            check=False,
        )
    except FileNotFoundError as exc:
        raise KernelImpairmentError(f"{argv[0]!r} is not installed ({exc.strerror})") from exc
    except subprocess.TimeoutExpired as exc:
        raise KernelImpairmentError(f"`{' '.join(argv)}` hung for {COMMAND_TIMEOUT_S} s") from exc
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip()
        where = f" (stdin: {stdin.strip()!r})" if stdin else ""
        raise KernelImpairmentError(
            f"`{' '.join(argv)}` failed with exit {done.returncode}: {detail}{where}"
        )
    return done.stdout


@dataclass(frozen=True)
class Capabilities:
    """What this kernel and machine offer for impairment; ``notes`` say why something is not."""

    netem: bool
    tbf: bool
    htb: bool
    nftables: bool
    notes: tuple[str, ...] = ()


def kernel_refusal(caps: Capabilities, *, delay: bool, loss: bool, rate: bool) -> str | None:
    """Why this kernel cannot impair as asked (delay or jitter, loss, a rate cap), or None.
    The player refuses such a step when it plays; ``simulator.validation`` before the run."""
    if not (caps.netem or caps.tbf or caps.htb or caps.nftables) and caps.notes:
        return f"kernel-depth impairment is unavailable here: {'; '.join(caps.notes)}"
    if delay and not caps.netem:
        return (
            "delay/jitter needs tc netem, which is missing from this kernel "
            "(tc: 'Specified qdisc kind is unknown'); use depth: process for delay and "
            "jitter (kernel depth here does loss and rate caps)"
        )
    if loss and not caps.nftables:
        return (
            "loss at kernel depth needs nftables: apt-get install nftables (make setup "
            f"installs it); probe said: {'; '.join(caps.notes) or 'nft unusable'}"
        )
    if rate and not (caps.htb or caps.tbf):
        return "rate caps need the htb or tbf qdisc; this kernel has neither"
    return None


_cached: Capabilities | None = None
_cache_lock = threading.Lock()


def capabilities(run: Runner = run_command, *, refresh: bool = False) -> Capabilities:
    """Probe once (cached): each qdisc and an nft table are added and deleted on a veth pair of
    a throwaway namespace, so nothing the team runs is touched."""
    global _cached
    with _cache_lock:
        if _cached is None or refresh:
            _cached = _probe(run)
        return _cached


def _probe(run: Runner) -> Capabilities:
    if os.geteuid() != 0:
        return Capabilities(False, False, False, False, ("not root: network namespaces need it",))
    notes: list[str] = []
    netns = f"rtcsim-probe-{os.getpid()}"
    try:
        run(["ip", "netns", "add", netns], None)
    except KernelImpairmentError as exc:
        return Capabilities(False, False, False, False, (f"cannot create a namespace: {exc}",))
    try:
        run(["ip", "-n", netns, "link", "add", "pa", "type", "veth", "peer", "name", "pb"], None)

        def works(kind: str, *commands: str) -> bool:
            try:
                for command in commands:
                    run(exec_in(netns, "tc", *command.split()), None)
            except KernelImpairmentError as exc:
                notes.append(f"{kind}: {exc}")
                return False
            finally:
                with contextlib.suppress(KernelImpairmentError):
                    run(exec_in(netns, "tc", "qdisc", "del", "dev", "pa", "root"), None)
            return True

        netem = works("netem", "qdisc add dev pa root netem delay 1ms")
        tbf = works("tbf", "qdisc add dev pa root tbf rate 1mbit burst 10kb latency 50ms")
        htb = works(
            "htb",
            "qdisc add dev pa root handle 1: htb",
            "class add dev pa parent 1: classid 1:10 htb rate 1mbit",
            "filter add dev pa parent 1: protocol ip pref 10 u32 match ip sport 5000 0xffff"
            " flowid 1:10",
        )
        if shutil.which("nft") is None:
            nftables = False
            notes.append("nftables: nft is not installed (apt-get install nftables)")
        else:
            try:
                run(exec_in(netns, "nft", "add", "table", FAMILY, "rtcsim_probe"), None)
                run(exec_in(netns, "nft", "delete", "table", FAMILY, "rtcsim_probe"), None)
                nftables = True
            except KernelImpairmentError as exc:
                nftables = False
                notes.append(f"nftables: {exc}")
    except KernelImpairmentError as exc:
        return Capabilities(False, False, False, False, (f"cannot create a veth pair: {exc}",))
    finally:
        try:
            run(["ip", "netns", "del", netns], None)
        except KernelImpairmentError as exc:
            log.warning("could not remove probe namespace %s: %s", netns, exc)
    return Capabilities(netem, tbf, htb, nftables, tuple(notes))
