"""
===============================================
Your own encoder, and the method in plain torch
===============================================

Two ways to go beyond the built-in encoders:

1. pass your own :class:`torch.nn.Module` class (or a :func:`functools.partial` of one) as
   ``encoder=``; the estimator calls it as ``encoder(input_shape=..., n_components=...)`` and
   keeps everything else (views, normaliser, noise, critic, calibration, scikit-learn API);
2. use the building blocks of :mod:`sklearn_ndim.nn` in a training loop of your own.

Both are shown on the digits table, with the same held-out checks: the accuracy of a logistic
probe and the W2 ratio to N(0, I).
"""

# %%
# A custom encoder class
# ----------------------
# Any module that maps a batch of shape ``(B, *input_shape)`` to ``(B, n_components)`` will do.
# Do not normalise the output yourself: the method's own normaliser (whitening without affine
# parameters) comes after the encoder, and the noise only has its meaning behind it. Here, a
# residual MLP with layer normalisation; ``functools.partial`` fixes the arguments the estimator
# does not pass.
import functools

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn

from sklearn_ndim import NoisyInfoMaxEmbedder
from sklearn_ndim.metrics import prior_match_report


class ResidualMLP(nn.Module):
    """Linear input layer, residual blocks (LayerNorm, Linear, GELU), linear output layer."""

    def __init__(self, input_shape, n_components, width=128, n_blocks=2):
        super().__init__()
        n_features = int(np.prod(input_shape))
        self.inp = nn.Linear(n_features, width)
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.LayerNorm(width), nn.Linear(width, width), nn.GELU())
            for _ in range(n_blocks)
        )
        self.out = nn.Linear(width, n_components)

    def forward(self, x):
        h = self.inp(x.flatten(1))
        for block in self.blocks:
            h = h + block(h)
        return self.out(h)


X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)


def evaluate(name, Z_train, Z_test):
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000))
    accuracy = probe.fit(Z_train, y_train).score(Z_test, y_test)
    ratio = prior_match_report(Z_test).sw2_ratio
    print(f"{name:<32} probe accuracy {accuracy:.3f}   W2 ratio {ratio:.2f}")
    return Z_test


embedders = {
    "default MLP encoder": NoisyInfoMaxEmbedder(n_components=8, random_state=0),
    "ResidualMLP (width 128)": NoisyInfoMaxEmbedder(
        n_components=8, encoder=functools.partial(ResidualMLP, width=128), random_state=0
    ),
}
embedded = {}
for name, embedder in embedders.items():
    embedder.fit(X_train)
    embedded[name] = evaluate(name, embedder.transform(X_train), embedder.transform(X_test))
print(embedders["ResidualMLP (width 128)"].net_.module_.encoder)

# %%
# The method in a bare torch loop
# -------------------------------
# :mod:`sklearn_ndim.nn` exposes the pieces the estimator trains with. One step of the method:
# draw a random view of each row of a batch (here: move it towards one of its 10 nearest
# neighbours, then add jitter), encode the views and the clean rows, normalise, add Gaussian
# noise to the clean rows' embedding, and maximise the InfoNCE bound between the two.
# After training, the normaliser's statistics are frozen on the clean training rows, so that the
# embedding of a row no longer depends on its batch.
from sklearn_ndim import GaussianPrior
from sklearn_ndim.nn import (
    InfoMaxModule,
    MLPEncoder,
    NeighborMix,
    SeparableCritic,
    TabularViews,
    contrastive_loss,
    nearest_neighbors,
)

torch.manual_seed(0)
generator = torch.Generator().manual_seed(0)
scaler = StandardScaler().fit(X_train)
bank = torch.as_tensor(scaler.transform(X_train), dtype=torch.float32)
test_rows = torch.as_tensor(scaler.transform(X_test), dtype=torch.float32)

n_components, noise_scale, batch_size = 8, 1.0, 256
module = InfoMaxModule(
    MLPEncoder(bank.shape[1], n_components),
    n_components,
    GaussianPrior(),
    noise_scale,
    SeparableCritic(n_components, noise_scale),
    input_shape=(bank.shape[1],),
    whiten=True,
)
views = TabularViews(
    jitter_scale=0.1,
    corruption_rate=0.0,
    bank=bank,
    neighbor_mix=NeighborMix(bank, nearest_neighbors(bank, 10)),
)
optimizer = torch.optim.Adam(module.parameters(), lr=1e-3)

history = []
module.train()
for _epoch in range(100):
    order = torch.randperm(len(bank), generator=generator)
    for start in range(0, len(bank) - batch_size + 1, batch_size):
        indices = order[start : start + batch_size]
        loss, mutual_info = contrastive_loss(module, bank[indices], indices, views, generator)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    history.append(float(mutual_info))

module.eval()
with torch.no_grad():
    module.normalizer.calibrate(module.encoder(bank))
    Z_train_loop, Z_test_loop = module(bank).numpy(), module(test_rows).numpy()
embedded["bare torch loop"] = evaluate(
    "bare torch loop (sklearn_ndim.nn)", Z_train_loop, Z_test_loop
)

# %%
# The picture
# -----------
# The InfoNCE estimate of the last batch of each epoch in the hand-written loop, against its
# ceiling ``ln B``; and the first two dimensions of each held-out embedding over the prior's
# 1-, 2- and 3-sigma circles.
import matplotlib.pyplot as plt

fig, axes = plt.subplots(1, 4, figsize=(14, 3.6), layout="constrained")
axes[0].plot(history)
axes[0].axhline(
    np.log(batch_size),
    color="black",
    linestyle="--",
    linewidth=0.8,
    label=f"ln B = {np.log(batch_size):.2f}",
)
axes[0].set_xlabel("epoch")
axes[0].set_ylabel("InfoNCE estimate (nats)")
axes[0].set_title("bare torch loop: training")
axes[0].legend()
circle = np.linspace(0, 2 * np.pi, 200)
for ax, (name, Z) in zip(axes[1:], embedded.items(), strict=True):
    ax.scatter(Z[:, 0], Z[:, 1], c=y_test, cmap="tab10", s=4)
    for radius in (1, 2, 3):
        ax.plot(radius * np.cos(circle), radius * np.sin(circle), color="black", linewidth=0.6)
    ax.set_aspect("equal")
    ax.set_xlabel("dim 0")
    ax.set_ylabel("dim 1")
    ax.set_title(name, fontsize="medium")
plt.show()

# %%
# What it shows
# -------------
# A custom encoder changes what the embedding can express, not the mechanism behind it: the
# normaliser and the noise are the same, so its embedding is pushed towards the same prior. In
# this run the residual encoder scored a little better than the default MLP on both measures;
# one split and one seed are no evidence that it is better in general, so compare encoders as
# here, on held-out rows. An encoder suited to your data (a convolution for images, a sequence
# model for series) is where a custom module pays off most.
#
# The hand-written loop trains with ``noise_scale=1.0``, more noise than the estimator's
# ``"auto"`` value at ``d = 8``, so its numbers are not directly comparable with the two above
# (more noise traded some match for probe accuracy in this run; see
# :ref:`sphx_glr_auto_examples_plot_choosing_noise.py`). It reproduces the estimator's
# recipe in a few dozen lines; the estimator adds input standardisation, seeding without
# touching global random states, the ``"auto"`` noise, data-parallel training, streaming, the
# decoder and the scikit-learn interface.
