"""Training set-up shared by fit, partial_fit and loading (sklearn_ndim._fitting)."""

import copy
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch
from scipy import stats

from sklearn_ndim import NoisyInfoMaxEmbedder, _fitting
from sklearn_ndim._fitting import _seeded, resolve_max_epochs


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
    for method, batch_size in (("fit", 9), ("partial_fit", 15)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            getattr(NoisyInfoMaxEmbedder(8, batch_size=batch_size, **fast), method)(X)
        said = [w for w in caught if "fewer than 2 * n_components = 16" in str(w.message)]
        assert len(said) == 1, method  # a fit checked it twice
        assert said[0].filename == __file__
        assert f"each batch of {batch_size} rows" in str(said[0].message)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*fewer than 2 \\* n_components")
        NoisyInfoMaxEmbedder(8, batch_size=16, **fast).fit(X)
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


def test_mixed_precision_auto_trains_in_float32_on_the_cpu(blobs, fast):
    X = blobs[0]
    auto = NoisyInfoMaxEmbedder(2, **fast).fit(X)
    off = NoisyInfoMaxEmbedder(2, mixed_precision=False, **fast).fit(X)
    assert auto.net_.module_.autocast_dtype is None
    np.testing.assert_array_equal(auto.transform(X), off.transform(X))


def test_mixed_precision_true_trains_the_encoder_in_bfloat16_on_the_cpu(blobs, fast):
    X = blobs[0]
    dtypes = []

    def record_training_dtype(layer, inputs, output):
        if layer.training:
            dtypes.append(output.dtype)

    torch.manual_seed(0)
    encoder = torch.nn.Sequential(
        torch.nn.Linear(X.shape[1], 16), torch.nn.Tanh(), torch.nn.Linear(16, 2)
    )
    encoder[0].register_forward_hook(record_training_dtype)
    same_start = copy.deepcopy(encoder)
    mixed = NoisyInfoMaxEmbedder(2, encoder=encoder, mixed_precision=True, **fast).fit(X)
    assert dtypes and set(dtypes) == {torch.bfloat16}
    dtypes.clear()
    full = NoisyInfoMaxEmbedder(2, encoder=same_start, mixed_precision=False, **fast).fit(X)
    assert dtypes and set(dtypes) == {torch.float32}
    # The weights and inference stay in float32; only the training steps differ.
    assert mixed.net_.module_.encoder[0].weight.dtype == torch.float32
    Z = mixed.transform(X.astype(np.float32))
    assert Z.dtype == np.float32
    assert not np.array_equal(Z, full.transform(X.astype(np.float32)))


def test_mixed_precision_follows_the_device_and_refuses_one_without_bfloat16(monkeypatch):
    module = torch.nn.Module()
    cuda = torch.device("cuda")
    monkeypatch.setattr(torch.version, "hip", None)
    # torch.cuda.is_bf16_supported() also counts emulation (slower than float32).
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: True)
    for capability, native in (((8, 0), True), ((7, 5), False)):
        monkeypatch.setattr(
            torch.cuda, "get_device_capability", lambda device=None, answer=capability: answer
        )
        _fitting.set_mixed_precision(module, cuda, "auto")
        assert module.autocast_dtype == (torch.bfloat16 if native else None)
        _fitting.set_mixed_precision(module, cuda, False)
        assert module.autocast_dtype is None
        for true in (True, np.True_):
            if native:
                _fitting.set_mixed_precision(module, cuda, true)
                assert module.autocast_dtype == torch.bfloat16
            else:
                with pytest.raises(ValueError, match="mixed_precision=True trains in bfloat16"):
                    _fitting.set_mixed_precision(module, cuda, true)
    for true in (True, np.True_):
        _fitting.set_mixed_precision(module, torch.device("cpu"), true)
        assert module.autocast_dtype == torch.bfloat16
        with pytest.raises(ValueError, match="compute capability 8.0"):
            _fitting.set_mixed_precision(module, torch.device("mps"), true)
    _fitting.set_mixed_precision(module, torch.device("cpu"), np.False_)
    assert module.autocast_dtype is None


def test_a_device_without_bfloat16_fails_before_training(blobs, fast, monkeypatch):
    # Checked with the other arguments, so fit_distributed refuses it before any process starts.
    monkeypatch.setattr(_fitting, "resolve_device", lambda device: torch.device("mps"))
    model = NoisyInfoMaxEmbedder(2, mixed_precision=True, **fast)
    with pytest.raises(ValueError, match="mixed_precision=True"):
        _fitting.check_fit_arguments(model, blobs[0])


@pytest.mark.parametrize("value", ["yes", 1, None, "bfloat16"])
def test_mixed_precision_takes_a_boolean_or_auto(blobs, fast, value):
    with pytest.raises(ValueError, match="'mixed_precision' parameter"):
        NoisyInfoMaxEmbedder(2, mixed_precision=value, **fast).fit(blobs[0])


