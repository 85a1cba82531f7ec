"""The method's output stage: a non-affine normaliser and the noise channel.

The normaliser gives every output dimension zero mean and unit variance,
which is the power constraint that makes the Gaussian the capacity-achieving
input of the additive Gaussian channel. It has no affine parameters on
purpose: a learned scale would let the encoder grow its output and make the
noise meaningless. For the uniform prior the standardised output is squashed
by the Gaussian CDF into the unit cube, where uniform noise is added.
"""

import math

import torch
from torch import nn

__all__ = ["OutputNormalizer", "NoiseChannel"]


class OutputNormalizer(nn.Module):
    """Standardise each output dimension, then map to the base distribution.

    In training mode the statistics are those of the batch (as in
    ``BatchNorm1d(affine=False)``); in evaluation mode the frozen buffers
    ``mean`` and ``var`` are used, so an output never depends on which other
    rows share its batch. :meth:`calibrate` sets the buffers from clean rows
    after training.

    Parameters
    ----------
    n_components : int
        Dimension ``d`` of the embedding.
    base : {"gaussian", "uniform"}
        ``"uniform"`` applies the Gaussian CDF after standardising.
    eps : float, default=1e-5
        Added to the variance for numerical stability.
    """

    def __init__(self, n_components, base, eps=1e-5):
        super().__init__()
        self.base = base
        self.eps = eps
        self.register_buffer("mean", torch.zeros(n_components))
        self.register_buffer("var", torch.ones(n_components))

    def forward(self, h):
        if self.training:
            mean = h.mean(0)
            var = h.var(0, unbiased=False)
        else:
            mean, var = self.mean.to(h.dtype), self.var.to(h.dtype)
        z = (h - mean) * torch.rsqrt(var + self.eps)
        if self.base == "uniform":
            z = 0.5 * torch.erfc(-z / math.sqrt(2.0))
        return z

    @torch.no_grad()
    def calibrate(self, h):
        """Freeze the statistics to those of ``h``, the raw outputs of clean rows."""
        h = h.to(torch.float64)
        self.mean.copy_(h.mean(0))
        self.var.copy_(h.var(0, unbiased=False))


class NoiseChannel(nn.Module):
    """Additive noise ``Y = X + Z`` applied on one branch during training.

    Parameters
    ----------
    base : {"gaussian", "uniform"}
        ``Z ~ N(0, sigma^2 I)`` for ``"gaussian"``, ``Z ~ U[-eps, eps]^d`` for
        ``"uniform"``.
    noise_scale : float
        ``sigma`` or ``eps``; ``0`` makes the channel the identity.
    """

    def __init__(self, base, noise_scale):
        super().__init__()
        self.base = base
        self.noise_scale = float(noise_scale)

    def forward(self, x, generator=None):
        if self.noise_scale == 0:
            return x
        if self.base == "gaussian":
            noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        else:
            noise = 2.0 * torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)
            noise -= 1.0
        return x + self.noise_scale * noise
