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
from simulator.scenario.loader import ScenarioError, load_any_scenario
from simulator.settings import Settings
from simulator.verify.invariants import Tolerances
from simulator.verify.store_reader import ReadBackIncomplete
from simulator.watch.verdict import invalid_reason


async def recheck(settings: Settings, run_id: str) -> RunOutcome:
    """Verify a past run again against what Elasticsearch holds now (with the same reader and
    checks as ``rtcsim run``); rewrite its ``summary.json``, ``junit.xml`` and spool."""
    folder = run_folder(settings, run_id)
    try:
        scenario = load_any_scenario(folder / "scenario.yaml")
    except ScenarioError as exc:
        raise ResultsError(f"run {run_id}: its scenario does not load: {exc}") from exc
    ledger = Ledger.read(folder / "ledger.json")
    # The tolerances ``rtcsim run`` uses (rtcsim.pipeline.conclude): same run, same verdict.
    tolerances = Tolerances(drop_slack_s=ledger.server.drop_noticed_within_s + 3.0)
    try:
        checks, count = await read_back_and_verify(settings, scenario, ledger, folder, tolerances)
    except UnsupportedVersionError as exc:
        raise ResultsError(str(exc)) from exc
    except (TransportError, ApiError, StoreError) as exc:
        raise ResultsError(
            f"Elasticsearch unreachable at {settings.es_url} ({type(exc).__name__}: {exc}); "
            "start the services: rtcsim services up"
        ) from exc
    except ReadBackIncomplete as exc:
        raise ResultsError(f"run {run_id}: {exc}") from exc
    outcome = RunOutcome(run_id, scenario.name, folder, ledger, count, checks)
    outcome.invalid_reason = invalid_reason(ledger.generator)  # a saturated run stays invalid
    write_summary(outcome)
    write_junit(outcome)
    return outcome
