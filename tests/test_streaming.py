"""partial_fit: streams of chunks, one epoch per call (sklearn_ndim._streaming)."""

import copy
import pickle
import warnings

import numpy as np
import pytest
import torch
from scipy import stats
from sklearn.exceptions import NotFittedError

from sklearn_ndim import NoisyInfoMaxEmbedder


def _adam_steps(net):
    return {int(state["step"]) for state in net.optimizer_.state_dict()["state"].values()}


def test_partial_fit_goes_on_with_the_optimiser_state(blobs, fast):
    X = blobs[0]
    model = NoisyInfoMaxEmbedder(2, batch_size=50, **fast).partial_fit(X[:200])
    first = model.net_
    assert isinstance(first.optimizer_, torch.optim.Adam) and _adam_steps(first) == {4}
    model.partial_fit(X[200:])
    # Adam's moments and step count carry over: 4 + 4 steps, not a restart.
    assert _adam_steps(model.net_) == {8}
    # The previous model's optimiser is a separate object, left as it was.
    assert model.net_.optimizer_ is not first.optimizer_ and _adam_steps(first) == {4}


@pytest.mark.parametrize("first", ["fit", "partial_fit"])
def test_partial_fit_refuses_changed_model_parameters(blobs, fast, first):
    X = blobs[0]
    encoder = torch.nn.Linear(X.shape[1], 2)
    model = NoisyInfoMaxEmbedder(2, batch_size=50, encoder=encoder, **fast)
    getattr(model, first)(X[:200])
    before = model.transform(X[:5])
    for change in (
        {"n_components": 3},
        {"prior": "uniform"},
        {"noise_scale": 0.5},
        {"hidden_layer_sizes": (8,)},
        {"encoder": torch.nn.Linear(X.shape[1], 2)},
    ):
        fixed = {name: model.get_params()[name] for name in change}
        model.set_params(**change)
        name = next(iter(change))
        with pytest.raises(ValueError, match=f"changed since: {name} "):
            model.partial_fit(X[200:])
        np.testing.assert_array_equal(model.transform(X[:5]), before)  # left as it was
        model.set_params(**fixed)
    # Equal values in other objects, and the training controls, may change.
    model.set_params(
        hidden_layer_sizes=np.array(model.hidden_layer_sizes),
        prior="gaussian",
        device="cpu:0",  # "cpu" at the first call: the same device
        random_state=np.random.RandomState(3),
        learning_rate=1e-4,
        weight_decay=1e-5,
        verbose=0,
    )
    model.partial_fit(X[200:])
    # ... and apply: Adam goes on from its state with the new settings.
    for group in model.net_.optimizer_.param_groups:
        assert group["lr"] == 1e-4 and group["weight_decay"] == 1e-5


def test_partial_fit_after_fit_drops_the_decoder(blobs, fast):
    X = blobs[0]
    model = NoisyInfoMaxEmbedder(2, fit_inverse_transform=True, **fast).fit(X)
    with pytest.warns(UserWarning, match="keeps no sample of the rows"):
        model.set_params(fit_inverse_transform=False).partial_fit(X)
    with pytest.raises(NotFittedError, match="fit_inverse_transform=True"):
        model.inverse_transform(model.transform(X[:3]))


def test_a_loaded_model_refuses_changed_parameters_in_partial_fit(blobs, fast, tmp_path):
    from sklearn_ndim import io

    X = blobs[0]
    io.save(NoisyInfoMaxEmbedder(2, batch_size=50, **fast).fit(X), tmp_path / "m.safetensors")
    loaded = io.load(tmp_path / "m.safetensors")
    with pytest.warns(UserWarning, match="from fit or io.load keeps none"):
        loaded.partial_fit(X[:100])
    with pytest.raises(ValueError, match="changed since: n_components"):
        loaded.set_params(n_components=5).partial_fit(X[:100])


def test_a_schedule_warns_once_per_stream_and_each_call_starts_at_learning_rate(
    blobs, fast, tmp_path
):
    from skorch.callbacks import Callback, LRScheduler

    from sklearn_ndim import io

    class Rates(Callback):
        def on_epoch_begin(self, net, **kwargs):
            self.rates = getattr(self, "rates", []) + [net.optimizer_.param_groups[0]["lr"]]

    X, rates = blobs[0], Rates()
    schedule = LRScheduler(policy="CosineAnnealingLR", T_max=3)
    fitted = NoisyInfoMaxEmbedder(2, batch_size=50, learning_rate=0.002, **fast)
    io.save(fitted.set_params(callbacks=[schedule]).fit(X), tmp_path / "m.safetensors")
    # A loaded model's fresh Adam had no "initial_lr", which the resumed schedule needs.
    loaded = io.load(tmp_path / "m.safetensors").set_params(callbacks=[schedule, rates])
    for model in (loaded, fitted.set_params(callbacks=[schedule, rates])):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*keeps no sample")
            with pytest.warns(UserWarning, match="rebuilt in each partial_fit call"):
                model.partial_fit(X[:100])
    assert rates.rates == [0.002, 0.002]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once per stream, not at every chunk
        loaded.partial_fit(X[100:200])


