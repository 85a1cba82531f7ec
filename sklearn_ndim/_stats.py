"""Numerical kernels behind :mod:`sklearn_ndim.metrics`.

Everything here works on plain float64 arrays that have already been
validated; the public wrappers with full docstrings live in ``metrics``.
"""

import functools
import math
import numbers

import numpy as np
from scipy import special, stats
from sklearn.utils import check_array, check_random_state, check_scalar

from ._validation import check_not_bool

__all__ = [
    "make_rng",
    "check_positive_int",
    "subsample",
    "check_embedding",
    "unit_directions",
    "sliced_w2",
    "max_offdiag_correlation",
    "collapsed",
    "chi2_two_sided_logp",
    "henze_zirkler_statistic",
    "henze_zirkler_pvalue",
    "mean_noncentral_chi",
    "energy_to_standard_normal",
    "energy_test_base",
    "gaussian_fit_kl",
    "marginal_negentropy",
    "kl_to_standard_normal",
    "excess_kl",
]

# Rows of the pairwise-distance matrix handled at once (HZ and energy).
_HZ_BLOCK = 1024
# Below this null variance relative to the squared null mean, the HZ null
# distribution has collapsed onto a point (about d >= 32): no usable p-value.
_HZ_MIN_RELATIVE_VARIANCE = 1e-10


def make_rng(random_state):
    """A numpy Generator seeded from any scikit-learn ``random_state``."""
    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    return np.random.default_rng(seed)


def check_positive_int(value, name, minimum=1):
    """Raise unless ``value`` is an integer (not a bool) >= ``minimum``."""
    check_not_bool(value, name)
    check_scalar(value, name, numbers.Integral, min_val=minimum)


def subsample(Z, max_samples, random_state):
    """At most ``max_samples`` rows of ``Z``: a seeded random subset, order kept."""
    if Z.shape[0] <= max_samples:
        return Z
    rows = make_rng(random_state).choice(Z.shape[0], size=max_samples, replace=False)
    return Z[np.sort(rows)]


def column_kinds(Z):
    """The numpy dtype kinds (``"f"``, ``"b"``, ``"O"``...) of ``Z``'s columns.

    A DataFrame has one dtype per column; anything else one for all. Nested
    lists that do not form an array give none (``check_array`` explains them).
    """
    dtypes = getattr(Z, "dtypes", None)
    if dtypes is not None and getattr(Z, "ndim", None) == 2:
        return {getattr(dtype, "kind", "O") for dtype in dtypes}
    dtype = getattr(Z, "dtype", None)
    if getattr(dtype, "kind", None) is None:  # nested lists, torch tensors...
        try:
            dtype = np.asarray(Z).dtype
        except (ValueError, TypeError):
            return set()
    return {dtype.kind}


def value_kinds(Z):
    """:func:`column_kinds`, with the kinds of the values in object columns added.

    Only object columns are read, once: text there adds ``"U"``, booleans
    ``"b"`` (numbers read from a file as text, a column of True and False).
    """
    kinds = column_kinds(Z)
    if "O" not in kinds:
        return kinds
    if getattr(Z, "ndim", None) == 2 and hasattr(Z, "iloc"):
        columns = [i for i, dtype in enumerate(Z.dtypes) if getattr(dtype, "kind", "O") == "O"]
        values = Z.iloc[:, columns].to_numpy(dtype=object).ravel()
    else:
        values = np.asarray(Z, dtype=object).ravel()
    types = {type(value) for value in values}
    if any(issubclass(t, (str, bytes)) for t in types):
        kinds.add("U")
    if any(issubclass(t, (bool, np.bool_)) for t in types):
        kinds.add("b")
    return kinds


def holds_text(Z):
    """Whether ``Z`` (an array, a DataFrame, a Series, nested lists) holds strings or bytes."""
    return bool(value_kinds(Z) & {"U", "S"})


