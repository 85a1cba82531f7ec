"""Input layout and float64 standardisation."""

import warnings

import numpy as np
import pytest

from sklearn_ndim._data import InputScaler, check_image_shape, split_image_shape


def test_image_arrays_are_flattened_with_their_shape():
    flat, shape = split_image_shape(np.zeros((5, 3, 4, 6)), None)
    assert flat.shape == (5, 72) and shape == (3, 4, 6)
    flat, shape = split_image_shape(np.zeros((5, 4, 6)), None)
    assert flat.shape == (5, 24) and shape == (1, 4, 6)
    assert split_image_shape(np.zeros((5, 24)), (4, 6))[1] == (1, 4, 6)
    assert split_image_shape(np.zeros((5, 24)), None)[1] is None


@pytest.mark.parametrize(
    "X, image_shape, message",
    [
        (np.zeros((5, 24)), (5, 5), "holds 25 values"),
        (np.zeros((5, 4, 6)), (1, 6, 4), "image_shape"),
        (np.zeros((2, 2, 2, 2, 2)), None, "5 dimensions"),
        (np.zeros((5, 28, 28, 3)), None, "channels-last"),
        (np.zeros((5, 28, 28, 1)), None, r"np.moveaxis\(X, -1, 1\)"),
        (np.zeros((5, 64)), (8, 8, 1), r"pass image_shape=\(1, 8, 8\)"),
        (np.zeros((5, 192)), (8, 8, 3), r"looks channels-last"),
        (np.zeros((5, 16, 16, 2)), None, "channels-last"),
        (np.zeros((5, 1, 28, 28)), (28, 28, 1), r"pass image_shape=\(1, 28, 28\)"),
        (np.zeros((5, 28, 28)), (28, 28, 1), r"\(n, H, W\).*need no image_shape.*=None"),
    ],
)
def test_image_shape_mismatches(X, image_shape, message):
    with pytest.raises(ValueError, match=message):
        split_image_shape(X, image_shape)


def test_nested_lists_of_images_are_images():
    flat, shape = split_image_shape(np.zeros((5, 4, 6)).tolist(), None)
    assert flat.shape == (5, 24) and shape == (1, 4, 6)
    assert split_image_shape([[1.0, 2.0], [3.0, 4.0]], None)[1] is None


def test_channels_first_with_few_channels_is_accepted():
    assert split_image_shape(np.zeros((5, 3, 32, 3)), None)[1] == (3, 32, 3)


def test_many_channels_over_a_small_patch_are_channels_first():
    # 30 spectral bands of 3 x 3 patches: a last axis of 3, but no long image axes before it.
    assert split_image_shape(np.zeros((5, 30, 3, 3)), None)[1] == (30, 3, 3)
    assert split_image_shape(np.zeros((5, 270)), (30, 3, 3))[1] == (30, 3, 3)
    assert split_image_shape(np.zeros((5, 16, 4, 4)), None)[1] == (16, 4, 4)
    assert split_image_shape(np.zeros((5, 288)), (3, 32, 3))[1] == (3, 32, 3)
    assert split_image_shape(np.zeros((5, 64)), (8, 8))[1] == (1, 8, 8)


def test_bad_image_shape():
    with pytest.raises(ValueError, match="positive integers"):
        check_image_shape((0, 4))


def test_standardisation_in_float64_keeps_a_signal_on_a_large_offset():
    rng = np.random.default_rng(0)
    signal = rng.standard_normal((1000, 2))
    X = 1e8 + signal
    scaler = InputScaler.fit(X)
    out = scaler.transform(X, np.float32)
    assert out.dtype == np.float32
    expected = (signal - signal.mean(0)) / signal.std(0)
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_chunked_statistics_equal_whole_array_statistics(monkeypatch):
    import sklearn_ndim._data as data

    X = np.random.default_rng(1).normal(3.0, 2.0, size=(1001, 3))
    whole = InputScaler.fit(X)
    monkeypatch.setattr(data, "CHUNK_ROWS", 64)
    chunked = InputScaler.fit(X)
    np.testing.assert_allclose(chunked.mean, whole.mean, rtol=1e-13)
    np.testing.assert_allclose(chunked.scale, X.std(0), rtol=1e-12)


def test_images_get_one_mean_and_scale_per_channel():
    rng = np.random.default_rng(2)
    images = rng.normal(size=(50, 2, 3, 3)) * np.array([1.0, 10.0])[None, :, None, None]
    flat, shape = split_image_shape(images, None)
    scaler = InputScaler.fit(flat, shape)
    assert len(np.unique(scaler.scale[:9])) == 1 and len(np.unique(scaler.scale[9:])) == 1
    assert scaler.scale[9] / scaler.scale[0] > 5


def test_constant_features_keep_scale_one_and_no_standardise_is_the_identity():
    X = np.column_stack([np.full(10, 7.0), np.arange(10.0)])
    assert InputScaler.fit(X).scale[0] == 1.0
    identity = InputScaler.fit(X, standardize=False)
    np.testing.assert_array_equal(identity.transform(X, np.float64), X)


