"""A run of more than 50,000 documents, read back whole by every reader: ``rtcsim check``,
``rtcsim export``, the report's aggregations, ``scenario from-session`` and the readers.

The run is synthetic but its documents are real: a smoke run recorded on the real stack
(``tests/data/runs/smoke``: 75 documents of all ten types, its ledger and scenario) copied 700
times, every session, connection, stream and user id made unique per copy, into a scratch index
of the real Elasticsearch (under the collector's template, so fields map as in the real index).
Its ledger is the copies' ledgers merged, so the checks pass exactly when every document is
read: a reader that stops at Elasticsearch's result window (10,000) fails them.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from elasticsearch.helpers import async_bulk
from typer.testing import CliRunner

from collector.store import open_client
from rtcsim.cli import app
from rtcsim.report.build import build, run_scope
from simulator.ledger import Ledger
from simulator.scenario.loader import load_scenario
from simulator.settings import Settings
from simulator.verify.invariants import Tolerances
from simulator.verify.store_reader import (
    Document,
    ReadBackIncomplete,
    StoredRun,
    open_run,
    run_documents,
    run_selection,
)
from simulator.verify.verdict import verify_stored

pytestmark = pytest.mark.integration
RECORDED = Path(__file__).resolve().parents[1] / "data" / "runs" / "smoke"
COPIES = 700
WINDOW = 10_000  # Elasticsearch's default index.max_result_window


def _copy_ids(ledger: dict[str, Any]) -> list[str]:
    ids = [s["session_id"] for s in ledger["sessions"].values()]
    for person in ledger["participants"].values():
        ids.append(person["user_id"])
        ids += [c["connection_id"] for c in person["connections"]]
    return sorted(ids, key=len, reverse=True)


def synthetic_run(copies: int) -> tuple[dict[str, Any], list[bytes]]:
    """The recorded run ``copies`` times over: its merged ledger (as JSON) and its documents
    (as JSON lines), every id made unique per copy by a suffix."""
    original = json.loads((RECORDED / "ledger.json").read_text())
    documents = (RECORDED / "documents.ndjson").read_text()
    pattern = re.compile("|".join(re.escape(i) for i in _copy_ids(original)))
    ledger = {**original, "sessions": {}, "participants": {}, "recordings": []}
    lines: list[bytes] = []
    for k in range(copies):
        tag = f"k{k:04d}"

        def rename(text: str, tag: str = tag) -> str:
            return pattern.sub(lambda m: f"{m.group(0)}{tag}", text)

        lines += [line.encode() for line in rename(documents).splitlines()]
        for room, session in original["sessions"].items():
            ledger["sessions"][room + tag] = {
                **json.loads(rename(json.dumps(session))),
                "room": room + tag,
            }
        for name, person in original["participants"].items():
            copy = json.loads(rename(json.dumps(person)))
            copy["name"], copy["room"] = name + tag, person["room"] + tag
            for conn in copy["connections"]:
                for sub in conn["subscriptions"]:
                    sub["publisher"] += tag
            ledger["participants"][name + tag] = copy
        for recording in original["recordings"]:
            copy = json.loads(rename(json.dumps(recording)))
            copy["room"] = recording["room"] + tag
            ledger["recordings"].append(copy)
    return ledger, lines


@pytest.fixture(scope="module")
def big_run(running_stack: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The synthetic run in a scratch index, and a results folder holding its ledger."""
    ledger_json, lines = synthetic_run(COPIES)
    index = f"{running_stack.es_index}-whole-{uuid.uuid4().hex[:8]}"
    settings = running_stack.model_copy(
        update={"es_index": index, "results_dir": tmp_path_factory.mktemp("results")}
    )
    run_id = ledger_json["run_id"]
    folder = settings.results_dir / run_id
    folder.mkdir()
    (folder / "ledger.json").write_text(json.dumps(ledger_json))
    (folder / "scenario.yaml").write_bytes((RECORDED / "scenario.yaml").read_bytes())

    async def actions() -> AsyncIterator[dict[str, Any]]:
        for line in lines:
            yield {"_index": index, "_source": orjson.loads(line)}

    async def load() -> None:
        async with open_client(settings.es_client_options()) as es:
            # Bodies under 1 MiB: aiohttp warns (an error here) about larger raw bodies.
            await async_bulk(es, actions(), max_chunk_bytes=900_000, refresh=True)

    async def drop() -> None:
        async with open_client(settings.es_client_options()) as es:
            await es.indices.delete(index=index, ignore_unavailable=True)

    asyncio.run(load())
    try:
        yield settings, Ledger.read(folder / "ledger.json"), len(lines)
    finally:
        asyncio.run(drop())