def test_features_constant_in_the_first_chunk_are_ignored_with_a_warning(blobs, fast):
    X = np.column_stack([blobs[0], np.zeros(len(blobs[0]))])
    X[200:, -1] = np.arange(len(X) - 200)  # varies in the second chunk only
    model = NoisyInfoMaxEmbedder(2, batch_size=50, **fast)
    with pytest.warns(UserWarning, match=r"1 feature\(s\) constant in the first partial_fit chunk"):
        model.partial_fit(X[:200])
    model.partial_fit(X[200:])
    moved = X[:5].copy()
    moved[:, -1] = 10.0
    np.testing.assert_array_equal(model.transform(moved), model.transform(X[:5]))


def test_a_first_chunk_smaller_than_a_batch_warns_that_it_fixes_the_batches(blobs, fast):
    model = NoisyInfoMaxEmbedder(2, batch_size=64, **fast)
    with pytest.warns(UserWarning, match=r"40 rows, fewer than batch_size=64: .* batches of 40"):
        model.partial_fit(blobs[0][:40])
    assert model.batch_size_ == 40


def test_a_failed_partial_fit_leaves_the_optimiser_as_it_was(blobs, fast):
    X = blobs[0]
    model = NoisyInfoMaxEmbedder(2, batch_size=50, **fast).partial_fit(X[:200])
    before = {k: v.clone() for k, v in model.net_.optimizer_.state_dict()["state"][0].items()}
    try:
        model.partial_fit(X[:10])  # fewer rows than a batch
    except ValueError:
        pass
    after = model.net_.optimizer_.state_dict()["state"][0]
    for name, value in before.items():
        torch.testing.assert_close(after[name], value, rtol=0, atol=0)


def test_a_chunk_that_makes_the_model_collapse_is_undone(blobs, fast):
    # One row at 1e20 (finite in float32) swamped every batch it entered: the
    # pass "succeeded" with a constant embedding that later chunks never mended.
    X = blobs[0].astype(np.float32)
    model = NoisyInfoMaxEmbedder(2, batch_size=50, **fast).partial_fit(X[:200])
    model.partial_fit(X[200:])
    assert model.mutual_info_ > 0.1
    embedding, history = model.transform(X), len(model.history_)
    bad = X[200:].copy()
    bad[0] = 1e20
    expected = r"collapse.*one point.*undone.*is \d\.\d+e\+\d+ after the input scaling"
    with pytest.raises(ValueError, match=expected):
        model.partial_fit(bad)
    np.testing.assert_array_equal(model.transform(X), embedding)
    assert len(model.history_) == history
    model.partial_fit(X[200:])  # the stream goes on


def test_a_stream_with_repeated_rows_is_calibrated_on_the_datas_weights(fast):
    # Rows that repeat in the data (and across epochs) keep their weight in
    # the reservoir that calibrates the output.
    rng = np.random.default_rng(0)
    X = np.concatenate([np.ones((400, 4)), rng.normal(size=(200, 4))])[rng.permutation(600)]
    model = NoisyInfoMaxEmbedder(2, batch_size=100, **fast)
    for _ in range(2):
        model.partial_fit(X[:300]).partial_fit(X[300:])
    Z = model.transform(X)
    np.testing.assert_allclose(Z.mean(0), 0.0, atol=1e-3)
    np.testing.assert_allclose(np.cov(Z.T, bias=True), np.eye(2), atol=0.05)


@pytest.mark.parametrize("duplicate", [copy.deepcopy, lambda m: pickle.loads(pickle.dumps(m))])
def test_a_copied_stream_goes_on_exactly_as_the_original(blobs, fast, duplicate):
    X = blobs[0][:300]
    model = NoisyInfoMaxEmbedder(2, batch_size=50, **fast)
    model.partial_fit(X[:150]).partial_fit(X[150:])
    twin = duplicate(model)
    for estimator in (model, twin):
        estimator.partial_fit(X[:150]).partial_fit(X[150:])
    assert _adam_steps(twin.net_) == _adam_steps(model.net_) == {12}
    np.testing.assert_array_equal(twin.transform(X), model.transform(X))


