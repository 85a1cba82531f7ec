"""Diagnostics of sklearn_ndim.metrics on generated data with known answers."""

import dataclasses
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sklearn_ndim import NoisyInfoMaxEmbedder
from sklearn_ndim.metrics import (
    PriorMatchReport,
    energy_test,
    henze_zirkler,
    marginal_tests,
    prior_match_report,
    sliced_wasserstein,
)

N, D = 1000, 4


def _gaussian(seed=0, n=N, d=D):
    return np.random.default_rng(seed).standard_normal((n, d))


# ------------------------------------------------------------- prior match


def test_standard_normal_passes():
    report = prior_match_report(_gaussian())
    assert isinstance(report, PriorMatchReport)
    assert report.passes()
    assert 0.7 < report.sw2_ratio < 1.3
    assert report.hz_pvalue > 0.01
    assert report.sw2_pvalue > 0.05
    with pytest.raises(ValueError, match="test level"):
        report.passes(alpha=2)
    assert report.passes(alpha=0.0)  # the normality test off
    with pytest.raises(ValueError, match="max_ratio"):
        report.passes(max_ratio=0)
    assert report.ks_min_pvalue > 0.01
    assert report.kl < 3 * report.kl_floor
    assert report.max_correlation < 2 * report.max_correlation_floor
    assert (report.n_samples, report.n_components, report.hz_n_samples) == (N, D, N)


def _correlated(rng):
    cov = 0.5 * np.eye(D) + 0.5
    return rng.multivariate_normal(np.zeros(D), cov, size=N)


def _skewed(rng):
    return rng.exponential(size=(N, D)) - 1.0


def _uniform_with_unit_variance(rng):
    return (rng.uniform(size=(N, D)) - 0.5) * math.sqrt(12)


@pytest.mark.parametrize("make", [_correlated, _skewed, _uniform_with_unit_variance])
def test_non_standard_normal_data_fails(make):
    report = prior_match_report(make(np.random.default_rng(1)))
    assert not report.passes()
    assert report.sw2_ratio > 1.5
    assert report.sw2_pvalue == pytest.approx(1 / (1 + report.n_reference))


def test_correlation_is_seen_by_kl_and_correlation_not_by_hz():
    report = prior_match_report(_correlated(np.random.default_rng(1)))
    assert report.max_correlation > 0.4 > 5 * report.max_correlation_floor
    assert report.kl > 10 * report.kl_floor
    # HZ standardises by the sample covariance: a correlated Gaussian is normal.
    assert report.hz_pvalue > 0.01


def test_an_embedding_outside_the_priors_support_warns_that_the_prior_may_be_wrong():
    Z = _gaussian()
    with pytest.warns(UserWarning, match=r"outside the support \[0, 1\].*another prior") as said:
        report = prior_match_report(Z, prior="uniform")
    assert len(said) == 1  # marginal_tests inside it warned again
    assert report.sw2_ratio > 10
    with pytest.warns(UserWarning, match="another prior"):
        sliced_wasserstein(Z, prior="uniform")
    with pytest.warns(UserWarning, match="another prior"):  # it was silent
        marginal_tests(Z, prior="uniform")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        prior_match_report(np.random.default_rng(2).uniform(size=(N, D)), prior="uniform")
        marginal_tests(np.random.default_rng(2).uniform(size=(N, D)), prior="uniform")


def test_the_models_own_float32_output_at_a_rounded_bound_does_not_warn(fast):
    X = np.random.default_rng(0).normal(size=(200, 3)).astype(np.float32)
    embedder = NoisyInfoMaxEmbedder(2, prior=stats.uniform(0, 0.3), **fast).fit(X)
    Z = embedder.transform(np.vstack([X, 1e4 * np.ones((3, 3), np.float32), -1e4 * X[:3]]))
    # Inside the open support in float32 (float32(0.3) itself lies above 0.3).
    assert Z.dtype == np.float32 and float(Z.max()) < 0.3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        prior_match_report(Z, prior=embedder.prior_)
        sliced_wasserstein(Z, prior=embedder.prior_)


def test_uniform_prior_is_checked_in_the_right_space():
    Z = np.random.default_rng(2).uniform(size=(N, D))
    assert prior_match_report(Z, prior="uniform").passes()
    assert not prior_match_report(Z, prior="gaussian").passes()


