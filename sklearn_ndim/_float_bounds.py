"""Values kept inside an interval as a floating-point dtype can represent it.

The priors map between the Gaussian space and their own support; these
helpers keep the mapped values inside that support after rounding to the
output's dtype (a value rounded onto a bound would fall outside an open
support, such as the uniform prior's (0, 1)).
"""

import numpy as np

__all__ = ["finite_in", "inside_support", "open_unit_interval", "outward"]


def open_unit_interval(u, dtype):
    """``u`` clipped into the open interval (0, 1) as representable in ``dtype``."""
    dtype = np.dtype(dtype)
    low = np.finfo(dtype).tiny
    high = np.nextafter(dtype.type(1), dtype.type(0))
    return np.clip(u, low, high).astype(dtype, copy=False)


def finite_in(values, dtype):
    """``values`` cast to ``dtype``, with magnitudes beyond its range saturated."""
    limit = np.finfo(dtype).max
    return np.clip(values, -limit, limit).astype(dtype, copy=False)


def outward(bound, dtype, direction):
    """``bound`` in ``dtype``, rounded away from the support's inside (``direction`` is +-inf)."""
    bound = float(bound)
    rounded = np.asarray(bound, dtype=dtype)
    inward = float(rounded) > bound if direction < 0 else float(rounded) < bound
    if inward:
        rounded = np.nextafter(rounded, np.asarray(direction, dtype=dtype))
    return rounded


def _strictly_inside(bound, dtype, direction):
    """The ``dtype`` value nearest ``bound`` strictly inside the support (towards ``direction``).

    None when ``bound`` is infinite or beyond ``dtype``'s range.
    """
    bound = float(bound)
    with np.errstate(over="ignore"):
        rounded = np.asarray(bound, dtype=dtype)
    if not (np.isfinite(bound) and np.isfinite(rounded)):
        return None
    outside = float(rounded) <= bound if direction > 0 else float(rounded) >= bound
    return np.nextafter(rounded, np.asarray(direction, dtype=dtype)) if outside else rounded


def inside_support(values, low, high):
    """``values`` clipped into the open support ``(low, high)`` as representable in their dtype.

    A support narrower than one step of the dtype holds no value strictly
    inside: the values are then clipped into the closed support, rounded
    outwards, which ``outside_support`` accepts.
    """
    dtype = values.dtype
    inner_low, inner_high = (
        _strictly_inside(low, dtype, np.inf),
        _strictly_inside(high, dtype, -np.inf),
    )
    if inner_low is not None and inner_high is not None and inner_low > inner_high:
        inner_low, inner_high = outward(low, dtype, -np.inf), outward(high, dtype, np.inf)
    if inner_low is not None:
        values = np.maximum(values, inner_low)
    if inner_high is not None:
        values = np.minimum(values, inner_high)
    return values
