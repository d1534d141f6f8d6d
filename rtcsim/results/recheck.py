"""A past run verified again against what Elasticsearch holds now (``rtcsim check``)."""

from __future__ import annotations

from rtcsim.pipeline.junit import write_junit
from rtcsim.pipeline.outcome import RunOutcome, write_summary
from rtcsim.results.documents import read_documents, sessions_and_window
from rtcsim.results.folders import ResultsError, run_folder
from simulator.ledger import Ledger
from simulator.scenario.loader import ScenarioError, load_any_scenario
from simulator.settings import Settings
from simulator.verify.invariants import Tolerances
from simulator.verify.verdict import verify
from simulator.watch.verdict import invalid_reason


async def recheck(settings: Settings, run_id: str) -> RunOutcome:
    """Verify a past run again against what Elasticsearch holds now (with the same ``verify``
    as ``rtcsim run``); rewrite its ``summary.json`` and ``junit.xml``."""
    folder = run_folder(settings, run_id)
    try:
        scenario = load_any_scenario(folder / "scenario.yaml")
    except ScenarioError as exc:
        raise ResultsError(f"run {run_id}: its scenario does not load: {exc}") from exc
    ledger = Ledger.read(folder / "ledger.json")
    documents = await read_documents(settings, *sessions_and_window(ledger))
    outcome = RunOutcome(run_id, scenario.name, folder, ledger, documents)
    outcome.invalid_reason = invalid_reason(ledger.generator)  # a saturated run stays invalid
    # The tolerances ``rtcsim run`` uses (rtcsim.pipeline.conclude): same run, same verdict.
    tolerances = Tolerances(drop_slack_s=settings.drop_detection_s + 3.0)
    outcome.checks = verify(scenario, ledger, documents, tolerances)
    write_summary(outcome)
    write_junit(outcome)
    return outcome