def test_constant_features_are_zero_whatever_value_they_take_later():
    X = np.column_stack([np.full(10, 7.0), np.arange(10.0)])
    scaler = InputScaler.fit(X)
    np.testing.assert_array_equal(scaler.constant, [True, False])
    moved = X.copy()
    moved[:, 0] = [7.0, 8.0, -1e6, 0.0, 7.5, 1e300, 3.0, 7.0, 6.0, 9.0]
    for dtype in (np.float32, np.float64):
        out = scaler.transform(moved, dtype)
        np.testing.assert_array_equal(out[:, 0], 0.0)
        np.testing.assert_array_equal(out, scaler.transform(X, dtype))
    # Per image channel: a constant channel is zero, the other one standardised.
    images = np.stack([np.full((5, 4), 3.0), np.arange(20.0).reshape(5, 4)], axis=1)
    flat = images.reshape(5, -1)
    per_channel = InputScaler.fit(flat, sample_shape=(2, 2, 2))
    np.testing.assert_array_equal(per_channel.constant, [True] * 4 + [False] * 4)
    assert np.all(per_channel.transform(flat + 1.0)[:, :4] == 0)


def test_a_scaler_pickled_before_the_mask_marks_no_feature_constant():
    import pickle

    scaler = InputScaler.fit(np.column_stack([np.zeros(5), np.arange(5.0)]))
    del scaler.constant  # as pickled by a version without the mask
    restored = pickle.loads(pickle.dumps(scaler))
    np.testing.assert_array_equal(restored.constant, [False, False])


def test_a_constant_feature_with_round_off_variance_counts_as_constant():
    from sklearn.datasets import load_digits
    from sklearn.preprocessing import StandardScaler

    # Column 56 of the second half of standardised digits is one repeated
    # value whose two-pass variance is round-off: its scale must be 1, not 2e-16.
    X = StandardScaler().fit_transform(load_digits().data)[899:]
    assert np.ptp(X[:, 56]) == 0
    assert InputScaler.fit(X).scale[56] == 1.0
    assert InputScaler.fit(X).scale.min() > 0.1


@pytest.mark.parametrize("factor", [1e-200, 1e-300, 1e-310, 1e150])
def test_a_feature_keeps_its_scale_however_small_or_large(factor):
    # The variance of values of 1e-200 underflowed to 0, and such features were
    # called constant (all of them: "every feature of X is constant").
    X = np.random.default_rng(0).normal(size=(200, 3))
    reference = InputScaler.fit(X).transform(X, np.float64)
    scaled = InputScaler.fit(X * factor)
    assert not scaled.constant.any()
    np.testing.assert_allclose(scaled.transform(X * factor, np.float64), reference, atol=1e-9)


def test_features_that_vary_little_on_a_large_offset_are_constant_and_flagged():
    # As in scikit-learn, a variance within the round-off bound (n * mean * eps)^2 counts
    # as none: rarely inked pixels of digits + 1e12. They are flagged for a warning.
    from sklearn.datasets import load_digits

    X = load_digits().data
    plain, shifted = InputScaler.fit(X), InputScaler.fit(X + 1e12)
    flagged = np.flatnonzero(shifted.roundoff_constant)
    assert len(flagged) > 0 and not plain.constant[flagged].any()
    np.testing.assert_array_equal(shifted.constant, plain.constant | shifted.roundoff_constant)
    assert not plain.roundoff_constant.any()


def test_the_constant_test_does_not_depend_on_the_row_order():
    rng = np.random.default_rng(0)
    eps = np.finfo(np.float64).eps
    nearly = np.tile([1.0, 1.0 + 6 * eps, 1.0 - 6 * eps], 3)
    X = np.column_stack([nearly, rng.normal(size=9)])
    for order in (np.arange(9), rng.permutation(9), [1, 0, *range(2, 9)]):
        scaler = InputScaler.fit(X[order])
        np.testing.assert_array_equal(scaler.constant, [True, False])
        np.testing.assert_array_equal(scaler.roundoff_constant, [True, False])


def test_computed_totals_that_differ_by_round_off_are_constant():
    rng = np.random.default_rng(0)
    totals = (rng.dirichlet(np.ones(1000), 2000) * 100).sum(axis=1)  # 100 up to round-off
    assert np.ptp(totals) > 0
    scaler = InputScaler.fit(np.column_stack([totals, rng.normal(size=2000)]))
    np.testing.assert_array_equal(scaler.constant, [True, False])


def test_values_that_differ_by_round_off_only_are_constant_and_named():
    X = np.column_stack([np.r_[np.full(5, 0.1 + 0.2), np.full(5, 0.3)], np.arange(10.0)])
    scaler = InputScaler.fit(X)
    np.testing.assert_array_equal(scaler.constant, [True, False])
    np.testing.assert_array_equal(scaler.roundoff_constant, [True, False])
    exact = InputScaler.fit(np.column_stack([np.full(10, 0.3), np.arange(10.0)]))
    assert not exact.roundoff_constant.any()


def test_a_constant_feature_of_huge_value_is_constant_not_an_overflow():
    X = np.column_stack([np.full(10, 1e200), np.arange(10.0)])
    scaler = InputScaler.fit(X)
    np.testing.assert_array_equal(scaler.constant, [True, False])
    assert not scaler.roundoff_constant.any()
    with pytest.raises(ValueError, match="overflows float64"):
        InputScaler.fit(np.column_stack([np.r_[np.full(5, 1e200), np.full(5, -1e200)], X[:, 1]]))


def test_a_constant_feature_of_the_largest_values_keeps_them_as_its_mean():
    # Its sum overflowed: the mean was inf, which input_mean_ showed.
    X = np.column_stack([np.full(1000, 1e308), np.arange(1000.0)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scaler = InputScaler.fit(X)
    assert scaler.mean[0] == 1e308 and scaler.constant[0]
