"""What a fitted embedder computes from its state (sklearn_ndim._inference)."""

import pickle

import numpy as np
import pytest
import torch

from sklearn_ndim import NoisyInfoMaxEmbedder, _inference
from sklearn_ndim._inference import (
    decoded_rows,
    gaussian_embedding,
    output_dtype,
    portable_state,
    restore_devices,
)
from sklearn_ndim._priors import typicality_logp


@pytest.fixture(scope="module")
def fitted(blobs, fast):
    X, _ = blobs
    return NoisyInfoMaxEmbedder(4, fit_inverse_transform=True, **fast).fit(X), X


@pytest.mark.parametrize(
    "dtype, expected",
    [(np.float32, np.float32), (np.float64, np.float64), (np.uint8, np.float64)],
)
def test_output_dtype_keeps_float_precision_and_widens_the_rest(dtype, expected):
    assert output_dtype(np.zeros((2, 3), dtype=dtype)) == expected


def test_the_chunked_embedding_equals_one_pass(fitted, monkeypatch):
    model, X = fitted
    whole = gaussian_embedding(model, X)
    monkeypatch.setattr(_inference, "STREAM_CHUNK_ROWS", 7)
    np.testing.assert_allclose(gaussian_embedding(model, X), whole, rtol=0, atol=1e-12)
    # transform is the prior's map of it (the identity for the Gaussian prior).
    np.testing.assert_allclose(model.transform(X), whole, rtol=0, atol=1e-12)


def test_score_samples_is_the_typicality_of_the_gaussian_embedding(fitted):
    model, X = fitted
    expected = typicality_logp(gaussian_embedding(model, X))
    np.testing.assert_array_equal(model.score_samples(X), expected)
    np.testing.assert_array_equal(model.prior_.log_pvalues(model.transform(X)), expected)


def test_decoded_rows_are_clipped_to_the_training_range(fitted):
    model, X = fitted
    far = np.full((3, model.n_components_), 30.0)
    rows = decoded_rows(model, far)
    low, high = model._input_range
    assert rows.shape == (3, X.shape[1]) and np.all((rows >= low) & (rows <= high))


def test_the_portable_state_copies_the_decoder_and_leaves_the_estimator_alone(fitted):
    model, _ = fitted
    decoder = model._decoder
    state = portable_state(model.__getstate__())
    assert state["_decoder"] is not decoder and model._decoder is decoder
    for copied, original in zip(
        state["_decoder"].state_dict().values(), decoder.state_dict().values(), strict=True
    ):
        assert copied.device.type == "cpu"
        torch.testing.assert_close(copied, original, rtol=0, atol=0)


def test_an_unpickled_model_has_its_decoder_on_the_model_device(fitted):
    model, X = fitted
    restored = pickle.loads(pickle.dumps(model))
    restore_devices(restored)  # idempotent: unpickling already did it
    device = next(restored.net_.module_.parameters()).device
    assert all(p.device == device for p in restored._decoder.parameters())
    Z = model.transform(X[:5])
    np.testing.assert_array_equal(restored.inverse_transform(Z), model.inverse_transform(Z))


def test_pickling_a_streamed_model_leaves_its_reservoir_in_place(blobs, fast):
    X, _ = blobs
    model = NoisyInfoMaxEmbedder(4, batch_size=64, **fast).partial_fit(X[:200])
    reservoir, rows = model._reservoir, model._reservoir.rows
    restored = pickle.loads(pickle.dumps(model))
    assert model._reservoir is reservoir and model._reservoir.rows is rows
    torch.testing.assert_close(restored._reservoir.rows, rows, rtol=0, atol=0)
    model.partial_fit(X[200:])  # the original goes on streaming


@pytest.mark.parametrize("scale", [1e20, 1e200])
def test_rows_far_outside_the_training_rows_fail_the_measures_with_the_reason(fitted, scale):
    model, X = fitted
    far = X * scale
    # The critic's float32 scores overflow from about 1e19, the squares of a
    # float64 embedding from about 1e154; neither gives nan nor a false reason.
    with pytest.raises(ValueError, match="far outside the training rows .* standard deviations"):
        model.score(far)
    if scale < 1e38:
        with pytest.raises(ValueError, match="so far that the critic's float32 scores overflow"):
            model.estimate_mutual_info(far)
    assert np.isfinite(model.transform(far)).all()


def test_a_non_finite_estimate_on_ordinary_rows_is_not_blamed_on_their_distance(fitted):
    model, X = fitted
    broken = pickle.loads(pickle.dumps(model))
    broken.net_.module_.encoder.register_forward_hook(lambda module, args, out: out * np.nan)
    with pytest.raises(ValueError, match="within .* standard deviations .* output on these rows"):
        broken.estimate_mutual_info(X)


def test_inverse_transform_refuses_reordered_columns_and_booleans():
    pd = pytest.importorskip("pandas")
    X = np.random.default_rng(0).normal(size=(80, 4))
    model = NoisyInfoMaxEmbedder(
        n_components=2, fit_inverse_transform=True, max_epochs=1, random_state=0
    ).set_output(transform="pandas")
    Z = model.fit(X).transform(X)
    # Read by position, the columns had given other rows without a word.
    with pytest.raises(ValueError, match="another order.*select them as X\\["):
        model.inverse_transform(Z[Z.columns[::-1]])
    np.testing.assert_array_equal(
        model.inverse_transform(Z[Z.columns[::-1]][list(Z.columns)]), model.inverse_transform(Z)
    )
    renamed = Z.set_axis(["a", "b"], axis=1)  # the user's own names: by position
    np.testing.assert_array_equal(model.inverse_transform(renamed), model.inverse_transform(Z))
    for booleans in (
        Z.to_numpy() > 0,
        pd.DataFrame(Z.to_numpy() > 0),
        pd.DataFrame(Z.to_numpy() > 0).astype(object),
    ):
        with pytest.raises(ValueError, match="X holds booleans"):
            model.inverse_transform(booleans)
    with pytest.raises(ValueError, match="X holds text"):
        model.inverse_transform(Z.astype(str))
    with pytest.raises(ValueError, match="2-dimensional"):
        model.inverse_transform(Z.iloc[:, 0])


class _CastsToFloat32(torch.nn.Module):
    """An encoder that trains fine and cannot run in a float64 copy of itself."""

    def __init__(self, input_shape, n_components):
        super().__init__()
        self.linear = torch.nn.Linear(input_shape[0], n_components)

    def forward(self, x):
        return self.linear(x.float())


def test_a_custom_encoder_embeds_float64_rows_in_float32_as_it_trained(blobs, fast):
    # transform, score and fit_transform ran a float64 copy of the module and
    # failed with "mat1 and mat2 must have the same dtype".
    X = blobs[0]
    embedder = NoisyInfoMaxEmbedder(2, encoder=_CastsToFloat32, **fast)
    Z = embedder.fit_transform(X)
    assert Z.dtype == np.float64
    np.testing.assert_array_equal(Z, embedder.transform(X))
    np.testing.assert_allclose(Z, embedder.transform(X.astype(np.float32)), atol=1e-5)
    assert np.isfinite(embedder.score(X)) and np.isfinite(embedder.score_samples(X)).all()
