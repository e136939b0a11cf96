"""Slice geometry from a NIfTI affine (RAS+) in DICOM patient space (LPS+), DESIGN section 6."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import VinciError

RAS_TO_LPS = np.diag([-1.0, -1.0, 1.0])
SHEAR_TOLERANCE = 1e-4


@dataclass(frozen=True)
class Geometry:
    """Orientation, spacing and the position of every slice of a volume."""

    orientation: tuple[float, ...]  # row (i) then column (j) direction cosines, LPS
    spacing: tuple[float, float, float]  # voxel size along i, j, k (mm)
    origin: np.ndarray  # LPS position of voxel (0, 0, 0)
    slice_step: np.ndarray  # LPS vector from slice k to slice k+1
    normal: np.ndarray  # unit normal of the slice plane (row x column)

    def position(self, k: int) -> np.ndarray:
        """ImagePositionPatient of slice k: the world position of voxel (0, 0, k)."""
        return self.origin + k * self.slice_step

    def location(self, k: int) -> float:
        """SliceLocation of slice k: its position projected on the slice normal."""
        return float(self.position(k) @ self.normal)

    @property
    def pixel_spacing(self) -> tuple[float, float]:
        """DICOM PixelSpacing: row spacing (along j) then column spacing (along i)."""
        return self.spacing[1], self.spacing[0]


def geometry_from_affine(affine: np.ndarray, source: str = "image") -> Geometry:
    """Geometry of a voxel-to-RAS affine; an affine with shear or a zero axis is refused."""
    affine = np.asarray(affine, dtype=float)
    if affine.shape != (4, 4) or not np.all(np.isfinite(affine)):
        raise VinciError(f"{source}: the affine is not a finite 4x4 matrix; fix the header")
    axes = RAS_TO_LPS @ affine[:3, :3]
    spacing = np.linalg.norm(axes, axis=0)
    if np.any(spacing <= 0):
        raise VinciError(f"{source}: the affine has a zero-length voxel axis; fix the header")
    unit = axes / spacing
    for a, b in ((0, 1), (0, 2), (1, 2)):
        if abs(unit[:, a] @ unit[:, b]) > SHEAR_TOLERANCE:
            raise VinciError(
                f"{source}: the affine has shear (voxel axes {a} and {b} are not perpendicular),"
                " which DICOM cannot express; resample the image to an orthogonal grid first"
            )
    normal = np.cross(unit[:, 0], unit[:, 1])
    return Geometry(
        orientation=tuple(float(v) for v in np.concatenate([unit[:, 0], unit[:, 1]])),
        spacing=(float(spacing[0]), float(spacing[1]), float(spacing[2])),
        origin=RAS_TO_LPS @ affine[:3, 3],
        slice_step=axes[:, 2],
        normal=normal,
    )
