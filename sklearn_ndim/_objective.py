"""The method's objective: InfoNCE between a view of each row and its noisy embedding.

The one step of the method is :func:`contrastive_loss`: two views ->
encoder -> normaliser -> noisy channel -> critic scores -> :func:`info_nce`.
Training, the mutual-information estimate and the benchmarks all call it.
"""

import math

import torch
from torch import nn
from torch.nn import functional as F

from ._distributed import current_group, gather_with_grad
from ._prior_penalty import sliced_wasserstein_to_normal

__all__ = ["info_nce", "contrastive_loss", "contrastive_scores", "InfoNCELoss"]


def info_nce(scores, scores_reverse=None, offset=0):
    """InfoNCE estimate of the mutual information between paired rows.

    Parameters
    ----------
    scores : torch.Tensor of shape (B, N)
        Critic values ``T(a_i, y_j)`` of ``B`` anchors against ``N >= B``
        candidates; the positive of row ``i`` is column ``offset + i``
        (the diagonal of a square matrix).
    scores_reverse : torch.Tensor of shape (B, N), default=None
        The other direction, ``T(a_j, y_i)`` in row ``i``; ``scores.T`` for a
        square matrix (the default).
    offset : int, default=0
        Column of the first positive (the rank's block when the candidates
        were gathered across processes).

    Returns
    -------
    loss : torch.Tensor
        Scalar to minimise: the mean cross-entropy of finding the positive
        pair, averaged over both directions.
    mutual_info : torch.Tensor
        Scalar lower bound ``ln N - loss`` in nats; it can never exceed ``ln N``.
    """
    rows, columns = scores.shape if scores.ndim == 2 else (None, None)
    if rows is None or columns < rows or not 0 <= offset <= columns - rows:
        raise ValueError(
            f"scores must be (B, N) with N >= B and the positives in columns offset .. "
            f"offset + B - 1; got shape {tuple(scores.shape)} and offset={offset}."
        )
    if scores_reverse is None:
        if rows != columns:
            raise ValueError(
                f"scores of shape {tuple(scores.shape)} are not square: pass scores_reverse, "
                "the scores of the other direction, of the same shape."
            )
        scores_reverse = scores.T
    elif scores_reverse.shape != scores.shape:
        raise ValueError(
            f"scores_reverse has shape {tuple(scores_reverse.shape)}; it must match scores, "
            f"{tuple(scores.shape)}."
        )
    targets = offset + torch.arange(scores.shape[0], device=scores.device)
    loss = 0.5 * (F.cross_entropy(scores, targets) + F.cross_entropy(scores_reverse, targets))
    return loss, math.log(scores.shape[1]) - loss.detach()


def contrastive_loss(module, x, indices, views, generator, pair_channel=None):
    """The method's step: InfoNCE between a random view of each row and the row itself.

    The noise goes on the row's own embedding (see
    :meth:`InfoMaxModule.pair_channel`). With ``module.prior_penalty > 0`` the
    loss adds that weight times the squared sliced Wasserstein distance from
    the batch's embeddings (views and clean rows) to N(0, I).

    Parameters
    ----------
    module : InfoMaxModule
    x : torch.Tensor of shape (B, \\*module.input_shape)
        Standardised rows, shaped as the encoder expects
        (``module.shape_input`` shapes flat rows).
    indices : torch.Tensor of shape (B,)
        Their positions in the chunk (neighbour views use them).
    views : callable
        ``views(x, indices, generator)`` draws one random view.
    generator : torch.Generator or None
        Source of the views, of the channel noise and of the penalty's
        directions.
    pair_channel : callable, default=None
        ``module.pair_channel`` or its DistributedDataParallel wrapper. Within
        an initialised process group, each process scores its rows against
        the rows gathered from all processes, and the penalty sees the rows
        of all processes.

    Returns
    -------
    loss : torch.Tensor
        Scalar to minimise: InfoNCE's cross-entropy plus the weighted penalty.
    mutual_info : torch.Tensor
        The InfoNCE estimate in nats, as :func:`info_nce` (the penalty does
        not enter it).
    """
    if tuple(x.shape[1:]) != module.input_shape:
        raise ValueError(
            f"contrastive_loss takes rows shaped as the encoder expects, (batch, "
            f"{', '.join(map(str, module.input_shape))}); got {tuple(x.shape)}. Flat rows become "
            "that with module.shape_input(x)."
        )
    pair_channel = module.pair_channel if pair_channel is None else pair_channel
    clean, noisy, embedded = pair_channel(views(x, indices, generator), x, generator)
    group = current_group()
    if group is None:
        loss, mutual_info = info_nce(module.critic(clean, noisy))
    else:
        every_clean, every_noisy = gather_with_grad(clean), gather_with_grad(noisy)
        rows = module.critic(clean, every_noisy)
        reverse = module.critic(every_clean, noisy).T
        loss, mutual_info = info_nce(rows, reverse, offset=group.rank * len(clean))
    # Modules pickled before the penalty existed have no such attribute.
    weight = getattr(module, "prior_penalty", 0.0)
    if weight > 0:
        if group is not None:
            embedded = gather_with_grad(embedded)
        loss = loss + weight * sliced_wasserstein_to_normal(embedded, generator=generator)
    return loss, mutual_info


def contrastive_scores(module, x, indices, views, generator):
    """Critic scores ``(B, B)`` of a view of each row against each noisy row (one process)."""
    return module.pair_scores(views(x, indices, generator), x, generator)


class InfoNCELoss(nn.Module):
    """Criterion wrapper of :func:`info_nce`: ``forward(scores)`` is the loss."""

    def forward(self, scores, scores_reverse=None, offset=0):
        return info_nce(scores, scores_reverse, offset)[0]
