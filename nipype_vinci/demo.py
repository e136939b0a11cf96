"""The built-in demo: a synthetic PET phantom (oblique, hot spheres, a few negative voxels)."""

from __future__ import annotations

import numpy as np

SHAPE = (97, 113, 41)
VOXEL = (2.5, 2.3, 3.27)


def phantom_affine() -> np.ndarray:
    """An oblique voxel-to-RAS affine: 12 degrees about x, 7 about z."""
    ax, az = np.radians(12.0), np.radians(7.0)
    rot_x = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
    rot_z = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
    affine = np.eye(4)
    affine[:3, :3] = rot_z @ rot_x @ np.diag(VOXEL)
    affine[:3, 3] = -affine[:3, :3] @ (np.array(SHAPE) / 2)
    return affine


def phantom_volume() -> np.ndarray:
    """Activity in kBq/mL-like units: a warm cylinder, hot spheres, noise that dips below 0."""
    rng = np.random.default_rng(20261128)
    x, y, z = np.meshgrid(*(np.arange(n) - n / 2 for n in SHAPE), indexing="ij")
    volume = np.where(x**2 / 40**2 + y**2 / 45**2 < 1, 1.0, 0.0)
    for cx, cy, cz, r, hot in ((10, 5, 0, 6, 8.0), (-15, -10, 5, 4, 12.0), (5, -20, -8, 3, 20.0)):
        volume += hot * (
            ((x - cx) * VOXEL[0]) ** 2 + ((y - cy) * VOXEL[1]) ** 2 + ((z - cz) * VOXEL[2]) ** 2
            < (r * 2.5) ** 2
        )
    volume += rng.normal(0.0, 0.05, SHAPE)
    return (volume * 5000.0).astype(np.float32)  # Bq/mL; the noise leaves some voxels < 0
