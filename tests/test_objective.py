"""The objective: InfoNCE, and the step that pairs views with noisy embeddings."""

import math

import pytest
import torch

from sklearn_ndim._objective import InfoNCELoss, contrastive_loss, info_nce
from sklearn_ndim._prior_penalty import sliced_wasserstein_to_normal


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


def test_the_prior_penalty_adds_its_weighted_distance_and_leaves_the_estimate_alone(tiny_module):
    rows = torch.randn(32, 4, generator=torch.Generator().manual_seed(0))

    def views(x, indices, generator):
        return x + 0.1 * torch.randn(x.shape, generator=generator)

    def step(weight):
        module = tiny_module(noise_scale=0.5).eval()
        module.prior_penalty = weight
        generator = torch.Generator().manual_seed(4)
        loss, mutual_info = contrastive_loss(module, rows, torch.arange(32), views, generator)
        return module, loss, mutual_info, generator

    _, plain_loss, plain_info, after_plain = step(0.0)
    module, loss, mutual_info, _ = step(2.5)
    # The same draws of views and noise, then the penalty's directions.
    generator = torch.Generator().manual_seed(4)
    _, _, embedded = module.pair_channel(views(rows, None, generator), rows, generator)
    assert torch.equal(generator.get_state(), after_plain.get_state())
    distance = sliced_wasserstein_to_normal(embedded, generator=generator)
    assert loss.item() == pytest.approx(plain_loss.item() + 2.5 * distance.item(), rel=1e-6)
    assert mutual_info.item() == plain_info.item()


def test_a_module_without_the_penalty_attribute_trains_as_before(tiny_module):
    # As a module pickled before the prior penalty existed.
    rows = torch.randn(16, 4, generator=torch.Generator().manual_seed(0))
    module = tiny_module().eval()
    expected = contrastive_loss(
        module, rows, torch.arange(16), _same, torch.Generator().manual_seed(1)
    )
    del module.prior_penalty
    loss, mutual_info = contrastive_loss(
        module, rows, torch.arange(16), _same, torch.Generator().manual_seed(1)
    )
    assert loss.item() == expected[0].item() and mutual_info.item() == expected[1].item()


def _same(x, indices, generator):
    return x


def test_nets_pickled_by_earlier_versions_still_find_the_criterion():
    from sklearn_ndim import _training

    assert _training.InfoNCELoss is InfoNCELoss


@pytest.mark.parametrize(
    "scores, kwargs, message",
    [
        (torch.randn(4, 12), {}, "not square: pass scores_reverse"),
        (torch.randn(4, 3), {}, r"N >= B"),
        (torch.randn(4, 12), {"scores_reverse": torch.randn(4, 12), "offset": 9}, "offset=9"),
        (torch.randn(4, 12), {"scores_reverse": torch.randn(12, 4)}, "must match scores"),
        (torch.randn(4), {}, r"got shape \(4,\)"),
    ],
)
def test_info_nce_explains_scores_of_the_wrong_shape(scores, kwargs, message):
    with pytest.raises(ValueError, match=message):
        info_nce(scores, **kwargs)


def test_info_nce_with_gathered_candidates_finds_the_positives_at_the_offset():
    scores = torch.full((2, 6), -10.0)
    scores[0, 4], scores[1, 5] = 10.0, 10.0
    loss, mutual_info = info_nce(scores, scores, offset=4)
    assert loss.item() < 1e-6 and mutual_info.item() == pytest.approx(math.log(6), abs=1e-6)


def test_contrastive_loss_explains_flat_rows_for_an_image_module():
    from sklearn_ndim._model import ConvEncoder, InfoMaxModule, SeparableCritic
    from sklearn_ndim._priors import resolve_prior

    module = InfoMaxModule(
        ConvEncoder((1, 12, 12), 2),
        2,
        resolve_prior("gaussian"),
        1.0,
        SeparableCritic(2),
        (1, 12, 12),
    )
    flat = torch.randn(8, 144)
    with pytest.raises(ValueError, match=r"\(batch, 1, 12, 12\); got \(8, 144\).*shape_input"):
        contrastive_loss(module, flat, torch.arange(8), lambda x, i, g: x, None)
    shaped = module.shape_input(flat)
    loss, _ = contrastive_loss(module, shaped, torch.arange(8), lambda x, i, g: x, None)
    assert loss.ndim == 0
