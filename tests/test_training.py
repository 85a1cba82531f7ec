"""The InfoNCE step, the batch iterator and the passes over whole data sets."""

import math
import pickle

import numpy as np
import torch

from sklearn_ndim._model import InfoMaxModule, MLPEncoder, SeparableCritic
from sklearn_ndim._priors import resolve_prior
from sklearn_ndim._training import (
    InfoMaxNet,
    InfoNCELoss,
    TensorBatchIterator,
    contrastive_scores,
    embed,
    estimate_mutual_info,
    info_nce,
)
from sklearn_ndim._views import TabularViews


def test_perfect_scores_reach_log_batch():
    scores = 100.0 * torch.eye(8)
    loss, mutual_info = info_nce(scores)
    assert loss.item() < 1e-6
    assert abs(mutual_info.item() - math.log(8)) < 1e-6


def test_uninformative_scores_give_zero():
    loss, mutual_info = info_nce(torch.zeros(16, 16))
    assert abs(loss.item() - math.log(16)) < 1e-6 and abs(mutual_info.item()) < 1e-6


def test_loss_is_symmetric_in_rows_and_columns():
    scores = torch.randn(6, 6, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(info_nce(scores)[0], info_nce(scores.T)[0])


def test_criterion_returns_a_differentiable_loss():
    scores = torch.randn(4, 4, requires_grad=True)
    InfoNCELoss()(scores).backward()
    assert scores.grad is not None


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


def _module(noise_scale=1.0):
    torch.manual_seed(0)
    return InfoMaxModule(
        MLPEncoder(4, 2, (8,)),
        2,
        resolve_prior("gaussian"),
        noise_scale,
        SeparableCritic(2, noise_scale),
        (4,),
    )


def test_the_step_is_shared_by_training_and_the_estimate():
    module = _module()
    data = torch.randn(64, 4, generator=torch.Generator().manual_seed(0))
    views = TabularViews(0.1, 0.0, data)
    indices = torch.arange(64)
    module.eval()
    scores = contrastive_scores(module, data, indices, views, torch.Generator().manual_seed(3))
    # The estimate over one full batch is exactly ln B - loss of that step,
    # once the shuffle has drawn its permutation from the same generator.
    generator = torch.Generator().manual_seed(3)
    order = torch.randperm(64, generator=generator)
    expected = info_nce(contrastive_scores(module, data[order], order, views, generator))[1]
    assert estimate_mutual_info(module, data, views, 64, seed=3) == expected.item()
    assert scores.shape == (64, 64)


def test_embed_is_batch_independent_and_keeps_float64():
    module = _module().eval()
    data = torch.randn(10, 4, dtype=torch.float64)
    whole = embed(module, data)
    assert whole.dtype == np.float64
    np.testing.assert_allclose(whole[3:5], embed(module, data[3:5]), rtol=0, atol=1e-12)


def test_pickled_net_keeps_no_optimiser_state():
    module = _module()
    data = torch.randn(40, 4)
    net = InfoMaxNet(
        module,
        optimizer=torch.optim.Adam,
        max_epochs=1,
        batch_size=20,
        views=TabularViews(0.1, 0.0, data),
        generator=torch.Generator().manual_seed(0),
    )
    net.fit(data)
    restored = pickle.loads(pickle.dumps(net))
    assert not hasattr(restored, "optimizer_") and restored.views is None
    assert hasattr(net, "optimizer_") and net.views is not None, "pickling must not mutate"
    torch.testing.assert_close(restored.module_(data), net.module_(data))
