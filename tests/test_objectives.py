import math

import torch

from sklearn_ndim._objectives import InfoNCELoss, info_nce


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
