"""Training set-up shared by fit, partial_fit and loading (sklearn_ndim._fitting)."""

import copy
import pickle
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch
from scipy import stats
from sklearn.exceptions import NotFittedError

from sklearn_ndim import NoisyInfoMaxEmbedder, _fitting
from sklearn_ndim._fitting import _seeded, resolve_max_epochs


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
        device=torch.device("cpu"),  # "cpu" at the first call
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
            with pytest.warns(UserWarning, match="does not carry over between partial_fit"):
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


def test_seeding_restores_the_callers_generators_and_touches_no_gpu(monkeypatch):
    calls = []
    monkeypatch.setattr(torch.cuda, "manual_seed_all", lambda seed: calls.append(seed))
    torch.random.default_generator.manual_seed(123)
    expected = torch.rand(3)
    torch.random.default_generator.manual_seed(123)
    with _seeded(7, torch.device("cpu")):
        inside = torch.rand(3)
    torch.testing.assert_close(torch.rand(3), expected, rtol=0, atol=0)
    with _seeded(7, torch.device("cpu")):
        torch.testing.assert_close(torch.rand(3), inside, rtol=0, atol=0)
    assert calls == [], "a CPU fit must not reseed the GPUs' generators"


def test_a_cpu_fit_reseeds_no_gpu(blobs, fast, monkeypatch):
    calls = []
    monkeypatch.setattr(torch.cuda, "manual_seed_all", lambda seed: calls.append(seed))
    NoisyInfoMaxEmbedder(2, **fast).fit(blobs[0])
    assert calls == []


def test_the_callers_global_seed_does_not_change_a_seeded_fit(blobs, fast):
    # Training draws from the net's own generator only: the global one seeds
    # the initial weights, inside a block that restores it.
    embeddings = []
    for caller_seed in (1, 2):
        torch.manual_seed(caller_seed)
        embeddings.append(NoisyInfoMaxEmbedder(2, **fast).fit(blobs[0]).transform(blobs[0]))
    np.testing.assert_array_equal(*embeddings)


class _DropoutEncoder(torch.nn.Module):
    """A custom encoder that draws from torch's global generator while training."""

    def __init__(self, input_shape, n_components):
        super().__init__()
        self.layers = torch.nn.Sequential(
            torch.nn.Linear(input_shape[0], 16),
            torch.nn.Dropout(0.3),
            torch.nn.Linear(16, n_components),
        )

    def forward(self, x):
        return self.layers(x)


def test_a_custom_encoder_with_dropout_trains_seeded_and_leaves_the_callers_state(blobs, fast):
    embeddings = []
    for caller_seed in (1, 2):
        torch.manual_seed(caller_seed)
        model = NoisyInfoMaxEmbedder(2, encoder=_DropoutEncoder, **fast).fit(blobs[0])
        embeddings.append(model.transform(blobs[0]))
        torch.manual_seed(caller_seed)
        expected = torch.rand(1)
        torch.manual_seed(caller_seed)
        NoisyInfoMaxEmbedder(2, encoder=_DropoutEncoder, **fast).fit(blobs[0])
        assert torch.rand(1) == expected
    np.testing.assert_array_equal(*embeddings)


def test_fits_in_threads_give_the_same_results_as_one_after_the_other(blobs, fast, monkeypatch):
    def embed(seed):
        model = NoisyInfoMaxEmbedder(2, **{**fast, "random_state": seed}).fit(blobs[0])
        return model.transform(blobs[0])

    one_by_one = [embed(0), embed(1)]
    # Hold the first thread between seeding and building its weights until the
    # second arrives (or a second has passed): the second must not reseed then.
    meeting = threading.Barrier(2, timeout=1.0)
    build = _fitting.build_module

    def build_after_meeting(*args, **kwargs):
        try:
            meeting.wait()
        except threading.BrokenBarrierError:
            pass
        return build(*args, **kwargs)

    monkeypatch.setattr(_fitting, "build_module", build_after_meeting)
    with ThreadPoolExecutor(2) as pool:
        threaded = list(pool.map(embed, [0, 1]))
    for alone, in_thread in zip(one_by_one, threaded, strict=True):
        np.testing.assert_array_equal(in_thread, alone)


