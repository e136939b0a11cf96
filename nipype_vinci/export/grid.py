"""Voxel grids in DICOM patient space (LPS+): an image's, from its affine, or a series'.

An image lies on a series' grid when its voxels are the series' pixels, in any axis order
and direction (dcm2niix flips rows, for one), each within 0.01 mm or a twentieth of the
smallest voxel size, whichever is larger: a real series' slice positions stray from the
uniform spacing of its NIfTI conversion (by 0.04 mm in a GE PET series of 3.27 mm slices).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import VinciError
from .geometry import RAS_TO_LPS, geometry_from_affine

TOLERANCE_MM = 0.01
VOXEL_FRACTION = 0.05


@dataclass(frozen=True)
class Grid:
    """Rows x columns pixels per slice, each slice's first-voxel position, the pixel steps."""

    rows: int
    columns: int
    positions: np.ndarray  # (slices, 3): LPS position of pixel (row 0, column 0)
    row_step: np.ndarray  # LPS step from one column to the next (along a row)
    column_step: np.ndarray  # LPS step from one row to the next (down a column)

    @property
    def slices(self) -> int:
        return len(self.positions)

    def corners(self) -> np.ndarray:
        """Each slice's last pixel (last row, last column)."""
        far = (self.columns - 1) * self.row_step + (self.rows - 1) * self.column_step
        return self.positions + far

    def heights(self) -> np.ndarray:
        """Slice positions along the normal, in slice order."""
        normal = np.cross(self.row_step, self.column_step)
        return self.positions @ (normal / np.linalg.norm(normal))

    @property
    def tolerance(self) -> float:
        """How far (mm) a voxel may lie from this grid's pixel and still be on it."""
        sizes = [np.linalg.norm(self.row_step), np.linalg.norm(self.column_step)]
        sizes += list(np.diff(np.sort(self.heights())))
        return max(TOLERANCE_MM, VOXEL_FRACTION * float(min(sizes)))

    def describe(self) -> str:
        """One line: size, spacing, first voxel and row/column directions."""
        along = np.linalg.norm(self.row_step), np.linalg.norm(self.column_step)
        ordered = self.positions[np.argsort(self.heights())]
        gap = float(np.linalg.norm(ordered[1] - ordered[0])) if self.slices > 1 else 0.0
        directions = np.concatenate([self.row_step / along[0], self.column_step / along[1]])
        return (
            f"{self.columns}x{self.rows}x{self.slices} voxels of "
            f"{along[0]:.4g}x{along[1]:.4g}x{gap:.4g} mm, first slice at LPS "
            f"({', '.join(f'{v:.2f}' for v in ordered[0])}), orientation "
            f"{'/'.join(f'{v + 0.0:.3g}' for v in directions)}"
        )


def image_grid(affine: np.ndarray, shape: tuple[int, ...], source: str) -> Grid:
    """The grid of an image of ``shape`` (x, y, z, ...) with a voxel-to-RAS affine."""
    geometry = geometry_from_affine(affine, source)
    row = np.asarray(geometry.orientation[:3]) * geometry.spacing[0]
    column = np.asarray(geometry.orientation[3:]) * geometry.spacing[1]
    positions = np.array([geometry.position(k) for k in range(shape[2])])
    return Grid(int(shape[1]), int(shape[0]), positions, row, column)


def _floats(dataset, keyword: str, count: int, source: str) -> np.ndarray:
    try:
        values = np.array([float(v) for v in dataset.get(keyword) or []])
    except (TypeError, ValueError):
        values = np.array([])
    if values.shape != (count,) or not np.all(np.isfinite(values)):
        raise VinciError(
            f"{source}: {getattr(dataset, 'filename', 'an instance')} has no valid {keyword}; "
            "the reference must be a series of images with plane geometry"
        )
    return values


def series_grid(datasets: list, source: str) -> Grid:
    """The grid of a single-frame image series (every instance one slice)."""
    first = datasets[0]
    orientation = _floats(first, "ImageOrientationPatient", 6, source)
    spacing = _floats(first, "PixelSpacing", 2, source)
    shape = (int(first.get("Rows", 0) or 0), int(first.get("Columns", 0) or 0))
    for dataset in datasets[1:]:
        same = (
            np.allclose(_floats(dataset, "ImageOrientationPatient", 6, source), orientation)
            and np.allclose(_floats(dataset, "PixelSpacing", 2, source), spacing)
            and (int(dataset.get("Rows", 0) or 0), int(dataset.get("Columns", 0) or 0)) == shape
        )
        if not same:
            raise VinciError(
                f"{source}: {dataset.filename} differs from {first.filename} in size, "
                "orientation or pixel spacing; the reference must be one volume"
            )
    positions = np.array([_floats(d, "ImagePositionPatient", 3, source) for d in datasets])
    grid = Grid(
        shape[0], shape[1], positions, orientation[:3] * spacing[1], orientation[3:] * spacing[0]
    )
    heights = np.sort(grid.heights())
    if len(heights) > 1 and np.min(np.diff(heights)) < TOLERANCE_MM:
        distinct = len(np.unique(np.round(heights / TOLERANCE_MM)))
        raise VinciError(
            f"{source}: {len(datasets)} images at {distinct} slice positions (several frames "
            "or echoes?); give a series with one image per slice position"
        )
    return grid


