"""The end every run shares (timeline or load): the collector required before the play, the run's
folder while it lasts, then the ledger written, the documents read back, every check applied,
summary, report and junit written.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import yaml
from elasticsearch import ApiError, TransportError

from collector.store import StoreError, open_client
from rtcsim.pipeline.junit import write_junit
from rtcsim.pipeline.outcome import RunOutcome, SetupError, write_summary
from rtcsim.report.build import write_run_report_logged
from simulator.collector_client import CollectorClient
from simulator.ledger import Ledger
from simulator.player.runner import Progress
from simulator.scenario.load import AnyScenario
from simulator.settings import Settings
from simulator.verify.checks import Check
from simulator.verify.invariants import Tolerances
from simulator.verify.skeleton import cdr_complete
from simulator.verify.store_reader import wait_for_documents
from simulator.verify.verdict import verify
from simulator.watch import GeneratorReport, invalid_reason

DOCUMENTS_TIMEOUT_S = 30.0


@contextlib.asynccontextmanager
async def new_run_folder(
    scenario: AnyScenario, settings: Settings, run_id: str
) -> AsyncIterator[Path]:
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


async def check_collector(settings: Settings) -> None:
    """SetupError unless the collector answers: a run it cannot record is not worth playing."""
    async with aiohttp.ClientSession() as http:
        await require_collector(
            CollectorClient(http, settings.collector_api_url, settings.collector_token), settings
        )


async def require_collector(collector: CollectorClient, settings: Settings) -> None:
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
        async with open_client(settings.es_client_options()) as es:
            documents = await wait_for_documents(
                es,
                settings.es_index,
                session_ids,
                cdr_complete(ledger),
                timeout_s=DOCUMENTS_TIMEOUT_S,
                window_ms=(ledger.started_ms, ledger.ended_ms or ledger.started_ms),
            )
    except (ApiError, TransportError, StoreError) as exc:
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
