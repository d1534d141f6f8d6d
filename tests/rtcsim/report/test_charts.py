"""Line charts stay readable at their edges and for a run of one bucket."""

from __future__ import annotations

import re

from rtcsim.report import charts
from rtcsim.report.model import Point, Series


def _labels(svg: str) -> list[tuple[str, str]]:
    """(x, text-anchor) of each time label under the plot."""
    return re.findall(r'<text x="([\d.]+)" y="\d+" class="ax" text-anchor="(\w+)">\d\d:', svg)


def test_the_time_labels_start_and_end_inside_the_chart() -> None:
    series = Series("users", "", tuple(Point(t * 10_000, float(t)) for t in range(6)))
    labels = _labels(charts.line_chart([series], width=620))
    assert [anchor for _x, anchor in labels] == ["start", "middle", "end"]
    assert float(labels[-1][0]) <= 620


def test_a_run_of_one_bucket_is_drawn_in_the_middle_with_one_label() -> None:
    series = Series("users", "", (Point(5_000, 3.0),))
    svg = charts.line_chart([series], width=620, height=220)
    assert [anchor for _x, anchor in _labels(svg)] == ["middle"]
    (cx,) = re.findall(r'<circle cx="([\d.]+)"', svg)
    assert abs(float(cx) - (56 + (620 - 56 - 12) / 2)) < 0.1


def test_the_cdf_stays_below_100_percent_for_endpoints_that_never_connected() -> None:
    svg = charts.cdf_chart([10.0, 20.0, 40.0], total=4)
    points = svg.split('points="')[1].split('"')[0].split()
    ys = [float(p.split(",")[1]) for p in points]
    top, bottom = 12, 220 - 40  # the plot's top (100 %) and bottom (0 %)
    assert max(ys) == bottom  # starts at 0 %
    assert min(ys) == bottom - 0.75 * (bottom - top)  # ends at 3 of 4
    assert "3 of 4 within 40 ms" in svg


def test_a_cdf_without_values_says_no_data() -> None:
    assert "no data" in charts.cdf_chart([], total=0)
