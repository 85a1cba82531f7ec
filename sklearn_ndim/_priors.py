"""Target priors: the distribution the embedding is trained to follow.

The network only ever learns one of two *base* distributions: the standard
Gaussian (output of a non-affine standardiser) or the uniform distribution on
the unit cube (that output squashed by the Gaussian CDF). Every other
absolutely continuous product prior is reached from the Gaussian base by the
probability integral transform ``x = F^{-1}(Phi(z))``, applied per dimension.
"""

import math

import numpy as np
from scipy import special, stats

__all__ = ["resolve_prior", "channel_capacity", "Prior"]

_CONTINUOUS_FROZEN = stats._distn_infrastructure.rv_continuous_frozen


def channel_capacity(base, n_components, noise_scale):
    """Capacity ``C`` of the additive-noise channel, in nats.

    Parameters
    ----------
    base : {"gaussian", "uniform"}
        Base distribution the network learns.
    n_components : int
        Dimension ``d`` of the embedding.
    noise_scale : float
        Standard deviation ``sigma`` of Gaussian noise, or half-width ``eps``
        of uniform noise. ``0`` gives an infinite capacity.

    Returns
    -------
    capacity : float
        ``d/2 ln(1 + 1/sigma^2)`` (Gaussian) or ``d ln(1 + 1/(2 eps))``
        (uniform); ``inf`` when ``noise_scale == 0``.
    """
    if noise_scale == 0:
        return math.inf
    if base == "gaussian":
        return 0.5 * n_components * math.log1p(1.0 / noise_scale**2)
    return n_components * math.log1p(1.0 / (2.0 * noise_scale))


def noise_for_capacity(base, n_components, capacity):
    """Noise scale whose channel capacity equals ``capacity`` (nats).

    Inverse of :func:`channel_capacity` in its ``noise_scale`` argument.
    """
    per_dim = capacity / n_components
    if base == "gaussian":
        return 1.0 / math.sqrt(math.expm1(2.0 * per_dim))
    return 1.0 / (2.0 * math.expm1(per_dim))


class Prior:
    """A product prior on ``R^d`` and its map from the learned base space.

    Parameters
    ----------
    name : str
        Readable name, used in reports.
    base : {"gaussian", "uniform"}
        Base distribution the network learns.
    marginal : scipy.stats frozen continuous distribution
        The one-dimensional marginal shared by every dimension.
    """

    def __init__(self, name, base, marginal):
        self.name = name
        self.base = base
        self.marginal = marginal

    @property
    def is_base(self):
        """True when the prior is the base distribution itself (no transform)."""
        return self.name == self.base

    def from_base(self, z):
        """Map base-space embeddings to the prior (probability integral transform)."""
        if self.is_base:
            return z
        # Use the upper tail for positive z so that far tails keep precision
        # instead of rounding Phi(z) to exactly 1 and mapping to +inf.
        upper = z > 0
        out = np.empty_like(z)
        out[~upper] = self.marginal.ppf(special.ndtr(z[~upper]))
        out[upper] = self.marginal.isf(special.ndtr(-z[upper]))
        return out

    def to_base(self, x):
        """Map prior-space values back to the base space (inverse of :meth:`from_base`)."""
        if self.is_base:
            return x
        upper = x > self.marginal.median()
        out = np.empty_like(x, dtype=np.float64)
        out[~upper] = special.ndtri(self.marginal.cdf(x[~upper]))
        out[upper] = -special.ndtri(self.marginal.sf(x[upper]))
        return out

    def logpdf(self, x):
        """Log-density of each row under the product prior, shape ``(n,)``."""
        return self.marginal.logpdf(x).sum(axis=1)

    def sample(self, n_samples, n_components, random_state):
        """Draw ``(n_samples, n_components)`` independent values from the prior."""
        return self.marginal.rvs(size=(n_samples, n_components), random_state=random_state)

    def __repr__(self):
        return f"Prior({self.name!r})"


def resolve_prior(prior):
    """Turn the estimator's ``prior`` parameter into a :class:`Prior`.

    Parameters
    ----------
    prior : {"gaussian", "uniform"} or scipy.stats frozen continuous distribution
        ``"gaussian"`` for N(0, I), ``"uniform"`` for U([0, 1]^d), or a frozen
        univariate continuous distribution such as ``scipy.stats.laplace()``.

    Returns
    -------
    prior : Prior

    Raises
    ------
    ValueError
        If ``prior`` is none of these.
    """
    if isinstance(prior, str):
        if prior == "gaussian":
            return Prior("gaussian", "gaussian", stats.norm())
        if prior == "uniform":
            return Prior("uniform", "uniform", stats.uniform())
        raise ValueError(
            f"prior={prior!r} is not supported; use 'gaussian', 'uniform' or a frozen "
            "scipy.stats continuous distribution such as scipy.stats.laplace()."
        )
    if isinstance(prior, _CONTINUOUS_FROZEN):
        return Prior(prior.dist.name, "gaussian", prior)
    if isinstance(prior, stats._distn_infrastructure.rv_frozen):
        raise ValueError(
            f"prior must be continuous; got the discrete distribution {prior.dist.name}."
        )
    raise ValueError(
        f"prior must be 'gaussian', 'uniform' or a frozen scipy.stats continuous "
        f"distribution (e.g. scipy.stats.t(df=5)); got {type(prior).__name__}."
    )
