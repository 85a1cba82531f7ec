"""
===================================================
Does my embedding follow the prior? The diagnostics
===================================================

A fitted embedder promises embeddings distributed like its prior. This example goes through the
tools that check the promise on held-out rows, and how to read each: the prior-match report,
per-dimension and joint QQ plots, pair plots, the training history and the information report.

The rule behind all of them: a finite sample of the exact prior never scores perfectly, so every
statistic comes with its *sampling floor* (a number, or a grey band in the plots): how far an
exact prior sample of the same size typically lies. Within the floor, the data cannot tell the
embedding from the prior.
"""

# %%
# Fit on the digits table, look at held-out rows
# -----------------------------------------------
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sklearn_ndim import NoisyInfoMaxEmbedder

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
embedder = NoisyInfoMaxEmbedder(n_components=8, random_state=0).fit(X_train)
Z_test = embedder.transform(X_test)

# %%
# The prior-match report
# ----------------------
# :func:`~sklearn_ndim.metrics.prior_match_report` maps the embedding to the Gaussian space
# (the identity for the Gaussian prior) and prints each statistic beside its floor, the mean over
# exact N(0, I) samples of the same shape, and a p-value where one exists:
#
# - **sliced W2** and its **ratio** to the floor: the distance to the prior in one number, 1 =
#   as close as an exact sample of this size;
# - **Gaussian-fit KL**: divergence of the fitted Gaussian (sees a shifted mean, wrong scales,
#   linear correlation);
# - **Henze-Zirkler**: normality of the *shape* only (the sample is standardised first);
# - **energy distance**: location, scale, correlation and shape together, against the exact
#   N(0, I);
# - **max |correlation|** between two dimensions;
# - **KS**: the worst per-dimension Kolmogorov-Smirnov test (Holm-corrected).
#
# ``passes()`` combines the W2 ratio (at most 1.5), the normality tests (Henze-Zirkler and the
# energy test, Bonferroni-combined p-value above 0.05) and a check that no dimension collapsed.
from sklearn_ndim.metrics import information_report, prior_match_report

report = prior_match_report(Z_test, prior=embedder.prior_)
print(report)
print("as a dict:", {k: round(v, 3) for k, v in report.to_dict().items() if k.startswith("sw2")})

# %%
# Per-dimension QQ plots
# ----------------------
# :func:`~sklearn_ndim.plotting.plot_qq` draws, for each dimension, the quantiles of the
# embedding against those of N(0, 1). On the diagonal: the right marginal. An S-shape bending
# away at both ends means tails too light (inside) or too heavy (outside); a vertical offset, a
# shifted mean. The grey band is where an exact N(0, 1) sample of the same size puts its
# quantiles with 95% probability: a curve that stays in the band is as good as this many rows
# can show. The band widens in the tails, where quantiles vary most.
import matplotlib.pyplot as plt

from sklearn_ndim.plotting import plot_chi2_qq, plot_pairs, plot_qq, plot_training_history

fig = plot_qq(Z_test, prior=embedder.prior_)
fig.suptitle("held-out embedding: per-dimension QQ against N(0, 1)")
plt.show()

# %%
# The joint distribution: squared norms against chi-square
# --------------------------------------------------------
# Marginals can all be right while the joint distribution is wrong (correlated dimensions, or
# points crowding on a shell). Under N(0, I_d) the squared norm of a row is chi-square with
# ``d`` degrees of freedom; :func:`~sklearn_ndim.plotting.plot_chi2_qq` compares the two. For
# contrast, the right panel shows PCA with whitening on the same rows: unit covariance by
# construction, but nothing controls its shape.
from sklearn.decomposition import PCA

pca = PCA(n_components=8, whiten=True, random_state=0).fit(X_train)
fig, (left, right) = plt.subplots(1, 2, figsize=(8, 4), layout="constrained")
plot_chi2_qq(Z_test, prior=embedder.prior_, ax=left)
left.set_title("NoisyInfoMaxEmbedder")
plot_chi2_qq(pca.transform(X_test), ax=right)
right.set_title("PCA(whiten=True)")
fig.suptitle("squared norms of held-out rows against chi-square(8)")
plt.show()

# %%
# Pair plots
# ----------
# :func:`~sklearn_ndim.plotting.plot_pairs` shows pairs of dimensions over the prior's 1-, 2- and
# 3-sigma contours, with histograms against the marginal density on the diagonal. ``labels=``
# colours the points, here by digit: a good embedding fills the prior's disc *and* keeps classes
# in separate regions of it.
fig = plot_pairs(Z_test, prior=embedder.prior_, dims=[0, 1, 2, 3], labels=y_test)
fig.suptitle("held-out embedding, coloured by digit")
plt.show()

# %%
# The training history
# ---------------------
# :func:`~sklearn_ndim.plotting.plot_training_history` shows the InfoNCE estimate of the mutual
# information per epoch against two ceilings: the channel capacity ``C`` set by the noise (only
# an embedding that follows the prior exactly can reach it) and ``ln B``, the most InfoNCE can
# measure with batches of ``B`` rows. The default ``noise_scale="auto"`` puts ``C`` at ``ln B``,
# so the two lines coincide. A curve still rising at the last epoch suggests more epochs; the
# loss (right axis) is ``ln B`` minus the estimate.
fig = plot_training_history(embedder)
plt.show()

# %%
# The information report
# ----------------------
# :func:`~sklearn_ndim.metrics.information_report` gives the same numbers at the end of
# training. The *gap* ``C - MI`` bounds, up to the estimator's bias, how far the noisy output is
# from the prior: a small gap certifies a close match, but only when ``C <= ln B`` (otherwise the
# estimator cannot see the whole gap and the report warns).
print(information_report(embedder))

# %%
# How to read them together
# -------------------------
# Start with the W2 ratio: near 1, the embedding is about as close to the prior as the sample
# size can show; a ratio of 2 or more is a visible mismatch. The p-values then say whether the
# remaining departure is statistically detectable, which on hundreds of rows it usually is for a
# learned embedding. The plots say *where* it lies: tails (QQ ends outside the band), shells or
# correlation (chi-square QQ), or clusters (pair plots).
#
# In this run, the two chi-square panels bend the same way, below the diagonal at the top: the
# largest squared norms are smaller than the prior's, so both embeddings have too few rows far
# out (light tails). The embedder's curve stays nearer the band than PCA's. The training
# history was still rising at the last epoch, with the estimate well below the capacity: more
# epochs (``max_epochs``) would raise the estimate further; whether they also tighten the match
# depends on the data, so check again with the report.
