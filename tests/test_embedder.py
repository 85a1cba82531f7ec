"""Behaviour of NoisyInfoMaxEmbedder: training, transform, persistence, tuning."""

import io
import math
import pickle
import signal

import joblib
import numpy as np
import pytest
import torch
from scipy import stats
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Callback, EarlyStopping

from sklearn_ndim import NoisyInfoMaxEmbedder


@pytest.fixture(scope="module")
def fitted(blobs, fast):
    X, _ = blobs
    return NoisyInfoMaxEmbedder(n_components=3, **fast).fit(X)


def test_fitted_attributes(fitted, blobs):
    X, _ = blobs
    assert fitted.n_features_in_ == X.shape[1]
    assert fitted.n_iter_ == 3 == len(fitted.history_)
    assert fitted.batch_size_ == 256
    expected_capacity = 1.5 * math.log1p(1 / fitted.noise_scale_**2)
    assert fitted.capacity_ == pytest.approx(expected_capacity)
    assert 0 < fitted.mutual_info_ <= math.log(fitted.batch_size_)
    assert set(fitted.history_[-1]) >= {"train_loss", "mutual_info", "capacity", "dur"}


def test_auto_noise_scale_puts_capacity_at_log_batch(fitted):
    assert fitted.capacity_ == pytest.approx(math.log(fitted.batch_size_))


def test_gaussian_output_is_standardised_on_training_rows(fitted, blobs):
    Z = fitted.transform(blobs[0])
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-4)
    # Unit variance up to the 5% of view covariance that regularises calibration.
    np.testing.assert_allclose(Z.std(axis=0), 1, atol=0.05)
    np.testing.assert_allclose(np.corrcoef(Z.T), np.eye(3), atol=0.05)


def test_uniform_output_lies_in_unit_cube(blobs, fast):
    X, _ = blobs
    embedder = NoisyInfoMaxEmbedder(n_components=2, prior="uniform", noise_scale=0.1, **fast)
    Z = embedder.fit_transform(X)
    assert Z.min() >= 0 and Z.max() <= 1
    assert 0.4 < Z.mean() < 0.6


def test_scipy_prior_maps_through_the_probability_integral_transform(blobs, fast):
    X, _ = blobs
    gaussian = NoisyInfoMaxEmbedder(n_components=2, **fast).fit(X)
    laplace = NoisyInfoMaxEmbedder(n_components=2, prior=stats.laplace(), **fast).fit(X)
    expected = stats.laplace.ppf(stats.norm.cdf(gaussian.transform(X)))
    np.testing.assert_allclose(laplace.transform(X), expected, rtol=1e-6, atol=1e-9)


def test_transform_preserves_float_precision(fitted, blobs):
    X = blobs[0]
    assert fitted.transform(X.astype(np.float32)).dtype == np.float32
    assert fitted.transform(X).dtype == np.float64
    np.testing.assert_allclose(
        fitted.transform(X.astype(np.float32)), fitted.transform(X), atol=1e-4
    )


def test_transform_is_deterministic_and_batch_independent(fitted, blobs):
    X = blobs[0]
    full = fitted.transform(X)
    np.testing.assert_array_equal(full, fitted.transform(X))
    np.testing.assert_allclose(full[:7], fitted.transform(X[:7]), rtol=0, atol=1e-12)
    np.testing.assert_allclose(full[123:124], fitted.transform(X[123:124]), rtol=0, atol=1e-12)


def test_same_seed_gives_bitwise_identical_results(blobs, fast):
    X = blobs[0]
    first = NoisyInfoMaxEmbedder(n_components=2, **fast).fit(X)
    second = NoisyInfoMaxEmbedder(n_components=2, **fast).fit(X)
    np.testing.assert_array_equal(first.transform(X), second.transform(X))
    assert first.mutual_info_ == second.mutual_info_
    other = NoisyInfoMaxEmbedder(n_components=2, **{**fast, "random_state": 1}).fit(X)
    assert not np.array_equal(first.transform(X), other.transform(X))


def test_fit_leaves_global_random_state_untouched(blobs, fast):
    torch_state = torch.get_rng_state()
    np_state = np.random.get_state()
    NoisyInfoMaxEmbedder(n_components=2, **fast).fit(blobs[0])
    assert torch.equal(torch.get_rng_state(), torch_state)
    after = np.random.get_state()
    assert after[0] == np_state[0] and np.array_equal(after[1], np_state[1])