def test_scipy_prior():
    Z = stats.laplace().rvs(size=(N, D), random_state=3)
    assert prior_match_report(Z, prior=stats.laplace()).passes()
    assert not prior_match_report(Z, prior="gaussian").passes()
    assert not prior_match_report(_gaussian(), prior=stats.laplace()).passes()


@pytest.mark.parametrize(
    "prior, sample, outside",
    [
        ("uniform", lambda rng: rng.uniform(size=(500, 2)), 1.5),
        (stats.gamma(2), lambda rng: rng.gamma(2.0, size=(500, 2)), -1.0),
    ],
)
def test_a_value_outside_the_support_is_flagged(prior, sample, outside):
    Z = sample(np.random.default_rng(4))
    assert prior_match_report(Z, prior=prior).passes()
    Z[0, 0] = outside
    with pytest.warns(UserWarning, match="1 values outside the support"):
        report = prior_match_report(Z, prior=prior)
    assert np.isfinite(report.sw2) and np.isfinite(report.kl)
    assert not report.passes()


def test_report_sw2_matches_sliced_wasserstein():
    Z = _gaussian(seed=5, n=400)
    report = prior_match_report(Z, random_state=3, n_reference=5, n_projections=32)
    assert report.sw2 == pytest.approx(sliced_wasserstein(Z, n_projections=32, random_state=3))


def test_a_shifted_or_scaled_sample_fails_although_its_shape_is_normal():
    # Henze-Zirkler is affine invariant and the W2 ratio of these stays below
    # 1.5: only the energy test tells them from N(0, I).
    Z = np.random.default_rng(0).standard_normal((1000, 16))
    for moved in (1.05 * Z, Z + 0.05):
        report = prior_match_report(moved)
        assert report.sw2_ratio < 1.5 and report.hz_pvalue > 0.05
        assert not report.passes()
    assert prior_match_report(Z).passes()


@pytest.mark.parametrize("d", [16, 32, 100])
def test_a_collapsed_dimension_never_passes(d):
    Z = np.random.default_rng(0).standard_normal((1000, d))
    for broken in (np.column_stack([Z[:, :-1], np.full(1000, 0.5)]), np.column_stack([Z, Z[:, 0]])):
        report = prior_match_report(broken, n_reference=19)
        assert report.collapsed and not report.passes(alpha=0.0, max_ratio=np.inf)
        assert "collapsed" in str(report)
    assert not prior_match_report(Z, n_reference=19).collapsed


def test_a_report_on_fewer_rows_than_dimensions_skips_henze_zirkler():
    Z = np.random.default_rng(0).standard_normal((50, 100))
    report = prior_match_report(Z, n_reference=19)
    assert math.isnan(report.hz_statistic) and math.isnan(report.hz_pvalue)
    assert math.isfinite(report.energy_pvalue) and report.collapsed and not report.passes()
    assert "n/a on 50 rows" in str(report)


def test_single_dimension():
    report = prior_match_report(_gaussian(seed=8, n=500, d=1), n_reference=10)
    assert report.passes()
    assert math.isnan(report.max_correlation)


def test_henze_zirkler_subsamples_large_inputs():
    Z = _gaussian(seed=8, n=1200, d=2)
    report = prior_match_report(Z, n_reference=5, max_samples=500)
    assert report.hz_n_samples == 500
    assert "on 500 rows" in str(report)
    assert henze_zirkler(Z, max_samples=500) == henze_zirkler(Z, max_samples=500)


# ------------------------------------------------------------- single statistics


def test_henze_zirkler_matches_published_value():
    # Iris setosa: HZ = 0.9488453, p = 0.04995356 (Korkmaz et al., R package MVN).
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    statistic, pvalue = henze_zirkler(X[y == 0])
    assert statistic == pytest.approx(0.9488453, abs=1e-6)
    assert pvalue == pytest.approx(0.04995356, abs=1e-6)


def test_henze_zirkler_is_affine_invariant_and_rejects_skew():
    Z = _gaussian(seed=9, n=300, d=3)
    A = np.array([[2.0, 0.5, 0.0], [0.0, 1.0, -1.0], [0.3, 0.0, 4.0]])
    assert henze_zirkler(Z @ A + 5)[0] == pytest.approx(henze_zirkler(Z)[0])
    assert henze_zirkler(np.random.default_rng(0).exponential(size=(300, 3)))[1] < 1e-6


