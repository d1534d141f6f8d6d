"""Putting a report together: scope → Elasticsearch → numbers → page → file.

One path for both uses: after a run (``write_run_report``, called by ``rtcsim run``) and later
(``rtcsim report RUN_ID`` / ``--from/--to``). A run's report is built from what the run left in
its folder (``summary.json``: window and sessions; ``ledger.json``), so both give the same page.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import orjson
from elasticsearch import AsyncElasticsearch

from collector.store.client import open_client
from rtcsim.report import panels
from rtcsim.report.model import Report, Scope, Verdict
from rtcsim.report.render import render
from rtcsim.report.verdict import run_verdict, runs_between
from simulator.load.capacity.result import read_capacity
from simulator.settings import Settings

log = logging.getLogger(__name__)

REPORT_FILE = "report.html"
ES_TIMEOUT_S = 30.0


class ReportError(RuntimeError):
    """A report that cannot be made: no such run, unreadable summary, Elasticsearch down."""


def run_scope(folder: Path) -> Scope:
    """A run's window and sessions, from its ``summary.json``."""
    try:
        summary = orjson.loads((folder / "summary.json").read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise ReportError(f"{folder}: no readable summary.json ({exc})") from exc
    started = int(summary["started_ms"])
    ended = int(summary.get("ended_ms") or started)
    return Scope(
        start_ms=started,
        end_ms=ended,
        session_ids=tuple(summary.get("sessions", {}).values()),
        title=f"run {summary.get('run_id', folder.name)} ({summary.get('scenario', '')})",
    )


async def build(
    es: AsyncElasticsearch, index: str, scope: Scope, verdict: Verdict | None, folder: Path | None
) -> Report:
    """Every panel's numbers; a run folder adds its checks and the ledger comparison."""
    started = time.perf_counter()
    responses = await panels.search_all(es, index, scope)
    by_type = panels.documents_by_type(responses)
    if verdict is None:
        verdict = run_verdict(folder, by_type) if folder else Verdict(passed=None)
    return Report(
        scope=scope,
        generated_ms=int(time.time() * 1000),
        index=index,
        documents_by_type=by_type,
        sessions=panels.sessions_dashboard(scope, responses),
        recordings=panels.recordings_dashboard(responses),
        verdict=verdict,
        compute_ms=(time.perf_counter() - started) * 1000,
        capacity=read_capacity(folder) if folder else None,
    )


async def write_report(
    settings: Settings, scope: Scope, output: Path, *, folder: Path | None = None
) -> Report:
    """Compute and write one page; a range report (no folder) lists the runs it overlaps."""
    verdict = None if folder else runs_between(settings.results_dir, scope.start_ms, scope.end_ms)
    try:
        options = settings.es_client_options(request_timeout_s=ES_TIMEOUT_S, max_retries=0)
        async with open_client(options) as es:
            report = await build(es, settings.es_index, scope, verdict, folder)
    except Exception as exc:  # transport and API errors alike: the page cannot be made
        raise ReportError(
            f"Elasticsearch at {settings.es_url}: {type(exc).__name__}: {exc}"
        ) from exc
    await asyncio.to_thread(_write, report, output)
    return report


def _write(report: Report, output: Path) -> None:
    started = time.perf_counter()
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render(report), encoding="utf-8")
    log.info(
        "report %s: queries %.0f ms, render %.0f ms",
        output,
        report.compute_ms,
        (time.perf_counter() - started) * 1000,
    )


async def write_run_report(settings: Settings, folder: Path) -> Path:
    """``<folder>/report.html`` for a finished run."""
    output = folder / REPORT_FILE
    await write_report(settings, run_scope(folder), output, folder=folder)
    return output


async def write_run_report_logged(settings: Settings, folder: Path) -> Path | None:
    """``write_run_report`` for ``rtcsim run``: a report that fails is logged, never fails the
    run (the verdict is the checks', already written)."""
    try:
        return await write_run_report(settings, folder)
    except Exception as exc:  # one line on the terminal (issue 15: no tracebacks)
        log.warning("report for %s not written: %s: %s", folder, type(exc).__name__, exc)
        log.debug("the report's failure", exc_info=True)
        return None
