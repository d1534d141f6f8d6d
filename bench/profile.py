"""Where a process's CPU goes, sampled from outside with ``py-spy`` while a benchmark runs.

``py-spy record --nonblocking`` reads the target's Python stacks 100 times a second without
pausing it (it only costs the target the memory reads), for a window inside the benchmark's
steady state. ``summarize`` turns py-spy's raw output (one ``thread;frame;...;frame count`` line
per distinct stack) into shares: by the innermost frame (where the CPU is spent: self time),
by the package that frame belongs to, and, inclusively, by the project's own modules (any frame
of theirs on the stack), so a reader sees at once whether parsing, the session model, HTTP or
Elasticsearch's client holds the core.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

RATE_HZ = 100
TOP = 15
OWN_PACKAGES = ("collector", "simulator", "rtcsim", "bench")


def py_spy() -> str | None:
    """py-spy on PATH or beside this interpreter (the venv's ``bin``)."""
    beside = Path(sys.executable).with_name("py-spy")
    return shutil.which("py-spy") or (str(beside) if beside.is_file() else None)


def _package(frame: str) -> str:
    """``Writer.flush (collector/writer.py:120)`` → ``collector.writer``; a library frame →
    its package (``aiohttp``); the standard library → its module (``asyncio``)."""
    path = frame.rsplit(" (", 1)[-1].split(":", 1)[0]
    parts = path.split("/")
    if parts[0] in OWN_PACKAGES and len(parts) > 1:
        return ".".join([parts[0], parts[1].removesuffix(".py")])
    return parts[0].removesuffix(".py")


def summarize(raw: str, top: int = TOP) -> dict[str, Any]:
    """Shares in percent of all samples (idle threads are not sampled)."""
    own: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [f for f in stack.split(";")[1:] if f]
        if not frames:
            continue
        total += count
        own[frames[-1]] += count
        packages[_package(frames[-1])] += count
        for module in {_package(f) for f in frames if _package(f).startswith(OWN_PACKAGES)}:
            inclusive[module] += count

    def shares(counter: Counter[str]) -> dict[str, float]:
        return {k: round(100 * v / total, 1) for k, v in counter.most_common(top)}

    if not total:
        return {"samples": 0}
    return {
        "samples": total,
        "self_by_function": shares(own),
        "by_package": shares(packages),
        "inclusive_by_own_module": shares(inclusive),
    }


async def _record(pid: int, start_after_s: float, seconds: float) -> dict[str, Any]:
    spy = py_spy()
    if spy is None:
        return {"error": "py-spy is not installed (make setup installs it)"}
    await asyncio.sleep(start_after_s)
    out = Path(tempfile.mkdtemp(prefix="rtcsim-profile-")) / f"py-spy-{pid}.txt"
    argv = [spy, "record", "--pid", str(pid), "--duration", str(int(seconds))]
    argv += ["--rate", str(RATE_HZ), "--format", "raw", "--output", str(out), "--nonblocking"]
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await process.communicate()
    if process.returncode != 0 or not out.is_file():
        return {"error": f"py-spy exited {process.returncode}: {stderr.decode()[-300:]}"}
    return {**summarize(out.read_text()), "raw": str(out), "seconds": seconds}


def profile_process(
    pid: int, *, start_after_s: float, seconds: float
) -> asyncio.Task[dict[str, Any]]:
    """Start sampling ``pid`` ``start_after_s`` from now, for ``seconds``; await the summary."""
    return asyncio.create_task(_record(pid, start_after_s, seconds))
