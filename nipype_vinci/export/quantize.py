"""Float values to stored integers with RescaleSlope/Intercept (DESIGN section 5).

The slope and intercept are rounded to their DS text before quantizing, so every voxel decodes,
with the values as written in the file, to within slope/2 of its input.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

DS_CHARS = 16


@dataclass(frozen=True)
class PixelFormat:
    """The stored pixel format: BitsAllocated, BitsStored and signedness."""

    bits_allocated: int
    bits_stored: int
    signed: bool

    @property
    def low(self) -> int:
        return -(2 ** (self.bits_stored - 1)) if self.signed else 0

    @property
    def high(self) -> int:
        return 2 ** (self.bits_stored - 1) - 1 if self.signed else 2**self.bits_stored - 1

    @property
    def dtype(self) -> np.dtype:
        kind = "i" if self.signed else "u"
        return np.dtype(f"<{kind}{self.bits_allocated // 8}")

    def as_signed(self) -> PixelFormat:
        return PixelFormat(self.bits_allocated, self.bits_stored, True)


@dataclass(frozen=True)
class Scaling:
    """Slope and intercept as written (DS text) and as numbers."""

    slope_text: str
    intercept_text: str

    @property
    def slope(self) -> float:
        return float(self.slope_text)

    @property
    def intercept(self) -> float:
        return float(self.intercept_text)

    @property
    def identity(self) -> bool:
        return self.slope_text == "1" and self.intercept_text == "0"


def ds_text(value: float) -> str:
    """The shortest DS text (at most 16 characters) closest to ``value``."""
    if value == 0:
        return "0"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    for digits in range(17, 0, -1):
        text = f"{value:.{digits}g}"
        if len(text) <= DS_CHARS:
            return text.replace("e+", "e")
    raise ValueError(f"{value} cannot be written as DS")


def _slope_text(needed: float) -> str:
    """DS text of a slope at least ``needed``, so the largest value still fits."""
    text = ds_text(needed)
    while float(text) < needed:
        needed = math.nextafter(needed, math.inf) * (1 + 1e-12)
        text = ds_text(needed)
    return text


def choose_scaling(
    low: float, high: float, fmt: PixelFormat, *, zero_intercept: bool, integral: bool
) -> tuple[Scaling, PixelFormat]:
    """Slope and intercept for values in [low, high]; may switch to signed storage.

    Integer data that fit the stored range are stored exactly (slope 1, intercept 0). With
    ``zero_intercept`` (PET) the intercept is 0 and negative values take signed storage.
    """
    if zero_intercept and low < 0 and not fmt.signed:
        fmt = fmt.as_signed()
    if integral and fmt.low <= low and high <= fmt.high:
        return Scaling("1", "0"), fmt
    if zero_intercept:
        reach = max(high / fmt.high if high > 0 else 0.0, low / fmt.low if low < 0 else 0.0)
        return Scaling(_slope_text(reach) if reach > 0 else "1", "0"), fmt
    if high == low:
        return Scaling("1", ds_text(low - fmt.low)), fmt
    slope = _slope_text((high - low) / (fmt.high - fmt.low))
    intercept = ds_text(low - fmt.low * float(slope))
    return Scaling(slope, intercept), fmt


class Quantizer:
    """Stored integers of one plane after another, in buffers allocated once per series
    (fresh large arrays per plane cost page faults that dwarf the arithmetic). The stored
    planes rotate through ``ring`` buffers, so the last ``ring - 1`` stay untouched while
    they are being written."""

    def __init__(self, shape: tuple[int, int], fmt: PixelFormat, ring: int = 1):
        self.fmt = fmt
        self._ring = [np.empty(shape, dtype=fmt.dtype) for _ in range(ring)]
        self._turn = 0
        self.stored = self._ring[0]
        self._scaled = np.empty(shape)
        self._rounded = np.empty(shape)

    def __call__(self, values: np.ndarray, scaling: Scaling) -> float:
        """Quantize ``values`` into the next ``self.stored``; returns the largest decoding
        error."""
        self._turn = (self._turn + 1) % len(self._ring)
        self.stored = self._ring[self._turn]
        if scaling.identity and values.dtype.kind in "iub":
            np.copyto(self.stored, values, casting="unsafe")  # exact: the caller checked the range
            return 0.0
        scaled, rounded = self._scaled, self._rounded
        np.subtract(values, scaling.intercept, out=scaled, dtype=np.float64)
        scaled /= scaling.slope
        np.rint(scaled, out=rounded)
        np.clip(rounded, self.fmt.low, self.fmt.high, out=rounded)
        np.copyto(self.stored, rounded, casting="unsafe")
        rounded -= scaled
        np.abs(rounded, out=rounded)
        return float(rounded.max()) * scaling.slope
