"""``rtcsim check``, ``rtcsim export`` and ``rtcsim scenario from-session``.

Unit tests hand the commands files; the integration test plays a short scenario on the real
stack, exports and re-checks it, turns its session back into a scenario and replays that.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from rtcsim.cli import app
from rtcsim.pipeline.outcome import RunOutcome
from rtcsim.results.documents import ndjson, read_documents, read_ndjson
from simulator.ledger import Ledger, SessionRecord
from simulator.scenario.loader import load_scenario
from simulator.settings import Settings
from simulator.verify.store_reader import Document
from tests.simulator.scenario.test_from_session import SESSION, three_people

SHORT = Path(__file__).resolve().parents[2] / "data" / "scenarios" / "replay-short.yaml"
CLOSED_PORT = "1"  # nothing listens on 127.0.0.1:1


def invoke(args: list[str], results: Path, **env: str) -> Any:
    return CliRunner().invoke(app, args, env={"RTCSIM_RESULTS_DIR": str(results), **env})


def past_run(results: Path, run_id: str) -> Path:
    folder = results / run_id
    folder.mkdir(parents=True)
    Ledger(
        run_id=run_id,
        scenario="smoke",
        seed=7,
        started_ms=0,
        sessions={"smoke": SessionRecord("smoke", f"smoke-{run_id}")},
    ).write(folder / "ledger.json")
    (folder / "scenario.yaml").write_bytes(SHORT.read_bytes())
    return folder


# -- unit ---------------------------------------------------------------------------------------
def test_check_of_an_unknown_run_exits_2_and_lists_the_recent_runs(tmp_path: Path) -> None:
    for run_id in ("20261128-100000-aaaa", "20261128-110000-bbbb"):
        past_run(tmp_path, run_id)
    (tmp_path / "20261128-120000-cccc").mkdir()  # no ledger: not a finished run
    result = invoke(["check", "20261128-999999-zzzz"], tmp_path)
    assert result.exit_code == 2
    output = " ".join(result.output.split())
    assert "no run '20261128-999999-zzzz'" in output
    assert "recent runs: 20261128-110000-bbbb, 20261128-100000-aaaa" in output


def test_check_with_elasticsearch_unreachable_exits_2_saying_where(tmp_path: Path) -> None:
    past_run(tmp_path, "20261128-100000-aaaa")
    result = invoke(["check", "20261128-100000-aaaa"], tmp_path, RTCSIM_ES_PORT=CLOSED_PORT)
    assert result.exit_code == 2
    assert "Elasticsearch unreachable at http://127.0.0.1:1" in " ".join(result.output.split())


def test_export_of_an_unknown_run_exits_2(tmp_path: Path) -> None:
    assert invoke(["export", "nope"], tmp_path).exit_code == 2


def test_ndjson_is_one_object_a_line_in_timestamp_order() -> None:
    documents: list[Document] = [
        {"event": "b", "timestamp": 20},
        {"event": "a", "timestamp": 10},
        {"event": "c", "timestamp": 20},
    ]
    lines = ndjson(documents).decode().splitlines()
    assert [json.loads(line)["event"] for line in lines] == ["a", "b", "c"]


def test_an_export_reads_plain_documents_and_search_hits(tmp_path: Path) -> None:
    export = tmp_path / "export.ndjson"
    export.write_bytes(b'{"event": "a"}\n\n{"_id": "1", "_source": {"event": "b"}}\n')
    assert read_ndjson(export) == [{"event": "a"}, {"event": "b"}]


def test_a_broken_export_line_is_named(tmp_path: Path) -> None:
    export = tmp_path / "export.ndjson"
    export.write_bytes(b'{"event": "a"}\n{not json\n')
    result = invoke(["scenario", "from-session", SESSION, "--from-file", str(export)], tmp_path)
    assert result.exit_code == 2
    assert "export.ndjson:2: not JSON" in "".join(result.output.split("\n"))


def test_from_session_writes_a_scenario_that_loads(tmp_path: Path) -> None:
    export = tmp_path / "export.ndjson"
    export.write_bytes(ndjson(three_people()))
    out = tmp_path / "replay.yaml"
    args = ["scenario", "from-session", SESSION, "--from-file", str(export), "-o", str(out)]
    result = invoke(args, tmp_path)
    assert result.exit_code == 0, result.output
    scenario = load_scenario(out)
    assert scenario.everyone == ["alice", "bob", "carol"]


def test_from_session_prints_to_stdout_by_default(tmp_path: Path) -> None:
    export = tmp_path / "export.ndjson"
    export.write_bytes(ndjson(three_people()))
    result = invoke(["scenario", "from-session", SESSION, "--from-file", str(export)], tmp_path)
    assert result.exit_code == 0
    assert result.stdout.startswith("name: replay-demo\n")


def test_from_session_of_a_session_not_in_the_export_exits_2(tmp_path: Path) -> None:
    export = tmp_path / "export.ndjson"
    export.write_bytes(ndjson(three_people()))
    result = invoke(["scenario", "from-session", "other", "--from-file", str(export)], tmp_path)
    assert result.exit_code == 2
    assert "no participantJoined" in result.output


# -- integration: the real stack ----------------------------------------------------------------
def summaries_shape(documents: list[Document]) -> dict[str, Any]:
    """What a replay must reproduce: how many of each thing, and how each ended."""
    by_type: dict[str, list[Document]] = {}
    for doc in documents:
        by_type.setdefault(str(doc.get("elastic_type")), []).append(doc)

    def ends(kind: str) -> Counter[str]:
        return Counter(str(d.get("reason")) for d in by_type.get(kind, []))

    return {
        "users": len(by_type.get("userSummary", [])),
        "connections": len(by_type.get("connectionSummary", [])),
        "publishers": len(by_type.get("publisherSummary", [])),
        "subscribers": len(by_type.get("subscriberSummary", [])),
        "session ends": ends("sessionSummary"),
        "connection ends": ends("connectionSummary"),
        "publisher ends": ends("publisherSummary"),
        "subscriber ends": ends("subscriberSummary"),
    }


def summaries_of(settings: Settings, outcome: RunOutcome) -> list[Document]:
    """The run's documents once its sessionSummary is in (it follows the cdr events)."""
    session_ids = [s.session_id for s in outcome.ledger.sessions.values()]

    async def poll() -> list[Document]:
        for _ in range(40):
            documents = await read_documents(settings, session_ids)
            if any(d.get("elastic_type") == "sessionSummary" for d in documents):
                return documents
            await asyncio.sleep(0.5)
        return documents

    return asyncio.run(poll())


