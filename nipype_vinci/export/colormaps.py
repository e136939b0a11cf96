"""Colour maps as 256-entry RGB tables, from a few control points (no plotting library).

The names are plain data (the command line lists them without importing numpy)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import VinciError

if TYPE_CHECKING:
    import numpy as np

LEVELS = 256

# (position 0..1, R, G, B) control points, joined by straight lines.
CONTROL_POINTS: dict[str, tuple[tuple[float, int, int, int], ...]] = {
    "gray": ((0.0, 0, 0, 0), (1.0, 255, 255, 255)),
    # black, red, yellow, white: matplotlib's "hot" shape
    "hot": ((0.0, 0, 0, 0), (0.365, 255, 0, 0), (0.746, 255, 255, 0), (1.0, 255, 255, 255)),
    # dark blue, blue, cyan, yellow, red, dark red: the classic "jet" rainbow
    "jet": (
        (0.0, 0, 0, 128),
        (0.125, 0, 0, 255),
        (0.375, 0, 255, 255),
        (0.625, 255, 255, 0),
        (0.875, 255, 0, 0),
        (1.0, 128, 0, 0),
    ),
}
COLORMAPS = tuple(CONTROL_POINTS)


def colormap(name: str) -> np.ndarray:
    """The (256, 3) uint8 table of a colour map: entry 0 for the low end, 255 the high."""
    import numpy as np

    points = CONTROL_POINTS.get(name)
    if points is None:
        raise VinciError(f"colour map {name!r} is unknown; choose one of {', '.join(COLORMAPS)}")
    where = np.linspace(0.0, 1.0, LEVELS)
    stops = [p[0] for p in points]
    channels = [np.interp(where, stops, [p[c] for p in points]) for c in (1, 2, 3)]
    return np.rint(np.stack(channels, axis=1)).astype(np.uint8)
