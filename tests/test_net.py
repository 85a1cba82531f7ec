import torch

from sklearn_ndim._net import TensorBatchIterator


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
