"""Critics ``T(a, y)`` scoring every pair of a batch for InfoNCE.

All critics return the full ``(B, B)`` matrix of scores in one batched
operation. The separable and quadratic critics cost one matrix product; the
MLP critic evaluates a network on all ``B^2`` concatenated pairs, which is
about 40 times slower on a CPU and therefore opt-in.
"""

import math

import torch
from torch import nn

__all__ = ["make_critic", "SeparableCritic", "QuadraticCritic", "MLPCritic"]


class SeparableCritic(nn.Module):
    """Scaled dot product ``T(a, y) = <a, y> / tau`` with a learned temperature.

    The temperature starts at ``sqrt(d (1 + sigma^2))``, the standard
    deviation of ``<a, y>`` for independent unit-variance ``a`` and noisy
    ``y``, so that initial scores have unit scale whatever ``d`` and the
    noise (a fixed ``sqrt(d)`` left high-noise, high-``d`` runs with scores
    dominated by the channel noise and a loss above ``ln B``).

    Parameters
    ----------
    n_components : int
        Embedding dimension ``d``.
    noise_scale : float, default=0.0
        Noise scale ``sigma`` of the channel.
    """

    def __init__(self, n_components, noise_scale=0.0):
        super().__init__()
        initial = -0.5 * math.log(n_components * (1.0 + noise_scale**2))
        self.log_inverse_temperature = nn.Parameter(torch.tensor(initial))

    def forward(self, a, y):
        return (a @ y.T) * self.log_inverse_temperature.exp()


class QuadraticCritic(nn.Module):
    """Negative scaled squared distance ``T(a, y) = -|y - a|^2 / (2 s^2)``.

    This is the optimal critic of the Gaussian channel when the encoder is
    invariant to the views (then ``s = sigma``); ``s`` is learned, starting
    from ``sqrt(sigma^2 + 1)`` so that ``sigma = 0`` is well defined.

    Parameters
    ----------
    noise_scale : float
        Noise scale of the channel; sets the initial width.
    """

    def __init__(self, noise_scale):
        super().__init__()
        initial_width_sq = noise_scale**2 + 1.0
        self.log_inverse_width_sq = nn.Parameter(torch.tensor(-math.log(2.0 * initial_width_sq)))

    def forward(self, a, y):
        # |a|^2 + |y|^2 - 2 <a, y>, without materialising a (B, B, d) tensor.
        squared_distance = (a * a).sum(1, keepdim=True) + (y * y).sum(1) - 2.0 * (a @ y.T)
        return -squared_distance * self.log_inverse_width_sq.exp()


class MLPCritic(nn.Module):
    """Joint critic: an MLP on the concatenated pair ``[a, y]``.

    Parameters
    ----------
    n_components : int
        Embedding dimension ``d``.
    hidden_size : int, default=256
        Width of the two hidden layers (2d -> h -> h -> 1, LeakyReLU(0.01)).
    """

    def __init__(self, n_components, hidden_size=256):
        super().__init__()
        self.network = nn.Sequential(
            nn.Linear(2 * n_components, hidden_size),
            nn.LeakyReLU(0.01),
            nn.Linear(hidden_size, hidden_size),
            nn.LeakyReLU(0.01),
            nn.Linear(hidden_size, 1),
        )

    def forward(self, a, y):
        batch_size = a.shape[0]
        pairs = torch.cat(
            [a.unsqueeze(1).expand(-1, batch_size, -1), y.unsqueeze(0).expand(batch_size, -1, -1)],
            dim=2,
        )
        return self.network(pairs).squeeze(-1)


def make_critic(name, n_components, noise_scale):
    """Build the critic named by the estimator's ``critic`` parameter."""
    if name == "separable":
        return SeparableCritic(n_components, noise_scale)
    if name == "quadratic":
        return QuadraticCritic(noise_scale)
    if name == "mlp":
        return MLPCritic(n_components)
    raise ValueError(f"critic must be 'separable', 'quadratic' or 'mlp'; got {name!r}.")
