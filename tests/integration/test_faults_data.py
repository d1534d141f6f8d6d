"""Data faults on a real stack of its own: Elasticsearch away mid-run, the collector killed (-9).

Issue "Reliability and security": no document may be lost or duplicated when Elasticsearch stops
and comes back (the collector's disk spool, replayed in order), and a collector killed mid-session
and restarted must still produce correct summaries (its journal of accepted inputs, replayed at
start-up, plus Janus's ~6 s event retransmissions and the simulator's post retries).

The stack here has its own namespaces, addresses, ports, state and results folders (never the
default ``rtcsim-*`` stack, which other runs may be using), and is torn down at the end. Faults
are injected at fixed scenario times, but every check waits on a condition (generous timeouts),
never on a fixed sleep, so a busy 2-core machine only makes the module slower.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import orjson
import pytest

from collector.store import open_client
from rtcsim.pipeline.outcome import RunOutcome, new_run_id
from rtcsim.pipeline.timeline import run_scenario_file
from rtcsim.services import collector, elasticsearch, janus, stack
from rtcsim.services.httpcheck import http_get
from simulator.ledger import Ledger
from simulator.scenario.loader import load_scenario
from simulator.settings import Settings
from simulator.verify.invariants import Tolerances
from simulator.verify.skeleton import cdr_complete, expected_cdr_counts, found_cdr_counts
from simulator.verify.store_reader import open_run, run_selection
from simulator.verify.verdict import verify

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root"),
    pytest.mark.skipif(not janus.JANUS_BIN.exists(), reason="janus not installed"),
]

OWN_STACK = True  # tests/conftest.py: never bring up (or probe) the default stack for this module
OVERRIDES: dict[str, Any] = {
    "sfu_netns": "rtcsr8a-sfu",
    "client_netns": "rtcsr8a-cli",
    "sfu_veth": "rtcsr8a-s0",
    "client_veth": "rtcsr8a-c0",
    "sfu_address": "198.19.8.1",
    "client_address": "198.19.8.2",
    "es_port": 9280,
    "collector_events_port": 8390,
    "collector_api_port": 8391,
    "janus_http_port": 8388,
    "janus_admin_port": 7388,
}
SCENARIO = Path(__file__).parents[1] / "data" / "scenarios" / "faults-24s.yaml"
ES_STOP_AT_S = 5.0
ES_START_AT_S = 12.0
# The scenario has no step between t=2 and t=23. The restarted collector samples the host first
# one monitoring interval (10 s) after it starts: killed at t=7 and back within the 6 s below, its
# first ``monitoringStats`` still falls inside the run (t < 23), as the checks expect.
KILL_AT_S = 7.0
# Janus's event handler retries an undelivered event for ~6.3 s (janus_config.py): a restart
# slower than that is outside what the collector promises, not a failure of it.
JANUS_RETRY_WINDOW_S = 6.0
RUN_TIMEOUT_S = 240.0
SETTLE_TIMEOUT_S = 120.0

T = TypeVar("T")


@pytest.fixture(scope="module")
def base_dir() -> Iterator[Path]:
    """State and results of the module; ``RTCSR8A_KEEP=1`` keeps them to read the logs after."""
    path = Path(tempfile.mkdtemp(prefix="rtcsr8a-"))
    path.chmod(0o755)
    yield path
    if not os.environ.get("RTCSR8A_KEEP"):
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def isolated(base_dir: Path) -> Iterator[Settings]:
    settings = Settings(**OVERRIDES, state_dir=base_dir / "state", results_dir=base_dir / "results")
    try:
        stack.up(settings)
        yield settings
    finally:
        stack.down(settings)


@dataclass
class BackgroundRun:
    """``run_scenario_file`` on a thread of its own, so the test can break things meanwhile.

    ``t0`` is when the timeline's first step began (its ``t=  0.0s`` progress line): fault times
    are scenario times, whatever the set-up before it cost.
    """

    settings: Settings
    run_id: str
    started: threading.Event = field(default_factory=threading.Event)
    t0: float = 0.0
    outcome: RunOutcome | None = None
    error: BaseException | None = None
    thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(target=self._main, name=self.run_id, daemon=True)
        self.thread.start()

    def _progress(self, message: str) -> None:
        if message.startswith("t=") and not self.started.is_set():
            self.t0 = time.monotonic()
            self.started.set()

    def _main(self) -> None:
        try:
            self.outcome = asyncio.run(
                run_scenario_file(
                    SCENARIO, self.settings, progress=self._progress, run_id=self.run_id
                )
            )
        except BaseException as exc:  # reported by the test, not lost on this thread
            self.error = exc

    def sleep_until(self, at_s: float) -> None:
        """Until scenario time ``at_s`` (timing of the fault only, never of a check)."""
        assert self.started.wait(RUN_TIMEOUT_S), "the timeline never started"
        time.sleep(max(0.0, self.t0 + at_s - time.monotonic()))

    def now(self) -> float:
        return time.monotonic() - self.t0

    def join(self) -> Ledger:
        """Wait for the run; its ledger (read back from disk if the document wait failed)."""
        assert self.thread is not None
        self.thread.join(RUN_TIMEOUT_S)
        assert not self.thread.is_alive(), "the run did not end"
        if self.outcome is not None:
            return self.outcome.ledger
        # The run played but failed afterwards (Elasticsearch still away when it read back):
        # the ledger was written before that, and the test reads the documents itself.
        ledger_file = self.settings.results_dir / self.run_id / "ledger.json"
        assert ledger_file.exists(), f"the run failed before its ledger: {self.error!r}"
        return Ledger.read(ledger_file)


def wait_for(what: str, probe: Callable[[], T | None], timeout_s: float = SETTLE_TIMEOUT_S) -> T:
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if value is not None:
            return value
        assert time.monotonic() < deadline, f"timed out after {timeout_s:g} s waiting for {what}"
        time.sleep(0.5)


def stats(settings: Settings) -> dict[str, Any] | None:
    answer = http_get(f"{settings.collector_api_url}/stats", timeout_s=5.0)
    if not answer.ok:
        return None
    body: dict[str, Any] = orjson.loads(answer.body)
    return body


async def read_hits(settings: Settings, ledger: Ledger) -> list[dict[str, Any]]:
    """Every hit (``_id`` and ``_source``) of the run: its sessions' documents and the host's
    ``monitoringStats`` while it lasted, read whole as ``rtcsim run`` reads them."""
    async with (
        open_client(settings.es_client_options()) as es,
        open_run(es, settings.es_index, run_selection(ledger)) as run,
    ):
        return [hit async for hit in run.hits()]


def settled_hits(settings: Settings, ledger: Ledger) -> list[dict[str, Any]]:
    """The run's hits once everything it implies is in the store (polled, not slept for)."""
    complete = cdr_complete(ledger)

    def probe() -> list[dict[str, Any]] | None:
        try:
            hits = asyncio.run(read_hits(settings, ledger))
        except Exception:  # Elasticsearch still recovering
            return None
        return hits if complete([h["_source"] for h in hits]) else None

    return wait_for("the run's documents in Elasticsearch", probe)