def check_embedding(Z, min_samples=2):
    """Return ``Z`` as a finite 2-D float64 array, or raise scikit-learn's clear error."""
    if holds_text(Z):
        raise ValueError(
            "Z holds text; an embedding is numeric: pass the output of transform, converted "
            "with astype(float) if it was read as text."
        )
    return check_array(
        Z, dtype=np.float64, ensure_min_samples=min_samples, input_name="Z", copy=False
    )


def unit_directions(n_components, n_projections, rng):
    """``(n_components, n_projections)`` directions drawn uniformly on the sphere."""
    directions = rng.standard_normal((n_components, n_projections))
    return directions / np.linalg.norm(directions, axis=0, keepdims=True)


def sliced_w2(Z, directions):
    """Sliced Wasserstein-2 distance of the rows of ``Z`` to N(0, I).

    Every projection of N(0, I) on a unit direction is N(0, 1), so each 1-D
    distance is computed against the exact normal quantiles at the plotting
    positions ``(i - 0.5) / n``. Returns the root mean square over directions.
    """
    n_samples = Z.shape[0]
    projected = np.sort(Z @ directions, axis=0)
    quantiles = special.ndtri((np.arange(1, n_samples + 1) - 0.5) / n_samples)
    squared = np.mean((projected - quantiles[:, None]) ** 2, axis=0)
    return float(np.sqrt(squared.mean()))


def max_offdiag_correlation(Z):
    """Largest absolute Pearson correlation between two different columns.

    ``nan`` for a single column; a constant column counts as uncorrelated.
    """
    n_components = Z.shape[1]
    if n_components < 2:
        return math.nan
    centred = Z - Z.mean(axis=0)
    scale = np.linalg.norm(centred, axis=0)
    scale[scale == 0] = np.inf
    unit = centred / scale
    corr = unit.T @ unit
    return float(np.max(np.abs(corr[~np.eye(n_components, dtype=bool)])))


def _hz_bandwidth(n_samples, n_components):
    """Optimal smoothing parameter ``beta`` of Henze and Zirkler (1990)."""
    p = n_components
    return ((2 * p + 1) / 4) ** (1 / (p + 4)) * n_samples ** (1 / (p + 4)) / math.sqrt(2)


def _covariance(Z):
    """Centred rows and their biased covariance, both scaled by one power of two.

    The scale is exact and leaves every affine-invariant use unchanged (the
    whitened rows, the eigenvalue ratio); it keeps the mean and the covariance
    from underflowing or overflowing for samples of scale 1e-170 or 1e308.
    """
    Z = _power_of_two_scaled(Z)
    centred = _power_of_two_scaled(Z - Z.mean(axis=0))
    return centred, centred.T @ centred / Z.shape[0]


def _power_of_two_scaled(Z, axis=None):
    """``Z`` scaled exactly, by the power of two that brings its largest value (along
    ``axis``: each column's with ``axis=0``) below 1."""
    largest = np.abs(Z).max(axis=axis, initial=0.0)
    exponents = np.where((largest > 0) & np.isfinite(largest), np.frexp(largest)[1], 0)
    return np.ldexp(Z, -exponents)


def _is_singular(cov, n_samples):
    # Numerically singular: the smallest eigenvalue is within rounding of
    # zero (a collapsed dimension); whitening would blow rounding noise up
    # into a dimension that looks Gaussian.
    eigenvalues = np.linalg.eigvalsh(cov)
    scale = max(n_samples, cov.shape[0]) * np.finfo(np.float64).eps
    return not eigenvalues[0] > eigenvalues[-1] * scale


def collapsed(Z):
    """Whether the sample covariance of the rows of ``Z`` is numerically singular.

    True for a constant column, a column that is a linear combination of
    others, a column far smaller than the others (a dimension an embedding
    lost), or fewer rows than columns.
    """
    return Z.shape[0] <= Z.shape[1] or _is_singular(_covariance(Z)[1], Z.shape[0])


