"""Numerical kernels: KL estimates to N(0, I), chi-square tails."""

import numpy as np
import pytest
from scipy import special, stats

from sklearn_ndim._stats import excess_kl, gaussian_fit_kl, marginal_negentropy


def test_gaussian_fit_kl_of_a_scaled_gaussian():
    # KL(N(0, s^2) || N(0, 1)) = (s^2 - 1 - ln s^2) / 2 per dimension.
    z = np.random.default_rng(0).standard_normal((200_000, 2)) * 2.0
    assert abs(gaussian_fit_kl(z) - 2 * (4 - 1 - np.log(4)) / 2) < 0.02


def test_negentropy_sees_non_gaussian_marginals():
    rng = np.random.default_rng(0)
    assert marginal_negentropy(rng.standard_normal((5000, 2))) < 0.02
    assert marginal_negentropy(rng.uniform(-1.7, 1.7, (5000, 2))) > 0.2


def test_excess_kl_is_near_zero_for_the_prior_and_large_for_correlated_data():
    rng = np.random.default_rng(1)
    assert abs(excess_kl(rng.standard_normal((500, 8)))) < 0.1
    correlated = rng.standard_normal((500, 8)) @ (np.eye(8) + 0.8)
    assert excess_kl(correlated / correlated.std(0)) > 1.0


def test_excess_kl_of_a_discrete_sample_is_infinite():
    z = np.repeat(np.random.default_rng(2).standard_normal((8, 2)), 60, axis=0)
    assert excess_kl(z) == np.inf


def test_column_kinds_reads_dtypes_without_converting_values():
    import torch

    from sklearn_ndim._stats import column_kinds, holds_text

    assert column_kinds(torch.zeros(3, 2)) == {"f"}  # no object scan of a million values
    assert column_kinds([[1, 2], [3, 4]]) == {"i"}
    assert not holds_text(torch.zeros(1_000_000, 8))


def test_two_sided_chi_square_log_pvalue_is_exact_and_finite_far_out():
    from sklearn_ndim._stats import chi2_two_sided_logp

    q = np.array([1e-6, 0.5, 8.0, 15.0, 40.0, 300.0])
    exact = np.log(2 * np.minimum(stats.chi2.cdf(q, 16), stats.chi2.sf(q, 16)))
    np.testing.assert_allclose(chi2_two_sided_logp(q, 16), exact, rtol=1e-10)
    far = chi2_two_sided_logp(np.array([1e3, 1e4, 1e8, np.inf]), 16)
    assert np.all(np.isfinite(far[:3])) and np.all(np.diff(far[:3]) < 0)
    assert far[3] == -np.inf
    # Where scipy still answers, the asymptotic series agrees with it.
    a, half = 8.0, 500.0
    series = 1 + (a - 1) / half + (a - 1) * (a - 2) / half**2
    asymptotic = (a - 1) * np.log(half) - half - special.gammaln(a) + np.log(series)
    assert asymptotic == pytest.approx(stats.chi2.logsf(1000.0, 16), rel=1e-6)


def test_two_sided_chi_square_log_pvalue_is_finite_near_zero():
    from sklearn_ndim._stats import _log_lower_gamma_series, chi2_two_sided_logp

    # Where scipy still answers, the lower power series agrees with it.
    for q, df in [(1e-3, 64), (0.5, 64), (2.0, 16), (30.0, 128)]:
        assert _log_lower_gamma_series(df / 2, np.array([q / 2]))[0] == pytest.approx(
            stats.chi2.logcdf(q, df), rel=1e-12
        )
    # Where scipy underflows (logcdf(1e-10, 64) = -inf), finite, increasing in
    # q, and log P = a log x - x - lgamma(a + 1) + log(1 + x / (a + 1) + ...).
    q = np.array([0.0, 1e-300, 1e-10, 1e-6])
    assert stats.chi2.logcdf(1e-10, 64) == -np.inf
    logp = chi2_two_sided_logp(q, 64)
    assert np.all(np.isfinite(logp)) and np.all(np.diff(logp) > 0)
    expected = np.log(2) + 32 * np.log(5e-11) - 5e-11 - special.gammaln(33.0)
    assert logp[2] == pytest.approx(expected, rel=1e-12)