def assert_exactly_once(hits: list[dict[str, Any]]) -> None:
    """No document twice: ids are unique, and no two ids carry the same content (a replay
    under a new id would show up as a second id with the first one's content)."""
    ids = Counter(h["_id"] for h in hits)
    assert [i for i, n in ids.items() if n > 1] == []
    contents = Counter(orjson.dumps(h["_source"], option=orjson.OPT_SORT_KEYS) for h in hits)
    twice = [c.decode()[:200] for c, n in contents.items() if n > 1]
    assert twice == [], f"{len(twice)} documents stored under more than one id"


def recheck(settings: Settings, ledger: Ledger, hits: list[dict[str, Any]]) -> list[str]:
    """The run's checks, recomputed on the re-read documents; the failed ones."""
    scenario = load_scenario(SCENARIO)
    tolerances = Tolerances(drop_slack_s=settings.drop_detection_s + 3.0)
    checks = verify(scenario, ledger, [h["_source"] for h in hits], tolerances)
    return [f"{c.as_dict()}" for c in checks if not c.ok]


def unique_run_id(name: str) -> str:
    """Session ids derive from the run id, and this node's index outlives the module: a fixed
    run id would find the documents of every earlier run of this module."""
    return f"{new_run_id()}-{name}"


def test_elasticsearch_stopped_mid_run_loses_and_duplicates_nothing(
    isolated: Settings, record_property: Callable[[str, object], None]
) -> None:
    run = BackgroundRun(isolated, unique_run_id("es-outage"))
    run.start()
    run.sleep_until(ES_STOP_AT_S)
    stop_began = run.now()
    assert elasticsearch.stop(isolated), "our Elasticsearch was not running"
    assert elasticsearch.cluster_health(isolated) is None
    down_at = run.now()
    run.sleep_until(ES_START_AT_S)
    restart_began = run.now()
    elasticsearch.start(isolated)
    up_at = run.now()
    ledger = run.join()

    def drained() -> dict[str, int] | None:
        body = stats(isolated)
        spool: dict[str, int] | None = body["spool"] if body else None
        if spool and spool["bytes"] == 0 and spool["replayed"] == spool["spooled"]:
            return spool
        return None

    spool = wait_for("the collector's spool to drain", drained)
    hits = settled_hits(isolated, ledger)
    documents = [h["_source"] for h in hits]
    measured = {
        "es_stop_called_at_s": round(stop_began, 1),
        "es_down_at_s": round(down_at, 1),
        "es_start_called_at_s": round(restart_began, 1),
        "es_yellow_at_s": round(up_at, 1),
        "outage_s": round(up_at - down_at, 1),
        "spool": spool,
        "documents": len(hits),
        "by_type": dict(Counter(d["elastic_type"] for d in documents)),
        "run_error": repr(run.error) if run.error else None,
        "run_passed": run.outcome.passed if run.outcome else None,
    }
    record_property("measured", measured)
    print("ES outage:", measured)

    assert spool["spooled"] > 0, "nothing was spooled: the outage did not hit any write"
    assert spool["replayed"] == spool["spooled"]
    assert spool["rejected"] == 0
    assert_exactly_once(hits)
    assert found_cdr_counts(documents) == expected_cdr_counts(ledger)
    assert recheck(isolated, ledger, hits) == []