def _whiten(Z):
    """Centre ``Z`` and whiten it with the biased sample covariance, or None if singular.

    Each column is scaled on its own first (exactly, by powers of two), so
    that the units do not count: normal data with one column of scale 1e7
    beside ones of scale 1 are not singular. A column is constant when its
    spread is within the rounding of its mean.
    """
    n_samples = Z.shape[0]
    Z = _power_of_two_scaled(Z, axis=0)
    mean = Z.mean(axis=0)
    centred = Z - mean
    rounding = n_samples * np.finfo(np.float64).eps * np.abs(mean)
    if not np.all(np.abs(centred).max(axis=0, initial=0.0) > rounding):
        return None
    centred = _power_of_two_scaled(centred, axis=0)
    cov = centred.T @ centred / n_samples
    if _is_singular(cov, n_samples):
        return None
    try:
        chol = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        return None
    # Rows y with y @ y = (z - mean)' cov^-1 (z - mean).
    return np.linalg.solve(chol, centred.T).T


def henze_zirkler_statistic(Z):
    """Henze-Zirkler statistic of the rows of ``Z`` (any mean and covariance).

    A singular sample covariance (a collapsed dimension) gives ``4 n``, the
    conventional value for degenerate data, whose p-value is essentially 0.
    """
    n_samples, p = Z.shape
    white = _whiten(Z)
    if white is None:
        return 4.0 * n_samples
    b2 = _hz_bandwidth(n_samples, p) ** 2
    sq_norms = np.einsum("ij,ij->i", white, white)
    pair_sum = 0.0
    for start in range(0, n_samples, _HZ_BLOCK):
        block = white[start : start + _HZ_BLOCK]
        dist = sq_norms[start : start + _HZ_BLOCK, None] + sq_norms[None, :] - 2 * block @ white.T
        pair_sum += np.exp(-0.5 * b2 * np.maximum(dist, 0.0)).sum()
    single_sum = np.exp(-0.5 * b2 / (1 + b2) * sq_norms).sum()
    return float(
        pair_sum / n_samples
        - 2 * (1 + b2) ** (-p / 2) * single_sum
        + n_samples * (1 + 2 * b2) ** (-p / 2)
    )


#: Below this many rows per dimension the lognormal approximation is off: exact
#: N(0, I) samples of 30 x 20 gave p < 0.05 in 54 % of draws, and at 3 rows per
#: dimension the median p-value was 0.22 to 0.29 for d = 10 to 30 (0.41 to 0.48
#: at 10 rows). The null distribution is simulated instead, once per shape:
#: about 1.2 s at 309 x 31 and 1.4 s at 329 x 33 on one core (from d = 32 on,
#: only where the lognormal moments still show a usable test).
_HZ_MIN_ROWS_PER_DIMENSION = 10
#: Draws of the simulated null, and their seed (the p-value is a fixed function).
_HZ_NULL_DRAWS = 2000
_HZ_NULL_SEED = 0


@functools.lru_cache(maxsize=32)
def _simulated_hz_null(n_samples, n_components):
    rng = np.random.default_rng(_HZ_NULL_SEED)
    return np.sort(
        [
            henze_zirkler_statistic(rng.standard_normal((n_samples, n_components)))
            for _ in range(_HZ_NULL_DRAWS)
        ]
    )


def simulated_hz_floor(n_samples, n_components):
    """Smallest p-value of the simulated null for this shape, or None where it is not used."""
    if n_samples < _HZ_MIN_ROWS_PER_DIMENSION * n_components:
        return 1.0 / (1 + _HZ_NULL_DRAWS)
    return None


