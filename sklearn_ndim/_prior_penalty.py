"""The prior penalty: a sliced Wasserstein distance from a batch to N(0, I).

The method's own pull towards the prior is the KL term of the InfoNCE
identity, ``KL(P_{f(X)+Z} || N(0, (1 + sigma^2) I))``; it fades quickly as the
noise grows (docs: "How it works"). The penalty adds a pull that does not
depend on the noise. It works in the Gaussian space of the normaliser's
output, which every prior maps to its own marginals by a fixed monotone map,
so one penalty serves every prior.

By the Cramer-Wold theorem a distribution is N(0, I) if and only if every
one-dimensional projection of it is N(0, 1), so matching random projections
matches the joint shape, not only the marginals. Each projection is compared
with the expected order statistics of N(0, 1), which has less variance than
comparing with fresh prior samples (Kolouri et al., "Sliced-Wasserstein
autoencoder", ICLR 2019, sample them).
"""

from numbers import Integral

import torch

__all__ = ["N_PROJECTIONS", "normal_order_statistics", "sliced_wasserstein_to_normal"]

#: Random directions drawn for each batch.
N_PROJECTIONS = 64


def normal_order_statistics(n, dtype=torch.float32, device=None):
    """Expected order statistics of ``n`` draws of N(0, 1) (Blom's approximation).

    Parameters
    ----------
    n : int
        Sample size, >= 1.
    dtype : torch.dtype, default=torch.float32
    device : torch.device, default=None

    Returns
    -------
    torch.Tensor of shape (n,)
        ``Phi^-1((i - 3/8) / (n + 1/4))`` for ``i = 1..n``: increasing and
        symmetric about 0.
    """
    i = torch.arange(1, n + 1, dtype=torch.float64, device=device)
    return torch.special.ndtri((i - 0.375) / (n + 0.25)).to(dtype)


def sliced_wasserstein_to_normal(g, n_projections=N_PROJECTIONS, generator=None):
    """Squared sliced 2-Wasserstein distance from the rows of ``g`` to N(0, I).

    Parameters
    ----------
    g : torch.Tensor of shape (n, d)
        Rows in the normaliser's Gaussian space.
    n_projections : int, default=N_PROJECTIONS
        Random unit directions to average over.
    generator : torch.Generator, default=None
        Source of the directions (on ``g``'s device).

    Returns
    -------
    torch.Tensor
        Scalar: the mean, over directions ``u``, of the mean squared
        difference between the sorted projections ``g u`` and the expected
        order statistics of N(0, 1) (Blom's approximation). It is 0 for rows
        whose every projection sits exactly at those order statistics, and
        differentiable in ``g``.

    Examples
    --------
    >>> import torch
    >>> from sklearn_ndim.nn import sliced_wasserstein_to_normal
    >>> generator = torch.Generator().manual_seed(0)
    >>> gaussian = torch.randn(1000, 4, generator=generator)
    >>> clustered = torch.sign(gaussian) + 0.1 * gaussian
    >>> bool(sliced_wasserstein_to_normal(gaussian) < sliced_wasserstein_to_normal(clustered))
    True
    """
    if g.ndim != 2 or g.shape[0] < 1:
        raise ValueError(f"g must hold rows of shape (n, d) with n >= 1; got {tuple(g.shape)}.")
    if (
        isinstance(n_projections, bool)
        or not isinstance(n_projections, Integral)
        or n_projections < 1
    ):
        raise ValueError(f"n_projections must be an integer of at least 1; got {n_projections!r}.")
    n, d = g.shape
    directions = torch.randn(d, n_projections, generator=generator, device=g.device, dtype=g.dtype)
    directions = directions / directions.norm(dim=0, keepdim=True)
    projected = torch.sort(g @ directions, dim=0).values
    target = normal_order_statistics(n, g.dtype, g.device)[:, None]
    return torch.mean((projected - target) ** 2)
