"""One ``rtcsim run``: load, play, verify, write ``results/<run-id>/``.

Exit codes: 0 all checks passed, 1 a check failed, 2 the run could not be set up, 3 the run is
invalid: the generator itself was saturated (``simulator.watch``), so neither a pass nor a
failure says anything about the media server.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import orjson
import yaml
from elasticsearch import ApiError, AsyncElasticsearch, TransportError

from collector.netns import NetnsError
from simulator.collector_client import CollectorClient, CollectorUnavailable
from simulator.impairment.kernel import KernelImpairer
from simulator.netns_loop import NamespaceLoop
from simulator.report.build import write_run_report_logged
from simulator.run.junit import write_junit
from simulator.run.ledger import Ledger
from simulator.run.live import LiveView
from simulator.run.runner import Progress, play
from simulator.scenario.load import AnyScenario
from simulator.scenario.loader import load_scenario
from simulator.scenario.model import Scenario
from simulator.settings import Settings
from simulator.verify.checks import Check
from simulator.verify.invariants import Tolerances
from simulator.verify.skeleton import cdr_complete
from simulator.verify.store_reader import Document, wait_for_documents
from simulator.verify.throughput import all_figures
from simulator.verify.verdict import verify
from simulator.watch import GeneratorReport, GeneratorWatch, invalid_reason
from simulator.watch.sink import CollectorSink
from simulator.watch.verdict import INVALID_EXIT_CODE

log = logging.getLogger(__name__)

DOCUMENTS_TIMEOUT_S = 30.0


class SetupError(RuntimeError):
    """The run could not start: services missing, bad scenario, unreachable collector."""


@dataclass
class RunOutcome:
    run_id: str
    scenario: str
    results_dir: Path
    ledger: Ledger
    documents: list[Document]
    checks: list[Check] = field(default_factory=list)
    invalid_reason: str | None = None
    """Set when a generator process was saturated: the run is INVALID whatever the checks say."""

    @property
    def passed(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def throughput(self) -> dict[str, float | None]:
        return all_figures(self.ledger, self.documents)

    @property
    def valid(self) -> bool:
        return self.invalid_reason is None

    @property
    def exit_code(self) -> int:
        """3 invalid (generator saturated), 1 a check failed, 0 passed."""
        if not self.valid:
            return INVALID_EXIT_CODE
        return 0 if self.passed else 1


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)


async def run_scenario_file(
    path: Path,
    settings: Settings,
    *,
    progress: Progress,
    run_id: str | None = None,
    live: LiveView | None = None,
) -> RunOutcome:
    scenario = load_scenario(path)
    run_id = run_id or new_run_id()
    async with run_folder(scenario, settings, run_id):
        return await _run(scenario, settings=settings, run_id=run_id, progress=progress, live=live)


@contextlib.asynccontextmanager
async def run_folder(scenario: AnyScenario, settings: Settings, run_id: str) -> AsyncIterator[Path]:
    """``results/<run-id>/`` with the scenario as it was (``rtcsim check`` replays the run's
    checks with it; a Python scenario is kept as the YAML it produced) and ``run.log`` taking
    the log while the run lasts. Timeline and load runs alike."""
    results = settings.results_dir / run_id
    results.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(scenario.model_dump(mode="json", by_alias=True), sort_keys=False)
    await asyncio.to_thread((results / "scenario.yaml").write_text, text)
    handler = logging.FileHandler(results / "run.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    try:
        yield results
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()


async def _run(
    scenario: Scenario,
    *,
    settings: Settings,
    run_id: str,
    progress: Progress,
    live: LiveView | None = None,
) -> RunOutcome:
    results = settings.results_dir / run_id
    try:
        media = NamespaceLoop(settings.client_netns)
    except NetnsError as exc:
        raise SetupError(
            f"{exc}. Start the services first: make services (or rtcsim services up)"
        ) from exc
    try:
        async with aiohttp.ClientSession() as http:
            collector = CollectorClient(http, settings.collector_api_url, settings.collector_token)
            await _require(collector, settings)
            progress(f"run {run_id}: scenario {scenario.name} ({scenario.duration_s:.0f} s)")
            sink = CollectorSink(collector, asyncio.get_running_loop())
            watch = GeneratorWatch(
                f"run-{os.getpid()}",
                {"media": media.loop, "runner": asyncio.get_running_loop()},
                sink=sink,
                run_id=run_id,
            )
            watch.start()
            try:
                ledger = await play(
                    scenario,
                    run_id=run_id,
                    media=media,
                    collector=collector,
                    janus_url=settings.janus_url,
                    progress=progress,
                    results_dir=results,
                    client_address=settings.client_address,
                    kernel_impairer=KernelImpairer(settings),
                    client_stats_interval_s=settings.webrtc_stats_interval_s,
                    live=live,
                    drop_detection_s=settings.drop_detection_s,
                )
            except CollectorUnavailable as exc:
                raise SetupError(str(exc)) from exc
            finally:
                report = watch.stop()
                await sink.flush()
    finally:
        media.close()
    ledger.generator = [report]
    return await conclude(scenario, ledger, settings, results, progress=progress)


async def check_collector(settings: Settings) -> None:
    """SetupError unless the collector answers: a run it cannot record is not worth playing."""
    async with aiohttp.ClientSession() as http:
        await _require(
            CollectorClient(http, settings.collector_api_url, settings.collector_token), settings
        )


async def _require(collector: CollectorClient, settings: Settings) -> None:
    try:
        await collector.health()
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise SetupError(
            f"collector not answering at {settings.collector_api_url} ({exc}); "
            "start the services first: rtcsim services up"
        ) from exc


async def conclude(
    scenario: AnyScenario,
    ledger: Ledger,
    settings: Settings,
    results: Path,
    *,
    progress: Progress,
    extra_checks: list[Check] | None = None,
) -> RunOutcome:
    """After the play (a timeline or a locust run): the ledger written, the documents read
    back, every check applied, summary, report and junit written."""
    run_id = ledger.run_id
    for report in ledger.generator:
        progress(generator_line(report))
    ledger.write(results / "ledger.json")
    progress("waiting for the collector's documents in Elasticsearch")
    session_ids = [s.session_id for s in ledger.sessions.values()]
    unreadable: str | None = None
    try:
        async with AsyncElasticsearch(settings.es_url, **settings.es_client_options()) as es:
            documents = await wait_for_documents(
                es,
                settings.es_index,
                session_ids,
                cdr_complete(ledger),
                timeout_s=DOCUMENTS_TIMEOUT_S,
                window_ms=(ledger.started_ms, ledger.ended_ms or ledger.started_ms),
            )
    except (ApiError, TransportError) as exc:
        # The ledger is written; `rtcsim check RUN_ID` re-reads the documents once it is back.
        documents, unreadable = [], f"{type(exc).__name__}: {exc}"
    outcome = RunOutcome(run_id, scenario.name, results, ledger, documents)
    outcome.invalid_reason = invalid_reason(ledger.generator)
    tolerances = Tolerances(drop_slack_s=settings.drop_detection_s + 3.0)
    outcome.checks = verify(scenario, ledger, documents, tolerances) + (extra_checks or [])
    if unreadable is not None:
        outcome.checks.insert(
            0,
            Check(
                "Elasticsearch answered when the documents were read back",
                False,
                f"{settings.es_url} up",
                unreadable[:300],
                "the ledger is kept: `rtcsim check` this run once Elasticsearch is back",
            ),
        )
    if ledger.media_server_lost is not None:
        # The cause first: the other checks then only say what the loss left behind.
        outcome.checks.insert(0, media_server_check(ledger.media_server_lost))
    write_summary(outcome)
    await write_run_report_logged(settings, results)  # report.html; never fails the run
    write_junit(outcome)
    return outcome


def media_server_check(message: str) -> Check:
    """The failed check of a run whose media server stopped answering (exit code 1)."""
    return Check(
        "the media server answered until the end of the run",
        False,
        "Janus answering",
        message,
        "the timeline stopped there; open sessions were closed with mediaServerDisconnect",
    )


def generator_line(report: GeneratorReport) -> str:
    """One progress line: how hard the generator worked."""
    state = "SATURATED: " + "; ".join(report.reasons) if report.saturated else "not saturated"
    return (
        f"generator {report.process}: CPU {report.cpu_avg_cores:.2f} core avg, "
        f"{report.cpu_max_cores:.2f} max; event loop lag p95 {report.loop_lag_p95_ms:.0f} ms, "
        f"max {report.loop_lag_max_ms:.0f} ms; RSS {report.rss_max_kb // 1024} MB; {state}"
    )


def write_summary(outcome: RunOutcome) -> None:
    summary = {
        "run_id": outcome.run_id,
        "scenario": outcome.scenario,
        "passed": outcome.passed,
        "valid": outcome.valid,
        "invalid_reason": outcome.invalid_reason,
        "exit_code": outcome.exit_code,
        "started_ms": outcome.ledger.started_ms,
        "ended_ms": outcome.ledger.ended_ms,
        "sessions": {room: s.session_id for room, s in outcome.ledger.sessions.items()},
        "media_server_lost": outcome.ledger.media_server_lost,
        "generator": [dataclasses.asdict(r) for r in outcome.ledger.generator],
        "checks": [check.as_dict() for check in outcome.checks],
        "documents": len(outcome.documents),
        "throughput": outcome.throughput,
    }
    (outcome.results_dir / "summary.json").write_bytes(
        orjson.dumps(summary, option=orjson.OPT_INDENT_2)
    )
