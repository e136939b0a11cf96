"""Quantization: every voxel decodes, with the slope and intercept as written, within slope/2."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from nipype_vinci.export.quantize import PixelFormat, Quantizer, choose_scaling

FORMATS = [PixelFormat(16, 16, True), PixelFormat(16, 12, False), PixelFormat(8, 8, False)]
finite = st.floats(-1e6, 1e6, allow_nan=False, width=32)


@settings(max_examples=200, deadline=None)
@given(
    hnp.arrays(np.float32, st.tuples(st.integers(1, 7), st.integers(1, 9)), elements=finite),
    st.sampled_from(FORMATS),
    st.booleans(),
)
def test_decoded_values_within_half_a_slope(values, fmt, zero_intercept) -> None:
    low, high = float(values.min()), float(values.max())
    scaling, fmt = choose_scaling(low, high, fmt, zero_intercept=zero_intercept, integral=False)
    quantize = Quantizer(values.shape, fmt)
    reported = quantize(values, scaling)
    stored = quantize.stored
    assert stored.dtype == fmt.dtype and fmt.low <= stored.min() <= stored.max() <= fmt.high
    decoded = stored * scaling.slope + scaling.intercept
    error = float(np.max(np.abs(decoded - values.astype(np.float64))))
    assert error <= scaling.slope / 2 * (1 + 1e-9) + 1e-9 * max(abs(low), abs(high))
    assert abs(reported - error) <= 1e-6 * max(1.0, abs(low), abs(high))


def test_integers_that_fit_are_stored_exactly() -> None:
    values = np.array([[-1024, 0, 3071]], dtype=np.int16)
    scaling, fmt = choose_scaling(-1024, 3071, FORMATS[0], zero_intercept=False, integral=True)
    quantize = Quantizer(values.shape, fmt)
    assert scaling.identity and quantize(values, scaling) == 0.0
    assert quantize.stored.tolist() == values.tolist()


def test_buffers_are_reused_from_plane_to_plane() -> None:
    quantize = Quantizer((2, 3), FORMATS[0])
    scaling, _ = choose_scaling(0.0, 10.0, FORMATS[0], zero_intercept=True, integral=False)
    first = quantize.stored
    quantize(np.full((2, 3), 10.0), scaling)
    high = quantize.stored.copy()
    quantize(np.zeros((2, 3)), scaling)
    assert quantize.stored is first and high.max() == 32767 and quantize.stored.max() == 0