def invoke(settings: Settings, args: list[str]) -> Any:
    env = {"RTCSIM_RESULTS_DIR": str(settings.results_dir), "RTCSIM_ES_INDEX": settings.es_index}
    return CliRunner().invoke(app, args, env=env)


def test_the_synthetic_run_is_bigger_than_the_result_window_five_times(big_run: Any) -> None:
    _settings, ledger, total = big_run
    assert total == 75 * COPIES > 5 * WINDOW
    assert len(ledger.sessions) == COPIES


def test_rtcsim_check_verifies_every_document_and_passes(big_run: Any) -> None:
    settings, ledger, total = big_run
    result = invoke(settings, ["check", ledger.run_id])
    summary = orjson.loads((settings.results_dir / ledger.run_id / "summary.json").read_bytes())
    failed = [c for c in summary["checks"] if not c["ok"]]
    assert result.exit_code == 0, failed[:5]
    assert summary["documents"] == total
    names = {c["name"] for c in summary["checks"]}
    assert len([n for n in names if n.endswith(": users")]) == COPIES


def test_rtcsim_export_writes_exactly_elasticsearchs_count_in_timestamp_order(
    big_run: Any, tmp_path: Path
) -> None:
    settings, ledger, total = big_run
    out = tmp_path / "export.ndjson"
    result = invoke(settings, ["export", ledger.run_id, "-o", str(out)])
    assert result.exit_code == 0, result.output
    stamps = [orjson.loads(line).get("timestamp", 0) for line in out.read_bytes().splitlines()]
    assert len(stamps) == total
    assert stamps == sorted(stamps)

    async def count() -> int:
        async with open_client(settings.es_client_options()) as es:
            answer = await es.count(index=settings.es_index, query=run_selection(ledger).query())
            return int(answer["count"])

    assert asyncio.run(count()) == total


def test_the_readers_return_every_document(big_run: Any) -> None:
    settings, ledger, total = big_run

    async def read() -> list[Document]:
        async with open_client(settings.es_client_options()) as es:
            return await run_documents(
                es,
                settings.es_index,
                [s.session_id for s in ledger.sessions.values()],
                ledger.started_ms,
                ledger.ended_ms or ledger.started_ms,
            )

    documents = asyncio.run(read())
    assert len(documents) == total
    assert sum(1 for d in documents if d.get("elastic_type") == "sessionSummary") == COPIES


def test_the_reports_aggregations_count_every_document(big_run: Any) -> None:
    settings, ledger, total = big_run

    async def report() -> Any:
        async with open_client(settings.es_client_options()) as es:
            folder = settings.results_dir / ledger.run_id
            return await build(es, settings.es_index, run_scope(folder), None, folder)

    built = asyncio.run(report())
    assert sum(b.count for b in built.documents_by_type) == total
    assert built.sessions.sessions_total == COPIES


def test_from_session_replays_one_session_of_the_big_run(big_run: Any, tmp_path: Path) -> None:
    settings, ledger, _total = big_run
    session = ledger.sessions["smokek0421"].session_id
    out = tmp_path / "replay.yaml"
    result = invoke(settings, ["scenario", "from-session", session, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert len(load_scenario(out).participants) == 3


class CappedRun(StoredRun):
    """A reader that stops at the result window, as ``size=10_000`` did."""

    async def documents(self, *, page_size: int = 2_000) -> AsyncIterator[Document]:
        read = 0
        async for doc in super().documents(page_size=page_size):
            if read == WINDOW:
                return
            read += 1
            yield doc


def test_a_reader_capped_at_the_result_window_is_refused_not_believed(big_run: Any) -> None:
    settings, ledger, total = big_run
    scenario = load_scenario(RECORDED / "scenario.yaml")

    async def verify_capped() -> None:
        async with (
            open_client(settings.es_client_options()) as es,
            open_run(es, settings.es_index, run_selection(ledger)) as run,
        ):
            run.__class__ = CappedRun
            await verify_stored(run, scenario, ledger, Tolerances())

    with pytest.raises(ReadBackIncomplete, match=f"read {WINDOW} documents of the run.*{total}"):
        asyncio.run(verify_capped())
