"""The torch module trained by the net: input scaling, encoder, output stage, critic."""

import torch
from torch import nn

from ._channel import NoiseChannel, OutputNormalizer

__all__ = ["InfoMaxModule"]

_UNIFORM_SCALE = 12.0**0.5


class InfoMaxModule(nn.Module):
    """Encoder with the method's normaliser, noise channel and critic.

    Parameters
    ----------
    encoder : torch.nn.Module
        Maps scaled inputs of shape ``input_shape`` to ``(n, n_components)``.
    n_components : int
        Embedding dimension ``d``.
    base : {"gaussian", "uniform"}
        Base distribution of the output.
    noise_scale : float
        Scale of the channel noise used in training.
    critic : torch.nn.Module
        Scores all pairs of a batch, ``critic(a, y) -> (B, B)``.
    input_shape : tuple of int
        Shape of one sample as the encoder expects it, ``(n_features,)`` or
        ``(channels, height, width)``; rows arrive flattened.
    input_mean, input_scale : torch.Tensor
        Fixed input standardisation, broadcastable to ``input_shape``.
    whiten : bool, default=False
        Whiten the output instead of standardising each dimension.
    """

    def __init__(
        self,
        encoder,
        n_components,
        base,
        noise_scale,
        critic,
        input_shape,
        input_mean,
        input_scale,
        whiten=False,
    ):
        super().__init__()
        self.input_shape = tuple(input_shape)
        self.register_buffer("input_mean", input_mean)
        self.register_buffer("input_scale", input_scale)
        self.encoder = encoder
        self.normalizer = OutputNormalizer(n_components, base, whiten=whiten)
        self.channel = NoiseChannel(base, noise_scale)
        self.critic = critic

    def preprocess(self, x):
        """Reshape flat rows to ``input_shape`` and standardise them."""
        x = x.reshape((x.shape[0],) + self.input_shape)
        return (x - self.input_mean.to(x.dtype)) / self.input_scale.to(x.dtype)

    def embed(self, x_scaled):
        """Normalised embedding of preprocessed inputs (no noise)."""
        return self.normalizer(self.encoder(x_scaled))

    def forward(self, x):
        return self.embed(self.preprocess(x))

    def pair_scores(self, view_a, view_b, generator=None):
        """Critic scores between clean branch ``a`` and noisy branch ``b``.

        Both views go through the encoder in one batch; noise is added to the
        second branch only, after the normaliser (so the power constraint
        that gives ``noise_scale`` its meaning holds).
        """
        z = self.embed(torch.cat([view_a, view_b]))
        clean, noisy = z.chunk(2)
        noisy = self.channel(noisy, generator)
        if self.normalizer.base == "uniform":
            # Centre and scale U(0, 1) to unit variance for the critic: an
            # invertible map of each branch leaves the information unchanged,
            # and the critics' initial scales assume unit-variance inputs.
            clean, noisy = (clean - 0.5) * _UNIFORM_SCALE, (noisy - 0.5) * _UNIFORM_SCALE
        return self.critic(clean, noisy)
