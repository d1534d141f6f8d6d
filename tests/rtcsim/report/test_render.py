"""The page: every panel, the numbers in data attributes, nothing fetched from the network."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from rtcsim.report import charts, panels, queries
from rtcsim.report.model import Bucket, Location, Report, Scope, Verdict
from rtcsim.report.render import render
from rtcsim.report.world_map import world_map
from tests.rtcsim.report.html_probe import read_page
from tests.rtcsim.report.simulcast_layers import SIMULCAST_LAYERS

RESPONSES = json.loads((Path(__file__).parent / "data" / "smoke_aggregations.json").read_text())
SCOPE = Scope(1795886321798, 1795886339350, ("smoke-20261128-171841-3d1e",), "run smoke")


def _report(responses: dict[str, dict[str, object]], verdict: Verdict) -> Report:
    return Report(
        scope=SCOPE,
        generated_ms=1795886400000,
        index="openvidu",
        documents_by_type=panels.documents_by_type(responses),
        sessions=panels.sessions_dashboard(SCOPE, responses),
        recordings=panels.recordings_dashboard(responses),
        verdict=verdict,
    )


def test_every_panel_of_both_dashboards_has_data_and_its_numbers() -> None:
    page = read_page(render(_report(RESPONSES, Verdict(passed=True))))
    assert len(page.panels) == 17
    assert set(page.panels.values()) == {"1"}
    assert page.metrics["sessions_total"] == "1"
    assert page.metrics["subscribers_total"] == "2"
    assert float(page.metrics["recordings_avg_size_bytes"]) == 360664
    assert page.metrics["docs_kms"] == "36"
    assert page.svgs >= 20


def test_the_page_needs_no_network() -> None:
    html = render(_report(RESPONSES, Verdict(passed=True)))
    assert read_page(html).external == []
    assert "https://" not in html
    assert html.count("http://") == html.count('xmlns="http://www.w3.org/2000/svg"')


def test_rendering_is_a_pure_function_of_the_report() -> None:
    report = _report(RESPONSES, Verdict(passed=False))
    assert render(report) == render(report)


def test_an_empty_index_renders_panels_marked_without_data() -> None:
    empty: dict[str, dict[str, object]] = {name: {} for name in queries.ALL}
    page = read_page(render(_report(empty, Verdict(passed=None))))
    assert page.panels["sessions-per-day"] == "0"
    assert page.panels["runs"] == "0"


def test_text_from_documents_is_escaped() -> None:
    svg = world_map([Location("<script>x</script>", 10.0, 20.0, 1)])
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg


def test_a_single_bucket_donut_is_a_full_ring() -> None:
    assert "<circle" in charts.donut([Bucket("COMPOSED", 1)])
    assert "no data" in charts.donut([Bucket("COMPOSED", 0)])


def test_a_load_runs_header_counts_its_sessions_instead_of_listing_them() -> None:
    ids = tuple(f"l1w0-room-{n}-20261201" for n in range(50))
    report = _report(RESPONSES, Verdict(passed=True))
    report = dataclasses.replace(report, scope=dataclasses.replace(SCOPE, session_ids=ids))
    html = render(report)
    assert read_page(html).metrics["sessions_in_scope"] == "50"
    assert "50 sessions (l1w0-room-0-20261201, l1w0-room-1-20261201 and 48 more)" in html
    assert "l1w0-room-49-20261201</span>" not in html


def test_the_subscribers_target_bitrate_is_explained() -> None:
    html = render(_report(RESPONSES, Verdict(passed=True)))
    assert "bandwidth estimate (REMB) the subscribers send" in html


def test_the_layer_bitrate_panel_is_shown_only_for_a_run_with_simulcast() -> None:
    plain = read_page(render(_report(RESPONSES, Verdict(passed=True))))
    assert "simulcast-layers" not in plain.panels
    page = read_page(render(_report({**RESPONSES, "layers": SIMULCAST_LAYERS}, Verdict(True))))
    assert page.panels["simulcast-layers"] == "1"
    assert page.metrics["simulcast_layer_series"] == "2"