def henze_zirkler_pvalue(statistic, n_samples, n_components):
    """Upper-tail p-value of the statistic under normality.

    From the lognormal approximation of Henze and Zirkler; below
    ``10 d`` rows, where that approximation is off, from 2,000 seeded
    draws of the statistic on N(0, I) samples of the same size (a fixed
    function too, with a resolution of 1/2001).

    Returns ``nan`` when the test is degenerate: with the Henze-Zirkler
    bandwidth the null distribution collapses onto 1 as the dimension grows
    (relative variance about 1e-10 at d = 32 and 1e-18 at d = 64), so no
    pair of points enters the statistic, the test has no power and the
    lognormal moments carry no information. This is detected as a
    non-finite or non-positive null mean or variance, or a variance below
    ``1e-10`` times the squared mean.
    """
    p = n_components
    b2 = _hz_bandwidth(n_samples, p) ** 2
    b4, b8 = b2**2, b2**4
    a = 1 + 2 * b2
    w = (1 + b2) * (1 + 3 * b2)
    mean = 1 - a ** (-p / 2) * (1 + p * b2 / a + p * (p + 2) * b4 / (2 * a**2))
    var = (
        2 * (1 + 4 * b2) ** (-p / 2)
        + 2 * a ** (-p) * (1 + 2 * p * b4 / a**2 + 3 * p * (p + 2) * b8 / (4 * a**4))
        - 4 * w ** (-p / 2) * (1 + 3 * p * b4 / (2 * w) + p * (p + 2) * b8 / (2 * w**2))
    )
    if not (math.isfinite(mean) and math.isfinite(var) and mean > 0 and var > 0):
        return math.nan
    relative_var = var / mean**2
    if relative_var < _HZ_MIN_RELATIVE_VARIANCE or not math.isfinite(statistic):
        return math.nan
    if simulated_hz_floor(n_samples, n_components) is not None:
        null = _simulated_hz_null(int(n_samples), int(n_components))
        exceeding = null.size - np.searchsorted(null, statistic, side="left")
        return float((1 + exceeding) / (1 + null.size))
    log_var = math.log1p(relative_var)
    log_mean = math.log(mean) - 0.5 * log_var
    return float(stats.lognorm.sf(statistic, s=math.sqrt(log_var), scale=math.exp(log_mean)))


def _mean_pairwise_distance(Z):
    """Mean Euclidean distance over all ordered pairs of rows, diagonal included.

    Blocked over rows, so memory is ``_HZ_BLOCK * n_samples`` floats.
    """
    n_samples = Z.shape[0]
    sq_norms = np.einsum("ij,ij->i", Z, Z)
    total = 0.0
    for start in range(0, n_samples, _HZ_BLOCK):
        block = Z[start : start + _HZ_BLOCK]
        dist = sq_norms[start : start + _HZ_BLOCK, None] + sq_norms[None, :] - 2 * block @ Z.T
        rows = np.arange(block.shape[0])
        dist[rows, start + rows] = 0.0
        total += np.sqrt(np.maximum(dist, 0.0)).sum()
    return total / n_samples**2


def _mean_chi(n_components):
    """``E|Y|`` for ``Y ~ N(0, I_d)``: the mean of a chi distribution."""
    d = n_components
    return math.sqrt(2) * math.exp(special.gammaln((d + 1) / 2) - special.gammaln(d / 2))


#: Above this Poisson rate (|z|^2 / 2, so |z| > 1,000) the mean of |z - Y| is
#: taken from its expansion in 1 / |z| (relative error below 1e-9 up to d = 1024),
#: where the mixture's log-gamma terms would lose that much to rounding.
_ASYMPTOTIC_RATE = 5e5
#: Values of the Poisson mixture summed at once (rows x window), bounding memory.
_MIXTURE_BLOCK = 1 << 20


