"""Diagnostics: does an embedding follow its prior, and how much does it keep?

Distribution match is measured in the Gaussian *base* space, where every
supported prior becomes N(0, I): the identity for ``"gaussian"``, the probit
``Phi^{-1}`` for ``"uniform"`` and ``Phi^{-1}(F(x))`` per dimension for a
scipy.stats marginal ``F``. These maps are monotone per dimension, so they
keep ranks and dependence, and the base space gives every statistic an exact
reference distribution. Each statistic is reported beside its *floor*: its
mean value on exact N(0, I) samples of the same size, because finite samples
never score 0.
"""

import math
import warnings

import numpy as np
from scipy import stats

from ._information import information_report, suggest_noise_scale
from ._priors import resolve_prior
from ._reports import InformationReport, MarginalTests, PriorMatchReport
from ._scoring import mutual_info_scorer, prior_match_scorer, refit_most_informative
from ._stats import (
    check_embedding,
    check_positive_int,
    collapsed,
    energy_test_base,
    gaussian_fit_kl,
    henze_zirkler_pvalue,
    henze_zirkler_statistic,
    make_rng,
    max_offdiag_correlation,
    sliced_w2,
    subsample,
    unit_directions,
)
from ._validation import caller_stacklevel

__all__ = [
    "PriorMatchReport",
    "MarginalTests",
    "InformationReport",
    "prior_match_report",
    "sliced_wasserstein",
    "henze_zirkler",
    "energy_test",
    "marginal_tests",
    "information_report",
    "suggest_noise_scale",
    "prior_match_scorer",
    "mutual_info_scorer",
    "refit_most_informative",
]


def _gaussian_space(given, Z, prior):
    """``Z`` mapped to the Gaussian space, with a warning for values outside the prior's support.

    ``to_gaussian`` saturates such values at the support's edge, so they read
    as a poor match; most often the embedding came from another prior. The
    support is checked on ``given``, the caller's array in its own precision.
    """
    warn_outside_support(given, prior)
    return prior.to_gaussian(Z)


