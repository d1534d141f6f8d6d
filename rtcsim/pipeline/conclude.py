"""The end every run shares (timeline or load): the collector required before the play, the run's
folder while it lasts, then the ledger written, the documents read back, every check applied,
summary, report and junit written.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from elasticsearch import ApiError, AsyncElasticsearch, NotFoundError, TransportError

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
from simulator.verify.counts import RunCounts, count_stored, own_connections
from simulator.verify.digest import RunDigest
from simulator.verify.invariants import Tolerances
from simulator.verify.skeleton import counts_complete
from simulator.verify.spool import FILE_NAME as SPOOL_FILE
from simulator.verify.spool import DocumentSpool
from simulator.verify.store_reader import ReadBackIncomplete, Selection, open_run, run_selection
from simulator.verify.verdict import verify, verify_stored
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
    invalid: str | bool | None = True,
    sections: dict[str, Any] | None = None,
) -> RunOutcome:
    """After the play (a timeline or a locust run): the ledger written, the documents read
    back, every check applied, summary, report and junit written.

    ``invalid``: True judges validity from the whole run's generator reports; a capacity
    search, which judges its generator step by step, passes its own reason (or None).
    ``sections``: more top-level parts of ``summary.json`` (a search's ``capacity``)."""
    run_id = ledger.run_id
    for report in ledger.generator:
        progress(generator_line(report))
    ledger.write(results / "ledger.json")
    progress("waiting for the collector's documents in Elasticsearch")
    tolerances = Tolerances(
        drop_slack_s=ledger.server.drop_noticed_within_s + 3.0,
        monitoring_interval_s=settings.monitoring_interval_s,
    )
    failure: Check | None = None
    try:
        checks, digest = await read_back_and_verify(
            settings, scenario, ledger, results, tolerances, wait_s=DOCUMENTS_TIMEOUT_S
        )
        count, host_samples = digest.count, digest.host_samples
        progress(f"{count} documents read back and checked")
    except (ApiError, TransportError, StoreError, ReadBackIncomplete) as exc:
        # The ledger is written; `rtcsim check RUN_ID` re-reads the documents once it is back.
        checks, count, host_samples = (
            verify(scenario, ledger.as_documented(), [], tolerances),
            0,
            [],
        )
        failure = Check(
            "every document of the run was read back"
            if isinstance(exc, ReadBackIncomplete)
            else "Elasticsearch answered when the documents were read back",
            False,
            f"{settings.es_url} up, every document read",
            f"{type(exc).__name__}: {exc}"[:300],
            "the ledger is kept: `rtcsim check` this run once Elasticsearch is back",
        )
    outcome = RunOutcome(run_id, scenario.name, results, ledger, count)
    outcome.host_samples = host_samples
    outcome.sections = dict(sections or {})
    outcome.invalid_reason = (
        invalid_reason(ledger.generator) if invalid is True else invalid or None
    )
    outcome.checks = ([failure] if failure else []) + checks + (extra_checks or [])
    if ledger.media_server_lost is not None:
        # The cause first: the other checks then only say what the loss left behind.
        outcome.checks.insert(0, media_server_check(ledger.media_server_lost))
    write_summary(outcome)
    await write_run_report_logged(settings, results)  # report.html; never fails the run
    write_junit(outcome)
    return outcome


async def read_back_and_verify(
    settings: Settings,
    scenario: AnyScenario,
    ledger: Ledger,
    results: Path,
    tolerances: Tolerances,
    *,
    wait_s: float = 0.0,
    spool: Path | None = None,
) -> tuple[list[Check], RunDigest]:
    """Wait (up to ``wait_s``) until the counts say the collector has written all the run
    implies, then read every document once: into the checks, and into the run's spool
    (``spool``, by default the run's ``documents.ndjson.gz``).
    Returns the checks and the digest of the documents read (``count``: how many)."""
    ledger = ledger.as_documented()  # named as the documents name connections (LiveKit: SIDs)
    selection = run_selection(ledger)
    async with open_client(settings.es_client_options()) as es:
        if wait_s > 0:
            await wait_for_counts(
                es,
                settings.es_index,
                selection,
                own_connections(ledger),
                counts_complete(ledger),
                timeout_s=wait_s,
            )
            await wait_for_host_samples(es, settings.es_index, ledger.host_samples_ms, wait_s)
        async with open_run(es, settings.es_index, selection) as run:
            with DocumentSpool(spool or results / SPOOL_FILE) as documents:
                checks, digest = await verify_stored(
                    run, scenario, ledger, tolerances, sink=documents.write
                )
    return checks, digest


async def wait_for_counts(
    es: AsyncElasticsearch,
    index: str,
    selection: Selection,
    ours: frozenset[str],
    complete: Callable[[RunCounts], bool],
    *,
    timeout_s: float,
    poll_s: float = 0.5,
) -> RunCounts:
    """Poll the run's counts (aggregations only, no document read) until ``complete`` says
    everything is there, or the time is up."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        async with open_run(es, index, selection) as run:
            counts = await count_stored(run, ours)
        if complete(counts) or loop.time() >= deadline:
            return counts
        await asyncio.sleep(poll_s)


async def wait_for_host_samples(
    es: AsyncElasticsearch,
    index: str,
    timestamps: list[int],
    timeout_s: float,
    *,
    poll_s: float = 0.5,
) -> bool:
    """Poll until the monitoringStats the run asked for (``Ledger.host_samples_ms``) are
    searchable: the end's is the collector's last document of the run, and the periodic samples
    in the window make a count by type no proof that it is in. True when all are."""
    if not timestamps:
        return True
    query = {
        "bool": {
            "filter": [
                {"term": {"elastic_type": "monitoringStats"}},
                {"terms": {"timestamp": timestamps}},
            ]
        }
    }
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        try:
            found = int((await es.count(index=index, query=query))["count"])
        except NotFoundError:
            found = 0
        if found >= len(set(timestamps)):
            return True
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(poll_s)


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