@dataclass(frozen=True)
class VoxelMap:
    """Where each reference slice's pixels lie among an image's voxels: the image voxel of
    pixel (row 0, column 0) per slice, and the voxel axes (signed) along a row and a column."""

    starts: list[tuple[int, int, int]]
    along_row: tuple[int, int]  # (voxel axis, +1 or -1): one column to the next
    along_column: tuple[int, int]  # (voxel axis, +1 or -1): one row to the next
    rows: int
    columns: int

    def plane(self, data: np.ndarray, s: int) -> np.ndarray:
        """Reference slice s of ``data`` (an x, y, z array) as rows x columns."""
        index: list[int | slice] = list(self.starts[s])
        for (axis, sign), count in ((self.along_row, self.columns), (self.along_column, self.rows)):
            first = int(index[axis])  # type: ignore[arg-type]
            stop = first + sign * count
            index[axis] = slice(first, stop if stop >= 0 else None, sign)
        block = data[tuple(index)]
        return block if self.along_column[0] < self.along_row[0] else block.T


def _unit_axis(vector: np.ndarray) -> tuple[int, int] | None:
    step = np.rint(vector)
    if np.count_nonzero(step) != 1 or np.max(np.abs(step)) != 1:
        return None
    axis = int(np.flatnonzero(step)[0])
    return axis, int(step[axis])


def voxel_map(affine: np.ndarray, shape: tuple[int, ...], reference: Grid) -> VoxelMap | None:
    """How an image (voxel-to-RAS ``affine``, ``shape``) holds the reference's pixels, when
    its voxels are exactly the reference's (any axis order and direction, within
    the reference's tolerance); None otherwise."""
    shape = tuple(int(n) for n in shape[:3])
    if np.prod(shape) != reference.rows * reference.columns * reference.slices:
        return None
    world = RAS_TO_LPS @ np.asarray(affine, dtype=float)[:3]  # voxel -> LPS, 3 x 4
    to_voxel = np.linalg.inv(np.vstack([world, [0, 0, 0, 1]]))[:3]
    along_row = _unit_axis(to_voxel[:, :3] @ reference.row_step)
    along_column = _unit_axis(to_voxel[:, :3] @ reference.column_step)
    if along_row is None or along_column is None or along_row[0] == along_column[0]:
        return None
    steps = np.zeros((2, 3))
    steps[0, along_row[0]], steps[1, along_column[0]] = along_row[1], along_column[1]
    tolerance = reference.tolerance
    corners = [(c, r) for c in (0, reference.columns - 1) for r in (0, reference.rows - 1)]
    starts, seen = [], set()
    for position in reference.positions:
        start = np.rint(to_voxel @ np.append(position, 1.0))
        for c, r in corners:
            voxel = start + c * steps[0] + r * steps[1]
            if np.any(voxel < 0) or np.any(voxel >= shape):
                return None
            pixel = position + c * reference.row_step + r * reference.column_step
            if np.linalg.norm(world @ np.append(voxel, 1.0) - pixel) > tolerance:
                return None
        starts.append(tuple(int(v) for v in start))
        seen.add(starts[-1][3 - along_row[0] - along_column[0]])
    if len(seen) != reference.slices:
        return None
    return VoxelMap(starts, along_row, along_column, reference.rows, reference.columns)


def require_voxel_map(
    affine: np.ndarray, shape: tuple[int, ...], reference: Grid, what: str, where: str
) -> VoxelMap:
    """:func:`voxel_map`, or one line naming both grids."""
    found = voxel_map(affine, shape, reference)
    if found is None:
        raise VinciError(
            f"{what} lies on {image_grid(affine, shape, what).describe()}, the reference "
            f"{where} on {reference.describe()}; resample it onto the reference's grid "
            f"(within {reference.tolerance:.3g} mm)"
        )
    return found
