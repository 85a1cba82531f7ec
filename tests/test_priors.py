import math

import numpy as np
import pytest
from scipy import stats

from sklearn_ndim._priors import channel_capacity, noise_for_capacity, resolve_prior


def test_capacity_formulas():
    assert channel_capacity("gaussian", 16, 1.0) == pytest.approx(8 * math.log(2))
    assert channel_capacity("uniform", 4, 0.5) == pytest.approx(4 * math.log(2))
    assert channel_capacity("gaussian", 3, 0) == math.inf


@pytest.mark.parametrize("base", ["gaussian", "uniform"])
@pytest.mark.parametrize("capacity", [0.5, math.log(256), 20.0])
def test_noise_for_capacity_inverts_capacity(base, capacity):
    noise = noise_for_capacity(base, 8, capacity)
    assert channel_capacity(base, 8, noise) == pytest.approx(capacity)


def test_reference_sigmas_where_capacity_meets_log_batch():
    # REFERENCE.md: for B = 256, sigma is about 0.58 at d = 8 and 1.0 at d = 16.
    assert noise_for_capacity("gaussian", 8, math.log(256)) == pytest.approx(0.577, abs=1e-3)
    assert noise_for_capacity("gaussian", 16, math.log(256)) == pytest.approx(1.0, abs=1e-3)


def test_named_priors():
    assert resolve_prior("gaussian").is_base and resolve_prior("uniform").base == "uniform"


def test_scipy_prior_round_trips_through_the_base_space():
    prior = resolve_prior(stats.laplace(loc=1.0, scale=2.0))
    assert prior.base == "gaussian" and not prior.is_base
    z = np.linspace(-9, 9, 41).reshape(-1, 1)
    x = prior.from_base(z)
    assert np.isfinite(x).all() and np.all(np.diff(x[:, 0]) > 0)
    np.testing.assert_allclose(prior.to_base(x), z, atol=1e-6)


def test_logpdf_sums_over_dimensions():
    prior = resolve_prior("gaussian")
    x = np.zeros((1, 3))
    assert prior.logpdf(x)[0] == pytest.approx(3 * stats.norm.logpdf(0))


@pytest.mark.parametrize(
    "bad, message",
    [
        ("cauchy", "not supported"),
        (stats.poisson(3), "continuous"),
        (42, "frozen scipy.stats"),
    ],
)
def test_bad_priors_are_refused_clearly(bad, message):
    with pytest.raises(ValueError, match=message):
        resolve_prior(bad)
