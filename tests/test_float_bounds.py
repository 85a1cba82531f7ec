"""Values kept inside an interval in a floating-point dtype (``_float_bounds``)."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sklearn_ndim._float_bounds import (
    _strictly_inside,
    finite_in,
    inside_support,
    open_unit_interval,
    outward,
)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_open_unit_interval_excludes_both_ends_in_the_dtype(dtype):
    u = open_unit_interval(np.array([-1.0, 0.0, 0.5, 1.0, 2.0]), dtype)
    assert u.dtype == dtype and np.all(u > 0) and np.all(u < 1)
    assert u[2] == dtype(0.5)


def test_magnitudes_beyond_the_dtype_saturate():
    values = finite_in(np.array([1e300, -1e300, 1.0]), np.float32)
    limit = np.finfo(np.float32).max
    assert values.tolist() == [limit, -limit, 1.0] and values.dtype == np.float32


def test_outward_rounds_away_from_the_inside():
    # 0.3 in float32 is 0.30000001: a lower bound rounded there would cut into the support.
    low = outward(0.3, np.float32, -np.inf)
    high = outward(0.3, np.float32, np.inf)
    assert float(low) <= 0.3 <= float(high) and low < high


@settings(max_examples=60, deadline=None)
@given(
    low=st.floats(-1e6, 1e6),
    width=st.floats(1e-3, 1e6),
    values=st.lists(st.floats(-1e7, 1e7), min_size=1, max_size=20),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_clipped_values_lie_strictly_inside_a_representable_support(low, width, values, dtype):
    high = low + width
    # A support narrower than one step of the dtype holds no value inside (below).
    assume(_strictly_inside(low, dtype, np.inf) <= _strictly_inside(high, dtype, -np.inf))
    clipped = inside_support(np.asarray(values, dtype=dtype), low, high)
    assert clipped.dtype == dtype
    assert np.all(clipped.astype(np.float64) > low) and np.all(clipped.astype(np.float64) < high)
    inside = (np.asarray(values, dtype=dtype) > low) & (np.asarray(values, dtype=dtype) < high)
    np.testing.assert_array_equal(clipped[inside], np.asarray(values, dtype=dtype)[inside])


def test_a_support_narrower_than_one_step_clips_into_its_rounded_closure():
    low, high = 16384.0, 16384.0 + 2.0**-10  # float32's step there is 2 ** -9
    clipped = inside_support(np.array([0.0, 16384.0, 1e6], dtype=np.float32), low, high)
    assert np.all(clipped >= outward(low, np.float32, -np.inf))
    assert np.all(clipped <= outward(high, np.float32, np.inf))