def mean_noncentral_chi(sq_norms, n_components):
    """``E|z - Y|`` for ``Y ~ N(0, I_d)``, as a function of ``|z|^2``.

    ``|z - Y|`` is noncentral chi with ``d`` degrees of freedom; its mean is
    the Poisson mixture ``sum_k Pois(k; |z|^2 / 2) E[chi_{d + 2k}]``, summed
    in log space over the window of ``k`` that holds all but a negligible
    part (ten standard deviations) of the Poisson mass. The closed form
    ``E|Y| 1F1(-1/2; d/2; -|z|^2 / 2)`` overflows in scipy's ``hyp1f1`` (to
    ``inf`` for ``|z|^2`` from about 75 at ``d >= 95``, where typical rows lie).

    Parameters
    ----------
    sq_norms : ndarray of shape (n,)
        Squared norms ``|z|^2`` (non-negative).
    n_components : int
        Dimension ``d``.

    Returns
    -------
    means : ndarray of shape (n,)
    """
    d = n_components
    rate = 0.5 * np.asarray(sq_norms, dtype=np.float64)
    means = np.empty_like(rate)
    far = rate > _ASYMPTOTIC_RATE
    norms = np.sqrt(2 * rate[far])
    means[far] = norms + (d - 1) / (2 * norms) - (d - 1) * (d - 3) / (8 * norms**3)
    near = np.flatnonzero(~far)
    near = near[np.argsort(rate[near])]
    widths = 2 * np.ceil(10 * np.sqrt(rate[near]) + 10).astype(np.int64) + 1
    start = 0
    while start < len(near):
        # Widths grow along the sorted rows, so a block's last row sets its window.
        stop = start + 1
        while stop < len(near) and widths[stop] * (stop + 1 - start) <= _MIXTURE_BLOCK:
            stop += 1
        lam = rate[near[start:stop], None]
        half_widths = (widths[start:stop, None] - 1) // 2
        k = np.maximum(0.0, np.floor(lam - half_widths)) + np.arange(widths[stop - 1])
        log_terms = (
            special.xlogy(k, lam)
            - lam
            - special.gammaln(k + 1)
            + 0.5 * math.log(2)
            + special.gammaln((d + 2 * k + 1) / 2)
            - special.gammaln((d + 2 * k) / 2)
        )
        means[near[start:stop]] = np.exp(special.logsumexp(log_terms, axis=1))
        start = stop
    return means


def energy_to_standard_normal(Z):
    """Energy distance between the empirical distribution of ``Z`` and N(0, I).

    The V-statistic ``2 mean_i E|z_i - Y| - mean_ij |z_i - z_j| - E|Y - Y'|``
    with ``Y, Y' ~ N(0, I)`` independent. The terms involving ``Y`` are exact:
    ``|z - Y|`` is noncentral chi (:func:`mean_noncentral_chi`), and
    ``Y - Y'`` is ``sqrt(2) Y``.
    So no reference sample is needed and the cost is that of the pairwise
    term, ``O(n^2 d)``. It is non-negative, positive for every finite
    sample, and tends to 0 as ``n`` grows only when the rows follow N(0, I):
    it sees location, scale, correlation and shape.
    """
    d = Z.shape[1]
    mean_chi = _mean_chi(d)
    sq_norms = np.einsum("ij,ij->i", Z, Z)
    cross = mean_noncentral_chi(sq_norms, d)
    return float(2 * cross.mean() - _mean_pairwise_distance(Z) - math.sqrt(2) * mean_chi)


def energy_test_base(Z, n_reference, max_samples, random_state):
    """Monte-Carlo energy test of base-space rows ``Z`` against the exact N(0, I).

    ``Z`` is subsampled to ``max_samples`` rows (seeded); each of the
    ``n_reference`` exact N(0, I) samples of the same size gets the same
    statistic. Returns ``(statistic, pvalue, floor, n_used)`` with
    ``pvalue = (1 + #{reference >= statistic}) / (1 + n_reference)``, exact
    under the null since ``Z`` and the references are then exchangeable,
    and ``floor`` the mean reference statistic.
    """
    rng = make_rng(random_state)
    Z = subsample(Z, max_samples, rng.integers(2**31))
    statistic = energy_to_standard_normal(Z)
    references = np.array(
        [energy_to_standard_normal(rng.standard_normal(Z.shape)) for _ in range(n_reference)]
    )
    if not np.isfinite(statistic):
        # A statistic that overflowed says nothing; it must not read as p = 1.
        return statistic, math.nan, float(references.mean()), Z.shape[0]
    pvalue = (1 + np.sum(references >= statistic)) / (1 + n_reference)
    return statistic, float(pvalue), float(references.mean()), Z.shape[0]


# ------------------------------------------------------- KL to N(0, I)


