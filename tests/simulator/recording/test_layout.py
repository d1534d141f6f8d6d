"""BEST_FIT grid arithmetic."""

from __future__ import annotations

import pytest

from simulator.recording.layout import Tile, best_fit, fit_inside, grid_shape

HD = (1280, 720)


@pytest.mark.parametrize(
    ("count", "shape"),
    [(1, (1, 1)), (2, (2, 1)), (3, (2, 2)), (4, (2, 2)), (5, (3, 2)), (9, (3, 3))],
)
def test_grid_shape_for_4_3_videos_on_a_16_9_canvas(count: int, shape: tuple[int, int]) -> None:
    assert grid_shape(count, HD) == shape


def test_two_vga_videos_sit_side_by_side_letterboxed() -> None:
    assert best_fit([(640, 480), (640, 480)], HD) == [
        Tile(0, 120, 640, 480),
        Tile(640, 120, 640, 480),
    ]


def test_one_video_is_centred_and_as_big_as_the_canvas_allows() -> None:
    assert best_fit([(640, 480)], HD) == [Tile(160, 0, 960, 720)]


def test_an_incomplete_last_row_is_centred() -> None:
    tiles = best_fit([(640, 480)] * 3, HD)
    assert tiles[2].x == pytest.approx((tiles[0].x + tiles[1].x) / 2, abs=2)


@pytest.mark.parametrize("count", range(1, 10))
def test_tiles_are_even_inside_the_canvas_and_never_overlap(count: int) -> None:
    tiles = best_fit([(640, 480), (320, 240), (1280, 720)][:1] * count, (960, 540))
    for tile in tiles:
        assert all(v % 2 == 0 for v in (tile.x, tile.y, tile.width, tile.height))
        assert tile.x + tile.width <= 960
        assert tile.y + tile.height <= 540
    for a in tiles:
        for b in tiles:
            if a is not b:
                assert (
                    a.x + a.width <= b.x
                    or b.x + b.width <= a.x
                    or a.y + a.height <= b.y
                    or b.y + b.height <= a.y
                )


def test_fit_inside_keeps_the_aspect_ratio() -> None:
    assert fit_inside(320, 240, 640, 720) == (640, 480)
    assert fit_inside(1280, 720, 640, 720) == (640, 360)


def test_no_videos_no_tiles_and_a_grid_needs_one() -> None:
    assert best_fit([], HD) == []
    with pytest.raises(ValueError, match="at least one"):
        grid_shape(0, HD)
