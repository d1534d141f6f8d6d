"""Issue 16's scale-out as it will run across machines: the locust master in a namespace of its
own and each of two workers in another, each with its own address on a LAN (a bridge in the
client namespace, routed to Janus, ``rtcsim.services.lan``), the workers in private working
folders; their ledger parts reach the master only over locust's messages, and the run concludes
whole on the real Janus, collector and Elasticsearch."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rtcsim.pipeline.load import MasterPlace, run_load_scenario
from rtcsim.services.lan import Lan, Relay
from simulator.load.parts import MANIFEST
from simulator.scenario.load import LoadScenario, LoadSpec
from simulator.settings import Settings

pytestmark = pytest.mark.integration
LOCUSTFILE = Path(__file__).parents[2] / "scenarios" / "locust" / "load-small.py"
MASTER_PORT = 5557  # in the master's own namespace: no other run can hold it


def worker_env(settings: Settings, lan: Lan, index: int) -> dict[str, str]:
    """A worker machine's settings: its own namespace and address for the peers, Janus and the
    collector's API at their LAN addresses; nothing read from this clone's rtcsim.toml."""
    machine = lan.machines[index]
    own = {
        "client_netns": machine.netns,
        "client_address": machine.address,
        "sfu_address": settings.sfu_address,
        "janus_http_port": str(settings.janus_http_port),
        "collector_api_host": lan.bridge_address,
        "collector_api_port": str(settings.collector_api_port),
        "collector_token": settings.collector_token,
        "server": "janus",
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("RTCSIM_")}
    return env | {f"RTCSIM_{key.upper()}": value for key, value in own.items()}


def test_a_master_and_two_workers_on_separate_machines_conclude_whole(
    running_stack: Settings, tmp_path: Path
) -> None:
    settings = running_stack
    lan = Lan.from_settings(settings, 3)
    master, *workers = lan.machines
    procs: list[subprocess.Popen[bytes]] = []
    relay: Relay | None = None
    try:
        lan.ensure()
        relay = Relay(
            lan.hub_netns,
            lan.bridge_address,
            settings.collector_api_port,
            (settings.collector_api_host, settings.collector_api_port),
        )
        for n, machine in enumerate(workers, start=1):
            home = tmp_path / f"machine-{n}"
            home.mkdir()
            command = [
                *("ip", "netns", "exec", machine.netns),
                *(sys.executable, "-m", "rtcsim", "load", str(LOCUSTFILE), "--worker"),
                *("--master-host", master.address, "--master-port", str(MASTER_PORT)),
            ]
            with (home / "worker.log").open("wb") as log:
                procs.append(
                    subprocess.Popen(
                        command,
                        cwd=home,
                        env=worker_env(settings, lan, n),
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
        scenario = LoadScenario(
            name="load-machines",
            load=LoadSpec(
                locustfile=str(LOCUSTFILE),
                users=12,
                spawn_rate=4,
                run_time_s=45,
                workers=0,
                stop_timeout_s=20,
            ),
        )
        place = MasterPlace(
            bind_host=master.address, port=MASTER_PORT, remote_workers=2, netns=master.netns
        )
        outcome = asyncio.run(
            run_load_scenario(scenario, LOCUSTFILE, settings, progress=lambda _m: None, place=place)
        )
        for proc in procs:
            assert proc.wait(60) == 0
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        if relay is not None:
            relay.close()
        lan.remove()
    assert not any(Path("/var/run/netns", m.netns).exists() for m in lan.machines)

    failed = [c for c in outcome.checks if not c.ok]
    assert failed == []
    # Both parts came over the messages: the master's folder holds what it received, named
    # by the sending worker; each worker kept its own copy in its private folder.
    received = sorted(p.name for p in outcome.results_dir.glob("ledger-*.json"))
    assert len(received) == 2, received
    assert all("-w" in name for name in received), received
    manifest = json.loads((outcome.results_dir / MANIFEST).read_text())
    assert manifest == {"received": received, "missing": []}
    for n in (1, 2):
        own = list((tmp_path / f"machine-{n}" / "results" / outcome.run_id).glob("ledger-*.json"))
        assert len(own) == 1
    assert len(outcome.ledger.generator) == 2  # each worker's self-watch report travelled too
    assert {r.pid for r in outcome.ledger.generator} == {
        int(name.split("-")[1]) for name in received
    }
    # Whole: every visit that joined left, in the ledger and in locust's stats, and the cdr
    # counts read back equal the ledger's (the conclusion's checks, all passed above).
    names = {c.name for c in outcome.checks}
    assert "locust counted a leave for every successful join" in names
    cdr_counts = [n for n in names if n.startswith("cdr ") and n.endswith(" documents")]
    assert len(cdr_counts) >= 6, sorted(names)
    joined = [c for p in outcome.ledger.participants.values() for c in p.connections]
    assert len(joined) >= 20
    assert all(c.left_ms for c in joined if c.joined_ms), "a join without its leave"
    # The media went between the workers' own addresses and Janus's, not the client namespace.
    candidates = {a for c in joined for a in c.sdp_candidates}
    assert candidates == {settings.sfu_address, *(w.address for w in workers)}
