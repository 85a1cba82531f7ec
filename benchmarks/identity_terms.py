"""The ``terms`` suite: each term of the method's identity, measured for the default embedder.

For the Gaussian channel ``Y = f(X) + Z``, ``Z ~ N(0, s^2 I)``, with ``f(X)``
whitened (so ``E|Y|^2 = d (1 + s^2)``),

    I(f(X'); Y) = C - KL(P_Y || N(0, (1 + s^2) I)) - [I(f(X); Y) - I(f(X'); Y)],

with ``C = d/2 ln(1 + 1/s^2)`` and ``C - KL = I(f(X); Y)``. The channel's
density is known, so ``I(f(X); Y)`` over a sample of ``n`` embeddings has
two-sided bounds (Poole et al., ICML 2019): InfoNCE with the true
log-density as critic over all ``n`` rows (a lower bound, at most ``ln n``)
and its leave-one-out version (an upper bound). They bracket the KL term,
and the gap between ``I(f(X); Y)`` and the trained critic's InfoNCE estimate
bounds the views' non-invariance plus the critic's slack and ``ln B`` limit.
"""

import math

import datasets
import measures
import numpy as np
import torch

from sklearn_ndim import NoisyInfoMaxEmbedder

#: Noise scales measured; below 0.5 the capacity at d = 16 (12.9 nats at 0.5)
#: is far above ln n and the bounds say little.
NOISES = (0.5, "auto", 2.0)
#: Noise draws averaged per bound.
DRAWS = 3
# Rows of the n x n log-density matrix held at once.
_BLOCK = 1024


def channel_information_bounds(Z, noise_scale, draws=DRAWS, seed=0):
    """Lower and upper bounds (nats) on ``I(Z; Z + N(0, s^2 I))`` over the rows of ``Z``.

    Parameters
    ----------
    Z : ndarray of shape (n, d)
        Embeddings in the Gaussian space.
    noise_scale : float
        ``s``.
    draws : int
        Noise draws averaged.
    seed : int
        Seeds the noise.

    Returns
    -------
    lower, upper : float
        InfoNCE with the channel's log-density over all ``n`` rows, and its
        leave-one-out version: bounds in expectation over the noise, each
        estimated with a Monte Carlo error of order ``1 / sqrt(n draws)``.
    """
    z = torch.as_tensor(np.asarray(Z, dtype=np.float64))
    n = z.shape[0]
    generator = torch.Generator().manual_seed(seed)
    lower, upper = [], []
    for _ in range(draws):
        y = z + noise_scale * torch.randn(z.shape, generator=generator, dtype=z.dtype)
        for start in range(0, n, _BLOCK):
            rows = slice(start, min(start + _BLOCK, n))
            # log p(y_i | z_j) up to a constant that cancels.
            log_density = -torch.cdist(y[rows], z).square() / (2 * noise_scale**2)
            own = log_density[torch.arange(log_density.shape[0]), torch.arange(n)[rows]]
            lower.append(own - torch.logsumexp(log_density, 1) + math.log(n))
            others = log_density.clone()
            others[torch.arange(log_density.shape[0]), torch.arange(n)[rows]] = -torch.inf
            upper.append(own - torch.logsumexp(others, 1) + math.log(n - 1))
    return float(torch.cat(lower).mean()), float(torch.cat(upper).mean())


def terms(settings, log):
    """The identity's terms on training and test rows, over the noise scale."""
    rows = []
    for name, (X_train, X_test, _, _) in datasets.each_set(settings):
        epochs = settings["epochs"] or "auto"
        for noise in NOISES:
            model = NoisyInfoMaxEmbedder(16, noise_scale=noise, max_epochs=epochs, random_state=0)
            model.fit(X_train)
            sigma, capacity = model.noise_scale_, model.capacity_
            for split, X in (("train", X_train), ("test", X_test)):
                Z = model.transform(X)
                lower, upper = channel_information_bounds(Z, sigma)
                info_nce = model.estimate_mutual_info(X)
                rows.append(
                    {
                        "dataset": name,
                        "d": 16,
                        "noise": f"{sigma:.3g}" + (" (auto)" if noise == "auto" else ""),
                        "rows": split,
                        "n": len(X),
                        "capacity": capacity,
                        "info_nce": info_nce,
                        "information_low": lower,
                        "information_high": upper,
                        "kl_low": max(0.0, capacity - upper),  # a KL is never negative
                        "kl_high": capacity - lower,
                        "remainder_low": lower - info_nce,
                        "remainder_high": upper - info_nce,
                        "w2_ratio": measures.prior_match(Z, n_reference=20)["w2_ratio"],
                    }
                )
                log(
                    f"terms {name} noise {sigma:.3g} {split}: C {capacity:.2f}, InfoNCE "
                    f"{info_nce:.2f}, I {lower:.2f}-{upper:.2f}, W2 {rows[-1]['w2_ratio']:.2f}"
                )
    return rows
