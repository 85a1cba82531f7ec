"""Safe model files: round trips, versions, devices, tampered and foreign files."""

import functools
import json
import pickle
import struct

import numpy as np
import pytest
import torch
from safetensors.torch import save_file
from scipy import stats
from sklearn.exceptions import NotFittedError

from sklearn_ndim import NoisyInfoMaxEmbedder
from sklearn_ndim import io as model_io


@pytest.fixture(scope="module")
def table_fit(blobs, fast):
    X = blobs[0]
    return NoisyInfoMaxEmbedder(n_components=3, **fast).fit(X), X


def _round_trip(embedder, tmp_path, **load_kwargs):
    path = tmp_path / "model.safetensors"
    model_io.save(embedder, path)
    return model_io.load(path, **load_kwargs), path


def _rewrite_header(path, edit):
    """Apply ``edit`` to the header of the file at ``path``, as an older or newer writer would."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        header = json.loads(handle.metadata()["sklearn_ndim"])
        tensors = {name: handle.get_tensor(name) for name in handle.keys()}
    header.pop("checksum")
    edit(header)
    header["checksum"] = model_io._checksum(header, tensors)
    save_file(tensors, str(path), metadata={"sklearn_ndim": json.dumps(header)})
    return header


@pytest.mark.parametrize(
    "prior", ["gaussian", "uniform", stats.laplace(loc=1.0, scale=2.0)], ids=str
)
def test_round_trip_is_bitwise(blobs, fast, tmp_path, prior):
    X = blobs[0]
    noise = {"uniform": 0.1}.get(prior if isinstance(prior, str) else "", "auto")
    embedder = NoisyInfoMaxEmbedder(n_components=3, prior=prior, noise_scale=noise, **fast).fit(X)
    restored, _ = _round_trip(embedder, tmp_path)
    for dtype in (np.float64, np.float32):
        np.testing.assert_array_equal(
            restored.transform(X.astype(dtype)), embedder.transform(X.astype(dtype))
        )
    np.testing.assert_array_equal(restored.score_samples(X), embedder.score_samples(X))
    assert restored.score(X) == embedder.score(X)
    assert restored.estimate_mutual_info(X) == embedder.estimate_mutual_info(X)
    for name in ("noise_scale_", "capacity_", "mutual_info_", "n_iter_", "batch_size_"):
        assert getattr(restored, name) == getattr(embedder, name)
    assert restored.prior_ == embedder.prior_
    assert list(restored.history_[:, "mutual_info"]) == list(embedder.history_[:, "mutual_info"])
    assert restored.get_params().keys() == embedder.get_params().keys()


class _LogisticNamedLaplace(stats.rv_continuous):
    # A distribution of one's own, under the name of a scipy.stats one.
    def _cdf(self, x):
        return stats.logistic.cdf(x)

    def _ppf(self, q):
        return stats.logistic.ppf(q)


@pytest.mark.parametrize(
    "prior",
    [
        _LogisticNamedLaplace(name="laplace")(),
        _LogisticNamedLaplace(name="not_in_scipy")(),
        stats.rv_histogram(np.histogram(np.random.default_rng(0).normal(size=500), 20))(),
    ],
    ids=["named-like-scipy", "unknown-name", "rv_histogram"],
)
def test_a_prior_that_load_cannot_rebuild_is_refused(blobs, fast, tmp_path, prior):
    X = blobs[0]
    embedder = NoisyInfoMaxEmbedder(n_components=3, prior=prior, **fast).fit(X)
    path = tmp_path / "model.safetensors"
    with pytest.raises(ValueError, match="load could not rebuild it: save with pickle"):
        model_io.save(embedder, path)
    assert not path.exists()
    restored = pickle.loads(pickle.dumps(embedder))
    np.testing.assert_array_equal(restored.transform(X), embedder.transform(X))


def test_constant_features_stay_ignored_after_a_round_trip(blobs, fast, tmp_path):
    X = np.column_stack([blobs[0], np.full(len(blobs[0]), 5.0)])
    embedder = NoisyInfoMaxEmbedder(n_components=3, **fast).fit(X)
    restored, _ = _round_trip(embedder, tmp_path)
    moved = X.copy()
    moved[:, -1] = np.linspace(-100.0, 100.0, len(X))
    for model in (embedder, restored):
        np.testing.assert_array_equal(model.transform(moved), embedder.transform(X))


def test_images_and_feature_names_round_trip(fast, tmp_path):
    pd = pytest.importorskip("pandas")
    images = np.random.default_rng(0).integers(0, 256, (40, 1, 8, 8)).astype(np.uint8)
    embedder = NoisyInfoMaxEmbedder(n_components=2, **fast).fit(images)
    restored, _ = _round_trip(embedder, tmp_path)
    np.testing.assert_array_equal(restored.transform(images), embedder.transform(images))
    frame = pd.DataFrame(np.random.default_rng(1).normal(size=(50, 3)), columns=["a", "b", "c"])
    named = NoisyInfoMaxEmbedder(n_components=2, **fast).fit(frame)
    restored, _ = _round_trip(named, tmp_path)
    assert list(restored.feature_names_in_) == ["a", "b", "c"]
    np.testing.assert_array_equal(restored.transform(frame), named.transform(frame))


def test_the_output_configuration_round_trips(blobs, fast, tmp_path):

    pd = pytest.importorskip("pandas")
    X = blobs[0]
    embedder = NoisyInfoMaxEmbedder(n_components=2, **fast).fit(X).set_output(transform="pandas")
    restored, path = _round_trip(embedder, tmp_path)
    Z = restored.transform(X)
    assert isinstance(Z, pd.DataFrame)
    assert list(Z.columns) == ["noisyinfomaxembedder0", "noisyinfomaxembedder1"]
    pd.testing.assert_frame_equal(Z, embedder.transform(X))

    # A file written before the configuration was saved loads with the default output.
    def drop_output_config(header):
        assert header.pop("output_config") == {"transform": "pandas"}

    _rewrite_header(path, drop_output_config)
    old = model_io.load(path)
    assert type(old.transform(X)) is np.ndarray
    np.testing.assert_array_equal(old.transform(X), Z.to_numpy())
    with pytest.raises(ValueError, match=r"set_output\(transform=\['pandas'\]\) is not one of"):
        model_io.save(embedder.set_output(transform=["pandas"]), path)


def test_decoders_and_image_layouts_round_trip(fast, tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (40, 8, 8)).astype(np.uint8)
    embedder = NoisyInfoMaxEmbedder(n_components=2, fit_inverse_transform=True, **fast)
    embedder.fit(images)
    restored, _ = _round_trip(embedder, tmp_path)
    Z = embedder.transform(images)
    np.testing.assert_array_equal(restored.inverse_transform(Z), embedder.inverse_transform(Z))
    np.testing.assert_array_equal(
        restored.sample(5, random_state=0), embedder.sample(5, random_state=0)
    )
    assert restored.sample(2).shape == (2, 8, 8)


def test_loading_runs_no_pickle(table_fit, tmp_path, monkeypatch):
    embedder, X = table_fit
    path = tmp_path / "model.safetensors"
    model_io.save(embedder, path)

    def refuse(*args, **kwargs):
        raise AssertionError("load must not unpickle anything")

    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    monkeypatch.setattr(torch, "load", refuse)
    np.testing.assert_array_equal(model_io.load(path).transform(X), embedder.transform(X))


def test_files_carry_the_versions_that_wrote_them(table_fit, tmp_path):
    from safetensors import safe_open

    _, path = _round_trip(table_fit[0], tmp_path)
    with safe_open(str(path), framework="pt") as handle:
        header = json.loads(handle.metadata()["sklearn_ndim"])
    assert header["format"] == "sklearn-ndim" and header["format_version"] == 2
    assert header["versions"]["torch"] == torch.__version__
    assert set(header["versions"]) >= {"sklearn_ndim", "scikit-learn", "numpy", "python"}


def test_a_model_saved_for_an_absent_gpu_loads_on_the_cpu(table_fit, tmp_path):
    embedder, X = table_fit
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    gpu_params = embedder.set_params(device="cuda")
    try:
        path = tmp_path / "gpu.safetensors"
        model_io.save(gpu_params, path)
    finally:
        embedder.set_params(device="cpu")
    with pytest.warns(UserWarning, match="loaded on the CPU"):
        restored = model_io.load(path)
    assert restored.device == "cpu"
    np.testing.assert_array_equal(restored.transform(X), embedder.transform(X))
    with pytest.raises(ValueError, match="CUDA is not available"):
        model_io.load(path, device="cuda")


def _flip_byte(path, position):
    data = bytearray(path.read_bytes())
    data[position] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_tampered_file_is_refused(table_fit, tmp_path):
    _, path = _round_trip(table_fit[0], tmp_path)
    _flip_byte(path, len(path.read_bytes()) - 3)  # inside the last tensor
    with pytest.raises(ValueError, match="fails its checksum"):
        model_io.load(path)
    _, path = _round_trip(table_fit[0], tmp_path)
    text = path.read_bytes()
    position = text.index(b'\\"n_iter\\": 3') + len(b'\\"n_iter\\": ')
    _flip_byte(path, position)  # 3 -> 2 in the header
    with pytest.raises(ValueError, match="fails its checksum"):
        model_io.load(path)
    _, path = _round_trip(table_fit[0], tmp_path)
    named = b'\\"format\\": \\"'
    _flip_byte(path, path.read_bytes().index(named) + len(named))  # "sklearn-ndim": "rklearn-"
    with pytest.raises(ValueError, match="header that cannot be read: the file was modified"):
        model_io.load(path)


def test_foreign_files_are_refused(tmp_path, table_fit):
    pickled = tmp_path / "model.pkl"
    pickled.write_bytes(pickle.dumps(table_fit[0]))
    with pytest.raises(ValueError, match="not a safetensors file"):
        model_io.load(pickled)
    other = tmp_path / "other.safetensors"
    save_file({"weight": torch.zeros(2)}, str(other), metadata={"format": "pt"})
    with pytest.raises(ValueError, match="not an sklearn-ndim model"):
        model_io.load(other)
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(struct.pack("<Q", 10**6) + b"{}")
    with pytest.raises(ValueError, match="not a safetensors file"):
        model_io.load(truncated)
    with pytest.raises(FileNotFoundError):
        model_io.load(tmp_path / "missing.safetensors")


def test_a_newer_file_layout_is_refused(table_fit, tmp_path):

    _, path = _round_trip(table_fit[0], tmp_path)
    _rewrite_header(path, lambda header: header.update(format_version=99))
    with pytest.raises(ValueError, match="layout 99"):
        model_io.load(path)


def test_a_file_from_before_mixed_precision_loads_with_its_default(table_fit, tmp_path):

    embedder, X = table_fit
    _, path = _round_trip(embedder, tmp_path)
    _rewrite_header(path, lambda header: header["parameters"].pop("mixed_precision"))
    restored = model_io.load(path)
    assert restored.get_params()["mixed_precision"] == "auto"
    np.testing.assert_array_equal(restored.transform(X), embedder.transform(X))


@pytest.fixture(scope="module")
def image_fit():
    images = np.random.default_rng(0).random((64, 16, 16)).astype(np.float32)
    return NoisyInfoMaxEmbedder(n_components=2, max_epochs=1, random_state=0).fit(images), images


def test_the_prior_penalty_trained_with_is_saved_and_loaded(image_fit, tmp_path):
    embedder, images = image_fit
    restored, path = _round_trip(embedder, tmp_path)
    assert restored.prior_penalty_ == embedder.prior_penalty_ == 30.0
    assert restored.get_params()["prior_penalty"] == "auto"
    # A file written before the weight was saved resolves "auto" as its fit did.
    _rewrite_header(path, lambda header: header["fitted"].pop("prior_penalty"))
    assert model_io.load(path).prior_penalty_ == 30.0
    np.testing.assert_array_equal(model_io.load(path).transform(images), embedder.transform(images))


def test_a_file_from_before_the_prior_penalty_existed_loads_without_it(image_fit, tmp_path):
    embedder, images = image_fit
    _, path = _round_trip(embedder, tmp_path)

    def as_before_the_penalty(header):
        del header["parameters"]["prior_penalty"], header["fitted"]["prior_penalty"]

    _rewrite_header(path, as_before_the_penalty)
    old = model_io.load(path)
    assert old.get_params()["prior_penalty"] == 0.0 and old.prior_penalty_ == 0.0
    np.testing.assert_array_equal(old.transform(images), embedder.transform(images))


class _Tiny(torch.nn.Module):
    def __init__(self, input_shape, n_components):
        super().__init__()
        self.linear = torch.nn.Linear(input_shape[0], n_components)

    def forward(self, x):
        return self.linear(x)


def test_custom_encoders_are_passed_again(blobs, fast, tmp_path):
    X = blobs[0]
    embedder = NoisyInfoMaxEmbedder(n_components=2, encoder=_Tiny, **fast).fit(X)
    path = tmp_path / "custom.safetensors"
    model_io.save(embedder, path)
    with pytest.raises(ValueError, match="custom encoder .*_Tiny"):
        model_io.load(path)
    restored = model_io.load(path, encoder=_Tiny)
    np.testing.assert_array_equal(restored.transform(X), embedder.transform(X))
    with pytest.raises(ValueError, match="saved with the custom encoder .*_Tiny; got .*Sequential"):
        model_io.load(path, encoder=torch.nn.Sequential(torch.nn.Linear(10, 2)))


class _TinyTanh(_Tiny):
    """The same parameters as _Tiny, another forward: its weights would load."""

    def forward(self, x):
        return torch.tanh(self.linear(x))


def test_another_encoder_with_the_same_parameters_is_refused(blobs, fast, tmp_path):
    X = blobs[0]
    embedder = NoisyInfoMaxEmbedder(n_components=2, encoder=_Tiny, **fast).fit(X)
    path = tmp_path / "custom.safetensors"
    model_io.save(embedder, path)
    with pytest.raises(ValueError, match=r"_Tiny; got \S*_TinyTanh\. Pass the same class"):
        model_io.load(path, encoder=_TinyTanh)
    # The same class from another module (a script's __main__, say) loads.
    moved = type("_Tiny", (_Tiny,), {"__module__": "elsewhere"})
    restored = model_io.load(path, encoder=moved)
    np.testing.assert_array_equal(restored.transform(X), embedder.transform(X))


def test_only_an_embedder_can_be_saved(blobs, fast, tmp_path):
    from sklearn.decomposition import PCA
    from sklearn.pipeline import make_pipeline

    X = blobs[0]
    with pytest.raises(TypeError, match="save writes a NoisyInfoMaxEmbedder; got PCA"):
        model_io.save(PCA(2).fit(X), tmp_path / "x.safetensors")
    pipe = make_pipeline(NoisyInfoMaxEmbedder(n_components=2, **fast)).fit(X)
    with pytest.raises(TypeError, match="save its embedder step"):
        model_io.save(pipe, tmp_path / "x.safetensors")


def _tiny_factory(input_shape, n_components):
    return _Tiny(input_shape=input_shape, n_components=n_components)


@pytest.mark.parametrize(
    "encoder, name",
    [
        (_tiny_factory, r"test_io\._tiny_factory;"),
        (functools.partial(_tiny_factory), r"functools\.partial\(test_io\._tiny_factory, \.\.\.\)"),
    ],
    ids=["function", "partial"],
)
def test_a_custom_encoder_factory_is_named_when_it_must_be_passed_again(
    blobs, fast, tmp_path, encoder, name
):
    embedder = NoisyInfoMaxEmbedder(n_components=2, encoder=encoder, **fast).fit(blobs[0])
    path = tmp_path / "factory.safetensors"
    model_io.save(embedder, path)
    with pytest.raises(ValueError, match=name):
        model_io.load(path)


def test_an_unfitted_embedder_cannot_be_saved(tmp_path):
    with pytest.raises(NotFittedError):
        model_io.save(NoisyInfoMaxEmbedder(), tmp_path / "x.safetensors")


@pytest.mark.parametrize(
    "changed", [{"n_components": 5}, {"critic": "mlp"}, {"hidden_layer_sizes": (8,)}], ids=str
)
def test_a_model_whose_parameters_changed_after_fit_is_not_saved(blobs, fast, tmp_path, changed):
    # The file rebuilds the model from its parameters: a changed one would
    # make a file that cannot be loaded.
    embedder = NoisyInfoMaxEmbedder(n_components=3, **fast).fit(blobs[0])
    fitted_with = embedder.get_params()
    embedder.set_params(**changed)
    path = tmp_path / "model.safetensors"
    with pytest.raises(ValueError, match=f"{next(iter(changed))} .* set them back"):
        model_io.save(embedder, path)
    assert not path.exists()
    model_io.save(embedder.set_params(**fitted_with), path)


def test_training_controls_and_the_device_may_change_before_saving(blobs, fast, tmp_path):
    embedder = NoisyInfoMaxEmbedder(n_components=3, **fast).fit(blobs[0])
    embedder.set_params(learning_rate=0.1, max_epochs=7, device="cpu:0", mixed_precision=True)
    restored, _ = _round_trip(embedder, tmp_path)
    assert restored.get_params()["max_epochs"] == 7
    assert restored.get_params()["mixed_precision"] is True
    np.testing.assert_array_equal(restored.transform(blobs[0]), embedder.transform(blobs[0]))


def test_model_files_get_the_permissions_of_the_umask(table_fit, tmp_path):
    import os
    import stat

    previous = os.umask(0o022)
    try:
        model_io.save(table_fit[0], tmp_path / "model.safetensors")
    finally:
        os.umask(previous)
    mode = stat.S_IMODE(os.stat(tmp_path / "model.safetensors").st_mode)
    assert mode == 0o644


def test_loading_uses_none_of_the_callers_random_numbers(table_fit, tmp_path):
    path = tmp_path / "model.safetensors"
    model_io.save(table_fit[0], path)
    torch.manual_seed(0)
    expected = torch.rand(4)
    torch.manual_seed(0)
    model_io.load(path)
    torch.testing.assert_close(torch.rand(4), expected, rtol=0, atol=0)


def test_numpy_scalar_parameters_are_saved_as_numbers(blobs, fast, tmp_path):
    # As a GridSearchCV grid built with np.arange gives them.
    params = {**fast, "random_state": np.int64(3), "max_epochs": np.int64(2)}
    embedder = NoisyInfoMaxEmbedder(n_components=np.int64(2), noise_scale=np.float32(0.5), **params)
    restored, _ = _round_trip(embedder.fit(blobs[0]), tmp_path)
    assert restored.get_params()["random_state"] == 3
    assert restored.get_params()["n_components"] == 2 and restored.get_params()["max_epochs"] == 2
    assert restored.get_params()["noise_scale"] == pytest.approx(0.5)
    np.testing.assert_array_equal(restored.transform(blobs[0]), embedder.transform(blobs[0]))


def test_a_loaded_model_streams_on_with_its_own_optimiser(blobs, fast, tmp_path):
    X = blobs[0]
    embedder = NoisyInfoMaxEmbedder(2, batch_size=50, learning_rate=3e-3, **fast)
    restored, _ = _round_trip(embedder.partial_fit(X[:200]), tmp_path)
    restored.partial_fit(X[200:])
    optimizer = restored.net_.optimizer_
    assert isinstance(optimizer, torch.optim.Adam)
    assert optimizer.param_groups[0]["lr"] == 3e-3