def warn_outside_support(given, prior):
    """Warn when the caller's ``given`` has values outside, or at an end of, the support."""
    given = np.asarray(given)
    outside = prior.outside_support(given, name="Z")
    if outside:
        warnings.warn(
            f"{outside}. They count as the support's edge and the match reads as poor: was Z "
            "embedded with another prior? Pass the embedder's prior_ as prior.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
        return
    edge = prior.on_support_edge(given, name="Z")
    if edge:
        warnings.warn(
            f"{edge}. They saturate the Gaussian space (at 37.5 standard deviations for "
            "'uniform'), and a few of them dominate the match. If they are rounded values (a "
            "quantile transform's 0 and 1, say), clip them into the open interval.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )


def marginal_tests(Z, prior="gaussian"):
    """Test each dimension of ``Z`` against the prior's marginal (KS).

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_components)
        Embedding in the prior's space (the output of ``transform``).
    prior : {"gaussian", "uniform"} or scipy.stats frozen distribution, \
            default="gaussian"
        Target prior, as the embedder's ``prior`` parameter.

    Returns
    -------
    result : MarginalTests
        Statistics, p-values and the Holm-corrected smallest p-value.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ndim.metrics import marginal_tests
    >>> Z = np.random.default_rng(0).uniform(size=(500, 3))
    >>> bool(marginal_tests(Z, prior="uniform").min_pvalue > 0.05)
    True
    """
    given, Z = Z, check_embedding(Z)
    prior = resolve_prior(prior)
    warn_outside_support(given, prior)
    return _marginal_tests(Z, prior)


def _marginal_tests(Z, prior):
    """:func:`marginal_tests` on checked rows, without the support's warning."""
    result = stats.kstest(Z, prior.marginal.cdf, axis=0)
    statistic = np.atleast_1d(result.statistic)
    pvalue = np.atleast_1d(result.pvalue)
    return MarginalTests(statistic, pvalue, float(min(1.0, len(pvalue) * pvalue.min())))


def sliced_wasserstein(Z, prior="gaussian", n_projections=128, random_state=0):
    """Sliced Wasserstein-2 distance of ``Z`` to the prior, in the Gaussian base space.

    ``Z`` is mapped to the base space, projected on ``n_projections`` random
    unit directions, and each projection is compared with the exact N(0, 1)
    quantiles. The result is the root mean squared 1-D distance.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_components)
        Embedding in the prior's space.
    prior : {"gaussian", "uniform"} or scipy.stats frozen distribution, \
            default="gaussian"
        Target prior.
    n_projections : int, default=128
        Number of random directions, >= 1.
    random_state : int, RandomState instance or None, default=0
        Seeds the directions; keep it fixed to compare embeddings.

    Returns
    -------
    distance : float
        Sliced W2 in base-space units. It is positive even for exact prior
        samples; :func:`prior_match_report` gives its floor and the ratio.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ndim.metrics import sliced_wasserstein
    >>> Z = np.random.default_rng(0).standard_normal((1000, 4))
    >>> bool(sliced_wasserstein(Z) < 0.1)
    True
    """
    given, Z = Z, check_embedding(Z)
    check_positive_int(n_projections, "n_projections")
    base = _gaussian_space(given, Z, resolve_prior(prior))
    return sliced_w2(base, unit_directions(Z.shape[1], n_projections, make_rng(random_state)))


def henze_zirkler(Z, max_samples=5000, random_state=0):
    """Henze-Zirkler test of multivariate normality.

    The statistic is a weighted L2 distance between the empirical
    characteristic function of the standardised sample and that of N(0, I),
    with the bandwidth of Henze and Zirkler (1990); the p-value uses their
    lognormal approximation, or below ``10 * n_components`` rows, where that
    approximation is off, 2,000 seeded draws of the statistic on exact
    N(0, I) samples of the same size (then the p-value is at least 1/2001).
    The sample is standardised by its own mean and covariance, so this tests
    normality with *any* mean and covariance, not
    N(0, I): see :func:`energy_test` and :func:`prior_match_report` for the
    full check.

    At high dimension the test is degenerate: with this bandwidth the null
    distribution of the statistic collapses onto 1 (relative variance about
    1e-10 at ``d = 32``, 1e-18 at ``d = 64``), no pair of points enters the
    statistic and the test has no power. The p-value is then ``nan``
    (silently); use :func:`energy_test` instead.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_components)
        Sample to test; at least ``n_components + 2`` rows.
    max_samples : int, default=5000
        The cost is quadratic in the rows; above this many, a random subset
        of this size (seeded by ``random_state``) is tested.
    random_state : int, RandomState instance or None, default=0
        Seeds the subsample.

    Returns
    -------
    statistic : float
        The HZ statistic (``4 n`` when the sample covariance is singular).
    pvalue : float
        Probability of a statistic at least this large under normality;
        ``nan`` when the null variance is below ``1e-10`` times its squared
        mean (about ``d >= 32``), where the test has no usable null
        approximation.

    References
    ----------
    .. [1] N. Henze and B. Zirkler, "A class of invariant consistent tests
       for multivariate normality", Communications in Statistics - Theory
       and Methods, 19(10), 3595-3617, 1990.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ndim.metrics import henze_zirkler
    >>> statistic, pvalue = henze_zirkler(np.random.default_rng(0).exponential(size=(300, 2)))
    >>> bool(pvalue < 0.01)
    True
    """
    given = Z = check_embedding(Z)
    check_positive_int(max_samples, "max_samples")
    Z = subsample(Z, max_samples, random_state)
    n_samples, n_components = Z.shape
    if n_samples < n_components + 2:
        subsampled = (
            f" (max_samples={max_samples} of {len(given)})" if len(given) > n_samples else ""
        )
        raise ValueError(
            f"Henze-Zirkler needs at least n_components + 2 = {n_components + 2} rows; "
            f"got {n_samples}{subsampled}."
        )
    statistic = henze_zirkler_statistic(Z)
    return statistic, henze_zirkler_pvalue(statistic, n_samples, n_components)


def energy_test(Z, prior="gaussian", n_reference=99, max_samples=2000, random_state=0):
    """Energy test of ``Z`` against the exact prior, in the Gaussian base space.

    ``Z`` is mapped to the base space, where the prior is exactly N(0, I).
    The statistic is the energy distance (V-statistic) between the rows
    ``x_i`` and N(0, I)::

        2 / n sum_i E|x_i - Y| - 1 / n^2 sum_ij |x_i - x_j| - E|Y - Y'|

    with ``Y, Y' ~ N(0, I)``; the terms in ``Y`` are exact (noncentral chi
    means), so the statistic has no reference-sample noise. The p-value is
    Monte-Carlo, ``(1 + #{reference >= statistic}) / (1 + n_reference)``
    over ``n_reference`` exact N(0, I) samples of the same size: exact under
    the null. Unlike :func:`henze_zirkler`, which standardises first, it sees
    location, scale, correlation and shape, at any dimension; against shape
    alone (moments matched) its power is modest, and HZ is stronger there.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_components)
        Embedding in the prior's space.
    prior : {"gaussian", "uniform"} or scipy.stats frozen distribution, \
            default="gaussian"
        Target prior.
    n_reference : int, default=99
        Exact N(0, I) samples for the p-value, >= 1. The smallest p-value is
        ``1 / (1 + n_reference)``, so rejecting at level ``alpha`` needs
        ``n_reference >= 1 / alpha - 1``.
    max_samples : int, default=2000
        The cost is ``O(n^2 d)`` per sample (``n_reference + 1`` of them);
        above this many rows a seeded random subset of this size is tested.
    random_state : int, RandomState instance or None, default=0
        Seeds the subsample and the reference samples.

    Returns
    -------
    statistic : float
        Energy distance to N(0, I) in base space; positive even for exact
        prior samples (about ``1 / n`` times a constant).
    pvalue : float
        Monte-Carlo p-value, a multiple of ``1 / (1 + n_reference)``.

    References
    ----------
    .. [1] G. J. Szekely and M. L. Rizzo, "Energy statistics: A class of
       statistics based on distances", Journal of Statistical Planning and
       Inference, 143(8), 1249-1272, 2013.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ndim.metrics import energy_test
    >>> Z = np.random.default_rng(0).standard_normal((300, 4))
    >>> bool(energy_test(Z, n_reference=19)[1] > 0.05)
    True
    >>> bool(energy_test(1.3 * Z, n_reference=19)[1] <= 0.05)
    True
    """
    given, Z = Z, check_embedding(Z)
    check_positive_int(n_reference, "n_reference")
    check_positive_int(max_samples, "max_samples", minimum=2)
    base = _gaussian_space(given, Z, resolve_prior(prior))
    statistic, pvalue, _, _ = energy_test_base(base, n_reference, max_samples, random_state)
    return statistic, pvalue


def prior_match_report(
    Z,
    prior="gaussian",
    random_state=0,
    n_reference=50,
    n_projections=128,
    max_samples=5000,
    energy_max_samples=2000,
):
    """Measure how closely an embedding follows its prior.

    Combines complementary checks, each in the Gaussian base space except
    the marginal KS tests:

    - per-dimension Kolmogorov-Smirnov tests against the prior's marginal;
    - the sliced Wasserstein-2 distance to the prior, with its floor, ratio
      and an empirical p-value from ``n_reference`` exact N(0, I) samples;
    - the KL divergence of the fitted Gaussian (location, scale, linear
      correlation), with its floor;
    - the Henze-Zirkler test of multivariate normality (shape only; ``nan``
      at high dimension, about ``d >= 32``, where it is degenerate);
    - the energy test against the exact N(0, I) (location, scale,
      correlation and shape), with its floor and a p-value from
      ``n_reference`` exact samples;
    - the largest correlation between two dimensions, with its floor.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_components)
        Embedding in the prior's space, ideally of held-out rows.
    prior : {"gaussian", "uniform"} or scipy.stats frozen distribution, \
            default="gaussian"
        Target prior, as the embedder's ``prior`` parameter.
    random_state : int, RandomState instance or None, default=0
        Seeds the directions, the reference samples and the subsamples.
    n_reference : int, default=50
        Exact N(0, I) samples of the same shape used for the floors and the
        p-values of the sliced distance and of the energy test.
    n_projections : int, default=128
        Random directions of the sliced distance.
    max_samples : int, default=5000
        Largest number of rows for the Henze-Zirkler test (quadratic cost);
        a seeded random subset is used above it.
    energy_max_samples : int, default=2000
        Largest number of rows for the energy test, whose cost is quadratic
        in the rows and paid ``n_reference + 1`` times.

    Returns
    -------
    report : PriorMatchReport
        ``print(report)`` shows a table; ``report.passes()`` gives a verdict.

    See Also
    --------
    sliced_wasserstein, henze_zirkler, energy_test, marginal_tests

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ndim.metrics import prior_match_report
    >>> Z = np.random.default_rng(0).standard_normal((1000, 4))
    >>> report = prior_match_report(Z, n_reference=20)
    >>> report.passes()
    True
    >>> bool(prior_match_report(Z + 0.3, n_reference=20).passes())
    False
    """
    given, Z = Z, check_embedding(Z)
    check_positive_int(n_reference, "n_reference")
    check_positive_int(n_projections, "n_projections")
    check_positive_int(max_samples, "max_samples")
    check_positive_int(energy_max_samples, "energy_max_samples", minimum=2)
    resolved = resolve_prior(prior)
    _warn_if_judged_against_the_wrong_prior(Z, resolved)
    rng = make_rng(random_state)
    n_samples, n_components = Z.shape
    base = _gaussian_space(given, Z, resolved)
    # Directions first, so that ``sw2`` equals sliced_wasserstein(Z, ...) for the same seed.
    directions = unit_directions(n_components, n_projections, rng)
    hz_seed = rng.integers(2**31)
    if min(n_samples, max_samples) >= n_components + 2:
        hz_statistic, hz_pvalue = henze_zirkler(base, max_samples, hz_seed)
    else:  # too few rows for Henze-Zirkler; the other statistics still apply
        hz_statistic, hz_pvalue = math.nan, math.nan
    floors = _reference_statistics(rng, Z.shape, directions, n_reference)
    # Drawn after the floors, which stay those of earlier versions for a seed.
    energy, energy_pvalue, energy_floor, energy_rows = energy_test_base(
        base, n_reference, energy_max_samples, rng.integers(2**31)
    )
    sw2 = sliced_w2(base, directions)
    marginals = _marginal_tests(Z, resolved)  # the support was checked on the caller's Z
    return PriorMatchReport(
        prior=resolved.description,
        n_samples=n_samples,
        n_components=n_components,
        ks_statistic=marginals.statistic.tolist(),
        ks_pvalue=marginals.pvalue.tolist(),
        ks_min_pvalue=marginals.min_pvalue,
        sw2=sw2,
        sw2_floor=float(floors["sw2"].mean()),
        sw2_ratio=float(sw2 / floors["sw2"].mean()),
        sw2_pvalue=float((1 + np.sum(floors["sw2"] >= sw2)) / (1 + n_reference)),
        kl=float(gaussian_fit_kl(base)),
        kl_floor=float(floors["kl"].mean()),
        hz_statistic=hz_statistic,
        hz_pvalue=hz_pvalue,
        hz_n_samples=min(n_samples, max_samples),
        energy_statistic=energy,
        energy_floor=energy_floor,
        energy_pvalue=energy_pvalue,
        energy_n_samples=energy_rows,
        max_correlation=max_offdiag_correlation(base),
        max_correlation_floor=float(floors["correlation"].mean()),
        n_projections=n_projections,
        n_reference=n_reference,
        collapsed=collapsed(base),
    )


def _reference_statistics(rng, shape, directions, n_reference):
    """Base-space statistics of ``n_reference`` exact N(0, I) samples of ``shape``.

    Samples are drawn one at a time, so memory stays that of one sample.
    """
    values = {"sw2": [], "kl": [], "correlation": []}
    for _ in range(n_reference):
        reference = rng.standard_normal(shape)
        values["sw2"].append(sliced_w2(reference, directions))
        values["kl"].append(gaussian_fit_kl(reference))
        values["correlation"].append(max_offdiag_correlation(reference))
    return {name: np.array(v) for name, v in values.items()}


def _warn_if_judged_against_the_wrong_prior(Z, prior):
    """Warn when a Gaussian judges values that all lie in [0, 1], as a uniform embedding's do.

    For 10 values of an exact N(0, 1) sample that happens with probability
    0.34 ** 10, about 2e-5. A constant Z is no sign of a uniform embedding
    (the report names it as collapsed), so it gives no warning.
    """
    in_unit_cube = Z.size >= 10 and Z.min() >= 0 and Z.max() <= 1
    if prior.name == "gaussian" and in_unit_cube and np.ptp(Z, axis=0).max() > 0:
        warnings.warn(
            "Every value of Z lies in [0, 1], as an embedding for prior='uniform' does, and it "
            "is judged against the Gaussian prior: pass the embedder's prior (prior='uniform', "
            "or prior=embedder.prior_).",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
