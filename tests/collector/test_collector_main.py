"""The ``rtcsim-collector`` entry point: start-up errors, serving, graceful stop."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import uuid

import aiohttp
import pytest

from collector.__main__ import main, serve, settings_from
from collector.store.client import connect
from simulator.settings import Settings
from tests.collector.janus_sequences import Janus


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_flags_override_defaults() -> None:
    s = settings_from(["--api-port", "9999", "--es-hosts", "http://a:9200,http://b:9200"])
    assert s.api_port == 9999
    assert s.es_hosts == ["http://a:9200", "http://b:9200"]


def test_a_bad_flag_value_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--api-port", "not-a-port"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rtcsim-collector: error: api_port")
    assert err.count("\n") == 1


def test_a_taken_port_is_one_line_and_exit_2() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "collector", "--store", "memory", "--events-port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("rtcsim-collector: error: cannot listen on")
    assert "Traceback" not in proc.stderr


def test_unreachable_elasticsearch_is_one_line_and_exit_2() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "collector", "--es-hosts", f"http://127.0.0.1:{free_port()}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "Elasticsearch unreachable" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.integration
async def test_serves_events_into_elasticsearch_and_flushes_on_stop() -> None:
    index = f"rtcsimtest-{uuid.uuid4().hex[:12]}"
    events_port, api_port = free_port(), free_port()
    settings = settings_from(
        [
            "--index", index,
            "--events-port", str(events_port),
            "--api-port", str(api_port),
            "--monitoring-interval-s", "0.2",
            "--flush-interval-s", "3600",
            "--es-hosts", ",".join(Settings().es_urls),
        ]
    )  # fmt: skip
    stop = asyncio.Event()
    task = asyncio.create_task(serve(settings, stop))
    j = Janus()
    j.create_room("room-main", 0)
    j.join("alice", "room-main", 10)
    async with aiohttp.ClientSession() as http:
        for _ in range(50):
            try:
                async with http.get(f"http://127.0.0.1:{api_port}/health") as resp:
                    if resp.status == 200:
                        break
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.05)
        async with http.post(f"http://127.0.0.1:{events_port}/events", json=j.events) as resp:
            assert resp.status == 200
    await asyncio.sleep(0.5)
    stop.set()
    await task
    es = (await connect(Settings().es_client_options())).client
    try:
        await es.indices.refresh(index=index)
        joined = await es.count(index=index, query={"term": {"event": "participantJoined"}})
        assert joined["count"] == 1
        probe = await es.count(index=index, query={"term": {"elastic_type": "monitoringStats"}})
        assert probe["count"] >= 1
    finally:
        await es.indices.delete(index=index, ignore_unavailable=True)
        await es.options(ignore_status=404).indices.delete_index_template(name=f"{index}-template")
        await es.close()
