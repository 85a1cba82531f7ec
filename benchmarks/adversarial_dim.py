"""Deep InfoMax with adversarial prior matching (Hjelm et al., 2019), as a peer.

The classic way to make an InfoMax embedding follow a prior: the same
encoder, views and InfoNCE objective as :class:`sklearn_ndim.NoisyInfoMaxEmbedder`,
but *no* output normaliser and *no* channel noise. Instead a discriminator
learns to tell embeddings from samples of the prior, and the encoder gets a
weighted non-saturating GAN term that pushes its output towards the prior.
For the uniform prior the encoder output is squashed by a sigmoid.

Only the benchmarks use this class; it is deliberately small and trained
by a bare torch loop (no skorch), which if anything favours it on speed.
"""

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted
from torch import nn
from torch.nn import functional as F

from sklearn_ndim._building import build_encoder, input_statistics
from sklearn_ndim._critics import SeparableCritic
from sklearn_ndim._net import TensorBatchIterator
from sklearn_ndim._objectives import info_nce
from sklearn_ndim._validation import split_image_shape
from sklearn_ndim._views import ImageViews, NeighborMix, TabularViews, nearest_neighbors

__all__ = ["AdversarialInfoMaxEmbedder", "DEFAULT_ADVERSARIAL_WEIGHT"]

#: Weight of the adversarial term, chosen once by ``tune_adversarial.py`` on an
#: inner split of the digits training rows (Gaussian prior); see README.md.
DEFAULT_ADVERSARIAL_WEIGHT = 0.3

#: Standard deviation of U(0, 1) is 1 / sqrt(12).
UNIFORM_SCALE = 12.0**0.5


class _Discriminator(nn.Module):
    """MLP ``d -> h -> h -> 1`` (LeakyReLU 0.01) returning logits."""

    def __init__(self, n_components, hidden_layer_sizes):
        super().__init__()
        layers, width = [], n_components
        for hidden in hidden_layer_sizes:
            layers += [nn.Linear(width, hidden), nn.LeakyReLU(0.01)]
            width = hidden
        layers.append(nn.Linear(width, 1))
        self.network = nn.Sequential(*layers)

    def forward(self, z):
        return self.network(z).squeeze(1)


class _AdversarialModule(nn.Module):
    """Input scaling, encoder and the prior's output squashing (sigmoid for uniform)."""

    def __init__(self, encoder, input_shape, mean, scale, prior):
        super().__init__()
        self.encoder = encoder
        self.input_shape = tuple(input_shape)
        self.register_buffer("input_mean", mean)
        self.register_buffer("input_scale", scale)
        self.prior = prior

    def preprocess(self, x):
        x = x.reshape((x.shape[0],) + self.input_shape)
        return (x - self.input_mean) / self.input_scale

    def embed(self, x_scaled):
        z = self.encoder(x_scaled)
        return torch.sigmoid(z) if self.prior == "uniform" else z

    def forward(self, x):
        return self.embed(self.preprocess(x))