def test_a_memmap_is_read_chunk_by_chunk_never_whole(blobs, fast, tmp_path, monkeypatch):
    import sklearn_ndim._data as data_module
    import sklearn_ndim._fitting as fitting

    X = np.repeat(blobs[0], 5, axis=0)  # 2000 rows
    path = tmp_path / "rows.dat"
    stored = np.memmap(path, dtype=np.float32, mode="w+", shape=X.shape)
    stored[:] = X
    stored.flush()
    rows = np.memmap(path, dtype=np.float32, mode="r", shape=X.shape)
    monkeypatch.setattr(fitting, "STREAM_CHUNK_ROWS", 512)
    converted = []
    original = data_module.InputScaler.transform

    def spy(self, block, dtype=np.float32):
        converted.append(len(block))
        return original(self, block, dtype)

    monkeypatch.setattr(data_module.InputScaler, "transform", spy)
    embedder = NoisyInfoMaxEmbedder(n_components=2, **fast).fit(rows)
    assert max(converted) <= 512 and sum(converted) >= 3 * len(X)
    converted.clear()
    Z = embedder.transform(rows)
    assert Z.shape == (2000, 2) and Z.dtype == np.float32 and np.isfinite(Z).all()


def test_a_memmap_one_row_longer_than_its_chunks_fits_with_neighbours(
    blobs, fast, tmp_path, monkeypatch
):
    import sklearn_ndim._fitting as fitting

    X = np.repeat(blobs[0], 2, axis=0)[:513].astype(np.float32)
    path = tmp_path / "rows.dat"
    stored = np.memmap(path, dtype=np.float32, mode="w+", shape=X.shape)
    stored[:] = X
    stored.flush()
    monkeypatch.setattr(fitting, "STREAM_CHUNK_ROWS", 512)
    rows = np.memmap(path, dtype=np.float32, mode="r", shape=X.shape)
    # The last row joins the chunk before it: alone it had no neighbours (an error).
    embedder = NoisyInfoMaxEmbedder(n_components=2, n_neighbors=5, **fast).fit(rows)
    np.testing.assert_array_equal(embedder.transform(rows), embedder.transform(X))


def test_a_memmap_with_chunks_smaller_than_a_batch_is_refused(blobs, fast, tmp_path, monkeypatch):
    # Each chunk gave no full batch: nothing trained, and the progress callback
    # failed with KeyError: 'train_loss'.
    import sklearn_ndim._fitting as fitting

    X = np.repeat(blobs[0], 5, axis=0).astype(np.float32)  # 2000 rows
    np.save(tmp_path / "rows.npy", X)
    rows = np.load(tmp_path / "rows.npy", mmap_mode="r")
    monkeypatch.setattr(fitting, "STREAM_CHUNK_ROWS", 512)
    embedder = NoisyInfoMaxEmbedder(n_components=2, batch_size=600, **fast)
    with pytest.raises(ValueError, match="batch_size=600 exceeds the 464 rows of the smallest"):
        embedder.fit(rows)
    assert not hasattr(embedder, "net_")
    embedder.set_params(batch_size=464).fit(rows)  # as many as the last chunk holds


def test_widths_that_size_no_network_are_named():
    images = np.random.default_rng(0).random((40, 1, 12, 12)).astype(np.float32)
    with pytest.warns(
        UserWarning, match=r"hidden_layer_sizes=\(8,\) does not apply.*convolutional"
    ):
        NoisyInfoMaxEmbedder(2, max_epochs=1, hidden_layer_sizes=(8,)).fit(images)
    rows = images.reshape(40, -1)
    custom = lambda input_shape, n_components: torch.nn.Linear(input_shape[0], n_components)  # noqa: E731
    with pytest.warns(UserWarning, match="this fit uses a custom encoder"):
        NoisyInfoMaxEmbedder(2, max_epochs=1, hidden_layer_sizes=(8,), encoder=custom).fit(rows)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="hidden_layer_sizes")
        # They size the MLP, and a table's decoder beside a custom encoder.
        NoisyInfoMaxEmbedder(2, max_epochs=1, hidden_layer_sizes=(8,)).fit(rows)
        NoisyInfoMaxEmbedder(
            2, max_epochs=1, hidden_layer_sizes=(8,), encoder=custom, fit_inverse_transform=True
        ).fit(rows)
        NoisyInfoMaxEmbedder(2, max_epochs=1).fit(images)


def test_the_widths_warning_comes_once_per_stream_and_not_on_loading(tmp_path):
    from sklearn_ndim import io

    images = np.random.default_rng(0).random((40, 1, 12, 12)).astype(np.float32)
    embedder = NoisyInfoMaxEmbedder(2, max_epochs=1, batch_size=20, hidden_layer_sizes=(8,))
    with pytest.warns(UserWarning, match="hidden_layer_sizes"):
        embedder.partial_fit(images)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="hidden_layer_sizes")
        embedder.partial_fit(images)
        io.save(embedder, tmp_path / "model")
        io.load(tmp_path / "model")