@pytest.mark.parametrize("dump_load", ["pickle", "joblib"])
def test_persistence_round_trip(fitted, blobs, dump_load):
    X = blobs[0]
    if dump_load == "pickle":
        restored = pickle.loads(pickle.dumps(fitted))
    else:
        buffer = io.BytesIO()
        joblib.dump(fitted, buffer)
        buffer.seek(0)
        restored = joblib.load(buffer)
    np.testing.assert_array_equal(restored.transform(X), fitted.transform(X))
    assert restored.score(X) == fitted.score(X)


def test_fitted_model_holds_no_training_data(fitted):
    assert fitted.net_.generator is None
    assert not any(
        isinstance(v, torch.Tensor) and v.shape[0] == 400 for v in vars(fitted.net_).values()
    )
    assert len(pickle.dumps(fitted)) < 200_000


def test_clone_and_params_round_trip():
    embedder = NoisyInfoMaxEmbedder(n_components=5, prior=stats.t(df=4), noise_scale=0.3)
    copy = clone(embedder)
    assert copy.get_params()["n_components"] == 5
    copy.set_params(noise_scale=0.7)
    assert copy.noise_scale == 0.7 and embedder.noise_scale == 0.3


def test_pipeline_and_grid_search_with_labels(blobs, fast):
    X, y = blobs
    pipe = make_pipeline(
        StandardScaler(), NoisyInfoMaxEmbedder(n_components=4, **fast), LogisticRegression()
    )
    search = GridSearchCV(pipe, {"noisyinfomaxembedder__noise_scale": [0.1, 1.0]}, cv=2, n_jobs=2)
    search.fit(X, y)
    assert search.best_score_ > 0.5
    assert search.best_params_["noisyinfomaxembedder__noise_scale"] in (0.1, 1.0)


def test_grid_search_without_labels_uses_score(blobs, fast):
    X, _ = blobs
    search = GridSearchCV(
        NoisyInfoMaxEmbedder(n_components=2, **fast), {"noise_scale": [0.3, 1.0]}, cv=2
    )
    search.fit(X)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


def test_score_is_information_minus_mismatch(fitted, blobs):
    X = blobs[0]
    information = fitted.estimate_mutual_info(X)
    assert 0 < information <= math.log(256)
    assert fitted.score(X) <= information + 0.5
    assert fitted.score(X) == fitted.score(X)


def test_feature_names_and_pandas_output(fitted, blobs, fast):
    pd = pytest.importorskip("pandas")
    names = fitted.get_feature_names_out()
    assert list(names) == [f"noisyinfomaxembedder{i}" for i in range(3)]
    frame = pd.DataFrame(blobs[0], columns=[f"f{i}" for i in range(10)])
    embedder = NoisyInfoMaxEmbedder(n_components=3, **fast).set_output(transform="pandas")
    out = embedder.fit_transform(frame)
    assert list(out.columns) == list(names)
    assert list(embedder.feature_names_in_) == list(frame.columns)


def test_batch_size_above_sample_count_still_trains(rng, fast):
    X = rng.normal(size=(20, 4))
    embedder = NoisyInfoMaxEmbedder(n_components=2, batch_size=512, **fast).fit(X)
    assert embedder.batch_size_ == 20
    assert embedder.mutual_info_ <= math.log(20)
    assert np.isfinite(embedder.transform(X)).all()


def test_noise_free_infomax_has_infinite_capacity(blobs, fast):
    embedder = NoisyInfoMaxEmbedder(n_components=2, noise_scale=0.0, **fast).fit(blobs[0])
    assert embedder.capacity_ == math.inf
    assert embedder.noise_scale_ == 0.0


@pytest.mark.parametrize("critic", ["separable", "quadratic", "mlp"])
def test_every_critic_trains(critic, rng, fast):
    X = rng.normal(size=(64, 4))
    embedder = NoisyInfoMaxEmbedder(n_components=2, critic=critic, batch_size=32, **fast).fit(X)
    assert np.isfinite(embedder.mutual_info_)


def test_more_training_raises_the_mutual_information(blobs, fast):
    X = blobs[0]
    params = {**fast, "batch_size": 64}
    short = NoisyInfoMaxEmbedder(n_components=4, **{**params, "max_epochs": 1}).fit(X)
    longer = NoisyInfoMaxEmbedder(n_components=4, **{**params, "max_epochs": 20}).fit(X)
    assert longer.mutual_info_ > short.mutual_info_ + 0.15