def test_henze_zirkler_singular_covariance():
    Z = _gaussian(seed=10, n=200, d=2)
    Z = np.column_stack([Z, Z[:, 0]])
    statistic, pvalue = henze_zirkler(Z)
    assert statistic == 4 * 200
    assert pvalue < 1e-6


def test_henze_zirkler_sees_a_collapsed_dimension_that_cholesky_accepts():
    # Rounding leaves the covariance of (z0, z1, z0 + z1) a tiny positive
    # eigenvalue, so Cholesky can succeed; whitening then blew rounding noise
    # up into a dimension that looked Gaussian (p up to 0.34 on these seeds).
    for seed in range(10):
        Z = _gaussian(seed=seed, n=200, d=15)
        Z = np.column_stack([Z, (Z[:, 0] + Z[:, 1]) / np.sqrt(2)])
        assert henze_zirkler(Z) == (4 * 200, 0.0)
        assert not prior_match_report(Z, n_reference=19).passes(max_ratio=np.inf)
    # Well-conditioned data with very different scales is not singular.
    scaled = _gaussian(seed=11, n=200, d=3) * np.array([1.0, 1e-3, 1e-6])
    assert henze_zirkler(scaled)[0] < 4 * 200


@settings(max_examples=25, deadline=None)
@given(
    exponents=st.lists(st.integers(-300, 300), min_size=3, max_size=3),
    offsets=st.lists(st.sampled_from([0.0, -1e3, 1e8]), min_size=3, max_size=3),
)
def test_henze_zirkler_ignores_the_units_and_origin_of_each_column(exponents, offsets):
    # Columns of scale 1e7 beside ones of scale 1 were taken for a collapsed
    # dimension (statistic 4n, p = 0) on normal data.
    Z = _gaussian(seed=12, n=500, d=3)
    expected = henze_zirkler(Z)
    scales = 10.0 ** np.array(exponents)
    moved = (Z + np.array(offsets)) * scales
    assert henze_zirkler(moved) == pytest.approx(expected, rel=1e-6)


def test_henze_zirkler_near_the_largest_float():
    # The column mean overflowed, and the eigenvalues did not converge.
    Z = _gaussian(seed=13, n=20, d=3)
    Z[:2, 0] = np.finfo(np.float64).max
    statistic, pvalue = henze_zirkler(Z)
    assert 0 < statistic < 4 * 20 and 0 < pvalue < 0.05


def test_a_constant_up_to_rounding_is_a_collapsed_dimension():
    Z = _gaussian(seed=14, n=200, d=3)
    # 0.3 and its neighbouring floats: scaled per column, still a constant.
    Z[:, 2] = 0.3 + 1e-16 * Z[:, 2]
    assert len(np.unique(Z[:, 2])) > 1
    assert henze_zirkler(Z) == (4 * 200, 0.0)


def test_henze_zirkler_is_nan_without_warnings_at_high_dimension():
    Z = np.random.default_rng(0).standard_normal((540, 64))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        statistic, pvalue = henze_zirkler(Z)
    assert statistic == pytest.approx(1.0)
    assert math.isnan(pvalue)
    assert math.isfinite(henze_zirkler(Z[:, :16])[1])


def test_report_at_high_dimension_uses_the_energy_test():
    Z = np.random.default_rng(0).standard_normal((540, 64))
    report = prior_match_report(Z, n_reference=19)
    assert math.isnan(report.hz_pvalue)
    assert math.isfinite(report.energy_pvalue) and report.energy_pvalue > 0.05
    assert report.normality_test == "energy"
    assert report.normality_pvalue == report.energy_pvalue
    assert report.passes()
    assert not report.passes(alpha=report.energy_pvalue)
    assert not dataclasses.replace(report, energy_pvalue=0.05).passes()
    text = str(report)
    assert "n/a at d=64" in text and "from the energy test" in text
    assert not prior_match_report(1.3 * Z, n_reference=19).passes(max_ratio=np.inf)


# ------------------------------------------------------------- energy test