class AdversarialInfoMaxEmbedder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """InfoNCE between two views plus adversarial matching of the embedding to a prior.

    Encoder loss: ``InfoNCE + adversarial_weight * BCE(D(f(x)), 1)``; the
    discriminator ``D`` is trained each step with ``BCE(D(z_prior), 1) +
    BCE(D(f(x)), 0)``. Encoder, views, critic (scaled dot product), batch
    size, epochs and learning rate match the noisy embedder's defaults.

    Parameters
    ----------
    n_components : int, default=16
        Embedding dimension ``d``.
    prior : {"gaussian", "uniform"}, default="gaussian"
        Target: N(0, I) (linear output) or U([0, 1]^d) (sigmoid output).
    adversarial_weight : float, default=DEFAULT_ADVERSARIAL_WEIGHT
        Weight of the non-saturating adversarial term in the encoder loss.
    hidden_layer_sizes : tuple of int, default=(256, 256)
        MLP encoder widths (tables); images use the package's conv encoder.
    discriminator_sizes : tuple of int, default=(256, 256)
        Hidden widths of the discriminator.
    n_neighbors : int, default=10
        Neighbour mixing of the views, as in the noisy embedder.
    jitter_scale : float, default=0.1
        Gaussian jitter of the views (standardised units).
    max_shift : int, default=2
        Image views: largest translation in pixels.
    intensity_jitter : float, default=0.2
        Image views: random contrast and brightness.
    batch_size : int, default=256
        Rows per batch (capped at the number of samples); last partial batch dropped.
    max_epochs : int, default=100
        Passes over the data.
    learning_rate : float, default=1e-3
        Adam learning rate of the encoder and critic.
    discriminator_learning_rate : float, default=1e-3
        Adam learning rate of the discriminator (betas 0.5, 0.999 as usual for GANs).
    random_state : int or None, default=None
        Seeds weights, batches, views and prior samples.

    Attributes
    ----------
    module_ : torch.nn.Module
        Trained input scaling and encoder.
    history_ : list of dict
        Per epoch: ``info_nce`` (nats, ln B minus loss), ``discriminator_loss``,
        ``adversarial_loss``.
    n_features_in_ : int
        Number of input values per sample (pixels for images).

    References
    ----------
    .. [1] R. D. Hjelm et al., "Learning deep representations by mutual
       information estimation and maximization", ICLR 2019.
    """

    def __init__(
        self,
        n_components=16,
        *,
        prior="gaussian",
        adversarial_weight=DEFAULT_ADVERSARIAL_WEIGHT,
        hidden_layer_sizes=(256, 256),
        discriminator_sizes=(256, 256),
        n_neighbors=10,
        jitter_scale=0.1,
        max_shift=2,
        intensity_jitter=0.2,
        batch_size=256,
        max_epochs=100,
        learning_rate=1e-3,
        discriminator_learning_rate=1e-3,
        random_state=None,
    ):
        self.n_components = n_components
        self.prior = prior
        self.adversarial_weight = adversarial_weight
        self.hidden_layer_sizes = hidden_layer_sizes
        self.discriminator_sizes = discriminator_sizes
        self.n_neighbors = n_neighbors
        self.jitter_scale = jitter_scale
        self.max_shift = max_shift
        self.intensity_jitter = intensity_jitter
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.learning_rate = learning_rate
        self.discriminator_learning_rate = discriminator_learning_rate
        self.random_state = random_state

    def fit(self, X, y=None):
        """Train encoder, critic and discriminator on ``X`` (labels unused).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, H, W)
            Rows, or images (then the conv encoder is used).
        y : None
            Ignored.

        Returns
        -------
        self : AdversarialInfoMaxEmbedder
        """
        if self.prior not in ("gaussian", "uniform"):
            raise ValueError(f"prior must be 'gaussian' or 'uniform'; got {self.prior!r}.")
        X, self._sample_shape = split_image_shape(X, None)
        data = torch.as_tensor(np.asarray(X, dtype=np.float32))
        self.n_features_in_ = data.shape[1]
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        batch_size = min(self.batch_size, data.shape[0])
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            module, critic, discriminator = self._build(data)
            generator = torch.Generator().manual_seed(seed)
            views = self._views(module.preprocess(data))
            encoder_opt = torch.optim.Adam(
                list(module.parameters()) + list(critic.parameters()), lr=self.learning_rate
            )
            disc_opt = torch.optim.Adam(
                discriminator.parameters(), lr=self.discriminator_learning_rate, betas=(0.5, 0.999)
            )
            self.history_ = []
            for _ in range(self.max_epochs):
                batches = TensorBatchIterator(data, batch_size, True, True, generator)
                records = [
                    self._step(
                        module,
                        critic,
                        discriminator,
                        encoder_opt,
                        disc_opt,
                        views,
                        rows,
                        indices,
                        generator,
                    )
                    for rows, indices in batches
                ]
                self.history_.append(
                    dict(
                        zip(
                            ("info_nce", "discriminator_loss", "adversarial_loss"),
                            np.mean(records, axis=0).tolist(),
                            strict=True,
                        )
                    )
                )
        module.eval()
        self.module_ = module
        self._n_features_out = self.n_components
        return self

    def transform(self, X):
        """Embed ``X`` deterministically (encoder in evaluation mode).

        Parameters
        ----------
        X : array-like
            Rows or images shaped as in :meth:`fit`.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components), float64
        """
        check_is_fitted(self, "module_")
        X, _ = split_image_shape(X, None)
        data = torch.as_tensor(np.asarray(X, dtype=np.float32))
        with torch.no_grad():
            out = [self.module_(rows) for rows, _ in TensorBatchIterator(data, 4096)]
        return torch.cat(out).numpy().astype(np.float64)

    # ----------------------------------------------------------------- helpers

    def _build(self, data):
        """Module (scaling + encoder), critic and discriminator for ``data``."""
        encoder, input_shape = build_encoder(
            "auto", self._sample_shape, data.shape[1], self.n_components, self.hidden_layer_sizes
        )
        mean, scale = input_statistics(data, input_shape, standardize=True)
        module = _AdversarialModule(encoder, input_shape, mean, scale, self.prior)
        return (
            module,
            SeparableCritic(self.n_components),
            _Discriminator(self.n_components, self.discriminator_sizes),
        )

    def _views(self, scaled):
        """The noisy embedder's views: neighbour mixing, then jitter (and image moves)."""
        mix = (
            NeighborMix(scaled, nearest_neighbors(scaled, self.n_neighbors))
            if (self.n_neighbors)
            else None
        )
        if scaled.dim() == 2:
            return TabularViews(self.jitter_scale, 0.0, scaled, mix)
        return ImageViews(self.max_shift, False, self.intensity_jitter, self.jitter_scale, mix)

    def _prior_sample(self, n_rows, generator):
        """``n_rows`` draws from the prior: the discriminator's "real" samples."""
        shape = (n_rows, self.n_components)
        if self.prior == "uniform":
            return torch.rand(shape, generator=generator)
        return torch.randn(shape, generator=generator)

    def _step(
        self, module, critic, discriminator, encoder_opt, disc_opt, views, rows, indices, generator
    ):
        """One discriminator update, then one encoder and critic update.

        Returns the batch's InfoNCE estimate (nats), discriminator loss and
        adversarial loss.
        """
        module.train()
        x = module.preprocess(rows)
        z = module.embed(torch.cat([views(x, indices, generator), views(x, indices, generator)]))
        # Discriminator: prior samples are "real", embeddings "fake".
        real = self._prior_sample(z.shape[0], generator)
        real_logits, fake_logits = discriminator(real), discriminator(z.detach())
        disc_loss = F.binary_cross_entropy_with_logits(
            real_logits, torch.ones_like(real_logits)
        ) + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
        disc_opt.zero_grad()
        disc_loss.backward()
        disc_opt.step()
        # Encoder: InfoNCE plus the non-saturating adversarial term.
        clean, other = z.chunk(2)
        if self.prior == "uniform":
            # As the noisy embedder does: centre U(0, 1) and scale it to unit
            # variance for the critic (an invertible map, same information).
            clean, other = (clean - 0.5) * UNIFORM_SCALE, (other - 0.5) * UNIFORM_SCALE
        nce_loss, mutual_info = info_nce(critic(clean, other))
        fooled = discriminator(z)
        adv_loss = F.binary_cross_entropy_with_logits(fooled, torch.ones_like(fooled))
        encoder_opt.zero_grad()
        (nce_loss + self.adversarial_weight * adv_loss).backward()
        encoder_opt.step()
        return mutual_info.item(), disc_loss.item(), adv_loss.item()
