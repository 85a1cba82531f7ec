"""sklearn-ndim: self-supervised embeddings that follow the distribution you choose."""

import importlib

__version__ = "0.2.0.dev0"

# Imported on first use, so that ``import sklearn_ndim`` and the command line's
# --help and --version do not wait for torch, skorch and scikit-learn.
_LAZY = {
    "NoisyInfoMaxEmbedder": "._embedder",
    "Prior": "._priors",
    "GaussianPrior": "._priors",
    "UniformPrior": "._priors",
    "ScipyPrior": "._priors",
}

__all__ = [*_LAZY, "__version__"]


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name], __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted({*globals(), *_LAZY})
