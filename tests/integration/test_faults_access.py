"""Faults and access on a real stack of its own: Janus killed mid-run, credentials, no leaks.

The stack here has its own namespaces, addresses, ports, state and results folders (never the
default ``rtcsim-*`` stack, which other runs may be using), and is torn down at the end.
"""

from __future__ import annotations

import base64
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from collector.store import open_client
from rtcsim.services import collector, janus, sockets, stack
from simulator.netns_loop import NamespaceLoop
from simulator.settings import Settings
from simulator.verify.store_reader import session_documents

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root"),
    pytest.mark.skipif(not janus.JANUS_BIN.exists(), reason="janus not installed"),
]

TOKEN = "tok-r8b-Zq7XvK2mW9"
EVENTS_PASSWORD = "evpw-r8b-Lp4TnB8sR3"
SECRETS = (TOKEN, EVENTS_PASSWORD)
OVERRIDES: dict[str, Any] = {
    "sfu_netns": "rtcsr8b-sfu",
    "client_netns": "rtcsr8b-cli",
    "sfu_veth": "rtcsr8b-s0",
    "client_veth": "rtcsr8b-c0",
    "sfu_address": "198.19.9.1",
    "client_address": "198.19.9.2",
    "es_port": 9290,
    "collector_events_port": 8490,
    "collector_api_port": 8491,
    "janus_http_port": 8488,
    "janus_admin_port": 7488,
    "collector_token": TOKEN,
    "collector_events_password": EVENTS_PASSWORD,
    "monitoring_interval_s": 2.0,  # the short run needs its monitoringStats
}
RTCSIM = Path(sys.executable).with_name("rtcsim")

SHORT = """
name: r8b-short
seed: 3
rooms: [{name: short}]
participants: [{name: alice, room: short}, {name: bob, room: short}]
timeline:
  - {at: 0.0, do: join, who: all}
  - {at: 0.5, do: publish, who: alice, audio: true, video: {width: 320, height: 240, fps: 15}}
  - {at: 1.5, do: subscribe, who: bob, to: alice}
  - {at: 5.0, do: leave, who: all}
"""

LONG = """
name: r8b-janus-killed
seed: 5
rooms: [{name: doomed}]
participants: [{name: alice, room: doomed}, {name: bob, room: doomed}]
timeline:
  - {at: 0.0, do: join, who: all}
  - {at: 0.5, do: publish, who: alice, audio: true, video: {width: 320, height: 240, fps: 15}}
  - {at: 1.5, do: subscribe, who: bob, to: alice}
  - {at: 20.0, do: leave, who: all}
"""
KILL_AT_S = 6.0


@pytest.fixture(scope="module")
def base_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="rtcsr8b-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def isolated(base_dir: Path) -> Iterator[Settings]:
    settings = Settings(**OVERRIDES, state_dir=base_dir / "state", results_dir=base_dir / "results")
    try:
        stack.up(settings)
        yield settings
    finally:
        stack.down(settings)


def env_for(settings: Settings, results_dir: Path) -> dict[str, str]:
    env = {**os.environ}
    for key, value in OVERRIDES.items():
        env[f"RTCSIM_{key.upper()}"] = str(value)
    env["RTCSIM_STATE_DIR"] = str(settings.state_dir)
    env["RTCSIM_RESULTS_DIR"] = str(results_dir)
    return env


