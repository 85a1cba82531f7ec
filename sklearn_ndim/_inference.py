"""Passes of a trained module over whole data sets, without gradients."""

import copy

import numpy as np
import torch

from ._net import TensorBatchIterator
from ._objectives import info_nce

__all__ = ["as_tensor", "calibrate_normalizer", "estimate_mutual_info", "embed"]

INFERENCE_BATCH = 4096


def as_tensor(X, dtype, device):
    """Tensor view of ``X``; read-only arrays (memmaps) are copied, never written."""
    if not X.flags.writeable:
        X = X.copy()
    return torch.as_tensor(X, dtype=dtype, device=device)


@torch.no_grad()
def calibrate_normalizer(module, data, views, seed):
    """Fix the output statistics to those of the clean rows ``data``.

    Training views are noisier than clean rows, so statistics gathered in
    training would leave the clean embedding with less than unit variance.
    One pass of views, seeded by ``seed``, regularises the estimate (see
    :meth:`OutputNormalizer.calibrate`).
    """
    module.eval()
    generator = torch.Generator(device=data.device).manual_seed(seed)
    clean, viewed = [], []
    for rows, indices in TensorBatchIterator(data, INFERENCE_BATCH):
        x = module.preprocess(rows)
        clean.append(module.encoder(x))
        viewed.append(module.encoder(views(x, indices, generator)))
    module.normalizer.calibrate(torch.cat(clean), torch.cat(viewed))


@torch.no_grad()
def estimate_mutual_info(module, data, views, batch_size, seed):
    """Mean InfoNCE estimate (nats) over shuffled full batches, in eval mode.

    Views and channel noise come from a generator seeded with ``seed``, so
    the estimate is deterministic.
    """
    module.eval()
    generator = torch.Generator(device=data.device).manual_seed(seed)
    estimates = []
    for rows, indices in TensorBatchIterator(data, batch_size, True, True, generator):
        x = module.preprocess(rows)
        view_a, view_b = views(x, indices, generator), views(x, indices, generator)
        scores = module.pair_scores(view_a, view_b, generator)
        estimates.append(info_nce(scores)[1].item())
    return float(np.mean(estimates))


@torch.no_grad()
def embed(module, X, device):
    """Base-space embedding of the array ``X``, computed in its precision.

    float64 input runs through a float64 copy of the module, so results do
    not depend on how rows are batched beyond float64 rounding.
    """
    if X.dtype == np.float64:
        module = copy.deepcopy(module).double()
    module.eval()
    data = as_tensor(X, None, device)
    out = [module(rows) for rows, _ in TensorBatchIterator(data, INFERENCE_BATCH)]
    return torch.cat(out).cpu().numpy()