def test_a_small_chunk_after_fit_is_refused_before_any_warning(blobs, fast):
    X = blobs[0]
    model = NoisyInfoMaxEmbedder(2, batch_size=64, **fast).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"at least batch_size_ = 64 rows .* by fit or the"):
            model.partial_fit(X[:10])


def test_partial_fit_applies_the_current_mixed_precision(blobs, fast):
    X = blobs[0]
    model = NoisyInfoMaxEmbedder(2, batch_size=50, **fast).partial_fit(X[:200])
    assert model.net_.module_.autocast_dtype is None
    model.set_params(mixed_precision=True).partial_fit(X[200:])
    assert model.net_.module_.autocast_dtype == torch.bfloat16
    model.set_params(mixed_precision="auto").partial_fit(X[:200])
    assert model.net_.module_.autocast_dtype is None


def test_partial_fit_sees_a_changed_histogram_prior(blobs, fast):
    X = blobs[0]
    generator = np.random.default_rng(0)
    first, second = (
        stats.rv_histogram(np.histogram(generator.normal(size=500), bins=10))() for _ in range(2)
    )
    model = NoisyInfoMaxEmbedder(2, prior=first, batch_size=50, **fast).partial_fit(X[:200])
    model.partial_fit(X[200:])  # the same object: the same prior
    model.set_params(prior=second)
    with pytest.raises(ValueError, match="changed since: prior"):
        model.partial_fit(X[200:])


def test_the_largest_spread_share_of_a_part_of_the_rows():
    from sklearn_ndim._streaming import _largest_spread_share

    g = torch.randn(4000, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert _largest_spread_share(g, g) == pytest.approx(1.0)
    assert _largest_spread_share(g, g[:40]) < 0.1  # 1 % of N(0, I) rows, at random
    far = g.clone()
    far[0] = torch.tensor([1e6, 0.0, 0.0, 0.0], dtype=torch.float64)
    assert _largest_spread_share(far, far[:1]) == pytest.approx(1.0)
    assert _largest_spread_share(torch.zeros(10, 4, dtype=torch.float64), g[:1]) == 1.0


def test_a_heavy_tailed_stream_is_not_taken_for_a_collapse(fast):
    # Rows far out are the tail of such data, not corrupt ones: a stream of
    # Student t(2) features held at most 0.69 of the spread in its 1 % of
    # rows farthest out, below the check's 0.9.
    X = np.random.default_rng(0).standard_t(2, size=(3000, 10))
    model = NoisyInfoMaxEmbedder(4, **fast)
    for start in range(0, 3000, 500):
        model.partial_fit(X[start : start + 500])
    assert model.mutual_info_ > 0.1


def test_partial_fit_continues_the_model_one_pass_per_call(blobs, fast):
    X = blobs[0]
    embedder = NoisyInfoMaxEmbedder(n_components=2, batch_size=64, **fast)
    for chunk in np.array_split(X, 4):
        embedder.partial_fit(chunk)
    assert embedder.n_iter_ == 4 == len(embedder.history_)
    assert embedder.n_features_in_ == 10 and embedder.batch_size_ == 64
    Z = embedder.transform(X)
    assert np.isfinite(Z).all()
    # Recalibrated on the reservoir of rows seen: about standardised.
    np.testing.assert_allclose(Z.mean(0), 0, atol=0.15)
    np.testing.assert_allclose(Z.std(0), 1, atol=0.15)
    with pytest.raises(ValueError, match="at least batch_size_ = 64 rows"):
        embedder.partial_fit(X[:10])
    with pytest.raises(ValueError, match="10 features"):
        embedder.partial_fit(X[:100, :5])


def test_partial_fit_refuses_a_decoder(blobs, fast):
    with pytest.raises(ValueError, match="does not train a decoder"):
        NoisyInfoMaxEmbedder(fit_inverse_transform=True, **fast).partial_fit(blobs[0])


def test_a_later_chunk_that_learned_nothing_may_be_on_another_scale(fast):
    from sklearn.exceptions import ConvergenceWarning

    X = np.random.default_rng(0).normal(size=(40, 3))
    embedder = NoisyInfoMaxEmbedder(
        n_components=2, corruption_rate=0.99, jitter_scale=50.0, **{**fast, "max_epochs": 1}
    )
    with pytest.warns(ConvergenceWarning) as first:
        embedder.partial_fit(X)
    # The first chunk fixes the scaling: it cannot be on another scale.
    assert not any("another scale" in str(w.message) for w in first)
    with pytest.warns(ConvergenceWarning, match="another scale than the rows that fixed"):
        embedder.partial_fit(X * 255)
