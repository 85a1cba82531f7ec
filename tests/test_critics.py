import pytest
import torch

from sklearn_ndim._critics import MLPCritic, QuadraticCritic, SeparableCritic, make_critic


@pytest.mark.parametrize("name", ["separable", "quadratic", "mlp"])
def test_critics_score_all_pairs(name):
    critic = make_critic(name, 3, 0.5)
    a, y = torch.randn(5, 3), torch.randn(5, 3)
    assert critic(a, y).shape == (5, 5)


def test_quadratic_critic_matches_the_explicit_formula():
    critic = QuadraticCritic(noise_scale=0.5)
    a, y = torch.randn(4, 3), torch.randn(4, 3)
    expected = -((a[:, None, :] - y[None, :, :]) ** 2).sum(-1) / (2 * (0.25 + 1.0))
    assert torch.allclose(critic(a, y), expected, atol=1e-5)


def test_quadratic_critic_prefers_the_nearest_pair():
    a = torch.tensor([[0.0, 0.0], [5.0, 5.0]])
    scores = QuadraticCritic(0.1)(a, a)
    assert scores.argmax(dim=1).tolist() == [0, 1]


def test_mlp_critic_sees_the_pair_order():
    critic = MLPCritic(2, hidden_size=8)
    a, y = torch.randn(3, 2), torch.randn(3, 2)
    scores = critic(a, y)
    assert torch.allclose(scores[1, 2], critic.network(torch.cat([a[1], y[2]])).squeeze())


def test_separable_temperature_is_learned():
    critic = SeparableCritic(4)
    assert [name for name, _ in critic.named_parameters()] == ["log_inverse_temperature"]


def test_unknown_critic():
    with pytest.raises(ValueError, match="critic must be"):
        make_critic("bilinear", 2, 0.1)
