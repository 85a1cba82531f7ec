import re
import warnings

import numpy as np
import pytest
import torch
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_ndim import NoisyInfoMaxEmbedder, _validation
from sklearn_ndim._validation import check_not_bool, resolve_device


def test_devices():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type in ("cpu", "cuda")
    with pytest.raises(ValueError, match="not a torch device"):
        resolve_device("gpu0")
    for unusable in ("meta", "cpu:0" if False else "xla"):
        with pytest.raises(ValueError, match="does not support|not a torch device"):
            resolve_device(unusable)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_device("cuda")


def test_booleans_are_not_integers():
    check_not_bool(3, "n_components")
    with pytest.raises(TypeError, match="not the boolean True"):
        check_not_bool(True, "n_components")


def test_more_components_than_features_warns_once_and_still_fits(fast):
    X = np.random.default_rng(0).standard_normal((60, 3))
    with pytest.warns(UserWarning, match="n_components=4 exceeds the 3 features") as record:
        Z = NoisyInfoMaxEmbedder(n_components=4, **fast).fit_transform(X)
    assert Z.shape == (60, 4)
    assert sum("exceeds the 3 features" in str(w.message) for w in record) == 1
    # It names the line that called fit, not a line inside the package.
    assert [w.filename for w in record if "exceeds" in str(w.message)] == [__file__]
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*exceeds the")
        NoisyInfoMaxEmbedder(n_components=3, **fast).fit(X)


def test_as_many_components_as_rows_warns_and_still_fits(fast):
    X = np.random.default_rng(0).standard_normal((4, 6))
    with pytest.warns(UserWarning, match="not below the 4 rows of X") as record:
        # Whitening would refuse batches of n_components rows: standardise.
        Z = NoisyInfoMaxEmbedder(
            n_components=4, batch_size=4, normalizer="standardize", **fast
        ).fit_transform(X)
    assert Z.shape == (4, 4)
    assert [w.filename for w in record if "rows of X" in str(w.message)] == [__file__]
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*rows of X")
        NoisyInfoMaxEmbedder(n_components=3, batch_size=4, **fast).fit(X)


def test_a_streams_first_chunk_is_not_taken_for_all_its_rows(fast):
    X = np.random.default_rng(0).standard_normal((64, 16))
    model = NoisyInfoMaxEmbedder(n_components=7, batch_size=8, **fast)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*rows of X")
        for start in range(0, 64, 8):
            model.partial_fit(X[start : start + 8])


def test_equal_devices_count_as_unchanged_even_where_absent():
    from sklearn_ndim._validation import _same_param

    assert _same_param("device", "cpu", torch.device("cpu"))
    assert _same_param("device", "cuda", "cuda")  # a GPU model unpickled on a CPU machine
    assert not _same_param("device", "cpu", "meta")


def test_constant_rows_are_refused_and_leave_the_estimator_as_it_was(fast):
    embedder = NoisyInfoMaxEmbedder(n_components=2, **fast)
    before = dict(vars(embedder))
    for X in (np.ones((60, 4)), np.full((60, 1, 6, 6), 0.5)):
        with pytest.raises(ValueError, match="Every feature of X is constant"):
            embedder.fit(X)
        assert vars(embedder) == before
    with pytest.raises(ValueError, match="Every feature of the first partial_fit chunk"):
        embedder.partial_fit(np.ones((60, 4)))
    assert vars(embedder) == before
    # Without standardisation, columns of equal values are constant all the same.
    unscaled = NoisyInfoMaxEmbedder(n_components=2, standardize=False, **fast)
    with pytest.raises(ValueError, match="Every feature of X is constant"):
        unscaled.fit(np.full((60, 4), 3.0))
    with pytest.raises(ValueError, match="Every feature of the first .* representative chunk"):
        unscaled.partial_fit(np.full((60, 4), 3.0))


def test_the_components_warning_counts_only_features_that_vary(fast):
    X = np.column_stack([np.random.default_rng(0).normal(size=(80, 1)), np.ones((80, 3))])
    with pytest.warns(UserWarning, match="exceeds the 1 features of X that vary"):
        NoisyInfoMaxEmbedder(n_components=2, **fast).fit(X)


