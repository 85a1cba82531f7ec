"""The InfoNCE lower bound on mutual information."""

import math

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["InfoNCELoss", "info_nce"]


def info_nce(scores):
    """InfoNCE estimate of the mutual information between paired rows.

    Parameters
    ----------
    scores : torch.Tensor of shape (B, B)
        Critic values ``T(a_i, y_j)``; the diagonal holds the positive pairs.

    Returns
    -------
    loss : torch.Tensor
        Scalar to minimise: the mean cross-entropy of finding the positive
        pair, averaged over both directions (rows and columns).
    mutual_info : torch.Tensor
        Scalar lower bound ``ln B - loss`` in nats; it can never exceed ``ln B``.
    """
    batch_size = scores.shape[0]
    targets = torch.arange(batch_size, device=scores.device)
    loss = 0.5 * (F.cross_entropy(scores, targets) + F.cross_entropy(scores.T, targets))
    return loss, math.log(batch_size) - loss.detach()


class InfoNCELoss(nn.Module):
    """Criterion wrapper of :func:`info_nce` for skorch: ``forward(scores)`` is the loss.

    The mutual-information estimate is not kept per batch: every training
    batch has the same size ``B``, so ``ln B - loss`` of an epoch's mean loss
    is the epoch's estimate (see ``MutualInfoRecorder``).
    """

    def forward(self, scores, target=None):
        return info_nce(scores)[0]
