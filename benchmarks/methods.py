"""Every method the benchmarks compare, behind one factory: ``make(name, d, data_kind, **options)``.

Each returns an object with ``fit(X_train)`` and ``transform(X)``. Tables
arrive standardised, images as ``(n, 1, H, W)`` floats in [0, 1]; the shallow
peers see images as flat rows.
"""

from contextlib import contextmanager

import numpy as np
import torch
from deep_peers import AdversarialDIMEmbedder, VAEEmbedder, WAEEmbedder
from sklearn.decomposition import PCA, FastICA
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, QuantileTransformer

from sklearn_ndim import NoisyInfoMaxEmbedder

__all__ = ["make", "PEERS", "embedder"]

#: Peers of the match benchmarks, in table order.
PEERS = (
    "PCA(whiten)",
    "PCA+quantile",
    "UMAP (whitened)",
    "VAE",
    "WAE-MMD",
    "adversarial DIM",
)


def _flat():
    return FunctionTransformer(lambda X: np.asarray(X).reshape(len(X), -1))


def embedder(d, noise_scale="auto", random_state=0, **params):
    """The library's estimator with its defaults, for the match benchmarks."""
    return NoisyInfoMaxEmbedder(d, noise_scale=noise_scale, random_state=random_state, **params)


class _UMAP:
    """umap-learn with its defaults, its output whitened on the training rows.

    UMAP's coordinates have an arbitrary scale; the whitening is the best
    linear correction towards N(0, I), so the match compares shapes.
    """

    def __init__(self, d, random_state):
        import umap

        self.model = umap.UMAP(n_components=d, random_state=random_state, n_jobs=1)
        self.whitening = PCA(d, whiten=True, random_state=random_state)

    def fit(self, X, y=None):
        with _torch_threads_kept():
            self.whitening.fit(self.model.fit_transform(np.asarray(X).reshape(len(X), -1)))
        return self

    def transform(self, X):
        with _torch_threads_kept():
            embedding = self.model.transform(np.asarray(X).reshape(len(X), -1))
        return self.whitening.transform(embedding)


@contextmanager
def _torch_threads_kept():
    """Undo numba's change of the OpenMP thread count that torch shares with it.

    Without this, every torch fit after a UMAP fit in the same process runs on
    more threads than the benchmark asked for.
    """
    threads = torch.get_num_threads()
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def make(name, d, *, max_epochs=100, own_epochs=None, random_state=0, **params):
    """A fresh, unfitted method called ``name`` with embedding dimension ``d``.

    ``"NI-DIM"`` is the library's estimator (``params`` go to it, e.g.
    ``noise_scale``); ``"InfoMax (noise 0)"`` the same with no noise. Deep
    peers train for ``max_epochs`` with the estimator's batch size and
    learning rate; the estimator's variants for ``own_epochs`` when given
    (``"auto"``: its own budget, which is shorter on images).
    """
    if own_epochs is not None and name in ("NI-DIM", "NI-DIM uniform", "InfoMax (noise 0)"):
        max_epochs = own_epochs
    if name == "NI-DIM":
        return embedder(d, random_state=random_state, max_epochs=max_epochs, **params)
    if name == "NI-DIM uniform":
        return embedder(
            d, prior="uniform", random_state=random_state, max_epochs=max_epochs, **params
        )
    if name == "InfoMax (noise 0)":
        return embedder(d, noise_scale=0.0, random_state=random_state, max_epochs=max_epochs)
    if name == "PCA(whiten)":
        return make_pipeline(_flat(), PCA(d, whiten=True, random_state=random_state))
    if name == "PCA+quantile":
        return make_pipeline(
            _flat(),
            PCA(d, random_state=random_state),
            QuantileTransformer(output_distribution="normal", random_state=random_state),
        )
    if name == "FastICA":
        return make_pipeline(
            _flat(), FastICA(d, whiten="unit-variance", random_state=random_state, max_iter=1000)
        )
    if name in ("UMAP", "UMAP (whitened)"):
        return _UMAP(d, random_state)
    deep = {"VAE": VAEEmbedder, "WAE-MMD": WAEEmbedder, "adversarial DIM": AdversarialDIMEmbedder}
    if name in deep:
        return deep[name](d, max_epochs=max_epochs, random_state=random_state, **params)
    raise ValueError(f"unknown method {name!r}")