def gaussian_fit_kl(z):
    """KL(N(mean, cov) || N(0, I)) of the Gaussian fitted to the rows of ``z``.

    Sees location, scale and every linear correlation between dimensions.
    """
    z = np.asarray(z, dtype=np.float64)
    n_components = z.shape[1]
    mean = z.mean(axis=0)
    cov = np.atleast_2d(np.cov(z, rowvar=False, bias=True))
    sign, logdet = np.linalg.slogdet(cov)
    if sign <= 0:
        return np.inf
    return 0.5 * (np.trace(cov) + mean @ mean - n_components - logdet)


#: Fewest rows scipy's spacing estimator of the entropy takes (its window must
#: be shorter than half the rows).
MIN_ENTROPY_ROWS = 5


def marginal_negentropy(z):
    """Sum over dimensions of ``H(Gaussian with the same variance) - H(z_i)``.

    Non-negative in expectation; it sees non-Gaussian marginal shapes (skew,
    heavy or light tails, multimodality) that the Gaussian fit misses. The
    entropies use scipy's spacing estimator.
    """
    z = np.asarray(z, dtype=np.float64)
    variance = z.var(axis=0)
    gaussian_entropy = 0.5 * np.log(2 * np.pi * np.e * np.maximum(variance, 1e-300))
    with np.errstate(divide="ignore"):
        # Tied values (a discrete sample) give -inf: an infinite divergence.
        sample_entropy = stats.differential_entropy(z, axis=0)
    return float(np.sum(gaussian_entropy - sample_entropy))


def kl_to_standard_normal(z):
    """Estimate of KL(P_z || N(0, I)) in nats: Gaussian fit plus marginal negentropy."""
    return gaussian_fit_kl(z) + marginal_negentropy(z)


def excess_kl(z, n_reference=5, random_state=0):
    """:func:`kl_to_standard_normal` minus its value on true N(0, I) samples.

    The estimate is biased upwards at finite sample sizes; subtracting the
    mean over ``n_reference`` exact samples of the same shape removes that
    noise floor, so values near 0 mean "as close as sampling allows".
    """
    rng = np.random.default_rng(random_state)
    floor = np.mean(
        [kl_to_standard_normal(rng.standard_normal(z.shape)) for _ in range(n_reference)]
    )
    return kl_to_standard_normal(z) - floor


def chi2_two_sided_logp(q, df):
    """Log of ``2 min(F(q), 1 - F(q))`` for the chi-square(``df``) CDF ``F``.

    scipy's log tails underflow to ``-inf`` far out (``logsf(1e4, 16)``,
    ``logcdf(1e-10, 64)``); there the asymptotic series of the upper
    incomplete gamma function, and the power series of the lower one, are used.
    """
    q = np.maximum(np.asarray(q, dtype=np.float64), np.finfo(np.float64).tiny)
    with np.errstate(divide="ignore"):
        lower = stats.chi2.logcdf(q, df)
        upper = stats.chi2.logsf(q, df)
    near = ~np.isfinite(lower) & np.isfinite(q)
    if near.any():
        lower[near] = _log_lower_gamma_series(df / 2.0, q[near] / 2.0)
    upper[np.isposinf(q)] = -np.inf
    far = ~np.isfinite(upper) & np.isfinite(q)
    if far.any():
        a, half = df / 2.0, q[far] / 2.0
        series = 1.0 + (a - 1.0) / half + (a - 1.0) * (a - 2.0) / half**2
        upper[far] = (a - 1.0) * np.log(half) - half - special.gammaln(a) + np.log(series)
    return np.minimum(math.log(2.0) + np.minimum(lower, upper), 0.0)


def _log_lower_gamma_series(a, x):
    """``log P(a, x)``, the regularised lower incomplete gamma, by its power series.

    ``P(a, x) = x^a e^-x / Gamma(a + 1) * sum_k x^k / ((a + 1) ... (a + k))``;
    used where ``P`` underflows, so ``x`` is far below ``a`` and the terms fall
    geometrically.
    """
    term = np.ones_like(x)
    total = np.ones_like(x)
    for k in range(1, 200):
        term = term * x / (a + k)
        total += term
        if np.all(term < 1e-17 * total):
            break
    return a * np.log(x) - x - special.gammaln(a + 1.0) + np.log(total)
