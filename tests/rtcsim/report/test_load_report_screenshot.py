"""A load run's report in a headless browser (issue 15): a short library load (rooms of three,
cheap media, one recorded room) on the real stack, its ``report.html`` served over HTTP on
loopback and opened by Debian's Chromium: the page runs its script without a JavaScript error,
every panel has data, and the screenshot is not blank inside any panel's box."""

from __future__ import annotations

import asyncio
import functools
import http.server
import subprocess
import threading
from collections.abc import Iterator

import pytest

from rtcsim.library import LIBRARY
from rtcsim.pipeline.load import run_load_scenario
from rtcsim.pipeline.outcome import RunOutcome
from simulator.scenario.load import LoadScenario
from simulator.scenario.loader import load_any_scenario
from simulator.settings import Settings
from tests.rtcsim.report import chromium
from tests.rtcsim.report.html_probe import Page, read_page
from tests.rtcsim.report.png import Image, read_png

pytestmark = pytest.mark.integration

WINDOW = (1400, 6000)
CHROMIUM_FLAGS = (
    *chromium.BASE_FLAGS,
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
    f"--window-size={WINDOW[0]},{WINDOW[1]}",
    "--enable-logging=stderr",
    "--v=0",
)
SHORT_LOAD = """\
name: load-report-short
description: six users in rooms of three for 25 s (one room recorded), for the report's test
load:
  locustfile: {locustfile}
  users: 6
  spawn_rate: 3
  run_time_s: 25
  workers: 0
  stop_timeout_s: 15
"""
INK_SHARE = 0.01
"""The least share of a panel's pixels that differ from its background: a title and a number
alone are ~2 %; a blank box is 0."""


@pytest.fixture(scope="module")
def load_run(tmp_path_factory: pytest.TempPathFactory) -> RunOutcome:
    source = tmp_path_factory.mktemp("load") / "load-report-short.yaml"
    source.write_text(SHORT_LOAD.format(locustfile=LIBRARY / "locust" / "load-small.py"))
    scenario = load_any_scenario(source)
    assert isinstance(scenario, LoadScenario)
    return asyncio.run(run_load_scenario(scenario, source, Settings(), progress=lambda _m: None))


@pytest.fixture(scope="module")
def served(load_run: RunOutcome) -> Iterator[str]:
    """The run's folder over HTTP on 127.0.0.1, a free port; the report's URL."""
    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(load_run.results_dir)
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/report.html"
    finally:
        server.shutdown()
        server.server_close()


def _chromium(*args: str) -> subprocess.CompletedProcess[str]:
    return chromium.run(CHROMIUM_FLAGS, *args)


@pytest.fixture(scope="module")
def dom(served: str) -> tuple[Page, str]:
    result = _chromium("--dump-dom", served)
    assert result.returncode == 0, result.stderr[-2000:]
    return read_page(result.stdout), result.stderr


@pytest.fixture(scope="module")
def screenshot(served: str, load_run: RunOutcome) -> Image:
    path = load_run.results_dir / "report.png"
    result = _chromium(f"--screenshot={path}", served)
    assert result.returncode == 0, result.stderr[-2000:]
    return read_png(path)


def test_the_load_run_passed_and_its_report_has_every_panel_with_data(
    load_run: RunOutcome, dom: tuple[Page, str]
) -> None:
    assert load_run.passed, [c for c in load_run.checks if not c.ok]
    page, _ = dom
    assert len(page.panels) >= 18, page.panels
    assert {k: v for k, v in page.panels.items() if v != "1"} == {}
    assert int(page.metrics["ice_endpoints"]) >= 6
    assert int(page.metrics["locations"]) >= 2


def test_the_page_ran_its_script_without_a_javascript_error(dom: tuple[Page, str]) -> None:
    page, log = dom
    assert page.body.get("data-rendered") == "ok", page.body
    assert page.body.get("data-panels") == page.body.get("data-drawn")
    console = [line for line in log.splitlines() if "CONSOLE" in line]
    assert not [line for line in console if "rror" in line or "Uncaught" in line], console
    assert len(page.boxes) == len(page.panels)


def _ink(image: Image, box: tuple[int, int, int, int]) -> float:
    """The share of a box's pixels (every other one, each way) unlike its top-left corner's."""
    left, top, width, height = box
    background = image.pixel(left + 2, top + 2)
    xs = range(left + 1, min(left + width, image.width) - 1, 2)
    ys = range(top + 1, min(top + height, image.height) - 1, 2)
    differ = total = 0
    for y in ys:
        for x in xs:
            total += 1
            pixel = image.pixel(x, y)
            if max(abs(a - b) for a, b in zip(pixel, background, strict=True)) > 24:
                differ += 1
    return differ / total if total else 0.0


def test_the_screenshot_is_not_blank_where_the_panels_are(
    dom: tuple[Page, str], screenshot: Image
) -> None:
    page, _ = dom
    assert (screenshot.width, screenshot.height) == WINDOW
    inside = {k: b for k, b in page.boxes.items() if b[1] + b[3] <= screenshot.height}
    assert len(inside) >= len(page.boxes) - 2, "the window cuts most panels off"
    ink = {panel: _ink(screenshot, box) for panel, box in inside.items()}
    assert {p: share for p, share in ink.items() if share < INK_SHARE} == {}
