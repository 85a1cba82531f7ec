"""Priors and their channels: capacity, noise, maps between spaces, tails."""

import json
import math
import warnings
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats

from sklearn_ndim._priors import (
    GAUSSIAN_LIMIT,
    GaussianPrior,
    ScipyPrior,
    UniformPrior,
    prior_from_config,
    resolve_prior,
)

TAILED = [
    stats.laplace(loc=1.0, scale=2.0),
    stats.expon(),
    stats.t(df=5),
    stats.t(df=1.5),
    stats.beta(2, 3),
    stats.cauchy(),
    stats.lognorm(1.0),
    stats.gamma(2.0),
]


def test_capacity_formulas():
    assert GaussianPrior().capacity(16, 1.0) == pytest.approx(8 * math.log(2))
    assert GaussianPrior().capacity(3, 0) == math.inf
    # Every prior trains through the same Gaussian channel.
    for prior in (UniformPrior(), ScipyPrior(stats.laplace())):
        assert prior.capacity(16, 1.0) == GaussianPrior().capacity(16, 1.0)


@pytest.mark.parametrize("capacity", [0.5, math.log(256), 20.0])
def test_noise_for_capacity_inverts_capacity(capacity):
    prior = GaussianPrior()
    assert prior.capacity(8, prior.noise_for_capacity(8, capacity)) == pytest.approx(capacity)


def test_reference_sigmas_where_capacity_meets_log_batch():
    # REFERENCE.md: for B = 256, sigma is about 0.58 at d = 8 and 1.0 at d = 16.
    assert GaussianPrior().noise_for_capacity(8, math.log(256)) == pytest.approx(0.577, abs=1e-3)
    assert GaussianPrior().noise_for_capacity(16, math.log(256)) == pytest.approx(1.0, abs=1e-3)


def test_channel_noise_has_the_requested_law():
    generator = torch.Generator().manual_seed(0)
    zeros = torch.zeros(20000, 2)
    gaussian = GaussianPrior().add_noise(zeros, 0.5, generator)
    assert abs(gaussian.std().item() - 0.5) < 0.01
    uniform = UniformPrior().add_noise(zeros, 0.5, torch.Generator().manual_seed(0))
    assert torch.equal(
        uniform, GaussianPrior().add_noise(zeros, 0.5, torch.Generator().manual_seed(0))
    )
    x = torch.randn(4, 2)
    assert GaussianPrior().add_noise(x, 0) is x