@pytest.mark.parametrize("prior", ["Gaussian", 3, type("P", (), {"ppf": None, "cdf": None})()])
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_a_bad_prior_fails_first_with_the_public_names(prior, method):
    # Parameters are checked before the data: no warning about the 2 features.
    embedder = NoisyInfoMaxEmbedder(n_components=3, prior=prior, batch_size=8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(InvalidParameterError, match=r"'prior' parameter .* a Prior \("):
            getattr(embedder, method)(np.random.default_rng(0).normal(size=(10, 2)))
    assert not hasattr(embedder, "n_features_in_")


def test_features_constant_up_to_round_off_are_named_in_a_warning():
    from sklearn_ndim._data import InputScaler
    from sklearn_ndim._validation import warn_if_roundoff_constant

    X = np.column_stack([np.r_[np.full(5, 0.1 + 0.2), np.full(5, 0.3)], np.arange(10.0)])
    with pytest.warns(UserWarning, match=r"1 feature\(s\) of X \(0\) vary by less than"):
        warn_if_roundoff_constant(InputScaler.fit(X))
    # Images: named by channel, once.
    images = np.stack([np.arange(40.0).reshape(10, 4), X[:, :1].repeat(4, axis=1)], axis=1)
    flat = images.reshape(10, -1)
    with pytest.warns(UserWarning, match=r"1 image channel\(s\) of X \(1\) vary"):
        warn_if_roundoff_constant(InputScaler.fit(flat, (2, 2, 2)), (2, 2, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exact = np.column_stack([np.full(10, 0.3), np.arange(10.0)])
        warn_if_roundoff_constant(InputScaler.fit(exact))


def test_an_x_constant_up_to_round_off_is_refused_with_the_fix():
    X = np.random.default_rng(0).normal(size=(35, 1)) * 1e-6 + 1e8  # std 7.8e-7: round-off
    with pytest.raises(ValueError, match="less than the round-off.*subtract each feature's offset"):
        NoisyInfoMaxEmbedder(1).fit(X)
    NoisyInfoMaxEmbedder(1, max_epochs=1).fit(X - 1e8)


def test_a_single_row_with_nan_is_named_as_scikit_learn_names_it():
    # The NaN is reported first, as scikit-learn's check_array does.
    with pytest.raises(ValueError, match="Input X contains NaN"):
        NoisyInfoMaxEmbedder(2).fit(np.array([[np.nan, 1.0]]))


@pytest.mark.parametrize(
    "cells, error",
    [
        ([[1, "2.5"], [3, 4]], None),
        ([[1, "x"], [3, 4]], "X must be numeric, but could not convert"),
        ([[1, "NA"], [3, 4]], "X has missing values"),
        ([[1, "nan"], [3, 4]], "Input X contains NaN"),
        ([[1, None], [3, 4]], "Input X contains NaN"),
        ([[1, "inf"], [3, 4]], "Input X contains infinity"),
        ([[1, 2j], [3, 4]], "X must be numeric, but float() argument"),
    ],
)
def test_object_arrays_from_older_scikit_learn_become_numbers_or_are_explained(
    monkeypatch, cells, error
):
    # scikit-learn before 1.9 returned objects for a DataFrame of nullable
    # integers beside numbers in text: the scaler failed with UFuncTypeError.
    pd = pytest.importorskip("pandas")
    rows = np.array(cells, dtype=object)
    if error == "X has missing values":
        rows[0, 1] = pd.NA
    monkeypatch.setattr(_validation, "validate_data", lambda *args, **kwargs: rows)
    if error is None:
        X = _validation.validate_numeric(None, rows)
        assert X.dtype == np.float64 and X.tolist() == [[1.0, 2.5], [3.0, 4.0]]
    else:
        raised = TypeError if "float()" in error else ValueError
        with pytest.raises(raised, match=re.escape(error) if raised is TypeError else error):
            _validation.validate_numeric(None, rows)
