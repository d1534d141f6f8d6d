"""The whole service stack, in the one order that works.

``up``: namespaces → Elasticsearch → collector → the media server (``Settings.server``: Janus or
LiveKit; LiveKit too when asked for; ``down`` stops whichever runs). The collector needs the SFU
namespace (its event endpoint lives there) and Elasticsearch (it installs its index template at
start-up); Janus needs the collector listening, or its ``core/started`` event is lost. ``down``
goes in reverse and removes the namespaces last, once nothing of ours runs inside them.

Each step reuses what is already up and healthy, so ``up`` is cheap to repeat.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from rich.console import Console

from collector.netns import namespace_exists
from rtcsim.services import (
    collector,
    cpu_budget,
    elasticsearch,
    janus,
    livekit,
    livekit_build,
    netns,
)
from rtcsim.services.errors import ServiceError
from simulator.settings import Settings


class State(Enum):
    UP = "up"  # running and healthy, started by rtcsim
    REUSED = "reused"  # healthy, but not started by rtcsim for this state dir: never stopped
    DOWN = "down"
    UNHEALTHY = "unhealthy"  # our process runs but does not answer
    SKIPPED = "skipped"


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    state: State
    detail: str = ""
    pid: int | None = None
    elapsed_s: float | None = None


@dataclass(frozen=True)
class StackStatus:
    services: list[ServiceStatus] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return all(s.state in (State.UP, State.REUSED, State.SKIPPED) for s in self.services)

    def get(self, name: str) -> ServiceStatus:
        return next(s for s in self.services if s.name == name)


def _timed(seconds: float) -> str:
    return f"{seconds:.1f} s"


def up(
    settings: Settings,
    *,
    with_collector: bool = True,
    with_livekit: bool = False,
    console: Console | None = None,
) -> StackStatus:
    """Bring every service up, reusing what already runs; raise ``ServiceError`` on failure.

    The media server is the settings' ``server``: Janus, or LiveKit (after the collector: its
    webhooks go there), built first if it never was (minutes, once). ``with_livekit``: LiveKit
    beside Janus.

    A failed step leaves the earlier ones running (to inspect, or for the next ``up`` to
    reuse); ``down`` clears everything.
    """
    out = console or Console(stderr=True)
    done: list[ServiceStatus] = []

    with out.status("network namespaces"):
        pair = netns.ensure(settings)
    detail = (
        f"{pair.sfu_netns} ({pair.sfu_veth} {pair.sfu_address}) ↔ "
        f"{pair.client_netns} ({pair.client_veth} {pair.client_address})"
    )
    done.append(ServiceStatus("namespaces", State.UP, detail))
    out.print(f"[green]✓[/] namespaces  {detail}")

    with out.status(f"Elasticsearch {settings.es_version} on {settings.es_url}"):
        es = elasticsearch.start(settings)
    verb = "reused" if es.reused else f"started in {_timed(es.elapsed_s)}"
    done.append(
        ServiceStatus(
            "elasticsearch",
            State.REUSED if es.reused and es.pid is None else State.UP,
            f"{es.url} ({es.cluster_status})",
            es.pid,
            es.elapsed_s,
        )
    )
    out.print(f"[green]✓[/] Elasticsearch  {es.url} {verb}, cluster {es.cluster_status}")

    if with_collector:
        with out.status(f"collector on {settings.collector_api_url}"):
            col = collector.start(settings)
        verb = "reused" if col.reused else f"started in {_timed(col.elapsed_s)}"
        state = State.REUSED if col.reused and col.pid is None else State.UP
        done.append(ServiceStatus("collector", state, col.url, col.pid, col.elapsed_s))
        out.print(f"[green]✓[/] collector  {col.url} {verb}")
    else:
        done.append(ServiceStatus("collector", State.SKIPPED, "not requested"))
        out.print("[yellow]-[/] collector  skipped: Janus events will not be recorded")

    if settings.server == "janus":
        with out.status(f"Janus in {settings.sfu_netns}"):
            jan = janus.start(settings)
        verb = "reused" if jan.reused else f"started in {_timed(jan.elapsed_s)}"
        done.append(ServiceStatus("janus", State.UP, jan.url, jan.pid, jan.elapsed_s))
        out.print(f"[green]✓[/] Janus  {jan.url} {verb} (pid {jan.pid})")
        _lift_budget(settings, "janus", jan.pid, out)

    if with_livekit or settings.server == "livekit":
        if not livekit_build.is_built(settings):
            out.print(f"building livekit-server {settings.livekit_version} (a few minutes, once)")
        with out.status(f"LiveKit in {settings.sfu_netns}"):
            lk = livekit.start(settings)
        verb = "reused" if lk.reused else f"started in {_timed(lk.elapsed_s)}"
        done.append(ServiceStatus("livekit", State.UP, lk.url, lk.pid, lk.elapsed_s))
        out.print(f"[green]✓[/] LiveKit  {lk.url} {verb} (pid {lk.pid})")
        _lift_budget(settings, "livekit", lk.pid, out)
    return StackStatus(done)


def _lift_budget(settings: Settings, server: str, pid: int | None, out: Console) -> None:
    """A reused server may still be held to the CPU budget of a capacity search that was
    killed; everything after ``up`` expects it unbounded."""
    if cpu_budget.lift_leftover(pid, cpu_budget.cgroup_name(settings.sfu_netns, server)):
        out.print(f"[yellow]![/] {server}: lifted the CPU budget a killed capacity search left")


def down(settings: Settings, *, console: Console | None = None) -> list[str]:
    """Stop what rtcsim started, in reverse order, and remove the namespaces.

    Every step runs even if an earlier one failed; the failures are raised together at the end.
    Returns what was stopped or removed.
    """
    out = console or Console(stderr=True)
    stopped: list[str] = []
    failures: list[str] = []
    steps: tuple[tuple[str, Callable[[], bool]], ...] = (
        ("LiveKit", lambda: livekit.stop(settings)),
        ("Janus", lambda: janus.stop(settings)),
        ("collector", lambda: collector.stop(settings)),
        ("Elasticsearch", lambda: elasticsearch.stop(settings)),
    )
    for name, stop in steps:
        try:
            if stop():
                stopped.append(name)
                out.print(f"[green]✓[/] {name} stopped")
            else:
                out.print(f"[dim]-[/] {name} was not running (or not started by rtcsim)")
        except (ServiceError, OSError) as exc:
            failures.append(f"{name}: {exc}")
    for ns in (settings.sfu_netns, settings.client_netns):
        leftovers = _pids_in(ns)
        if leftovers:
            out.print(
                f"[yellow]![/] processes still in {ns}: {', '.join(map(str, leftovers))} "
                "(not stopped: rtcsim only stops what it recorded)"
            )
    try:
        removed = netns.remove(settings)
        stopped.extend(f"namespace {ns}" for ns in removed)
        if removed:
            out.print(f"[green]✓[/] namespaces removed: {', '.join(removed)}")
    except ServiceError as exc:
        failures.append(f"namespaces: {exc}")
    if failures:
        raise ServiceError("some services could not be stopped", details="\n".join(failures))
    return stopped


def _pids_in(ns: str) -> list[int]:
    if not namespace_exists(ns):
        return []
    done = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True, check=False)
    return [int(p) for p in done.stdout.split() if p.isdigit()]


def status(settings: Settings) -> StackStatus:
    """What runs now, without starting or stopping anything."""
    services: list[ServiceStatus] = []
    problems = netns.problems(settings)
    services.append(
        ServiceStatus(
            "namespaces",
            State.UP
            if not problems
            else (State.UNHEALTHY if netns.exists(settings) else State.DOWN),
            "; ".join(problems) or f"{settings.sfu_netns} ↔ {settings.client_netns}",
        )
    )
    es_pid = elasticsearch.pid(settings)
    health = elasticsearch.cluster_health(settings)
    if health is not None:
        es_state = State.UP if es_pid is not None else State.REUSED
    else:
        es_state = State.UNHEALTHY if es_pid is not None else State.DOWN
    services.append(
        ServiceStatus(
            "elasticsearch", es_state, f"{settings.es_url} ({health or 'no answer'})", es_pid
        )
    )
    col_pid = collector.pid(settings)
    if collector.is_healthy(settings):
        col_state = State.UP if col_pid is not None else State.REUSED
    else:
        col_state = State.UNHEALTHY if col_pid is not None else State.DOWN
    services.append(ServiceStatus("collector", col_state, settings.collector_api_url, col_pid))
    # The settings' server is shown whatever its state; the other one only while it runs.
    jan_pid = janus.pid(settings)
    if jan_pid is not None or settings.server == "janus":
        if jan_pid is None:
            jan_state = State.DOWN
        else:
            jan_state = State.UP if janus.is_healthy(settings) else State.UNHEALTHY
        services.append(ServiceStatus("janus", jan_state, settings.janus_url, jan_pid))
    lk_pid = livekit.pid(settings)
    if lk_pid is not None or settings.server == "livekit":
        if lk_pid is None:
            lk_state = State.DOWN
        else:
            lk_state = State.UP if livekit.is_healthy(settings) else State.UNHEALTHY
        services.append(ServiceStatus("livekit", lk_state, settings.livekit_url, lk_pid))
    return StackStatus(services)