def test_the_uniform_map_is_the_gaussian_cdf_and_its_inverse():
    g = np.linspace(-6, 6, 25)
    u = UniformPrior().from_gaussian(g)
    np.testing.assert_allclose(u, special.ndtr(g), rtol=1e-12)
    np.testing.assert_allclose(UniformPrior().to_gaussian(u), g, atol=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_uniform_outputs_lie_in_the_open_cube(dtype):
    u = UniformPrior().from_gaussian(np.array([-1e4, -40.0, 0.0, 40.0, 1e4]), dtype)
    assert u.dtype == dtype and u.min() > 0 and u.max() < 1
    assert np.all(np.isfinite(UniformPrior().to_gaussian(np.array([-1.0, 0.0, 1.0, 2.0]))))


@pytest.mark.parametrize("marginal", TAILED, ids=lambda m: m.dist.name)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_probability_integral_transform_is_finite_and_monotone_in_the_tails(marginal, dtype):
    prior = resolve_prior(marginal)
    g = np.concatenate([-np.logspace(4, -3, 60), [0.0], np.logspace(-3, 4, 60)])
    x = prior.from_gaussian(g, dtype)
    assert x.dtype == dtype and np.all(np.isfinite(x))
    assert np.all(np.diff(x.astype(np.float64)) >= 0)
    back = prior.to_gaussian(prior.from_gaussian(g))
    assert np.all(np.isfinite(back)) and np.all(np.abs(back) <= GAUSSIAN_LIMIT)


@settings(max_examples=60, deadline=None)
@given(
    st.floats(-8.0, 8.0),
    st.sampled_from(["laplace", "expon", "t", "lognorm", "gumbel_r"]),
)
def test_probability_integral_transform_round_trips_in_the_bulk(g, name):
    marginal = {"t": stats.t(df=4), "lognorm": stats.lognorm(0.7)}.get(name, None)
    prior = resolve_prior(marginal or getattr(stats, name)())
    x = prior.from_gaussian(np.array([g]))
    assert prior.to_gaussian(x)[0] == pytest.approx(g, abs=1e-6)


def test_prior_samples_map_to_standard_normal():
    prior = resolve_prior(stats.gamma(3.0))
    g = prior.to_gaussian(prior.sample(4000, 2, random_state=0))
    assert stats.kstest(g.ravel(), "norm").pvalue > 0.01


def test_values_outside_the_support_are_refused_and_the_boundary_is_not():
    uniform = resolve_prior("uniform")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # exact bounds: no 0 * inf on the way
        uniform.check_support(np.array([[0.0, 1.0], [0.5, 0.25]]))
        uniform.check_support(np.array([[0.0, 1.0]], dtype=np.float32))
    with pytest.raises(ValueError, match=r"2 values outside the support \[0, 1\].*1.5.*row 1"):
        uniform.check_support(np.array([[0.0, 1.0], [1.5, -0.2]]))
    resolve_prior("gaussian").check_support(np.array([[-1e300, 1e300]]))
    # A bound that float32 cannot hold (0.3) is rounded outwards for the check; the model's
    # own output stays inside the open support.
    narrow = resolve_prior(stats.uniform(0, 0.3))
    top = narrow.from_gaussian(np.array([[6.0, -6.0]]), np.float32)
    assert 0.0 < float(top[0, 1]) and float(top[0, 0]) < 0.3
    narrow.check_support(top)
    narrow.check_support(np.array([[np.float32(0.3), 0.1]], dtype=np.float32))
    above = np.nextafter(np.float32(0.3), np.float32(1))
    with pytest.raises(ValueError, match="outside the support"):
        narrow.check_support(np.array([[above, 0.1]], dtype=np.float32))
    positive = resolve_prior(stats.expon())
    with pytest.raises(ValueError, match="outside the support"):
        positive.check_support(np.array([[1.0, -0.5]]))


def test_scipy_priors_are_equal_however_their_parameters_are_passed():
    t5 = resolve_prior(stats.t(5))
    for same in (stats.t(df=5), stats.t(5, 0), stats.t(5, loc=0.0, scale=1.0)):
        assert resolve_prior(same) == t5 and hash(resolve_prior(same)) == hash(t5)
    assert resolve_prior(stats.t(6)) != t5
    assert resolve_prior(stats.t(5, loc=1.0)) != t5
    assert resolve_prior(stats.laplace()) != resolve_prior(stats.norm())


def test_logpdf_sums_over_dimensions():
    assert GaussianPrior().logpdf(np.zeros((1, 3)))[0] == pytest.approx(3 * stats.norm.logpdf(0))


@pytest.mark.parametrize(
    "prior", ["gaussian", "uniform", stats.laplace(loc=1.0, scale=2.0), stats.t(df=3)]
)
def test_configs_round_trip_through_json(prior):
    resolved = resolve_prior(prior)
    rebuilt = prior_from_config(json.loads(json.dumps(resolved.get_config())))
    assert rebuilt == resolved and type(rebuilt) is type(resolved)


def test_foreign_configs_are_refused():
    with pytest.raises(ValueError, match="unknown scipy.stats"):
        prior_from_config({"kind": "scipy", "distribution": "os.system", "args": []})
    with pytest.raises(ValueError, match="not a prior"):
        prior_from_config({"kind": "exec"})


@pytest.mark.parametrize(
    "bad, message",
    [
        ("cauchy", "not supported"),
        (stats.poisson(3), "continuous"),
        (42, "frozen univariate"),
        (stats.norm(loc=[0.0, 1.0]), "finite scalar parameters"),
        (stats.beta(a=np.nan, b=2.0), "finite scalar parameters"),
        (stats.norm(scale=-1.0), "not a valid distribution"),
        (stats.multivariate_normal(), "frozen univariate"),
    ],
)
def test_bad_priors_are_refused_clearly(bad, message):
    with pytest.raises(ValueError, match=message):
        resolve_prior(bad)


@pytest.mark.parametrize(
    "prior", ["gaussian", "uniform", stats.laplace(), stats.gamma(2.0)], ids=str
)
def test_pvalues_of_prior_samples_are_uniform(prior):
    prior = resolve_prior(prior)
    pvalues = prior.pvalues(prior.sample(3000, 5, random_state=1))
    assert stats.kstest(pvalues, "uniform").pvalue > 0.01
    far = prior.pvalues(prior.from_gaussian(np.full((1, 5), 6.0)))
    assert far[0] < 1e-12
    # The mode is atypical in 5 dimensions: prior samples lie in a shell.
    assert prior.pvalues(prior.from_gaussian(np.full((1, 5), 1e-3)))[0] < 1e-10


@pytest.mark.parametrize("marginal", [stats.beta(0.5, 0.5), stats.arcsine()], ids=str)
def test_a_quantile_that_rounds_to_its_bound_limits_the_gaussian_range(marginal):
    # beta(0.5, 0.5)'s quantile reaches exactly 1.0 in float64 at about 5.7 standard
    # deviations: beyond, distinct embeddings would share a value with no inverse.
    prior = resolve_prior(marginal)
    assert 5.0 <= prior.limit_ < 5.7
    g = np.linspace(-prior.limit_, prior.limit_, 2001)
    x = prior.from_gaussian(g)
    assert np.all(np.diff(x) >= 0)  # float64 resolution near 1 leaves short plateaus
    np.testing.assert_allclose(prior.to_gaussian(x), g, atol=0.05)
    assert prior.to_gaussian(prior.from_gaussian(np.array([6.9])))[0] == pytest.approx(
        prior.limit_, abs=0.05
    )


class _DensityOnlyLaplace(stats.rv_continuous):
    def _pdf(self, x):
        return np.exp(-np.abs(x)) / 2


def test_a_prior_whose_quantile_solver_fails_gets_the_librarys_error():
    # scipy's generic ppf, from the density alone, fails far in the tails.
    with pytest.raises(ValueError, match="quantile functions that fail .*give the distribution"):
        resolve_prior(_DensityOnlyLaplace(name="mylaplace")())


def test_a_support_narrower_than_one_float32_step_keeps_the_output_in_the_closed_support():
    # No float32 lies strictly inside [1e8, 1e8 + 1]: clipping into the open support put
    # every value below it, and inverse_transform refused the model's own output.
    narrow = resolve_prior(stats.uniform(1e8, 1))
    with pytest.warns(UserWarning, match="coarse in float32"):
        x = narrow.from_gaussian(np.random.default_rng(0).standard_normal((50, 2)), np.float32)
    assert narrow.outside_support(x) == ""
    narrow.check_support(x)


def test_a_value_rounded_onto_a_bound_in_its_own_precision_is_at_the_end():
    # float32(0.3) lies above 0.3: accepted as inside (rounded outwards), and now named.
    narrow = resolve_prior(stats.uniform(0, 0.3))
    x = np.array([[0.1, 0.3], [0.2, 0.25]], dtype=np.float32)
    assert narrow.outside_support(x) == ""
    assert "1 values exactly at an end" in narrow.on_support_edge(x)


def test_a_capacity_that_underflows_needs_infinite_noise():
    assert resolve_prior("gaussian").noise_for_capacity(10, 5e-324) == np.inf
    assert resolve_prior("gaussian").noise_for_capacity(1, 400.0) == pytest.approx(np.exp(-400.0))


def test_a_zero_dimensional_array_parameter_is_a_scalar():
    # np.array(1.0) is a scalar to scipy; it was refused as "not scalar".
    prior = resolve_prior(stats.norm(loc=np.array(1.0)))
    assert prior == resolve_prior(stats.norm(loc=1.0))
    assert prior.get_config()["kwds"] == {"loc": 1.0}
    # Fractions and Decimals failed inside scipy's functions.
    for bad in (np.array([1.0, 2.0]), np.array(True), Fraction(3), Decimal(3)):
        with pytest.raises(ValueError, match="finite scalar parameters"):
            resolve_prior(stats.norm(loc=bad))


@pytest.mark.parametrize(
    "marginal, why",
    [
        (stats.norm, "got norm_gen \\(freeze it by calling it"),
        (stats.rv_histogram(np.histogram([1.0, 2.0, 4.0])), "got rv_histogram \\(freeze it"),
        (len, "got builtin_function_or_method\\.$"),  # no advice to freeze a function
        (3.0, "got float\\.$"),
        (stats.poisson(3), "discrete distribution poisson"),
    ],
)
def test_scipy_prior_explains_what_it_takes(marginal, why):
    with pytest.raises(ValueError, match=why):
        ScipyPrior(marginal)


def test_distributions_of_ones_own_are_named_by_class_and_equal_only_to_themselves():
    generator = np.random.default_rng(0)
    first, second = (
        stats.rv_histogram(np.histogram(generator.normal(size=500), bins=10)) for _ in range(2)
    )
    frozen = first()
    prior = ScipyPrior(frozen)
    assert repr(prior) == "ScipyPrior(scipy.stats.rv_histogram())"
    assert prior == ScipyPrior(frozen) and hash(prior) == hash(ScipyPrior(frozen))
    # scipy names every unnamed distribution "Distribution": equal names are no evidence.
    assert prior != ScipyPrior(second())
    assert ScipyPrior(stats.t(5)) == ScipyPrior(stats.t(df=5, loc=0))


@pytest.mark.parametrize("prior", ["gaussian", "uniform", stats.t(3), stats.norm()])
def test_a_nan_given_stays_nan(prior):
    # scipy's priors turned it into their far tail: a NaN row read as a sure outlier.
    prior = resolve_prior(prior)
    row = np.array([[np.nan, prior.marginal.median()]])
    assert np.isnan(prior.to_gaussian(row)[0, 0]) and prior.to_gaussian(row)[0, 1] == 0
    assert np.isnan(prior.pvalues(row)).all()


@pytest.mark.parametrize("x", [np.array([-2.0, 0.5]), np.zeros(3), np.zeros((2, 2, 2)), 0.5])
def test_prior_methods_on_rows_refuse_other_shapes(x):
    # Bounded priors failed "not enough values to unpack", logpdf with an AxisError.
    prior = resolve_prior("uniform")
    methods = (
        prior.check_support,
        prior.outside_support,
        prior.on_support_edge,
        prior.logpdf,
        prior.pvalues,
        prior.log_pvalues,
    )
    for method in methods:
        with pytest.raises(ValueError, match=r"rows of shape \(n_samples, n_components\)"):
            method(x)


def test_a_prior_too_fine_for_float32_warns_where_its_values_would_collapse():
    # norm(1000, 1e-4) in float32 gave 9 distinct values for 150 rows, silently.
    prior = resolve_prior(stats.norm(loc=1000.0, scale=1e-4))
    g = np.linspace(-2.0, 2.0, 150)[:, None]
    with pytest.warns(UserWarning, match="coarse in float32.*Pass float64 rows") as caught:
        coarse = prior.from_gaussian(g, np.float32)
    assert len(np.unique(coarse)) < 20 and caught[0].filename == __file__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(np.unique(prior.from_gaussian(g, np.float64))) == 150
        resolve_prior(stats.t(3)).from_gaussian(g, np.float32)
        resolve_prior(stats.beta(0.5, 0.5)).from_gaussian(g, np.float32)


def test_a_prior_class_given_for_an_instance_is_told_to_make_one():
    with pytest.raises(ValueError, match=r"got type \(the class GaussianPrior; pass an instance"):
        resolve_prior(GaussianPrior)


def test_rows_near_the_mode_in_high_dimension_keep_distinct_finite_scores():
    scores = GaussianPrior().log_pvalues(np.array([[1e-3] * 128, [2e-3] * 128]))
    assert np.all(np.isfinite(scores)) and scores[0] < scores[1]


@pytest.mark.parametrize("prior", [GaussianPrior(), UniformPrior()], ids=str)
def test_the_channel_refuses_arguments_outside_its_domain(prior):
    with pytest.raises(ValueError, match="capacity must be a non-negative number; got -1.0"):
        prior.noise_for_capacity(8, -1.0)
    with pytest.raises(ValueError, match="capacity must be a non-negative number"):
        prior.noise_for_capacity(8, math.nan)
    with pytest.raises(ValueError, match="noise_scale must be a non-negative number"):
        prior.capacity(8, -0.5)
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match="n_components must be a positive integer"):
            prior.capacity(bad, 1.0)
        with pytest.raises(ValueError, match="n_components must be a positive integer"):
            prior.noise_for_capacity(bad, 1.0)
    with pytest.raises(TypeError, match="capacity must be a real number.*Tensor"):
        prior.noise_for_capacity(8, torch.tensor(1.0))
    # The ends of the domain are each other's inverse.
    assert prior.noise_for_capacity(8, 0.0) == math.inf and prior.capacity(8, math.inf) == 0.0
    assert prior.noise_for_capacity(np.int64(8), np.float32(2.0)) == pytest.approx(
        prior.noise_for_capacity(8, 2.0)
    )