def test_energy_statistic_matches_a_reference_sample():
    from sklearn_ndim._stats import _mean_pairwise_distance, energy_to_standard_normal

    rng = np.random.default_rng(13)
    X = rng.standard_normal((50, 3)) + 0.5
    Y = rng.standard_normal((3000, 3))
    both = np.vstack([X, Y])
    n, m = len(X), len(Y)
    # Mean over X-Y pairs from the mean over all pairs of the stacked sample.
    total = (n + m) ** 2 * _mean_pairwise_distance(both)
    within_x = n**2 * _mean_pairwise_distance(X)
    within_y = m**2 * _mean_pairwise_distance(Y)
    cross = (total - within_x - within_y) / (2 * n * m)
    brute = 2 * cross - within_x / n**2 - within_y / m**2
    exact = energy_to_standard_normal(X)
    assert exact == pytest.approx(brute, abs=0.02)
    assert exact > 0.1 > energy_to_standard_normal(rng.standard_normal((50, 3))) > 0


def test_mean_noncentral_chi_matches_its_closed_form_and_asymptote():
    from scipy import special

    from sklearn_ndim._stats import _mean_chi, mean_noncentral_chi

    sq_norms = np.array([0.0, 1e-8, 0.5, 3.0, 16.0, 60.0, 140.0])
    for d in (1, 2, 8, 64):
        closed_form = _mean_chi(d) * special.hyp1f1(-0.5, d / 2, -0.5 * sq_norms)
        np.testing.assert_allclose(mean_noncentral_chi(sq_norms, d), closed_form, rtol=1e-10)
    # Where scipy's hyp1f1 overflows (d >= 95, |z|^2 from about 75): finite,
    # between the bounds sqrt(|z|^2 + d - 1) <= E|z - Y| <= sqrt(|z|^2 + d)
    # (Jensen below, and the chi mean's own bound above), and smooth.
    d, sq_norms = 128, np.linspace(0.0, 600.0, 61)
    assert not np.all(np.isfinite(special.hyp1f1(-0.5, d / 2, -0.5 * sq_norms)))
    means = mean_noncentral_chi(sq_norms, d)
    assert np.all(means <= np.sqrt(sq_norms + d)) and np.all(means >= np.sqrt(sq_norms + d - 1))
    assert np.all(np.diff(means) > 0)
    # Far out the expansion |z| + (d - 1) / (2 |z|) - (d - 1)(d - 3) / (8 |z|^3)
    # takes over, continuously.
    edge = 1e6
    for d in (3, 128, 1024):
        inside, outside = mean_noncentral_chi(np.array([edge * (1 - 1e-9), edge * (1 + 1e-9)]), d)
        assert outside == pytest.approx(inside, rel=1e-8)


def test_energy_test_rejects_a_shift_at_high_dimension():
    # At d = 128 the cross term overflowed to inf, the references too, and
    # inf >= inf gave p = 1: passes() accepted a shifted sample.
    Z = np.random.default_rng(0).standard_normal((300, 128))
    statistic, pvalue = energy_test(Z, n_reference=19)
    assert math.isfinite(statistic) and pvalue > 0.05
    shifted = energy_test(Z + 0.1, n_reference=19)
    assert math.isfinite(shifted[0]) and shifted[0] > statistic and shifted[1] <= 0.05
    assert not prior_match_report(Z + 0.1, n_reference=19).passes(max_ratio=np.inf)


def test_energy_test_is_calibrated():
    statistic, pvalue = energy_test(_gaussian(seed=14, n=300, d=8))
    assert statistic > 0 and pvalue > 0.05
    pvalues = [energy_test(_gaussian(seed=s, n=200, d=8), n_reference=39)[1] for s in range(10)]
    assert np.mean(np.array(pvalues) <= 0.05) <= 0.3


def _scaled(rng):
    return 1.3 * rng.standard_normal((300, 8))


def _correlated8(rng):
    return rng.multivariate_normal(np.zeros(8), 0.7 * np.eye(8) + 0.3, size=300)


def _uniform8(rng):
    # Uniform in the base space. (With unit variance, i.e. a difference in shape
    # alone, 300 rows at d = 8 are not enough for the energy test; HZ sees that.)
    return rng.uniform(-2.0, 2.0, size=(300, 8))


@pytest.mark.parametrize("make", [_scaled, _correlated8, _uniform8])
def test_energy_test_has_power(make):
    statistic, pvalue = energy_test(make(np.random.default_rng(15)))
    assert pvalue == pytest.approx(0.01)


def test_energy_test_in_the_uniform_base_space():
    Z = np.random.default_rng(16).uniform(size=(300, 4))
    assert energy_test(Z, prior="uniform", n_reference=19)[1] > 0.05
    assert energy_test(Z, prior="gaussian", n_reference=19)[1] == pytest.approx(0.05)


