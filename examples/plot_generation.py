"""
================================
Generating digits from the prior
================================

With ``fit_inverse_transform=True`` the embedder also trains a decoder, from the embedding back
to the input space, after the encoder. Two things follow:

- ``inverse_transform(Z)`` maps embeddings back to images (reconstructions);
- ``sample(n)`` draws ``n`` embeddings from the prior and decodes them: new images, with no
  separate generative model. This works *because* the embedding follows the prior: draws from
  N(0, I) land where the embeddings of real images lie.

The question: what do reconstructions and samples look like on the 8x8 digits, and do the
samples cover all ten digits?
"""

# %%
# Fit encoder and decoder
# -----------------------
# The images are passed as ``(n, 8, 8)``, so the convolutional encoder and decoder are used and
# ``inverse_transform`` and ``sample`` return images of that shape. Neighbour views
# (``n_neighbors=10``) keep more of the digit's identity on images this small (see
# :ref:`sphx_glr_auto_examples_plot_images.py`). The decoder is trained by least squares,
# so it returns the *average* image of the embeddings' neighbourhood: expect smooth images, not
# crisp ones.
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sklearn_ndim import NoisyInfoMaxEmbedder

digits = load_digits()
X_train, X_test, y_train, y_test = train_test_split(
    digits.images, digits.target, test_size=0.3, random_state=0, stratify=digits.target
)
start = time.perf_counter()
embedder = NoisyInfoMaxEmbedder(
    n_components=16, n_neighbors=10, fit_inverse_transform=True, random_state=0
).fit(X_train)
print(f"encoder and decoder fitted in {time.perf_counter() - start:.1f} s")

# %%
# Reconstructions
# ---------------
# Held-out images, their embedding, and the decoder's image of that embedding.
Z_test = embedder.transform(X_test)
reconstructed = embedder.inverse_transform(Z_test)
print("reconstructions:", reconstructed.shape)
error = np.mean((reconstructed - X_test) ** 2) / np.var(X_test)
print(f"held-out reconstruction error: {error:.2f} of the pixel variance")

# %%
# Samples from the prior
# ----------------------
# ``sample`` draws from N(0, I_16) with its own seed and decodes.
samples = embedder.sample(40, random_state=0)
print("samples:", samples.shape, f"pixel range [{samples.min():.1f}, {samples.max():.1f}]")

# %%
# Do the samples cover all digits? A classifier trained on the real training images (plain
# logistic regression on pixels) names the digit in each of 1,000 samples; a generator that
# collapsed onto a few digits would show few bars.
from sklearn.linear_model import LogisticRegression

classifier = LogisticRegression(max_iter=3000).fit(X_train.reshape(len(X_train), -1), y_train)
many = embedder.sample(1000, random_state=1)
predicted = classifier.predict(many.reshape(len(many), -1))
counts = np.bincount(predicted, minlength=10)
print("samples per predicted digit:", dict(enumerate(counts.tolist())))
confidence = classifier.predict_proba(many.reshape(len(many), -1)).max(axis=1)
real_confidence = classifier.predict_proba(X_test.reshape(len(X_test), -1)).max(axis=1)
print(
    f"median classifier confidence: samples {np.median(confidence):.2f}, "
    f"real test images {np.median(real_confidence):.2f}"
)

# %%
# The pictures
# ------------
import matplotlib.pyplot as plt


def show_grid(images, title, n_cols=10, row_labels=None):
    n_rows = int(np.ceil(len(images) / n_cols))
    fig, axes = plt.subplots(
        n_rows, n_cols, figsize=(n_cols * 0.9, n_rows * 0.95 + 0.4), layout="constrained"
    )
    for i, ax in enumerate(axes.ravel()):
        ax.set_xticks([])
        ax.set_yticks([])
        if i < len(images):
            ax.imshow(images[i], cmap="gray_r", vmin=0, vmax=16)
        else:
            ax.axis("off")
    if row_labels is not None:
        for ax, label in zip(axes[:, 0], row_labels, strict=True):
            ax.set_ylabel(label, fontsize="small")
    fig.suptitle(title)
    return fig


show_grid(
    np.concatenate([X_test[:10], reconstructed[:10]]),
    "held-out digits (top) and their reconstructions (bottom)",
    row_labels=["original", "decoded"],
)
show_grid(samples, "40 samples: N(0, I) draws decoded to images")

fig, ax = plt.subplots(figsize=(5, 3), layout="constrained")
ax.bar(np.arange(10), counts)
ax.axhline(len(many) / 10, color="black", linestyle="--", linewidth=0.8, label="uniform")
ax.set_xticks(np.arange(10))
ax.set_xlabel("digit named by a classifier trained on real images")
ax.set_ylabel("number of samples")
ax.set_title("what 1,000 samples look like")
ax.legend()
plt.show()

# %%
# What it shows
# -------------
# In this run the reconstructions keep the digit and most of its shape, smoothing away detail
# (the printed error is the share of the pixel variance the decoder misses). The samples are
# blurrier than real digits: many are recognisable, others are blends of two shapes, as
# expected from a least-squares decoder fed points that may fall between the regions where
# real digits embed. The classifier spreads the samples over all ten digits, though not evenly,
# and is less confident on them than on real images. For sharp samples use a generative model
# proper; what comes for free here is a decoder that turns *any* point of the prior's space
# into an input, so that prior draws, interpolations, or points chosen by another model can be
# looked at.
