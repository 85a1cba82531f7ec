"""The training net, the batch iterators and the passes over whole data sets."""

import pickle

import numpy as np
import pytest
import torch

from sklearn_ndim._data import InputScaler
from sklearn_ndim._objective import contrastive_scores, info_nce
from sklearn_ndim._training import (
    ChunkedBatchIterator,
    InfoMaxNet,
    Reservoir,
    TensorBatchIterator,
    TrainingData,
    embed,
    estimate_mutual_info,
    first_occurrences,
    map_batches,
    row_copies,
)
from sklearn_ndim._views import ViewSpec


def test_training_batches_are_full_shuffled_and_reproducible():
    data = torch.arange(10.0).reshape(10, 1)
    iterator = TensorBatchIterator(data, 4, True, True, torch.Generator().manual_seed(0))
    batches = list(iterator)
    assert len(batches) == len(iterator) == 2
    assert all(rows.shape == (4, 1) for rows, _ in batches)
    rows, indices = batches[0]
    assert torch.equal(rows[:, 0], data[indices, 0])
    again = list(TensorBatchIterator(data, 4, True, True, torch.Generator().manual_seed(0)))
    assert torch.equal(again[0][0], rows)


def test_inference_batches_cover_every_row_in_order():
    data = torch.arange(10.0).reshape(10, 1)
    rows = torch.cat([r for r, _ in TensorBatchIterator(data, 4)])
    assert torch.equal(rows, data)


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


def test_chunks_cover_every_row_once_per_epoch_with_their_own_neighbours():
    X = np.arange(40.0).reshape(20, 2)
    data = _data(X, chunk_rows=8, n_neighbors=2)
    assert data.bounds == [(0, 8), (8, 16), (16, 20)]
    seen = []
    for rows, indices, views in ChunkedBatchIterator(data, 4, torch.Generator().manual_seed(0)):
        seen.append(rows)
        partners = views.neighbor_mix.bank[views.neighbor_mix.neighbors[indices]]
        assert torch.all((partners - rows[:, None]).abs().amax(dim=2) < 1.0)
    assert sum(len(r) for r in seen) == 20  # full batches of 4: 8 + 8 + 4 rows
    assert len(ChunkedBatchIterator(data, 4, None)) == 5


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


def test_the_reservoir_is_a_uniform_sample_of_the_stream():
    counts = np.zeros(10)
    for seed in range(300):
        reservoir = Reservoir(50, seed)
        for chunk in range(10):
            # Distinct rows, labelled by their chunk in column 0.
            labels = torch.full((100,), float(chunk))
            reservoir.add(torch.stack([labels, torch.arange(100.0)], dim=1))
        assert len(reservoir.rows) == 50 and reservoir.seen == 1000
        counts += np.bincount(reservoir.rows[:, 0].long().numpy(), minlength=10)
    # Each chunk holds a tenth of the stream: 5 rows per sample on average.
    np.testing.assert_allclose(counts / 300, 5.0, atol=0.5)


def test_the_reservoir_keeps_copies_as_often_as_the_stream_shows_them():
    rows = torch.randn(30, 4)
    reservoir = Reservoir(100, 0)
    for _ in range(3):
        reservoir.add(rows)
    assert reservoir.seen == 90
    assert torch.equal(reservoir.rows, torch.cat([rows, rows, rows]))


def test_row_copies_finds_exact_copies_only():
    reference = torch.randn(6, 3)
    near = reference[1].clone()
    near[0] = torch.nextafter(near[0], torch.tensor(np.inf))
    rows = torch.stack([reference[4], near, reference[0], torch.zeros(3)])
    assert row_copies(rows, reference).tolist() == [True, False, True, False]
    assert first_occurrences(torch.cat([rows, rows[:2]])).tolist() == [True] * 4 + [False] * 2


def test_the_neighbour_bank_leaves_out_reservoir_copies_of_the_chunk():
    X = np.random.default_rng(0).normal(size=(40, 5))
    scaler = InputScaler.fit(X, (5,), True)
    seen_twice = scaler.to_tensor(np.concatenate([X, X]), torch.device("cpu"))
    spec = ViewSpec(3, 0.0, 0.0, 0, False, 0.0)
    data = TrainingData(X[:20], scaler, torch.device("cpu"), spec, (5,), 0, extra_bank=seen_twice)
    rows = data.rows(0)
    views = data.views(0, rows)
    # The chunk and the 20 other rows once each: 40 distinct rows, not 100.
    assert views.bank.shape[0] == 40
    assert first_occurrences(views.bank).all()
    assert data.views(0, rows).bank.shape[0] == 40  # the same bank again


def test_other_processes_rows_are_neighbours_too():
    X = np.arange(20.0)[:, None] * 10 + np.arange(5.0)  # rows 10 * sqrt(5) apart
    nearby = X + 1.0  # each row's nearest row is its twin among the others
    scaler = InputScaler.fit(np.concatenate([X, nearby]), (5,), True)
    others = scaler.to_tensor(nearby, torch.device("cpu"))
    spec = ViewSpec(1, 0.0, 0.0, 0, False, 0.0)
    data = TrainingData(X, scaler, torch.device("cpu"), spec, (5,), 0, other_rows=others)
    views = data.views(0, data.rows(0))
    assert views.bank.shape[0] == 40
    assert views.neighbor_mix.neighbors[:, 0].tolist() == list(range(20, 40))
    # All rows are held once: the bank is built once, and the rows are a view of it.
    again = data.views(0, data.rows(0))
    assert again.bank.data_ptr() == views.bank.data_ptr() == data.rows(0).data_ptr()
    assert data.other_rows is None
    torch.testing.assert_close(data.rows(0), scaler.to_tensor(X, torch.device("cpu")))


@pytest.mark.parametrize("n_rows, batch_size", [(10, 3), (12, 4), (5, 8), (0, 4)])
def test_map_batches_equals_one_application(n_rows, batch_size):
    rows = torch.randn(n_rows, 3, 2, dtype=torch.float64)
    weight = torch.randn(2, 5, dtype=torch.float64)
    out = map_batches(lambda x: (x @ weight).sum(1), rows, batch_size)
    assert out.dtype == torch.float64 and out.shape == (n_rows, 5)
    torch.testing.assert_close(out, (rows @ weight).sum(1), rtol=0, atol=1e-12)
