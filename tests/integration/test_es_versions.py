"""``scenarios/smoke.yaml`` end to end with the collector writing to Elasticsearch 7.17 and 8.x
(the 9.x run is ``test_smoke_run.py`` on the stack's own node), and every command that reads
the documents back (``check``, ``export``, ``scenario from-session``, ``report``) against it.

The nodes are the suite's own, one per major (``tests.es_matrix``); this module brings up an
isolated Janus and collector (namespaces of its own: run it under the shared lock) and points
the collector at each node in turn.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from collector.store import open_client
from rtcsim.library import LIBRARY
from rtcsim.pipeline.outcome import RunOutcome
from rtcsim.pipeline.timeline import run_scenario_file
from rtcsim.services import collector, janus, netns, stack
from simulator.settings import Settings
from tests.es_matrix import MAJORS, Nodes, is_stack_major

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root"),
]
OWN_STACK = True
SMOKE = LIBRARY / "smoke.yaml"
RTCSIM = Path(sys.executable).with_name("rtcsim")
OVERRIDES: dict[str, Any] = {
    "sfu_netns": "rtcsesv-sfu",
    "client_netns": "rtcsesv-cli",
    "sfu_veth": "rtcsesv-s0",
    "client_veth": "rtcsesv-c0",
    "sfu_address": "198.19.12.1",
    "client_address": "198.19.12.2",
    "collector_events_port": 8690,
    "collector_api_port": 8691,
    "janus_http_port": 8688,
    "janus_admin_port": 7688,
}
OTHER_MAJORS = [m for m in MAJORS if not is_stack_major(Settings(), m)]
TEN_TYPES = {
    "cdr",
    "kms",
    "webrtcStats",
    "monitoringStats",
    "sessionSummary",
    "userSummary",
    "connectionSummary",
    "publisherSummary",
    "subscriberSummary",
    "recordingSummary",
}


@pytest.fixture(scope="module")
def base_dir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="rtcsesv-"))
    path.chmod(0o755)
    return path


@pytest.fixture(scope="module")
def isolated(base_dir: Path) -> Iterator[list[Settings]]:
    """Every Settings this module used; Janus, the collector and namespaces stopped at the end
    (the Elasticsearch nodes are the session's, stopped by ``es_nodes``)."""
    used: list[Settings] = []
    yield used
    for settings in used[-1:]:
        janus.stop(settings)
        collector.stop(settings)
        netns.remove(settings)


def settings_for(node: Settings, base_dir: Path) -> Settings:
    return Settings(
        **OVERRIDES,
        es_version=node.es_version,
        es_port=node.es_port,
        es_dir=node.es_dir,
        es_heap_mb=node.es_heap_mb,
        state_dir=base_dir / "state",
        results_dir=base_dir / f"results-{node.es_port}",
    )


@pytest.fixture(scope="module", params=OTHER_MAJORS, ids=[f"es{m}" for m in OTHER_MAJORS])
def smoke(
    request: pytest.FixtureRequest,
    es_nodes: Nodes,
    isolated: list[Settings],
    base_dir: Path,
) -> tuple[Settings, RunOutcome]:
    settings = settings_for(es_nodes.get(request.param), base_dir)
    if isolated:
        collector.stop(isolated[-1])  # the collector of the previous major
    isolated.append(settings)
    stack.up(settings)
    outcome = asyncio.run(run_scenario_file(SMOKE, settings, progress=lambda _m: None))
    return settings, outcome


def env_for(settings: Settings) -> dict[str, str]:
    env = {**os.environ}
    for key, value in OVERRIDES.items():
        env[f"RTCSIM_{key.upper()}"] = str(value)
    env.update(
        RTCSIM_ES_VERSION=settings.es_version,
        RTCSIM_ES_PORT=str(settings.es_port),
        RTCSIM_STATE_DIR=str(settings.state_dir),
        RTCSIM_RESULTS_DIR=str(settings.results_dir),
    )
    return env


def rtcsim(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(RTCSIM), *args],
        env=env_for(settings),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_the_smoke_run_passes_every_check(smoke: tuple[Settings, RunOutcome]) -> None:
    _settings, outcome = smoke
    assert outcome.passed, [c for c in outcome.checks if not c.ok]


def test_all_ten_document_types_are_written_once_each_by_id(
    smoke: tuple[Settings, RunOutcome],
) -> None:
    settings, outcome = smoke

    async def stored() -> list[dict[str, Any]]:
        async with open_client(settings.es_client_options()) as es:
            major = (await es.nodes.info(filter_path="nodes.*.version"))["nodes"]
            assert {n["version"] for n in major.values()} == {settings.es_version}
            await es.indices.refresh(index=settings.es_index)
            response = await es.search(
                index=settings.es_index,
                query={"terms": {"elastic_type": sorted(TEN_TYPES)}},
                size=10_000,
            )
            return list(response["hits"]["hits"])

    hits = asyncio.run(stored())
    session = outcome.ledger.sessions["smoke"].session_id
    ours = [
        h for h in hits if h["_source"].get("sessionId", h["_source"].get("session")) == session
    ]
    assert {h["_source"]["elastic_type"] for h in ours} | {"monitoringStats"} == TEN_TYPES
    ids = Counter(h["_id"] for h in hits)
    assert ids.most_common(1)[0][1] == 1


def test_check_export_from_session_and_report_read_the_run_back(
    smoke: tuple[Settings, RunOutcome],
) -> None:
    settings, outcome = smoke
    checked = rtcsim(settings, "check", outcome.run_id)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    exported = rtcsim(settings, "export", outcome.run_id)
    assert exported.returncode == 0, exported.stderr
    lines = [orjson.loads(line) for line in exported.stdout.splitlines()]
    assert len(lines) == len(outcome.documents)
    session = outcome.ledger.sessions["smoke"].session_id
    replay = rtcsim(settings, "scenario", "from-session", session)
    assert replay.returncode == 0, replay.stderr
    assert "do: publish" in replay.stdout
    report = rtcsim(settings, "report", outcome.run_id)
    assert report.returncode == 0, report.stdout + report.stderr
    page = (outcome.results_dir / "report.html").read_text()
    assert "<h2>Sessions</h2>" in page
