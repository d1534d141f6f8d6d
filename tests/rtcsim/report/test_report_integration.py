"""``scenarios/smoke.yaml`` end to end, then its report: every panel has data, the numbers on the
page are the documents' numbers, and headless Chromium draws it (screenshot kept in the run's
folder as ``report.png``)."""

from __future__ import annotations

import asyncio
import statistics
import subprocess
from typing import Any

import pytest

from collector.store import open_client
from rtcsim.library import LIBRARY
from rtcsim.pipeline.outcome import RunOutcome
from rtcsim.pipeline.timeline import run_scenario_file
from simulator.settings import Settings
from simulator.verify.store_reader import run_documents
from tests.rtcsim.report import chromium
from tests.rtcsim.report.html_probe import Page, read_page

pytestmark = pytest.mark.integration
SMOKE = LIBRARY / "smoke.yaml"
CHROMIUM_FLAGS = chromium.BASE_FLAGS
Doc = dict[str, Any]


@pytest.fixture(scope="module")
def smoke() -> RunOutcome:
    return asyncio.run(run_scenario_file(SMOKE, Settings(), progress=lambda _m: None))


@pytest.fixture(scope="module")
def documents(smoke: RunOutcome) -> list[Doc]:
    """The run's documents read again now, after the report was written."""

    async def read() -> list[Doc]:
        settings = Settings()
        ledger = smoke.ledger
        async with open_client(settings.es_client_options()) as es:
            return await run_documents(
                es,
                settings.es_index,
                [s.session_id for s in ledger.sessions.values()],
                ledger.started_ms,
                ledger.ended_ms or ledger.started_ms,
            )

    return asyncio.run(read())


@pytest.fixture(scope="module")
def page(smoke: RunOutcome) -> Page:
    return read_page((smoke.results_dir / "report.html").read_text(encoding="utf-8"))


def _of(docs: list[Doc], elastic_type: str, **where: Any) -> list[Doc]:
    return [
        d
        for d in docs
        if d.get("elastic_type") == elastic_type and all(d.get(k) == v for k, v in where.items())
    ]


def _mean(values: list[float]) -> float:
    return statistics.fmean(values)


def test_every_panel_of_the_report_has_data(smoke: RunOutcome, page: Page) -> None:
    assert smoke.passed, [c for c in smoke.checks if not c.ok]
    assert len(page.panels) >= 18, page.panels
    assert {k: v for k, v in page.panels.items() if v != "1"} == {}
    assert page.external == []


def test_the_sessions_numbers_are_the_documents_numbers(page: Page, documents: list[Doc]) -> None:
    m = page.metrics
    created = _of(documents, "cdr", event="webrtcConnectionCreated")
    gathering = _of(documents, "kms", type="IceGatheringDone")
    pairs = _of(documents, "kms", type="NewCandidatePairSelected")
    streamed = _of(documents, "publisherSummary") + _of(documents, "subscriberSummary")
    pub_stats = [
        d for d in _of(documents, "webrtcStats", rtcsim_side="server") if "packetsReceived" in d
    ]
    sub_stats = [
        d for d in _of(documents, "webrtcStats", rtcsim_side="server") if "packetsSent" in d
    ]
    assert int(m["sessions_total"]) == len(_of(documents, "cdr", event="sessionCreated")) == 1
    assert int(m["publishers_total"]) == len([d for d in created if d["connection"] == "OUTBOUND"])
    assert int(m["subscribers_total"]) == len([d for d in created if d["connection"] == "INBOUND"])
    assert int(m["publishers_total"]) == 1
    assert int(m["subscribers_total"]) == 2
    assert int(m["connections_ok"]) == len(created)
    assert int(m["locations"]) == len({d["location"] for d in _of(documents, "connectionSummary")})
    assert int(m["host_samples"]) == len(_of(documents, "monitoringStats"))
    assert int(m["ice_gathering_count"]) == len(gathering)
    assert float(m["ice_gathering_avg_ms"]) == pytest.approx(
        _mean([d["msSinceEndpointCreation"] for d in gathering])
    )
    assert float(m["candidate_pair_avg_ms"]) == pytest.approx(
        _mean([d["msSinceEndpointCreation"] for d in pairs])
    )
    assert float(m["streamed_minutes_total"]) == pytest.approx(
        sum(d["duration"] for d in streamed) / 60
    )
    assert float(m["pub_jitter_ms"]) == pytest.approx(
        _mean([d["jitter"] * 1000 for d in pub_stats])
    )
    assert float(m["sub_rtt_ms"]) == pytest.approx(
        _mean([d["roundTripTime"] * 1000 for d in sub_stats])
    )
    # A subscriber that has sent no REMB yet has no targetBitrate (collector.model.webrtc_stats);
    # Elasticsearch's avg skips such documents, and so does this mean.
    targets = [d["targetBitrate"] / 1000 for d in sub_stats if "targetBitrate" in d]
    if targets:
        assert float(m["sub_target_kbps"]) == pytest.approx(_mean(targets))


def test_the_recordings_numbers_are_the_documents_numbers(
    smoke: RunOutcome, page: Page, documents: list[Doc]
) -> None:
    m = page.metrics
    recordings = _of(documents, "recordingSummary")
    assert int(m["recordings_total"]) == len(recordings) == 1
    assert float(m["recordings_avg_size_bytes"]) == pytest.approx(
        _mean([d["size"] for d in recordings])
    )
    assert int(m["recordings_total_size_bytes"]) == sum(d["size"] for d in recordings) > 0
    assert float(m["recordings_avg_duration_s"]) == pytest.approx(
        _mean([d["duration"] for d in recordings])
    )
    assert m["ledger_recordings"] == m["documents_recordings"] == "1"
    assert int(m["checks_passed"]) == int(m["checks_total"]) == len(smoke.checks)


def _chromium(*args: str) -> subprocess.CompletedProcess[str]:
    return chromium.run(CHROMIUM_FLAGS, *args)


def test_headless_chromium_renders_the_report(smoke: RunOutcome) -> None:
    html = smoke.results_dir / "report.html"
    screenshot = smoke.results_dir / "report.png"
    dom = _chromium("--dump-dom", html.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    body = read_page(dom.stdout).body
    assert body.get("data-rendered") == "ok", body
    assert body.get("data-panels") == body.get("data-drawn")
    shot = _chromium(f"--screenshot={screenshot}", "--window-size=1400,4000", html.as_uri())
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert screenshot.stat().st_size > 50_000
