"""Input handling of NoisyInfoMaxEmbedder: bad input, images, dtypes."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from scipy import stats
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_ndim import NoisyInfoMaxEmbedder
from sklearn_ndim._validation import _NUMERIC_PARAMETERS


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
        (np.random.default_rng(0).normal(size=(10, 3)) * 1e200, "overflows float64"),
    ],
)
def test_bad_training_data(X, message, fast):
    with pytest.raises(ValueError, match=message):
        NoisyInfoMaxEmbedder(**fast).fit(X)


def test_sparse_input_is_refused_with_a_fix(table, fast):
    # scikit-learn's message advised X.toarray(), which a Pipeline's step cannot do.
    embedder = NoisyInfoMaxEmbedder(n_components=2, **fast)
    with pytest.raises(TypeError, match=r"sparse.*OneHotEncoder\(sparse_output=False\)"):
        embedder.fit(sp.csr_matrix(table))
    embedder.fit(table)
    with pytest.raises(TypeError, match="sparse_threshold=0"):
        embedder.transform(sp.csr_matrix(table))


def test_text_columns_are_named_beside_categories(fast):
    # Only the categories were named: the text column came up after encoding them.
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(
        {
            "region": ["east", "west"] * 10,
            "grade": pd.Categorical(["a", "b"] * 10),
            "count": [str(i) for i in range(20)],  # numbers as text convert
            "x": np.arange(20.0),
        }
    )
    with pytest.raises(ValueError, match=r"columns 'grade' \(category\), 'region' \([a-z]+\)\."):
        NoisyInfoMaxEmbedder(**fast).fit(X)


def test_wrong_feature_count_at_transform(table, fast):
    embedder = NoisyInfoMaxEmbedder(n_components=2, **fast).fit(table)
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
def test_bad_parameters(table, params, error, message, fast):
    with pytest.raises(error, match=message):
        NoisyInfoMaxEmbedder(**{**fast, **params}).fit(table)


def test_images_in_every_layout_give_the_same_embedding(fast):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(48, 1, 8, 8)).astype(np.uint8)
    params = dict(n_components=2, **fast)
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


def test_image_shape_mismatch_at_transform(fast):
    images = np.random.default_rng(0).random((20, 3, 6, 6))
    embedder = NoisyInfoMaxEmbedder(n_components=2, **fast).fit(images)
    with pytest.raises(ValueError, match="images of shape"):
        embedder.transform(np.random.default_rng(1).random((5, 1, 6, 6)))


def test_one_image_without_its_batch_axis_is_named(fast):
    generator = np.random.default_rng(0)
    colour = NoisyInfoMaxEmbedder(n_components=2, **fast).fit(generator.random((20, 3, 6, 6)))
    grey = NoisyInfoMaxEmbedder(n_components=2, **fast).fit(generator.random((20, 6, 6)))
    image = generator.random((3, 6, 6))
    with pytest.raises(ValueError, match=r"shape of one image, \(3, 6, 6\).*X\[None\]"):
        colour.transform(image)
    assert colour.transform(image[None]).shape == (1, 2)
    with pytest.raises(ValueError, match=r"shape of one image, \(6, 6\).*X\[None\]"):
        grey.transform(image[0])
    assert grey.transform(image[0][None]).shape == (1, 2)
    # A batch of one grey image, and one row of a strip of pixels, are batches already.
    assert grey.transform(image[:1]).shape == (1, 2)
    strips = NoisyInfoMaxEmbedder(n_components=2, **fast).fit(generator.random((20, 1, 1, 8)))
    assert strips.transform(generator.random((1, 8))).shape == (1, 2)


def test_a_batch_of_no_images_gets_scikit_learns_message(fast):
    images = np.random.default_rng(0).random((20, 6, 6))
    embedder = NoisyInfoMaxEmbedder(n_components=2, **fast).fit(images)
    for method in (embedder.transform, embedder.score_samples, embedder.partial_fit):
        with pytest.raises(ValueError, match="0 sample"):
            method(images[:0])
    with pytest.raises(ValueError, match="0 sample"):
        NoisyInfoMaxEmbedder(n_components=2, **fast).fit(images[:0])


def test_conv_encoder_needs_images(table, fast):
    with pytest.raises(ValueError, match="needs images"):
        NoisyInfoMaxEmbedder(encoder="conv", **fast).fit(table)


def test_encoder_with_the_wrong_output_is_refused(table, fast):
    with pytest.raises(ValueError, match="must return"):
        NoisyInfoMaxEmbedder(n_components=3, encoder=torch.nn.Linear(5, 2), **fast).fit(table)


class _Misbehaving(torch.nn.Module):
    """Linear(5, 2), then one of several faults."""

    def __init__(self, fault):
        super().__init__()
        self.linear = torch.nn.Linear(5, 2)
        self.fault = fault

    def forward(self, x):
        out = self.linear(x)
        if self.fault == "tuple":
            return out, 0
        if self.fault == "index":
            return out[:, [5]]  # IndexError
        if self.fault == "nan in eval" and not self.training:
            return out * float("nan")
        if self.fault == "nan far out":
            return torch.where(x.abs().amax(1, keepdim=True) > 100, float("nan"), out)
        return out


@pytest.mark.parametrize(
    "fault, error, message",
    [
        ("tuple", ValueError, "returned a tuple"),
        ("index", ValueError, "The encoder failed on a batch of 2 samples"),
        ("nan in eval", FloatingPointError, r"not finite \(NaN or inf\) on 40 of the 40 clean"),
    ],
)
def test_faulty_custom_encoders_get_clear_errors(table, fast, fault, error, message):
    embedder = NoisyInfoMaxEmbedder(2, encoder=_Misbehaving(fault), **fast)
    with pytest.raises(error, match=message):
        embedder.fit(table)
    assert not hasattr(embedder, "net_")


def test_score_names_rows_whose_embedding_is_not_finite(table, fast):
    embedder = NoisyInfoMaxEmbedder(2, encoder=_Misbehaving("nan far out"), **fast).fit(table)
    X = table.copy()
    X[3] = 1e4  # standardised, far above 100
    with pytest.raises(ValueError, match=r"not finite \(NaN or inf\) in 1 of its 40 rows"):
        embedder.score(X)


def test_encoder_callable_must_build_a_module(table, fast):
    with pytest.raises(TypeError, match="not a torch.nn.Module"):
        NoisyInfoMaxEmbedder(encoder=lambda **kwargs: "mlp", **fast).fit(table)


def test_constant_features_stay_finite(fast):
    X = np.random.default_rng(0).normal(size=(30, 4))
    X[:, 2] = 7.0
    Z = NoisyInfoMaxEmbedder(n_components=2, **fast).fit_transform(X)
    assert np.isfinite(Z).all()


def test_callbacks_classes_are_refused(table, fast):
    from skorch.callbacks import EpochTimer

    with pytest.raises(TypeError, match="instances"):
        NoisyInfoMaxEmbedder(callbacks=[EpochTimer], **fast).fit(table)


# ------------------------------------------------------------ audit faults


@pytest.mark.parametrize(
    "params, error, message",
    [
        ({"noise_scale": 1e-300}, ValueError, "noise_scale"),
        ({"noise_scale": 1e300}, ValueError, "noise_scale"),
        ({"prior_penalty": -1.0}, ValueError, "prior_penalty"),
        ({"prior_penalty": float("inf")}, ValueError, "prior_penalty"),
        ({"prior_penalty": float("nan")}, ValueError, "prior_penalty"),
        ({"device": "meta"}, ValueError, "does not support"),
        ({"device": "xpu"}, ValueError, "does not support"),
        ({"prior": stats.norm(loc=[0.0, 1.0])}, ValueError, "finite scalar parameters"),
        ({"prior": stats.beta(np.nan, 2.0)}, ValueError, "finite scalar parameters"),
        ({"prior": stats.poisson(3)}, ValueError, "continuous; got the discrete distribution"),
    ],
)
def test_nonsense_parameters_are_refused_before_training(table, fast, params, error, message):
    with pytest.raises(error, match=message):
        NoisyInfoMaxEmbedder(**{**fast, **params}).fit(table)


NUMERIC_PARAMETERS = sorted(_NUMERIC_PARAMETERS)


@pytest.mark.parametrize("name", NUMERIC_PARAMETERS)
@pytest.mark.parametrize("value", [True, False, np.True_])
def test_booleans_are_refused_for_every_numeric_parameter(table, fast, name, value):
    # bool is an int in Python, so scikit-learn's constraints let True and False through:
    # noise_scale=False trained plain InfoMax and learning_rate=True a rate of 1.
    embedder = NoisyInfoMaxEmbedder(**{**fast, name: value})
    # scikit-learn's own check refuses values that are out of range as numbers (batch_size=1).
    refused = f"{name}' parameter .*(not the boolean|Got {value!r} instead)"
    with pytest.raises(InvalidParameterError, match=refused):
        embedder.fit(table)
    assert not hasattr(embedder, "net_")
    with pytest.raises(InvalidParameterError, match=refused):
        embedder.partial_fit(table)


def test_numeric_parameters_cover_the_numbers():
    assert {"n_components", "noise_scale", "learning_rate", "max_epochs", "random_state"} <= set(
        NUMERIC_PARAMETERS
    )
    assert not {"flip", "standardize", "verbose", "fit_inverse_transform"} & set(NUMERIC_PARAMETERS)


@pytest.mark.parametrize(
    "value, message",
    [
        (True, "a number or .auto., not the boolean"),
        (np.True_, "must be a float in the range"),
        (-1.0, "must be a float in the range"),  # it trained by gradient ascent
    ],
)
def test_a_bad_learning_rate_is_refused_in_a_later_partial_fit_too(table, fast, value, message):
    embedder = NoisyInfoMaxEmbedder(**fast).partial_fit(table)
    before = embedder.transform(table)
    embedder.set_params(learning_rate=value)
    with pytest.raises(InvalidParameterError, match=f"learning_rate.*{message}"):
        embedder.partial_fit(table)
    np.testing.assert_array_equal(embedder.transform(table), before)


def test_boolean_messages_name_every_kind_of_value():
    embedder = NoisyInfoMaxEmbedder(noise_scale=False)
    with pytest.raises(InvalidParameterError, match="must be a number or 'auto', not the boolean"):
        embedder.fit(np.random.default_rng(0).normal(size=(20, 3)))


def test_channels_last_images_are_detected(fast):
    images = np.random.default_rng(0).random((20, 12, 12, 3))
    with pytest.raises(ValueError, match="channels-last"):
        NoisyInfoMaxEmbedder(n_components=2, **fast).fit(images)


@pytest.mark.parametrize("shape", [(16, 16, 8), (4, 4, 3), (12, 12, 5)])
def test_images_whose_shortest_axis_is_last_are_read_channels_first_with_a_warning(fast, shape):
    images = np.random.default_rng(0).random((20, *shape)).astype(np.float32)
    with pytest.warns(UserWarning, match=r"read channels first.*np\.moveaxis\(X, -1, 1\)"):
        embedder = NoisyInfoMaxEmbedder(n_components=2, **fast).fit(images)
    assert embedder._sample_shape == shape
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*channels first.*")
        NoisyInfoMaxEmbedder(n_components=2, image_shape=shape, **fast).fit(images)


@pytest.mark.parametrize("shape", [(3, 12, 12), (1, 8, 8), (64, 7, 7), (2, 5, 9)])
def test_channels_first_images_fit_without_a_layout_warning(fast, shape):
    images = np.random.default_rng(0).random((20, *shape)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*channels first.*")
        NoisyInfoMaxEmbedder(n_components=2, **fast).fit(images)


@pytest.mark.parametrize("factor", [1e-200, 1e-300])
def test_tiny_features_embed_as_their_rescaled_copies(fast, factor):
    # Their variance underflowed: every feature was called constant and fit refused X.
    X = np.random.default_rng(0).normal(size=(200, 5))
    plain = NoisyInfoMaxEmbedder(n_components=2, **fast).fit(X)
    tiny = NoisyInfoMaxEmbedder(n_components=2, **fast).fit(X * factor)
    np.testing.assert_allclose(tiny.transform(X * factor), plain.transform(X), atol=1e-4)


def test_a_large_offset_does_not_destroy_the_signal(fast):
    X = np.random.default_rng(0).normal(size=(200, 5))
    plain = NoisyInfoMaxEmbedder(n_components=2, **fast).fit(X)
    shifted = NoisyInfoMaxEmbedder(n_components=2, **fast).fit(X + 1e8)
    # 1e8 + x keeps x to about 1e-8; training amplifies that round-off a little.
    np.testing.assert_allclose(shifted.transform(X + 1e8), plain.transform(X), atol=0.05)


@pytest.mark.parametrize(
    "prior",
    [stats.laplace(), stats.expon(), stats.t(df=5), stats.beta(2.0, 3.0), stats.cauchy()],
    ids=lambda p: p.dist.name,
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scipy_priors_stay_finite_far_from_the_training_data(blobs, fast, prior, dtype):
    X = blobs[0]
    embedder = NoisyInfoMaxEmbedder(n_components=2, prior=prior, **fast).fit(X)
    for scale in (1.0, 10.0, 1e4):
        Z = embedder.transform((scale * X).astype(dtype))
        assert Z.dtype == dtype and np.all(np.isfinite(Z))
    low, high = prior.support()
    Z = embedder.transform((1e4 * X).astype(dtype))
    assert Z.min() >= low and Z.max() <= high


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_uniform_outputs_stay_in_the_open_cube(blobs, fast, dtype):
    X = blobs[0]
    embedder = NoisyInfoMaxEmbedder(n_components=2, prior="uniform", noise_scale=0.1, **fast)
    Z = embedder.fit(X).transform((1e4 * X).astype(dtype))
    assert Z.min() > 0 and Z.max() < 1


def test_score_refuses_too_few_rows_and_discrete_data_clearly(fast):
    rng = np.random.default_rng(0)
    binary = rng.integers(0, 2, size=(500, 4)).astype(float)
    embedder = NoisyInfoMaxEmbedder(n_components=2, **fast).fit(binary)
    with pytest.raises(ValueError, match="16 distinct rows among 500"):
        embedder.score(binary)
    continuous = NoisyInfoMaxEmbedder(n_components=3, **fast).fit(rng.normal(size=(60, 4)))
    with pytest.raises(ValueError, match=r"at least max\(n_components \+ 2, 5\) = 5 rows"):
        continuous.score(rng.normal(size=(4, 4)))
    assert np.isfinite(continuous.score(rng.normal(size=(60, 4))))
    # One dimension: the Gaussian fit would take 3 rows, the marginal entropy needs 5.
    line = NoisyInfoMaxEmbedder(n_components=1, **fast).fit(rng.normal(size=(60, 4)))
    with pytest.raises(ValueError, match=r"= 5 rows .* got 4"):
        line.score(rng.normal(size=(4, 4)))
    assert np.isfinite(line.score(rng.normal(size=(5, 4))))


def test_parameters_changed_after_fit_do_not_reinterpret_the_model(blobs, fast):
    X = blobs[0]
    embedder = NoisyInfoMaxEmbedder(n_components=2, **fast).fit(X)
    before = (
        embedder.transform(X),
        embedder.score(X),
        embedder.score_samples(X),
        embedder.estimate_mutual_info(X),
    )
    embedder.set_params(
        prior="uniform", n_neighbors=0, jitter_scale=2.0, noise_scale=3.0, batch_size=16
    )
    after = (
        embedder.transform(X),
        embedder.score(X),
        embedder.score_samples(X),
        embedder.estimate_mutual_info(X),
    )
    np.testing.assert_array_equal(after[0], before[0])
    assert after[1] == before[1] and after[3] == before[3]
    np.testing.assert_array_equal(after[2], before[2])


def test_values_float32_cannot_hold_are_refused_clearly(fast):
    X = np.random.default_rng(0).normal(size=(30, 3))
    with pytest.raises(ValueError, match="overflow float32"):
        NoisyInfoMaxEmbedder(standardize=False, **fast).fit(X * 1e39)
    tiny = NoisyInfoMaxEmbedder(n_components=2, **fast).fit(X * 1e-30)
    with pytest.raises(ValueError, match="overflow float32 once standardised.*pass X as float64"):
        tiny.transform(np.full((2, 3), 1e10, dtype=np.float32))
    assert np.isfinite(tiny.transform(np.full((2, 3), 1e10))).all()


def test_text_in_X_names_the_encoders(fast):
    import pandas as pd

    frame = pd.DataFrame({"a": np.arange(20.0), "colour": ["red", "blue"] * 10})
    # pandas 3 stores text as its "str" dtype, older versions as objects.
    with pytest.raises(ValueError, match="X must be numeric.*'(colour|red)'.*OneHotEncoder"):
        NoisyInfoMaxEmbedder(n_components=1, **fast).fit(frame)
    fitted = NoisyInfoMaxEmbedder(n_components=1, **fast).fit(frame[["a"]].to_numpy())
    with pytest.raises(ValueError, match="X must be numeric.*ColumnTransformer"):
        fitted.transform(np.array([["x"]] * 3, dtype=object))


def test_category_and_date_columns_are_named(fast):
    import pandas as pd

    frame = pd.DataFrame(
        {
            "a": np.arange(20.0),
            "size": pd.Categorical(["lo", "hi"] * 10),
            "day": pd.date_range("2026-01-01", periods=20),
            "count": pd.array(range(20), dtype="Int64"),
            "as_object": np.arange(20.0).astype(object),
        }
    )
    with pytest.raises(ValueError, match=r"columns 'size' \(category\), 'day' \(datetime64"):
        NoisyInfoMaxEmbedder(n_components=1, **fast).fit(frame)
    # Numbers, nullable integers and object columns of numbers are accepted.
    NoisyInfoMaxEmbedder(n_components=1, **fast).fit(frame[["a", "count", "as_object"]])


def test_missing_values_in_a_pandas_text_column_are_named(fast):
    import pandas as pd

    frame = pd.DataFrame(
        {"a": np.arange(20.0), "b": pd.Series(["1.0"] * 19 + [None], dtype="string")}
    )
    with pytest.raises(ValueError, match="missing values .*SimpleImputer"):
        NoisyInfoMaxEmbedder(n_components=1, **fast).fit(frame)


def test_images_given_to_a_model_of_rows_are_refused_clearly(fast):
    X = np.random.default_rng(0).standard_normal((30, 64))
    fitted = NoisyInfoMaxEmbedder(n_components=2, **fast).fit(X)
    with pytest.raises(ValueError, match=r"fitted on rows of 64 features.*reshape"):
        fitted.transform(X.reshape(30, 8, 8))


def test_too_few_rows_to_whiten_says_what_would_help(fast):
    X = np.random.default_rng(0).standard_normal((3, 10))
    with pytest.raises(ValueError, match="batches here hold only 3 rows.*use more rows"):
        NoisyInfoMaxEmbedder(n_components=8, **fast).fit(X)
