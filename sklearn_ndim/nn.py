"""PyTorch building blocks of the method, for your own training loops.

Everything :class:`~sklearn_ndim.NoisyInfoMaxEmbedder` trains with, as plain
torch modules and functions: the encoders and decoders, the output
normaliser without affine parameters, the critics, the InfoNCE bound, the
prior penalty, the one contrastive step, and the view samplers. The priors (which own the noise
channel) are :class:`~sklearn_ndim.GaussianPrior`,
:class:`~sklearn_ndim.UniformPrior` and :class:`~sklearn_ndim.ScipyPrior`;
the estimator's ``noise_scale="auto"`` is
``prior.noise_for_capacity(n_components, math.log(batch_size))``. The
gallery's custom-encoder example (:ref:`sphx_glr_auto_examples_plot_custom_encoder.py`)
trains a whole loop with these pieces.

Examples
--------
A bare training step with a Gaussian channel:

>>> import torch
>>> from sklearn_ndim import GaussianPrior
>>> from sklearn_ndim.nn import InfoMaxModule, MLPEncoder, SeparableCritic, contrastive_loss
>>> module = InfoMaxModule(
...     MLPEncoder(10, 4), 4, GaussianPrior(), 1.0, SeparableCritic(4, 1.0), (10,), whiten=True
... )
>>> def jitter(x, indices, generator):
...     return x + 0.1 * torch.randn(x.shape, generator=generator)
>>> x = torch.randn(64, 10)
>>> loss, mutual_info = contrastive_loss(module, x, torch.arange(64), jitter, None)
>>> loss.backward()

After training, freeze the normaliser's statistics on clean rows; in
evaluation mode an uncalibrated normaliser refuses to run:

>>> module = module.eval()
>>> with torch.no_grad():
...     module.normalizer.calibrate(module.encode(x))
...     z = module(x)
>>> z.shape
torch.Size([64, 4])
"""

from ._model import (
    InfoMaxModule,
    MLPCritic,
    OutputNormalizer,
    QuadraticCritic,
    SeparableCritic,
)
from ._networks import ConvDecoder, ConvEncoder, MLPDecoder, MLPEncoder
from ._objective import InfoNCELoss, contrastive_loss, info_nce
from ._prior_penalty import sliced_wasserstein_to_normal
from ._views import ImageViews, NeighborMix, TabularViews, nearest_neighbors

__all__ = [
    "MLPEncoder",
    "ConvEncoder",
    "MLPDecoder",
    "ConvDecoder",
    "OutputNormalizer",
    "SeparableCritic",
    "QuadraticCritic",
    "MLPCritic",
    "InfoMaxModule",
    "info_nce",
    "InfoNCELoss",
    "contrastive_loss",
    "sliced_wasserstein_to_normal",
    "TabularViews",
    "ImageViews",
    "NeighborMix",
    "nearest_neighbors",
]
