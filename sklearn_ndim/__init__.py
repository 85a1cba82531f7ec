"""sklearn-ndim: self-supervised embeddings that follow the distribution you choose."""

from ._embedder import NoisyInfoMaxEmbedder

__all__ = ["NoisyInfoMaxEmbedder", "__version__"]

__version__ = "0.1.0"