def test_energy_test_at_high_dimension_and_subsampling():
    Z = _gaussian(seed=15, n=300, d=64)
    statistic, pvalue = energy_test(Z, n_reference=19)
    assert math.isfinite(statistic) and pvalue > 0.05
    assert energy_test(1.3 * Z, n_reference=19)[1] == pytest.approx(0.05)
    assert energy_test(Z, max_samples=100, n_reference=5) == energy_test(
        Z, max_samples=100, n_reference=5
    )
    assert energy_test(Z, max_samples=100, n_reference=5) != energy_test(Z, n_reference=5)


def test_sliced_wasserstein_orders_distances():
    Z = _gaussian(seed=11)
    assert sliced_wasserstein(Z) < sliced_wasserstein(Z + 0.2) < sliced_wasserstein(Z + 0.5)
    assert sliced_wasserstein(Z + 0.5) == pytest.approx(0.5, rel=0.2)


def test_marginal_tests_flag_the_shifted_dimension():
    Z = _gaussian(seed=12)
    Z[:, 2] += 0.5
    result = marginal_tests(Z)
    assert result.statistic.shape == result.pvalue.shape == (D,)
    assert int(np.argmax(result.statistic)) == 2
    assert result.min_pvalue == pytest.approx(min(1.0, D * result.pvalue.min()))
    assert result.min_pvalue < 1e-6


@pytest.mark.parametrize(
    "Z, match",
    [
        (np.array([[0.0, np.nan], [1.0, 2.0], [3.0, 4.0]]), "NaN"),
        (np.zeros(10), "reshape"),
        (np.zeros((2, 3, 4)), "dim 3"),
        (np.zeros((1, 2)), "minimum of 2"),
        (np.zeros((5, 0)), "0 feature"),
        ([["a", "b"], ["c", "d"]], "Z holds text"),
        (np.array([["1.5", "2"], ["3", "4"]], dtype=object), "Z holds text"),
        (pytest.importorskip("pandas").Series([1.0, 2.0, 3.0]), "2-dimensional container"),
    ],
)
def test_bad_embeddings(Z, match):
    functions = (prior_match_report, sliced_wasserstein, henze_zirkler, energy_test, marginal_tests)
    for function in functions:
        with pytest.raises(ValueError, match=match):
            function(Z)


@pytest.mark.parametrize("prior", ["laplace", stats.poisson(3), 3.0, stats.norm])
def test_bad_prior(prior):
    with pytest.raises(ValueError, match="prior"):
        prior_match_report(_gaussian(n=50), prior=prior)


def test_too_few_rows_for_henze_zirkler():
    with pytest.raises(ValueError, match="n_components \\+ 2"):
        henze_zirkler(_gaussian(n=5, d=4))
    # The report leaves it out and keeps the statistics that still apply.
    assert math.isnan(prior_match_report(_gaussian(n=5, d=4), n_reference=5).hz_pvalue)


@pytest.mark.parametrize(
    "name", ["n_reference", "n_projections", "max_samples", "energy_max_samples"]
)
def test_bad_counts(name):
    with pytest.raises(ValueError, match=name):
        prior_match_report(_gaussian(n=50), **{name: 0})
    with pytest.raises(TypeError, match=name):
        prior_match_report(_gaussian(n=50), **{name: True})
    with pytest.raises(TypeError, match=name):
        prior_match_report(_gaussian(n=50), **{name: 10.0})


def test_text_and_subsampled_inputs_get_clear_errors():
    Z = np.random.default_rng(0).standard_normal((500, 3))
    with pytest.raises(ValueError, match="Z holds text"):
        prior_match_report(Z.astype(str))
    with pytest.raises(ValueError, match=r"got 1 \(max_samples=1 of 500\)"):
        henze_zirkler(Z, max_samples=1)


