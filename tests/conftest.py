"""Shared fixtures: small generated data and fitted embedders reused per module."""

import numpy as np
import pytest


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
