"""The training net and the passes over whole data sets (embedding, estimates, decoder)."""

import pickle
import warnings

import numpy as np
import pytest
import torch

from sklearn_ndim import NoisyInfoMaxEmbedder, _training
from sklearn_ndim._data import InputScaler
from sklearn_ndim._objective import contrastive_scores, info_nce
from sklearn_ndim._training import InfoMaxNet, embed, estimate_mutual_info, map_batches
from sklearn_ndim._training_data import ChunkedBatchIterator, Reservoir, TrainingData
from sklearn_ndim._views import ViewSpec


def _data(rows, jitter=0.1, chunk_rows=None, n_neighbors=0):
    scaler = InputScaler.fit(rows)
    spec = ViewSpec(n_neighbors, jitter, 0.0, 0, False, 0.0)
    return TrainingData(rows, scaler, torch.device("cpu"), spec, (rows.shape[1],), 0, chunk_rows)


def test_the_step_is_shared_by_training_and_the_estimate(tiny_module):
    module = tiny_module().eval()
    X = np.random.default_rng(0).normal(size=(64, 4))
    data = _data(X)
    # The estimate over one full batch is exactly ln B - loss of the step on
    # that batch, drawn from the same generator.
    generator = torch.Generator().manual_seed(3)
    rows, indices, views = next(iter(ChunkedBatchIterator(data, 64, generator)))
    expected = info_nce(contrastive_scores(module, rows, indices, views, generator))[1]
    assert estimate_mutual_info(module, data, 64, seed=3) == expected.item()


def test_embed_is_batch_independent_and_keeps_float64(tiny_module):
    module = tiny_module().eval()
    data = torch.randn(10, 4, dtype=torch.float64)
    whole = embed(module, data)
    assert whole.dtype == np.float64
    np.testing.assert_allclose(whole[3:5], embed(module, data[3:5]), rtol=0, atol=1e-12)


def test_a_pickled_net_keeps_adams_state_on_the_cpu(tiny_module):
    module = tiny_module()
    data = _data(np.random.default_rng(0).normal(size=(40, 4)))
    net = InfoMaxNet(
        module,
        optimizer=torch.optim.Adam,
        max_epochs=1,
        batch_size=20,
        generator=torch.Generator().manual_seed(0),
    )
    net.fit(data)
    restored = pickle.loads(pickle.dumps(net))
    assert not hasattr(restored, "optimizer_") and restored.generator is None
    # Adam's state travels as a CPU state dict, equal to the live one.
    live = net.optimizer_.state_dict()
    assert restored._optimizer_state["param_groups"] == live["param_groups"]
    for key, values in live["state"].items():
        for name, value in values.items():
            torch.testing.assert_close(restored._optimizer_state["state"][key][name], value)
    assert hasattr(net, "optimizer_") and net.generator is not None, "pickling must not mutate"
    assert not hasattr(net, "_optimizer_state")
    x = data.rows(0)
    torch.testing.assert_close(restored.module_(x), net.module_(x))


@pytest.mark.parametrize("n_rows, batch_size", [(10, 3), (12, 4), (5, 8), (0, 4)])
def test_map_batches_equals_one_application(n_rows, batch_size):
    rows = torch.randn(n_rows, 3, 2, dtype=torch.float64)
    weight = torch.randn(2, 5, dtype=torch.float64)
    out = map_batches(lambda x: (x @ weight).sum(1), rows, batch_size)
    assert out.dtype == torch.float64 and out.shape == (n_rows, 5)
    torch.testing.assert_close(out, (rows @ weight).sum(1), rtol=0, atol=1e-12)


def test_estimators_pickled_before_the_split_find_their_reservoir():
    # Their pickles name sklearn_ndim._training.Reservoir.
    assert _training.Reservoir is Reservoir


class _RepeatsItsOutputs(torch.nn.Module):
    """A custom encoder whose last layer is half as wide as the embedding."""

    def __init__(self, input_shape, n_components):
        super().__init__()
        self.linear = torch.nn.Linear(input_shape[0], n_components // 2)

    def forward(self, x):
        h = self.linear(x)
        return torch.cat([h, h], dim=1)


class _RepeatsLargeOutputs(_RepeatsItsOutputs):
    def forward(self, x):
        return 300.0 * super().forward(x)


@pytest.mark.parametrize("encoder", [_RepeatsItsOutputs, _RepeatsLargeOutputs])
def test_an_encoder_whose_outputs_span_too_few_dimensions_warns(blobs, fast, encoder):
    # Half the embedding carried nothing (nearly constant after whitening),
    # without a word; at a large scale float32 round-off made whitening fail
    # and the fit was reported as diverged ("a learning rate too high").
    with pytest.warns(UserWarning, match="span 2 of the embedding's 4 dimensions") as said:
        NoisyInfoMaxEmbedder(4, encoder=encoder, **fast).fit(blobs[0])
    assert [w.filename for w in said if "span" in str(w.message)] == [__file__]
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*dimensions: the other")
        NoisyInfoMaxEmbedder(4, **fast).fit(blobs[0])


@pytest.mark.parametrize("memmap", [False, True], ids=["in memory", "memmap chunks"])
def test_the_decoder_embeds_each_chunk_once_over_its_epochs(blobs, monkeypatch, tmp_path, memmap):
    import sklearn_ndim._fitting as fitting

    embedded, real_map, real_fit = [], _training.map_batches, _training.fit_decoder

    def counting(function, rows, *args, **kwargs):
        embedded.append(len(rows))
        return real_map(function, rows, *args, **kwargs)

    def fit_decoder(decoder, module, data, max_epochs, *args):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(_training, "map_batches", counting)
            real_fit(decoder, module, data, max_epochs, *args)
        # 1,000 steps of 50 rows over 400 rows take 125 epochs; each chunk is embedded once.
        assert sorted(embedded) == sorted(stop - start for start, stop in data.bounds)

    X = blobs[0]
    if memmap:
        np.save(tmp_path / "rows.npy", X)
        X = np.load(tmp_path / "rows.npy", mmap_mode="r")
        monkeypatch.setattr(fitting, "STREAM_CHUNK_ROWS", 100)
    monkeypatch.setattr(fitting, "fit_decoder", fit_decoder)
    NoisyInfoMaxEmbedder(
        2, max_epochs=1, batch_size=50, fit_inverse_transform=True, random_state=0
    ).fit(X)
    assert len(embedded) == (4 if memmap else 1)
