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

# Error messages, reprs and pickles name the public path, not the private module.
for _public in (NoisyInfoMaxEmbedder, Prior, GaussianPrior, UniformPrior, ScipyPrior):
    _public.__module__ = __name__
del _public
