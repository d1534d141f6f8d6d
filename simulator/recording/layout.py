"""BEST_FIT: the grid OpenVidu's composed recordings use, as plain arithmetic.

OpenVidu lays out N videos in the grid (columns x rows) that shows them biggest, each video
scaled to fit its cell with its aspect ratio kept and centred (letterboxed). We pick the
column count whose cells show the largest video area, ties going to fewer empty cells.
Every coordinate is even, because yuv420p stores chroma at half resolution.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Tile:
    """Where one video goes on the canvas, in pixels."""

    x: int
    y: int
    width: int
    height: int


def _even(value: float) -> int:
    return max(2, int(value) // 2 * 2)


def fit_inside(width: int, height: int, box_width: int, box_height: int) -> tuple[int, int]:
    """The largest even size with ``width:height``'s aspect ratio that fits in the box."""
    scale = min(box_width / width, box_height / height)
    return min(_even(width * scale), box_width // 2 * 2), min(
        _even(height * scale), box_height // 2 * 2
    )


def grid_shape(count: int, canvas: tuple[int, int], aspect: float = 4 / 3) -> tuple[int, int]:
    """(columns, rows) of the best-fit grid for ``count`` videos of aspect ``aspect``."""
    if count < 1:
        raise ValueError("a grid needs at least one video")
    width, height = canvas
    best: tuple[float, int, int, int] | None = None
    for columns in range(1, count + 1):
        rows = math.ceil(count / columns)
        cell_w, cell_h = width / columns, height / rows
        shown = min(cell_w, cell_h * aspect) * min(cell_h, cell_w / aspect)
        key = (shown * count, -(columns * rows - count), columns, rows)
        if best is None or key[:2] > best[:2]:
            best = key
    assert best is not None
    return best[2], best[3]


def best_fit(
    sizes: list[tuple[int, int]], canvas: tuple[int, int], aspect: float | None = None
) -> list[Tile]:
    """One tile per video (``sizes`` are the videos' own sizes), in order, on the canvas.

    The last row, when not full, is centred, as in OpenVidu's layout.
    """
    if not sizes:
        return []
    width, height = canvas
    if aspect is None:
        aspect = sum(w / h for w, h in sizes) / len(sizes)
    columns, rows = grid_shape(len(sizes), canvas, aspect)
    cell_w, cell_h = width // columns, height // rows
    tiles = []
    for index, (video_w, video_h) in enumerate(sizes):
        row, column = divmod(index, columns)
        in_row = min(columns, len(sizes) - row * columns)
        row_offset = (width - in_row * cell_w) // 2
        fit_w, fit_h = fit_inside(video_w, video_h, cell_w, cell_h)
        x = row_offset + column * cell_w + (cell_w - fit_w) // 2
        y = row * cell_h + (cell_h - fit_h) // 2
        tiles.append(Tile(x // 2 * 2, y // 2 * 2, fit_w, fit_h))
    return tiles
