"""sklearn-ndim: self-supervised embeddings that follow the distribution you choose."""

from ._embedder import NoisyInfoMaxEmbedder
from ._priors import GaussianPrior, Prior, ScipyPrior, UniformPrior

__all__ = [
    "NoisyInfoMaxEmbedder",
    "Prior",
    "GaussianPrior",
    "UniformPrior",
    "ScipyPrior",
    "__version__",
]

__version__ = "0.2.0.dev0"
