"""A past run verified again against what Elasticsearch holds now (``rtcsim check``)."""

from __future__ import annotations

from elastic_transport import TransportError
from elasticsearch import ApiError

from collector.store import StoreError, UnsupportedVersionError
from rtcsim.pipeline.conclude import read_back_and_verify
from rtcsim.pipeline.junit import write_junit
from rtcsim.pipeline.outcome import RunOutcome, write_summary
from rtcsim.results.folders import ResultsError, run_folder
from simulator.ledger import Ledger
from simulator.load.capacity.result import capacity_checks, read_capacity
from simulator.scenario.loader import ScenarioError, read_scenario_file
from simulator.settings import Settings
from simulator.verify.invariants import Tolerances
from simulator.verify.spool import FILE_NAME as SPOOL_FILE
from simulator.verify.store_reader import ReadBackIncomplete
from simulator.watch.verdict import invalid_reason


async def recheck(settings: Settings, run_id: str) -> RunOutcome:
    """Verify a past run again against what Elasticsearch holds now (with the same reader and
    checks as ``rtcsim run``); rewrite its ``summary.json``, ``junit.xml`` and spool."""
    folder = run_folder(settings, run_id)
    try:
        # As it was recorded: a run of an older rtcsim is checked again even if today's
        # validation would refuse its scenario.
        scenario = read_scenario_file(folder / "scenario.yaml").scenario
    except ScenarioError as exc:
        raise ResultsError(f"run {run_id}: its scenario does not load: {exc}") from exc
    ledger = Ledger.read(folder / "ledger.json")
    # The tolerances ``rtcsim run`` uses (rtcsim.pipeline.conclude): same run, same verdict.
    tolerances = Tolerances(
        drop_slack_s=ledger.server.drop_noticed_within_s + 3.0,
        monitoring_interval_s=settings.monitoring_interval_s,
    )
    fresh = folder / f"{SPOOL_FILE}.recheck"
    try:
        checks, digest = await read_back_and_verify(
            settings, scenario, ledger, folder, tolerances, spool=fresh
        )
    except UnsupportedVersionError as exc:
        raise ResultsError(str(exc)) from exc
    except (TransportError, ApiError, StoreError) as exc:
        if isinstance(exc, ApiError) and exc.meta.status == 404:
            raise ResultsError(
                f"run {run_id}: no index {settings.es_index!r} at {settings.es_url} (setting "
                "es_index); summary.json and junit.xml are left as they were"
            ) from exc
        raise ResultsError(
            f"Elasticsearch unreachable at {settings.es_url} ({type(exc).__name__}: {exc}); "
            "start the services: rtcsim services up"
        ) from exc
    except ReadBackIncomplete as exc:
        raise ResultsError(f"run {run_id}: {exc}") from exc
    if digest.count == 0:
        fresh.unlink(missing_ok=True)
        # A reader that finds nothing (another index, a wiped cluster) must not overwrite the
        # verdict the run recorded when its documents were there.
        raise ResultsError(
            f"run {run_id}: Elasticsearch at {settings.es_url} holds no document of this run in "
            f"index {settings.es_index!r} (setting es_index); summary.json and junit.xml are "
            "left as they were"
        )
    fresh.replace(folder / SPOOL_FILE)
    outcome = RunOutcome(run_id, scenario.name, folder, ledger, digest.count, checks)
    outcome.host_samples = digest.host_samples
    outcome.invalid_reason = invalid_reason(ledger.generator)  # a saturated run stays invalid
    capacity = read_capacity(folder)
    if capacity is not None:  # a capacity search: its own checks and validity, step by step
        outcome.checks += capacity_checks(capacity)
        outcome.invalid_reason = capacity.get("invalid_reason")
        outcome.sections = {"capacity": capacity}
    write_summary(outcome)
    write_junit(outcome)
    return outcome