def test_a_uniform_embedding_judged_against_the_gaussian_gets_a_warning():
    Z = np.random.default_rng(0).uniform(size=(200, 2))
    with pytest.warns(UserWarning, match=r"lies in \[0, 1\].*prior=embedder.prior_"):
        prior_match_report(Z, n_reference=5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        prior_match_report(Z, prior="uniform", n_reference=5)
        prior_match_report(np.random.default_rng(0).normal(size=(200, 2)), n_reference=5)


@pytest.mark.parametrize("value", [0.0, 0.5, 1.0])
def test_a_constant_embedding_is_called_collapsed_not_uniform(value):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = prior_match_report(np.full((100, 3), value), n_reference=5)
    assert report.collapsed and not report.passes()
    # A uniform embedding with one collapsed dimension still gets the advice.
    Z = np.random.default_rng(0).random((200, 4))
    Z[:, 0] = value
    with pytest.warns(UserWarning, match=r"lies in \[0, 1\]"):
        prior_match_report(Z, n_reference=5)


@pytest.mark.parametrize(
    "function", [prior_match_report, marginal_tests, energy_test, henze_zirkler]
)
def test_numbers_read_as_text_are_refused_alike_everywhere(function):
    # A DataFrame of numeric strings: marginal_tests converted it in silence, the others
    # failed with "'<' not supported between instances of 'str' and 'float'".
    pd = pytest.importorskip("pandas")
    Z = pd.DataFrame(np.random.default_rng(0).standard_normal((50, 3))).astype(str)
    with pytest.raises(ValueError, match="Z holds text.*astype\\(float\\)"):
        function(Z)
    function(Z.astype(float))


def test_values_at_an_end_of_a_bounded_support_are_named():
    # A quantile transform's 0 and 1 map to the Gaussian space's limit and wrecked the
    # report (W2 ratio 26) in silence.
    from scipy import stats

    Z = np.random.default_rng(0).uniform(size=(200, 2))
    Z[0, 1], Z[5, 0] = 0.0, 1.0
    for prior in ("uniform", stats.uniform(), stats.beta(2.0, 3.0)):
        with pytest.warns(UserWarning, match="2 values exactly at an end of the support"):
            prior_match_report(Z, prior=prior)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        prior_match_report(np.clip(Z, 1e-7, 1 - 1e-7), prior="uniform")
        prior_match_report(np.random.default_rng(0).standard_normal((50, 2)))


def test_henze_zirkler_is_calibrated_with_few_rows_per_dimension():
    # The lognormal approximation gave p < 0.05 for 98 % of exact 12 x 10 samples.
    rng = np.random.default_rng(1)
    pvalues = np.array([henze_zirkler(rng.standard_normal((12, 10)))[1] for _ in range(300)])
    assert 0.02 < np.mean(pvalues < 0.05) < 0.09
    # Heavy tails at 29 x 10, below 3 rows per dimension: the smallest simulated p-value.
    assert henze_zirkler(rng.standard_normal((29, 10)) ** 3)[1] == pytest.approx(1 / 2001)
    # Seeded: a fixed function of the sample, whatever was computed before.
    from sklearn_ndim import _stats

    Z = rng.standard_normal((12, 10))
    first = henze_zirkler(Z)
    _stats._simulated_hz_null.cache_clear()
    assert henze_zirkler(Z.copy()) == first


@pytest.mark.parametrize("rows_per_dimension", [3, 5])
def test_henze_zirkler_pvalues_are_uniform_below_ten_rows_per_dimension(rows_per_dimension):
    # The lognormal approximation put the median p-value of exact 30 x 10 samples at 0.29.
    rng = np.random.default_rng(2)
    n = rows_per_dimension * 10
    pvalues = [henze_zirkler(rng.standard_normal((n, 10)))[1] for _ in range(300)]
    assert stats.kstest(pvalues, "uniform").pvalue > 0.01


@pytest.mark.parametrize("scale", [1e-170, 1e155])
def test_henze_zirkler_does_not_depend_on_the_scale(scale):
    Z = _gaussian(n=50, d=3)
    statistic, pvalue = henze_zirkler(Z)
    scaled_statistic, scaled_pvalue = henze_zirkler(Z * scale)
    assert scaled_statistic == pytest.approx(statistic, rel=1e-9)
    assert scaled_pvalue == pytest.approx(pvalue, rel=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("prior", [stats.beta(0.5, 0.5), stats.gamma(0.5), stats.uniform()])
def test_the_model_output_of_a_bounded_prior_is_never_at_the_supports_end(prior, dtype):
    # beta(0.5, 0.5) in float32 rounded onto 1.0 beyond 3.7 sd: a false "rounded values" alarm.
    from sklearn_ndim._priors import resolve_prior

    resolved = resolve_prior(prior)
    g = np.random.default_rng(0).standard_normal((20000, 4)) * 3
    x = resolved.from_gaussian(g, dtype)
    assert resolved.on_support_edge(x) == "" and resolved.outside_support(x) == ""