def rtcsim_run(
    settings: Settings, scenario: str, folder: Path, *, kill_janus_at_s: float | None = None
) -> tuple[int, str, Path]:
    """``rtcsim run`` as a user runs it; optionally SIGKILL Janus ``kill_janus_at_s`` after t=0."""
    folder.mkdir(parents=True)
    path = folder / "scenario.yaml"
    path.write_text(scenario)
    results = folder / "results"
    lines: list[str] = []
    timer: threading.Timer | None = None
    with subprocess.Popen(
        [str(RTCSIM), "run", "-v", str(path)],
        env=env_for(settings, results),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if kill_janus_at_s is not None and timer is None and "t=  0.0s" in line:
                janus_pid = janus.pid(settings)  # the Janus this module's stack started
                assert janus_pid is not None
                timer = threading.Timer(kill_janus_at_s, os.kill, (janus_pid, signal.SIGKILL))
                timer.start()
        code = proc.wait(timeout=240)
    if timer is not None:
        timer.join()
    [run_dir] = list(results.iterdir())
    return code, "".join(lines), run_dir


@pytest.fixture(scope="module")
def short_run(isolated: Settings, base_dir: Path) -> tuple[int, str, Path]:
    return rtcsim_run(isolated, SHORT, base_dir / "short")


@pytest.fixture(scope="module")
def killed_run(isolated: Settings, base_dir: Path) -> Iterator[tuple[int, str, Path]]:
    yield rtcsim_run(isolated, LONG, base_dir / "killed", kill_janus_at_s=KILL_AT_S)
    janus.start(isolated)  # our own Janus again, for whatever runs after


# -- access ------------------------------------------------------------------------------------
async def test_the_collector_api_listens_on_loopback_only(isolated: Settings) -> None:
    pid = collector.pid(isolated)
    assert pid is not None
    ports = {(address, port) for _, address, port in sockets.listening(pid)}
    assert ("127.0.0.1", isolated.collector_api_port) in ports
    assert all(address == "127.0.0.1" for address, _ in ports), ports


async def test_simulator_routes_without_the_bearer_token_are_401(isolated: Settings) -> None:
    url = f"{isolated.collector_api_url}/sessions"
    async with aiohttp.ClientSession() as http:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
            async with http.post(url, json={"sessionId": "x"}, headers=headers) as reply:
                assert reply.status == 401
        good = {"Authorization": f"Bearer {TOKEN}"}
        async with http.post(url, json={"sessionId": "r8b-x"}, headers=good) as reply:
            assert reply.status == 200


async def test_janus_events_without_basic_auth_are_401(isolated: Settings) -> None:
    url = f"http://127.0.0.1:{isolated.collector_events_port}/events"

    async def post(credentials: str | None) -> int:
        headers = {}
        if credentials is not None:
            headers["Authorization"] = "Basic " + base64.b64encode(credentials.encode()).decode()
        async with (
            aiohttp.ClientSession() as http,
            http.post(url, json=[], headers=headers) as reply,
        ):
            return reply.status

    with NamespaceLoop(isolated.sfu_netns) as loop:  # the listener lives in Janus's namespace
        assert await loop.run(post(None)) == 401
        assert await loop.run(post("janus:wrong")) == 401
        assert await loop.run(post(f"janus:{EVENTS_PASSWORD}")) == 200


def test_no_secret_appears_in_results_or_logs(
    isolated: Settings, short_run: tuple[int, str, Path]
) -> None:
    code, output, run_dir = short_run
    assert code == 0, output
    assert (run_dir / "ledger.json").exists()
    logs = [p for p in isolated.state_dir.rglob("*") if p.is_file() and p.suffix in (".log", "")]
    logs = [p for p in logs if "conf" not in p.parts]  # Janus's config must hold the password
    looked_at = [*(p for p in run_dir.rglob("*") if p.is_file()), *logs]
    assert isolated.state_dir / "collector.log" in looked_at
    for path in looked_at:
        data = path.read_bytes()
        for secret in SECRETS:
            assert secret.encode() not in data, f"{secret!r} leaked into {path}"
    for secret in SECRETS:
        assert secret not in output


# -- Janus killed --------------------------------------------------------------------------------
def test_a_run_whose_janus_is_killed_fails_naming_the_cause(
    isolated: Settings, killed_run: tuple[int, str, Path]
) -> None:
    code, output, run_dir = killed_run
    assert code == 1, output
    assert "MEDIA SERVER LOST" in output
    summary = orjson.loads((run_dir / "summary.json").read_bytes())
    first = summary["checks"][0]
    assert not first["ok"]
    assert first["found"].startswith(f"Janus at {isolated.janus_url} stopped answering at t=")
    at_s = float(first["found"].split("t=")[1].split("s")[0])
    assert KILL_AT_S - 0.5 <= at_s <= KILL_AT_S + 4.0, first
    assert summary["media_server_lost"] == first["found"]
    print(f"\n{first['name']}: {first['found']}; exit code {code}")


def test_the_ledger_ends_every_connection_with_media_server_disconnect(
    killed_run: tuple[int, str, Path],
) -> None:
    _code, _output, run_dir = killed_run
    ledger = orjson.loads((run_dir / "ledger.json").read_bytes())
    assert ledger["media_server_lost"]
    [session] = ledger["sessions"].values()
    assert session["end"] == "mediaServerDisconnect"
    ends = [c["end"] for p in ledger["participants"].values() for c in p["connections"]]
    assert ends == ["mediaServerDisconnect", "mediaServerDisconnect"]


def test_the_built_in_checks_agree_on_the_end_reasons(killed_run: tuple[int, str, Path]) -> None:
    _code, _output, run_dir = killed_run
    summary = orjson.loads((run_dir / "summary.json").read_bytes())
    reasons = [c for c in summary["checks"] if "reason" in c["name"]]
    assert reasons
    assert all(c["ok"] for c in reasons), [c for c in reasons if not c["ok"]]


async def test_the_documents_close_the_session_with_media_server_disconnect(
    isolated: Settings, killed_run: tuple[int, str, Path]
) -> None:
    _code, _output, run_dir = killed_run
    ledger = orjson.loads((run_dir / "ledger.json").read_bytes())
    [session] = ledger["sessions"].values()
    async with open_client(isolated.es_client_options()) as es:
        docs = await session_documents(es, isolated.es_index, [session["session_id"]])
    destroyed = [d for d in docs if d.get("event") == "sessionDestroyed"]
    left = [d for d in docs if d.get("event") == "participantLeft"]
    assert [d["reason"] for d in destroyed] == ["mediaServerDisconnect"]
    assert sorted(d["reason"] for d in left) == ["mediaServerDisconnect"] * 2
    summaries = [d for d in docs if d.get("elastic_type") == "sessionSummary"]
    assert [d["reason"] for d in summaries] == ["mediaServerDisconnect"]
