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
    """Standardise (or whiten) the output, then map to the base distribution.

    In training mode the statistics are those of the batch (as in
    ``BatchNorm1d(affine=False)``); in evaluation mode the frozen buffers
    ``mean`` and ``whitening`` are used, so an output never depends on which
    other rows share its batch. :meth:`calibrate` sets the buffers from clean
    rows after training.

    Parameters
    ----------
    n_components : int
        Dimension ``d`` of the embedding.
    base : {"gaussian", "uniform"}
        ``"uniform"`` applies the Gaussian CDF after normalising.
    whiten : bool, default=False
        Decorrelate the dimensions as well (batch whitening by the inverse
        Cholesky factor of the covariance), so the output has identity
        covariance, not only unit variances. The capacity-achieving input
        under that stronger constraint is still N(0, I), so the method's
        optimum is unchanged; linear correlation is simply ruled out.
    eps : float, default=1e-5
        Added to the variance (the covariance's diagonal) for stability.
    """

    def __init__(self, n_components, base, whiten=False, eps=1e-5):
        super().__init__()
        self.base = base
        self.whiten = whiten
        self.eps = eps
        self.register_buffer("mean", torch.zeros(n_components))
        self.register_buffer("whitening", torch.eye(n_components))

    def forward(self, h):
        if self.training:
            mean = h.mean(0)
            whitening = self._whitening(_covariance(h - mean))
        else:
            mean, whitening = self.mean.to(h.dtype), self.whitening.to(h.dtype)
        z = (h - mean) @ whitening.T
        if self.base == "uniform":
            z = 0.5 * torch.erfc(-z / math.sqrt(2.0))
        return z

    def _whitening(self, cov):
        """Matrix ``W`` with ``W cov W^T = I`` (diagonal when not whitening)."""
        n_components = cov.shape[0]
        if not self.whiten:
            return torch.diag(torch.rsqrt(torch.diagonal(cov) + self.eps))
        identity = torch.eye(n_components, dtype=cov.dtype, device=cov.device)
        # cholesky_ex does not raise: a non-finite covariance (a diverged
        # encoder) yields NaNs that the training step reports with its cause.
        cholesky = torch.linalg.cholesky_ex(cov + self.eps * identity).L
        return torch.linalg.solve_triangular(cholesky, identity, upper=False)

    @torch.no_grad()
    def calibrate(self, h, h_views=None, shrinkage=0.05):
        """Freeze the statistics to those of ``h``, the raw outputs of clean rows.

        Parameters
        ----------
        h : torch.Tensor of shape (n, d)
            Encoder outputs of the clean training rows.
        h_views : torch.Tensor of shape (m, d), optional
            Encoder outputs of training views. ``shrinkage`` times their
            covariance is added to that of ``h``, so that a direction only
            views excite (an output reacting to the augmentation noise,
            nearly constant on clean rows) is not blown up by the inverse of
            a vanishing variance.
        shrinkage : float, default=0.05
            Weight of the view covariance.
        """
        h = h.to(torch.float64)
        mean = h.mean(0)
        cov = _covariance(h - mean)
        if h_views is not None:
            h_views = h_views.to(torch.float64)
            cov = cov + shrinkage * _covariance(h_views - h_views.mean(0))
        self.mean.copy_(mean)
        self.whitening.copy_(self._whitening(cov))


def _covariance(centred):
    """Biased covariance of centred rows."""
    return centred.T @ centred / centred.shape[0]


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
