"""Shared fixtures: fast training settings, small generated data, seeds."""

from types import MappingProxyType

import numpy as np
import pytest

#: Training settings that keep a fit well under a second on small data.
FAST_SETTINGS = MappingProxyType({"max_epochs": 3, "hidden_layer_sizes": (16,), "random_state": 0})


@pytest.fixture(scope="session")
def fast():
    """Keyword arguments for a fast, seeded fit: ``NoisyInfoMaxEmbedder(**fast)``."""
    return FAST_SETTINGS


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def blobs():
    """Four Gaussian clusters in 10 dimensions: 400 rows with labels."""
    generator = np.random.default_rng(42)
    centers = generator.normal(scale=3.0, size=(4, 10))
    labels = np.repeat(np.arange(4), 100)
    X = centers[labels] + generator.normal(size=(400, 10))
    return X, labels


@pytest.fixture
def tiny_module():
    """Factory of a seeded 4 -> 2 InfoMaxModule (one hidden layer of 8, separable critic).

    Its normaliser is calibrated on 64 standard-normal rows, so that it runs in
    eval mode too; the module is returned in training mode.
    """
    import torch

    from sklearn_ndim._model import InfoMaxModule, MLPEncoder, SeparableCritic
    from sklearn_ndim._priors import resolve_prior

    def build(noise_scale=1.0):
        torch.manual_seed(0)
        module = InfoMaxModule(
            MLPEncoder(4, 2, (8,)),
            2,
            resolve_prior("gaussian"),
            noise_scale,
            SeparableCritic(2, noise_scale),
            (4,),
        ).eval()
        with torch.no_grad():
            module.normalizer.calibrate(module.encode(torch.randn(64, 4)))
        return module.train()

    return build


@pytest.fixture(scope="module")
def training_data():
    """100 standard-normal rows of 5 features (the diagnostics and scoring tests)."""
    return np.random.default_rng(0).normal(size=(100, 5))


@pytest.fixture(scope="module")
def embedder(training_data):
    """A 2-d embedder fitted for 2 epochs on ``training_data``."""
    from sklearn_ndim import NoisyInfoMaxEmbedder

    return NoisyInfoMaxEmbedder(n_components=2, max_epochs=2, random_state=0).fit(training_data)


@pytest.fixture
def no_training(monkeypatch):
    """Fail the test if the command line starts training."""

    def refuse(*args, **kwargs):
        raise AssertionError("training started although the input was bad")

    from sklearn_ndim import _cli

    monkeypatch.setattr(_cli, "_fit", refuse)