class _InterruptAt(Callback):
    def __init__(self, batch):
        self.batch = batch

    def on_batch_end(self, net, **kwargs):
        if len(net.history[-1]["batches"]) >= self.batch:
            raise KeyboardInterrupt


def test_ctrl_c_is_not_swallowed(blobs, fast):
    embedder = NoisyInfoMaxEmbedder(n_components=2, callbacks=[_InterruptAt(1)], **fast)
    with pytest.raises(KeyboardInterrupt, match="interrupted after"):
        embedder.fit(blobs[0])
    assert not hasattr(embedder, "net_")


class _CtrlCAtEpochEnd(Callback):
    """A real SIGINT (as from Ctrl-C) while callbacks run at an epoch's end."""

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == 2:
            signal.raise_signal(signal.SIGINT)


@pytest.fixture
def ctrl_c_interrupts():
    """Python's own SIGINT handler for the test: a shell that starts the run in the
    background makes it ignore SIGINT, and then no Ctrl-C can interrupt anything."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_ctrl_c_at_an_epochs_end_is_not_taken_for_early_stopping(blobs, fast, ctrl_c_interrupts):
    embedder = NoisyInfoMaxEmbedder(n_components=2, **{**fast, "max_epochs": 2}).fit(blobs[0])
    before = embedder.transform(blobs[0])
    embedder.set_params(callbacks=[_CtrlCAtEpochEnd()], max_epochs=5)
    with pytest.raises(KeyboardInterrupt, match="interrupted after 2 of 5 epochs"):
        embedder.fit(blobs[0][:150])
    np.testing.assert_array_equal(embedder.transform(blobs[0]), before)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_early_stopping_is_a_normal_end_after_a_sigint_that_a_handler_absorbed(
    blobs, fast, monkeypatch
):
    # An application that handles Ctrl-C itself (its handler does not raise) interrupts
    # nothing: a later EarlyStopping still ends the fit normally.
    previous = signal.signal(signal.SIGINT, lambda signum, frame: None)
    try:

        class _SigintAtFirstEpoch(Callback):
            def on_epoch_end(self, net, **kwargs):
                if len(net.history) == 1:
                    signal.raise_signal(signal.SIGINT)

        stopper = EarlyStopping(monitor="train_loss", patience=1, threshold=10.0)
        embedder = NoisyInfoMaxEmbedder(
            n_components=2,
            callbacks=[_SigintAtFirstEpoch(), stopper],
            **{**fast, "max_epochs": 6},
        )
        embedder.fit(blobs[0])
        assert embedder.n_iter_ < 6
    finally:
        signal.signal(signal.SIGINT, previous)


def test_early_stopping_is_a_normal_end(blobs, fast):
    stopper = EarlyStopping(monitor="train_loss", patience=1, threshold=10.0)
    embedder = NoisyInfoMaxEmbedder(
        n_components=2, callbacks=[stopper], **{**fast, "max_epochs": 20}
    )
    embedder.fit(blobs[0])
    assert embedder.n_iter_ < 20


class _EpochCounter(Callback):
    def initialize(self):
        self.epochs = 0
        return self

    def on_epoch_end(self, net, **kwargs):
        self.epochs += 1


def test_callbacks_are_live_and_clones_are_copies(blobs, fast):
    counter = _EpochCounter()
    embedder = NoisyInfoMaxEmbedder(n_components=2, callbacks=[counter], **fast)
    copy = clone(embedder)
    embedder.fit(blobs[0])
    assert counter.epochs == embedder.n_iter_
    embedder.fit(blobs[0])  # each fit initialises the instance afresh
    assert counter.epochs == embedder.n_iter_
    assert copy.callbacks[0] is not counter and not hasattr(copy.callbacks[0], "epochs")


class _LearningRates(Callback):
    def on_epoch_begin(self, net, **kwargs):
        self.rates = getattr(self, "rates", []) + [net.optimizer_.param_groups[0]["lr"]]


def test_a_learning_rate_schedule_drives_the_optimiser(blobs, fast):
    from skorch.callbacks import LRScheduler

    seen = _LearningRates()
    schedule = LRScheduler(policy="CosineAnnealingLR", T_max=4)
    params = {**fast, "max_epochs": 4}
    NoisyInfoMaxEmbedder(2, learning_rate=0.004, callbacks=[schedule, seen], **params).fit(blobs[0])
    # The documented faster setting: a cosine from the learning rate towards 0.
    np.testing.assert_allclose(seen.rates, [0.004, 0.00341421, 0.002, 0.00058579], rtol=1e-5)


class _NaNEncoder(torch.nn.Module):
    def __init__(self, input_shape, n_components):
        super().__init__()
        self.linear = torch.nn.Linear(input_shape[0], n_components)

    def forward(self, x):
        return self.linear(x) * float("nan")


def test_nan_loss_stops_with_a_named_cause(rng, fast):
    embedder = NoisyInfoMaxEmbedder(n_components=2, encoder=_NaNEncoder, **fast)
    with pytest.raises(FloatingPointError, match="learning rate"):
        embedder.fit(rng.normal(size=(50, 3)))


def test_custom_encoder_class_and_instance(rng, fast):
    X = rng.normal(size=(60, 5))

    class Tiny(torch.nn.Module):
        def __init__(self, input_shape, n_components):
            super().__init__()
            self.linear = torch.nn.Linear(input_shape[0], n_components)

        def forward(self, x):
            return self.linear(x)

    by_class = NoisyInfoMaxEmbedder(n_components=2, encoder=Tiny, **fast).fit(X)
    instance = torch.nn.Linear(5, 2)
    weights = instance.weight.detach().clone()
    by_instance = NoisyInfoMaxEmbedder(n_components=2, encoder=instance, **fast)
    by_instance.fit(X)
    assert torch.equal(instance.weight, weights), "the user's module must not be trained in place"
    first = by_instance.transform(X)
    np.testing.assert_array_equal(clone(by_instance).fit(X).transform(X), first)
    assert by_class.transform(X).shape == (60, 2)


@pytest.mark.parametrize("prior", ["gaussian", "uniform", stats.laplace()])
def test_score_samples_ranks_outliers_below_inliers(blobs, prior, fast):
    X = blobs[0]
    embedder = NoisyInfoMaxEmbedder(n_components=3, prior=prior, **{**fast, "max_epochs": 10})
    embedder.fit(X)
    inliers = embedder.score_samples(X[:50])
    outliers = embedder.score_samples(X[:50] * 6.0 + 20.0)
    assert inliers.shape == (50,) and np.isfinite(inliers).all()
    assert np.median(outliers) < np.percentile(inliers, 5)
    if prior == "gaussian":
        squared_norm = (embedder.transform(X[:50]) ** 2).sum(axis=1)
        cdf = stats.chi2.cdf(squared_norm, 3)
        np.testing.assert_allclose(inliers, np.log(2 * np.minimum(cdf, 1 - cdf)), rtol=1e-7)


def test_a_model_that_learned_nothing_warns(rng, fast):
    from sklearn.exceptions import ConvergenceWarning

    X = rng.normal(size=(40, 3))
    embedder = NoisyInfoMaxEmbedder(
        n_components=2, corruption_rate=0.99, jitter_scale=50.0, **{**fast, "max_epochs": 1}
    )
    with pytest.warns(ConvergenceWarning, match="learned nothing"):
        embedder.fit(X)


# ------------------------------------------------------------- atomic fit


def _fitted_state(embedder):
    return {
        key: value for key, value in vars(embedder).items() if key.endswith("_") or key == "_seed"
    }


@pytest.mark.parametrize("failure", ["interrupt", "diverge", "bad input"])
def test_a_failed_fit_leaves_a_fresh_estimator_unfitted(blobs, fast, failure):
    from sklearn.exceptions import NotFittedError

    X = blobs[0]
    params = {
        "interrupt": {"callbacks": [_InterruptAt(1)]},
        "diverge": {"encoder": _NaNEncoder},
        "bad input": {},
    }[failure]
    embedder = NoisyInfoMaxEmbedder(n_components=2, **fast, **params)
    before = dict(vars(embedder))
    with pytest.raises((KeyboardInterrupt, FloatingPointError, ValueError)):
        embedder.fit(X[:, :3] if failure == "diverge" else (X if failure != "bad input" else X[:1]))
    assert vars(embedder).keys() == before.keys()
    with pytest.raises(NotFittedError):
        embedder.transform(X)


@pytest.mark.parametrize("failure", ["interrupt", "bad input", "bad parameter"])
def test_a_failed_refit_leaves_the_fitted_estimator_exactly_as_it_was(blobs, fast, failure):
    X = blobs[0]
    embedder = NoisyInfoMaxEmbedder(n_components=2, **fast).fit(X)
    state = _fitted_state(embedder)
    expected = embedder.transform(X)
    if failure == "interrupt":
        embedder.set_params(callbacks=[_InterruptAt(1)])
        new_data = X[:, :5] * 2.0
    elif failure == "bad input":
        new_data = np.full((30, 7), np.nan)
    else:
        embedder.set_params(device="meta")
        new_data = X[:, :5]
    with pytest.raises((KeyboardInterrupt, ValueError)):
        embedder.fit(new_data)
    embedder.set_params(callbacks=None, device="cpu")
    assert _fitted_state(embedder).keys() == state.keys()
    for key, value in state.items():
        assert _fitted_state(embedder)[key] is value, key
    np.testing.assert_array_equal(embedder.transform(X), expected)


def test_fitted_pickles_drop_the_optimiser_state(fitted):
    restored = pickle.loads(pickle.dumps(fitted))
    assert not hasattr(restored.net_, "optimizer_")
    assert hasattr(fitted.net_, "optimizer_")


def test_a_pickle_from_before_mixed_precision_gets_its_default(fitted):
    state = fitted.__getstate__()
    del state["mixed_precision"]
    restored = NoisyInfoMaxEmbedder.__new__(NoisyInfoMaxEmbedder)
    restored.__setstate__(state)
    assert restored.get_params()["mixed_precision"] == "auto"
    clone(restored)  # get_params works, so clone and GridSearchCV do


# --------------------------------------------- decoder, samples, p-values


@pytest.fixture(scope="module")
def with_decoder(blobs, fast):
    params = {**fast, "max_epochs": 40}  # the decoder needs more than a few steps
    embedder = NoisyInfoMaxEmbedder(n_components=4, fit_inverse_transform=True, **params)
    return embedder.fit(blobs[0])


def test_inverse_transform_reconstructs_better_than_the_mean(with_decoder, blobs):
    X = blobs[0]
    Z = with_decoder.transform(X)
    reconstructed = with_decoder.inverse_transform(Z)
    assert reconstructed.shape == X.shape and reconstructed.dtype == np.float64
    assert np.mean((reconstructed - X) ** 2) < 0.7 * np.mean((X - X.mean(0)) ** 2)
    as32 = with_decoder.inverse_transform(Z.astype(np.float32))
    assert as32.dtype == np.float32
    np.testing.assert_allclose(as32, reconstructed, atol=1e-3)


def test_samples_have_the_data_shape_and_range_and_are_reproducible(with_decoder, blobs):
    X = blobs[0]
    samples = with_decoder.sample(50, random_state=0)
    assert samples.shape == (50, X.shape[1]) and samples.dtype == np.float64
    assert np.all(samples >= X.min(0)) and np.all(samples <= X.max(0))
    np.testing.assert_array_equal(samples, with_decoder.sample(50, random_state=0))
    assert not np.array_equal(samples, with_decoder.sample(50, random_state=1))
    for bad in (0, True, 2.5):
        with pytest.raises((ValueError, TypeError), match="n_samples"):
            with_decoder.sample(bad)


def test_images_come_back_in_the_layout_they_came_in(fast):
    from sklearn.exceptions import NotFittedError

    images = np.random.default_rng(0).integers(0, 256, (40, 1, 8, 8)).astype(np.uint8)
    for layout, params in [
        (images, {}),
        (images[:, 0], {}),
        (images.reshape(40, -1), {"image_shape": (8, 8)}),
    ]:
        embedder = NoisyInfoMaxEmbedder(
            n_components=2, fit_inverse_transform=True, **params, **fast
        )
        embedder.fit(layout)
        assert embedder.inverse_transform(embedder.transform(layout)).shape == layout.shape
        decoded = embedder.sample(3, random_state=0)
        assert decoded.shape == (3,) + layout.shape[1:]
        assert decoded.min() >= 0 and decoded.max() <= 255
    plain = NoisyInfoMaxEmbedder(n_components=2, **fast).fit(images)
    with pytest.raises(NotFittedError, match="fit_inverse_transform=True"):
        plain.sample(2)
    with pytest.raises(ValueError, match="3 columns; embeddings of this model have 2"):
        embedder.inverse_transform(np.zeros((2, 3)))


def test_inverse_transform_refuses_embeddings_outside_the_prior(blobs, fast):
    X = blobs[0]
    uniform = NoisyInfoMaxEmbedder(
        n_components=2, prior="uniform", noise_scale=0.1, fit_inverse_transform=True, **fast
    ).fit(X)
    assert uniform.inverse_transform(uniform.transform(X[:5])).shape == (5, X.shape[1])
    with pytest.raises(ValueError, match=r"outside the support \[0, 1\]"):
        uniform.inverse_transform([[1.5, -0.2]])


def test_decoder_survives_clone_and_pickle(with_decoder, blobs):
    restored = pickle.loads(pickle.dumps(with_decoder))
    Z = with_decoder.transform(blobs[0][:10])
    np.testing.assert_array_equal(restored.inverse_transform(Z), with_decoder.inverse_transform(Z))
    assert clone(with_decoder).get_params()["fit_inverse_transform"] is True


@pytest.mark.parametrize("prior", ["gaussian", "uniform", stats.laplace()], ids=str)
def test_prior_pvalues_are_the_chi_square_tail_of_the_mapped_embedding(blobs, fast, prior):
    X = blobs[0]
    noise = 0.1 if prior == "uniform" else "auto"
    embedder = NoisyInfoMaxEmbedder(n_components=3, prior=prior, noise_scale=noise, **fast)
    embedder.fit(X)
    pvalues = embedder.prior_pvalues(X)
    assert pvalues.shape == (len(X),) and np.all((pvalues >= 0) & (pvalues <= 1))
    expected = embedder.prior_.pvalues(embedder.transform(X))
    np.testing.assert_allclose(pvalues, expected, rtol=1e-6, atol=1e-9)
    # Ranked like score_samples: a lower density is a smaller p-value.
    order = np.argsort(embedder.score_samples(X))
    assert np.all(np.diff(pvalues[order]) >= -1e-12)


# ------------------------------------------------------------- streams


def test_partial_fit_is_atomic_and_continues_a_fit(blobs, fast):
    X = blobs[0]
    embedder = NoisyInfoMaxEmbedder(n_components=2, **fast).fit(X)
    expected = embedder.transform(X)
    before = _fitted_state(embedder)
    embedder.set_params(callbacks=[_InterruptAt(1)])
    with pytest.raises(KeyboardInterrupt):
        embedder.partial_fit(X)
    assert _fitted_state(embedder).keys() == before.keys()
    np.testing.assert_array_equal(embedder.transform(X), expected)
    embedder.set_params(callbacks=None)
    embedder.partial_fit(X)
    assert embedder.n_iter_ == 4
    assert not np.array_equal(embedder.transform(X), expected)
    restored = pickle.loads(pickle.dumps(embedder))
    restored.partial_fit(X)  # the optimiser state was dropped: it is rebuilt
    assert restored.n_iter_ == 5


def test_changing_the_prior_after_fit_does_not_reinterpret_the_model(blobs, fast):
    X = blobs[0]
    embedder = NoisyInfoMaxEmbedder(n_components=2, **fast).fit(X)
    before = [embedder.transform(X), embedder.score_samples(X), embedder.prior_pvalues(X)]
    embedder.set_params(prior="uniform", noise_scale=0.1)
    after = [embedder.transform(X), embedder.score_samples(X), embedder.prior_pvalues(X)]
    for old, new in zip(before, after, strict=True):
        np.testing.assert_array_equal(old, new)
    assert embedder.prior_.name == "gaussian"


@pytest.mark.parametrize("image", [False, True])
def test_the_module_reproduces_transform_from_the_public_input_statistics(fast, image):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 2, 4, 4)) if image else rng.normal(size=(120, 6))
    X[:, 0] = 3.0  # a constant feature (an image's whole first channel)
    embedder = NoisyInfoMaxEmbedder(n_components=2, **fast).fit(X)
    flat = X.reshape(len(X), -1)
    assert np.isinf(embedder.input_scale_).sum() == (16 if image else 1)
    moved = flat.copy()
    moved[:, 0] = 50.0  # constant in training: ignored, here too
    standardised = (moved - embedder.input_mean_) / embedder.input_scale_
    module = embedder.net_.module_.eval()
    with torch.no_grad():
        out = module(torch.as_tensor(standardised, dtype=torch.float32)).numpy()
    np.testing.assert_allclose(out, embedder.transform(X), rtol=0, atol=1e-5)


def test_the_input_statistics_need_a_fit_and_are_copies(fast):
    embedder = NoisyInfoMaxEmbedder(n_components=2, **fast)
    assert not hasattr(embedder, "input_mean_")
    embedder.fit(np.random.default_rng(0).normal(size=(60, 3)))
    embedder.input_mean_[:] = 7.0
    assert not np.any(embedder.input_mean_ == 7.0)