def test_collector_killed_mid_session_resumes_from_its_journal(
    isolated: Settings, record_property: Callable[[str, object], None]
) -> None:
    wait_for("Elasticsearch", lambda: elasticsearch.cluster_health(isolated))
    journal_before = wait_for("the collector's /stats", lambda: stats(isolated))["journal"]
    run = BackgroundRun(isolated, unique_run_id("collector-killed"))
    run.start()
    run.sleep_until(KILL_AT_S)
    killed_at = run.now()
    assert collector.kill(isolated), "our collector was not running"
    collector.start(isolated)
    back_at = run.now()
    gap = back_at - killed_at
    ledger = run.join()
    if gap > JANUS_RETRY_WINDOW_S:
        pytest.skip(f"the collector took {gap:.1f} s to restart, beyond Janus's retries")

    body = wait_for("the restarted collector's /stats", lambda: stats(isolated))
    hits = settled_hits(isolated, ledger)
    failed = recheck(isolated, ledger, hits)
    measured = {
        "killed_at_s": round(killed_at, 1),
        "healthy_again_at_s": round(back_at, 1),
        "restart_gap_s": round(gap, 1),
        "journal_before_run": journal_before,
        "journal": body["journal"],
        "documents": len(hits),
        "run_error": repr(run.error) if run.error else None,
        "run_passed": run.outcome.passed if run.outcome else None,
    }
    record_property("measured", measured)
    print("collector killed:", measured)

    assert run.error is None, repr(run.error)  # no simulator post was lost to the restart
    assert body["journal"]["replayed"] > 0, "the restarted collector replayed no journal"
    assert_exactly_once(hits)
    assert found_cdr_counts([h["_source"] for h in hits]) == expected_cdr_counts(ledger)
    assert failed == []