def test_auto_epochs_give_a_fixed_budget_of_row_presentations():
    auto = NoisyInfoMaxEmbedder()
    assert resolve_max_epochs(auto, 250) == 100  # capped
    assert resolve_max_epochs(auto, 10_000) == 25
    assert resolve_max_epochs(auto, 10**6) == 1
    assert resolve_max_epochs(NoisyInfoMaxEmbedder(max_epochs=7), 10**6) == 7
    rows = np.array([3_000, 60_000, 123_457])
    epochs = np.array([resolve_max_epochs(auto, n) for n in rows])
    # ceil(250,000 / n): at least the budget, less than one epoch more.
    assert np.all(epochs * rows >= 250_000) and np.all((epochs - 1) * rows < 250_000)


def test_a_changed_scipy_prior_is_named_readably(blobs, fast):
    model = NoisyInfoMaxEmbedder(2, prior=stats.laplace(), batch_size=50, **fast)
    model.partial_fit(blobs[0][:200])
    with pytest.raises(ValueError, match=r"prior \(ScipyPrior\(scipy\.stats\.laplace\(\)\) ->"):
        model.set_params(prior=stats.laplace(scale=2.0)).partial_fit(blobs[0][200:])


def test_whitening_needs_more_rows_per_batch_than_dimensions(blobs, fast):
    # The covariance comes from a batch's clean rows: with B <= d it is
    # singular and the views were magnified about 300-fold in training.
    X = blobs[0]
    with pytest.raises(ValueError, match="batch_size > n_components"):
        NoisyInfoMaxEmbedder(8, batch_size=8, **fast).fit(X)
    with pytest.raises(ValueError, match="batch_size > n_components"):
        NoisyInfoMaxEmbedder(8, batch_size=8, **fast).partial_fit(X)
    NoisyInfoMaxEmbedder(8, batch_size=9, **fast).fit(X)
    NoisyInfoMaxEmbedder(8, batch_size=8, normalizer="standardize", **fast).fit(X)


def test_the_decoder_trains_as_many_epochs_as_the_encoder_ran(blobs, monkeypatch):
    from skorch.callbacks import Callback

    import sklearn_ndim._fitting as fitting

    class StopAfterTwo(Callback):
        def on_epoch_end(self, net, **kwargs):
            if len(net.history) == 2:
                raise KeyboardInterrupt

    budgets = []
    real = fitting.train_decoder

    def recording(*args):
        budgets.append(args[-1])
        return real(*args)

    monkeypatch.setattr(fitting, "train_decoder", recording)
    model = NoisyInfoMaxEmbedder(
        2, max_epochs=5, fit_inverse_transform=True, random_state=0, callbacks=[StopAfterTwo()]
    )
    model.fit(blobs[0])  # a callback's KeyboardInterrupt at an epoch's end stops early
    assert model.n_iter_ == 2 and budgets == [2]


def test_images_given_as_nested_lists_come_back_as_images(fast):
    images = np.random.default_rng(0).random((60, 8, 8))
    model = NoisyInfoMaxEmbedder(2, fit_inverse_transform=True, **fast).fit(images.tolist())
    assert model.inverse_transform(model.transform(images)).shape == (60, 8, 8)
    assert model.sample(3, random_state=0).shape == (3, 8, 8)


def test_a_small_chunk_after_fit_is_refused_before_any_warning(blobs, fast):
    X = blobs[0]
    model = NoisyInfoMaxEmbedder(2, batch_size=64, **fast).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"at least batch_size_ = 64 rows .* by fit or the"):
            model.partial_fit(X[:10])


def test_a_model_from_the_former_uniform_channel_embeds_but_does_not_train_on(blobs, fast):
    import math

    X = blobs[0]
    model = NoisyInfoMaxEmbedder(2, prior="uniform", noise_scale=0.5, **fast).fit(X)
    before = model.transform(X)
    # Such models stored the uniform-noise capacity d ln(1 + 1/(2 eps)).
    model.capacity_ = 2 * math.log1p(1 / (2 * 0.5))
    with pytest.raises(ValueError, match="former uniform-noise channel.*partial_fit uses"):
        model.partial_fit(X)
    with pytest.raises(ValueError, match="former uniform-noise channel.*estimate uses"):
        model.score(X)
    from sklearn_ndim.metrics import information_report

    with pytest.raises(ValueError, match="information_report uses the Gaussian channel"):
        information_report(model)
    np.testing.assert_array_equal(model.transform(X), before)
