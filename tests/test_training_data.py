"""The rows a fit trains on: batch iterators, chunks with their views, a stream's sample."""

from unittest import mock

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sklearn_ndim import _training_data as training_data
from sklearn_ndim._data import InputScaler
from sklearn_ndim._training_data import (
    ChunkedBatchIterator,
    Reservoir,
    TensorBatchIterator,
    TrainingData,
    _distinct_rows,
    first_occurrences,
    row_copies,
)
from sklearn_ndim._views import ViewSpec


def _data(rows, chunk_rows=None, n_neighbors=0):
    scaler = InputScaler.fit(rows)
    spec = ViewSpec(n_neighbors, 0.1, 0.0, 0, False, 0.0)
    return TrainingData(rows, scaler, torch.device("cpu"), spec, (rows.shape[1],), 0, chunk_rows)


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


def test_a_remainder_of_under_half_a_chunk_joins_the_last_chunk():
    assert _data(np.zeros((17, 2)), chunk_rows=8).bounds == [(0, 8), (8, 17)]
    assert _data(np.zeros((9, 2)), chunk_rows=8).bounds == [(0, 9)]
    assert _data(np.zeros((12, 2)), chunk_rows=8).bounds == [(0, 8), (8, 12)]
    assert _data(np.zeros((5, 2)), chunk_rows=8).bounds == [(0, 5)]
    assert _data(np.zeros((5, 2)), chunk_rows=2).bounds == [(0, 2), (2, 5)]


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
    data = TrainingData(
        X[:20], scaler, torch.device("cpu"), spec, (5,), 0, neighbor_pool=seen_twice
    )
    rows = data.rows(0)
    views = data.views(0, rows)
    # The chunk and the 20 other rows once each: 40 distinct rows, not 100.
    assert views.bank.shape[0] == 40
    assert first_occurrences(views.bank).all()
    assert data.views(0, rows).bank.shape[0] == 40  # the same bank again


def test_a_pool_of_distinct_rows_is_not_copied():
    rows, pool = torch.randn(4, 3), torch.randn(5, 3)
    assert _distinct_rows(pool, rows) is pool
    kept = _distinct_rows(torch.cat([pool, rows[:1], pool[2:3]]), rows)
    torch.testing.assert_close(kept, pool)


def test_other_processes_rows_are_neighbours_too():
    X = np.arange(20.0)[:, None] * 10 + np.arange(5.0)  # rows 10 * sqrt(5) apart
    nearby = X + 1.0  # each row's nearest row is its twin among the others
    scaler = InputScaler.fit(np.concatenate([X, nearby]), (5,), True)
    others = scaler.to_tensor(nearby, torch.device("cpu"))
    spec = ViewSpec(1, 0.0, 0.0, 0, False, 0.0)
    data = TrainingData(X, scaler, torch.device("cpu"), spec, (5,), 0, neighbor_pool=others)
    views = data.views(0, data.rows(0))
    assert views.bank.shape[0] == 40
    assert views.neighbor_mix.neighbors[:, 0].tolist() == list(range(20, 40))
    # All rows are held once: the bank is built once, and the rows are a view of it.
    again = data.views(0, data.rows(0))
    assert again.bank.data_ptr() == views.bank.data_ptr() == data.rows(0).data_ptr()
    assert data.neighbor_pool is None
    torch.testing.assert_close(data.rows(0), scaler.to_tensor(X, torch.device("cpu")))


def _colliding_hashes(words):
    # Two hash values for all rows: most groups mix different rows.
    return (words.sum(axis=1) % 2).astype(np.uint64)


@pytest.mark.parametrize(
    "hashes", [training_data._hashes, _colliding_hashes], ids=["hash", "collide"]
)
@settings(max_examples=50, deadline=None)
@given(
    arrays(
        np.float32,
        st.tuples(st.integers(0, 12), st.integers(1, 3)),
        elements=st.sampled_from([0.0, -0.0, 1.0, 2.5]),
    ),
    arrays(
        np.float32,
        st.tuples(st.integers(1, 6), st.integers(1, 3)),
        elements=st.sampled_from([0.0, 1.0, 2.5]),
    ),
)
def test_copies_and_first_occurrences_are_bytewise(hashes, rows, reference):
    reference = np.resize(reference, (len(reference), rows.shape[1]))
    as_bytes = [row.tobytes() for row in rows]
    expected_first = [as_bytes.index(b) == i for i, b in enumerate(as_bytes)]
    expected_copies = [b in {r.tobytes() for r in reference} for b in as_bytes]
    with mock.patch.object(training_data, "_hashes", hashes):
        assert first_occurrences(torch.from_numpy(rows)).tolist() == expected_first
        copies = row_copies(torch.from_numpy(rows), torch.from_numpy(reference))
    assert copies.tolist() == expected_copies
