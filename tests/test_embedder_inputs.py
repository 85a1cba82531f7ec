"""Input handling of NoisyInfoMaxEmbedder: bad input, images, dtypes."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from sklearn_ndim import NoisyInfoMaxEmbedder

FAST = dict(max_epochs=2, hidden_layer_sizes=(16,), random_state=0)


@pytest.fixture(scope="module")
def table():
    return np.random.default_rng(0).normal(size=(40, 5))


@pytest.mark.parametrize(
    "X, message",
    [
        (np.full((10, 3), np.nan), "NaN"),
        (np.full((10, 3), np.inf), "infinity"),
        (np.empty((0, 3)), "0 sample"),
        (np.ones((1, 3)), "1 sample"),
        (np.array([["a", "b"], ["c", "d"]], dtype=object), "could not convert"),
        (np.full((10, 3), 1e300), "float32 range"),
    ],
)
def test_bad_training_data(X, message):
    with pytest.raises(ValueError, match=message):
        NoisyInfoMaxEmbedder(**FAST).fit(X)


def test_sparse_input_is_refused_with_a_fix(table):
    with pytest.raises(TypeError, match="dense data is required"):
        NoisyInfoMaxEmbedder(**FAST).fit(sp.csr_matrix(table))


def test_wrong_feature_count_at_transform(table):
    embedder = NoisyInfoMaxEmbedder(n_components=2, **FAST).fit(table)
    with pytest.raises(ValueError, match="5 features"):
        embedder.transform(table[:, :4])


@pytest.mark.parametrize(
    "params, error, message",
    [
        ({"noise_scale": -0.1}, ValueError, "noise_scale"),
        ({"noise_scale": float("inf")}, ValueError, "noise_scale"),
        ({"n_components": 0}, ValueError, "n_components"),
        ({"prior": "cauchy"}, ValueError, "prior"),
        ({"device": "gpu7"}, ValueError, "not a torch device"),
        ({"batch_size": 1}, ValueError, "batch_size"),
        ({"hidden_layer_sizes": (8, 0)}, ValueError, "positive integers"),
        ({"critic": "bilinear"}, ValueError, "critic"),
        ({"n_components": 50, "batch_size": 20}, ValueError, "whiten"),
    ],
)
def test_bad_parameters(table, params, error, message):
    with pytest.raises(error, match=message):
        NoisyInfoMaxEmbedder(**{**FAST, **params}).fit(table)


def test_images_in_every_layout_give_the_same_embedding():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(48, 1, 8, 8)).astype(np.uint8)
    params = dict(n_components=2, **FAST)
    by_4d = NoisyInfoMaxEmbedder(**params).fit(images)
    by_3d = NoisyInfoMaxEmbedder(**params).fit(images[:, 0])
    flat = NoisyInfoMaxEmbedder(image_shape=(8, 8), **params).fit(images.reshape(48, -1))
    assert isinstance(by_4d.net_.module_.encoder, torch.nn.Module)
    assert type(by_4d.net_.module_.encoder).__name__ == "ConvEncoder"
    expected = by_4d.transform(images)
    np.testing.assert_allclose(by_3d.transform(images[:, 0]), expected, atol=1e-6)
    np.testing.assert_allclose(flat.transform(images.reshape(48, -1)), expected, atol=1e-6)
    np.testing.assert_allclose(by_4d.transform(images.reshape(48, -1)), expected, atol=1e-6)
    assert by_4d.n_features_in_ == 64


def test_image_shape_mismatch_at_transform():
    images = np.random.default_rng(0).random((20, 3, 6, 6))
    embedder = NoisyInfoMaxEmbedder(n_components=2, **FAST).fit(images)
    with pytest.raises(ValueError, match="images of shape"):
        embedder.transform(np.random.default_rng(1).random((5, 1, 6, 6)))


def test_conv_encoder_needs_images(table):
    with pytest.raises(ValueError, match="needs images"):
        NoisyInfoMaxEmbedder(encoder="conv", **FAST).fit(table)


def test_encoder_with_the_wrong_output_is_refused(table):
    with pytest.raises(ValueError, match="must return"):
        NoisyInfoMaxEmbedder(n_components=3, encoder=torch.nn.Linear(5, 2), **FAST).fit(table)


def test_encoder_callable_must_build_a_module(table):
    with pytest.raises(TypeError, match="not a torch.nn.Module"):
        NoisyInfoMaxEmbedder(encoder=lambda **kwargs: "mlp", **FAST).fit(table)


def test_constant_features_stay_finite():
    X = np.random.default_rng(0).normal(size=(30, 4))
    X[:, 2] = 7.0
    Z = NoisyInfoMaxEmbedder(n_components=2, **FAST).fit_transform(X)
    assert np.isfinite(Z).all()


def test_callbacks_classes_are_refused(table):
    from skorch.callbacks import EpochTimer

    with pytest.raises(TypeError, match="instances"):
        NoisyInfoMaxEmbedder(callbacks=[EpochTimer], **FAST).fit(table)
