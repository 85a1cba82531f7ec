"""Numerical kernels: KL estimates to N(0, I)."""

import numpy as np

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
