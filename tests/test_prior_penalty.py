"""The prior penalty: sliced W2 from a batch to N(0, I)."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sklearn_ndim._prior_penalty import normal_order_statistics, sliced_wasserstein_to_normal


@pytest.mark.parametrize("n", [1, 2, 7, 256])
def test_order_statistics_are_blom_quantiles_increasing_and_symmetric(n):
    q = normal_order_statistics(n, torch.float64).numpy()
    i = np.arange(1, n + 1)
    np.testing.assert_allclose(q, stats.norm.ppf((i - 0.375) / (n + 0.25)), rtol=1e-12)
    assert np.all(np.diff(q) > 0)
    np.testing.assert_allclose(q, -q[::-1], atol=1e-12)


def test_rows_at_the_order_statistics_in_any_order_cost_nothing():
    # In one dimension every direction is +1 or -1, and the order statistics
    # are symmetric (to rounding), so both give 0.
    q = normal_order_statistics(50, torch.float64)
    shuffled = q[torch.randperm(50, generator=torch.Generator().manual_seed(0))][:, None]
    assert sliced_wasserstein_to_normal(shuffled, 16, torch.Generator().manual_seed(1)) < 1e-30


def test_one_dimension_is_the_mean_squared_gap_of_the_sorted_rows():
    g = torch.randn(40, 1, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    expected = torch.mean((torch.sort(g[:, 0]).values - normal_order_statistics(40, g.dtype)) ** 2)
    value = sliced_wasserstein_to_normal(g, 5, torch.Generator().manual_seed(2))
    assert value.item() == pytest.approx(expected.item(), rel=1e-12)


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(2, 60),
    d=st.integers(1, 5),
    seed=st.integers(0, 2**31 - 1),
    scale=st.floats(0.1, 10.0),
)
def test_nonnegative_and_blind_to_row_order(n, d, seed, scale):
    g = scale * torch.randn(
        n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64
    )
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed + 1))
    value = sliced_wasserstein_to_normal(g, 8, torch.Generator().manual_seed(3))
    permuted = sliced_wasserstein_to_normal(g[order], 8, torch.Generator().manual_seed(3))
    assert value >= 0
    assert value.item() == pytest.approx(permuted.item(), rel=1e-12, abs=1e-15)


def test_gaussian_rows_cost_less_than_clusters_with_the_same_moments():
    generator = torch.Generator().manual_seed(0)
    gaussian = torch.randn(512, 4, generator=generator)
    # Two clusters at +-0.9 along every axis, spread so each coordinate has unit variance.
    signs = torch.randint(0, 2, (512, 1), generator=generator) * 2.0 - 1.0
    clusters = 0.9 * signs + (1 - 0.81) ** 0.5 * torch.randn(512, 4, generator=generator)
    penalties = [
        sliced_wasserstein_to_normal(x, 64, torch.Generator().manual_seed(1))
        for x in (gaussian, clusters)
    ]
    assert penalties[0] < 0.2 * penalties[1]


def test_gradient_steps_move_rows_towards_the_prior():
    generator = torch.Generator().manual_seed(0)
    g = (torch.rand(256, 3, generator=generator) * 3.4 - 1.7).requires_grad_()
    optimizer = torch.optim.SGD([g], lr=50.0)
    before = sliced_wasserstein_to_normal(g.detach(), 256, torch.Generator().manual_seed(9))
    for step in range(100):
        optimizer.zero_grad()
        sliced_wasserstein_to_normal(g, 64, torch.Generator().manual_seed(step)).backward()
        optimizer.step()
    after = sliced_wasserstein_to_normal(g.detach(), 256, torch.Generator().manual_seed(9))
    assert after < 0.1 * before
    assert stats.kstest(g.detach()[:, 0].numpy(), "norm").pvalue > 0.05


@pytest.mark.parametrize(
    "g, n_projections, message",
    [
        (torch.randn(10, 2), 0, "at least 1; got 0"),
        (torch.randn(10, 2), 2.5, "an integer"),
        (torch.randn(10), 4, r"\(n, d\)"),
        (torch.randn(0, 2), 4, r"n >= 1"),
    ],
)
def test_the_penalty_explains_bad_arguments(g, n_projections, message):
    # n_projections=0 had returned nan.
    with pytest.raises(ValueError, match=message):
        sliced_wasserstein_to_normal(g, n_projections)