@pytest.mark.integration
def test_a_recorded_session_replays_with_the_same_shape(
    rtcsim_run: Callable[[str | Path], RunOutcome],
    rtcsim_settings: Settings,
    tmp_path: Path,
) -> None:
    original = rtcsim_run(SHORT)
    results = rtcsim_settings.results_dir
    assert (original.results_dir / "junit.xml").is_file()

    checked = invoke(["check", original.run_id], results)
    assert checked.exit_code == (0 if original.passed else 1), checked.output
    summary = orjson.loads((original.results_dir / "summary.json").read_bytes())
    assert summary["run_id"] == original.run_id

    exported = invoke(["export", original.run_id], results)
    assert exported.exit_code == 0
    stamps = [json.loads(line).get("timestamp", 0) for line in exported.stdout.splitlines()]
    assert len(stamps) >= len(original.documents)
    assert stamps == sorted(stamps)

    session_id = original.ledger.sessions["short"].session_id
    generated = tmp_path / "replay.yaml"
    made = invoke(["scenario", "from-session", session_id, "-o", str(generated)], results)
    assert made.exit_code == 0, made.output
    assert [step.do for step in load_scenario(generated).timeline] == [
        "join",
        "publish",
        "subscribe",
        "unsubscribe",
        "leave",
        "leave",
    ]

    replay = rtcsim_run(generated)
    shape = summaries_shape(summaries_of(rtcsim_settings, original))
    assert (shape["users"], shape["publishers"], shape["subscribers"]) == (2, 1, 1)
    assert shape["subscriber ends"] == Counter({"unsubscribe": 1})
    assert summaries_shape(summaries_of(rtcsim_settings, replay)) == shape


@pytest.mark.integration
@pytest.mark.parametrize(
    "index", ["openvidu", "rtcsim-no-such-index"], ids=["documents gone", "another index"]
)
def test_a_check_that_finds_nothing_leaves_the_recorded_verdict(tmp_path: Path, index: str) -> None:
    """A reader that finds none of a run's documents (a wiped cluster, a wrong es_index) says so
    and exits 2; the PASSED verdict the run recorded stays as it was."""
    folder = past_run(tmp_path, "20261128-100000-gone")
    recorded = {"summary.json": b'{"passed": true}\n', "junit.xml": b"<testsuites/>\n"}
    for name, body in recorded.items():
        (folder / name).write_bytes(body)
    result = invoke(["check", "20261128-100000-gone"], tmp_path, RTCSIM_ES_INDEX=index)
    assert result.exit_code == 2, result.output
    assert f"holds no document of this run in index {index!r}" in " ".join(result.stderr.split())
    assert "left as they were" in " ".join(result.stderr.split())
    assert {name: (folder / name).read_bytes() for name in recorded} == recorded
