"""The methods compared: the noisy embedder over a noise grid, and its peers.

Every method outputs ``N_COMPONENTS`` dimensions and is judged against the
same prior. Peers that cannot target a distribution get the cheapest fair
adaptation: each output dimension is standardised on the training rows (a
no-op for whitened PCA) and, for the uniform prior, squashed by the Gaussian
CDF, the same squashing the noisy embedder uses.
"""

from collections.abc import Callable
from dataclasses import dataclass

from adversarial_dim import AdversarialInfoMaxEmbedder
from scipy import special
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition import PCA
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import QuantileTransformer, StandardScaler
from suites import N_COMPONENTS, SEED

from sklearn_ndim import NoisyInfoMaxEmbedder

EMBEDDER = "NI-DIM"
PLAIN_INFOMAX = "InfoMax (noise 0)"
ADVERSARIAL = "adversarial DIM"
PEER_NAMES = ("PCA-whiten", "PCA+quantile", "UMAP", PLAIN_INFOMAX, ADVERSARIAL)


class MomentMatch(TransformerMixin, BaseEstimator):
    """Standardise each dimension; map through the Gaussian CDF for the uniform prior.

    Parameters
    ----------
    prior : {"gaussian", "uniform"}, default="gaussian"
        Target prior of the adapted output.
    """

    def __init__(self, prior="gaussian"):
        self.prior = prior

    def fit(self, X, y=None):
        """Learn the per-dimension mean and scale of ``X``.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_components)
            Training embedding.
        y : None
            Ignored.

        Returns
        -------
        self : MomentMatch
        """
        self.scaler_ = StandardScaler().fit(X)
        return self

    def transform(self, X):
        """Standardise ``X`` (and squash it into the unit cube for the uniform prior).

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_components)
            Embedding to adapt.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
        """
        Z = self.scaler_.transform(X)
        return special.ndtr(Z) if self.prior == "uniform" else Z


@dataclass(frozen=True)
class Method:
    """A named way to build an estimator for one prior.

    Attributes
    ----------
    name : str
        Label in tables and plots (the noise grid shares ``EMBEDDER``).
    family : str
        ``EMBEDDER`` for the noisy embedder with noise > 0, else the peer's name.
    noise_scale : float or None
        Noise of the noisy embedder (0 for plain InfoMax), None for others.
    uses_images : bool
        Fit on :attr:`Split.E_train` (images where available) rather than flat rows.
    make : callable
        ``make(prior, max_epochs) -> estimator`` with fit/transform.
    """

    name: str
    family: str
    noise_scale: float | None
    uses_images: bool
    make: Callable


def _embedder(noise):
    """Factory of the noisy embedder at ``noise``."""

    def make(prior, max_epochs):
        return NoisyInfoMaxEmbedder(
            N_COMPONENTS, prior=prior, noise_scale=noise, max_epochs=max_epochs, random_state=SEED
        )

    return make


def _adversarial(prior, max_epochs):
    """Adversarial DIM with the tuned weight."""
    return AdversarialInfoMaxEmbedder(
        N_COMPONENTS, prior=prior, max_epochs=max_epochs, random_state=SEED
    )


def _pca_whiten(prior, max_epochs):
    """Whitened PCA (Gaussian CDF for the uniform prior)."""
    return make_pipeline(PCA(N_COMPONENTS, whiten=True, random_state=SEED), MomentMatch(prior))


def _pca_quantile(prior, max_epochs):
    """PCA then a quantile transform to the prior's marginal."""
    output = "uniform" if prior == "uniform" else "normal"
    return make_pipeline(
        PCA(N_COMPONENTS, random_state=SEED),
        QuantileTransformer(output_distribution=output, random_state=SEED),
    )


def _umap(prior, max_epochs):
    """UMAP, standardised (and squashed for the uniform prior)."""
    import umap  # imported lazily: numba compilation takes a while

    return make_pipeline(
        umap.UMAP(n_components=N_COMPONENTS, random_state=SEED), MomentMatch(prior)
    )


def noise_label(noise):
    """Short label of a noise scale, e.g. ``0.5`` -> ``"0.5"``."""
    return f"{noise:g}"


def embedder_grid(noise_scales):
    """The noisy embedder at each noise scale; noise 0 is the plain InfoMax peer.

    Parameters
    ----------
    noise_scales : iterable of float
        Noise grid of one prior (sigma, or eps for the uniform prior).

    Returns
    -------
    methods : list of Method
    """
    methods = []
    for noise in noise_scales:
        if noise == 0:
            methods.append(Method(PLAIN_INFOMAX, PLAIN_INFOMAX, 0.0, True, _embedder(0.0)))
        else:
            name = f"{EMBEDDER} {noise_label(noise)}"
            methods.append(Method(name, EMBEDDER, float(noise), True, _embedder(noise)))
    return methods


def peers():
    """The peers other than plain InfoMax (which is part of :func:`embedder_grid`).

    Returns
    -------
    methods : list of Method
    """
    return [
        Method("PCA-whiten", "PCA-whiten", None, False, _pca_whiten),
        Method("PCA+quantile", "PCA+quantile", None, False, _pca_quantile),
        Method("UMAP", "UMAP", None, False, _umap),
        Method(ADVERSARIAL, ADVERSARIAL, None, True, _adversarial),
    ]


def speed_methods():
    """Methods timed in the fit-time and throughput study (Gaussian prior).

    Returns
    -------
    methods : list of Method
        The noisy embedder at sigma = 1 and every peer except plain InfoMax
        (same cost as the noisy embedder).
    """
    return [Method(f"{EMBEDDER} 1", EMBEDDER, 1.0, True, _embedder(1.0))] + peers()
