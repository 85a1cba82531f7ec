"""Pictures of an embedding against its prior, and of training.

Needs matplotlib (``pip install sklearn-ndim[plot]``), imported only when a
function is called. Every function returns the matplotlib Figure it drew on.
"""

import math

import numpy as np
from scipy import stats
from sklearn.utils.validation import check_is_fitted

from ._priors import resolve_prior
from ._stats import check_embedding, make_rng

__all__ = ["plot_qq", "plot_chi2_qq", "plot_pairs", "plot_training_history"]

# Most points drawn per QQ panel; quantiles in between are not drawn.
_QQ_POINTS = 1000
# Contours of the prior density at exp(-r^2/2) of its peak: the 1-, 2- and
# 3-sigma circles for the Gaussian prior.
_CONTOUR_FRACTIONS = np.exp(-0.5 * np.array([3.0, 2.0, 1.0]) ** 2)


def _pyplot():
    """Import matplotlib.pyplot, or explain how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "sklearn_ndim.plotting needs matplotlib: pip install sklearn-ndim[plot]"
        ) from exc
    return plt


def _check_dims(dims, n_components, default):
    """Validated tuple of dimension indices; the first ``default`` when None."""
    if dims is None:
        return tuple(range(min(default, n_components)))
    dims = tuple(int(d) for d in np.atleast_1d(dims))
    if not dims or any(d < 0 or d >= n_components for d in dims):
        raise ValueError(
            f"dims must be a non-empty list of indices in [0, {n_components}); got {dims}."
        )
    return dims


def _check_axes(ax, count):
    """Flat array of ``count`` Axes taken from a user-supplied Axes or array of Axes."""
    axes = np.ravel(np.asarray(ax, dtype=object))
    if len(axes) < count:
        raise ValueError(f"ax must hold at least {count} Axes, one per dimension; got {len(axes)}.")
    return axes[:count]


def _plotting_positions(n_samples):
    """Probabilities ``(i - 0.5) / m`` with ``m = min(n_samples, _QQ_POINTS)``."""
    count = min(n_samples, _QQ_POINTS)
    return (np.arange(1, count + 1) - 0.5) / count


def _qq_panel(ax, theoretical, sample):
    """Draw sample against theoretical quantiles with the identity line."""
    ax.plot(theoretical, sample, ".", markersize=2)
    lo = min(theoretical.min(), sample.min())
    hi = max(theoretical.max(), sample.max())
    ax.plot([lo, hi], [lo, hi], color="black", linewidth=0.8)


def plot_qq(Z, prior="gaussian", dims=None, ax=None):
    """Per-dimension QQ plots of an embedding against the prior's marginal.

    Points on the diagonal mean the dimension has the prior's marginal;
    S-shapes show tails that are too light or too heavy, offsets a shift.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_components)
        Embedding in the prior's space (the output of ``transform``).
    prior : {"gaussian", "uniform"} or scipy.stats frozen distribution, \
            default="gaussian"
        Target prior, as the embedder's ``prior`` parameter.
    dims : sequence of int, default=None
        Dimensions to show; the first 16 by default.
    ax : matplotlib Axes or array of Axes, default=None
        Axes to draw on, one per dimension; a new grid when None.

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    plt = _pyplot()
    Z = check_embedding(Z)
    marginal = resolve_prior(prior).marginal
    dims = _check_dims(dims, Z.shape[1], default=16)
    if ax is None:
        ncols = math.ceil(math.sqrt(len(dims)))
        nrows = math.ceil(len(dims) / ncols)
        fig, grid = plt.subplots(
            nrows, ncols, figsize=(2.4 * ncols, 2.4 * nrows), squeeze=False, layout="constrained"
        )
        for extra in grid.ravel()[len(dims) :]:
            fig.delaxes(extra)
        fig.supxlabel("prior quantile")
        fig.supylabel("embedding quantile")
        axes = grid.ravel()
    else:
        axes = _check_axes(ax, len(dims))
        fig = axes[0].figure
    levels = _plotting_positions(Z.shape[0])
    theoretical = marginal.ppf(levels)
    for axis, dim in zip(axes, dims, strict=False):
        _qq_panel(axis, theoretical, np.quantile(Z[:, dim], levels, method="hazen"))
        axis.set_title(f"dim {dim}", fontsize="small")
    return fig


def plot_chi2_qq(Z, prior="gaussian", ax=None):
    """QQ plot of squared norms (in the Gaussian base space) against chi-square(d).

    Under the prior the squared norm of a base-space row follows a
    chi-square distribution with ``d`` degrees of freedom. Unlike per-
    dimension plots, this sees the joint distribution: correlated dimensions
    or a hollow, shell-like embedding bend the curve away from the diagonal.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_components)
        Embedding in the prior's space.
    prior : {"gaussian", "uniform"} or scipy.stats frozen distribution, \
            default="gaussian"
        Target prior; ``Z`` is first mapped to its Gaussian base space.
    ax : matplotlib Axes, default=None
        Axes to draw on; a new figure when None.

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    plt = _pyplot()
    Z = check_embedding(Z)
    base = resolve_prior(prior).to_gaussian(Z)
    if ax is None:
        fig, ax = plt.subplots(figsize=(4, 4), layout="constrained")
    n_components = Z.shape[1]
    levels = _plotting_positions(Z.shape[0])
    squared = np.quantile(np.sum(base**2, axis=1), levels, method="hazen")
    _qq_panel(ax, stats.chi2(n_components).ppf(levels), squared)
    ax.set_xlabel(f"chi-square({n_components}) quantile")
    ax.set_ylabel("squared norm quantile")
    return ax.figure


def _plot_range(values, marginal):
    """Axis limits covering both the data and the prior's 0.1% to 99.9% quantiles."""
    lo = min(np.quantile(values, 0.001), marginal.ppf(0.001))
    hi = max(np.quantile(values, 0.999), marginal.ppf(0.999))
    pad = 0.05 * (hi - lo)
    return lo - pad, hi + pad


def _density_contours(ax, marginal, xlim, ylim):
    """Contours of the product density of two dimensions."""
    x = np.linspace(*xlim, 120)
    y = np.linspace(*ylim, 120)
    density = np.outer(marginal.pdf(y), marginal.pdf(x))
    peak = density.max()
    if peak > 0 and np.isfinite(peak):
        ax.contour(
            x,
            y,
            density,
            levels=peak * _CONTOUR_FRACTIONS,
            colors="black",
            linewidths=0.7,
            zorder=3,
        )


def plot_pairs(Z, prior="gaussian", dims=None, max_points=2000, random_state=0):
    """Pairwise scatter plots of an embedding over the prior's density contours.

    Off the diagonal, rows are drawn over contours of the product density at
    ``exp(-r^2 / 2)`` of its peak (``r = 1, 2, 3``: the 1-, 2- and 3-sigma
    circles of a Gaussian prior). On the diagonal, each dimension's histogram
    is drawn with the prior's marginal density.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_components)
        Embedding in the prior's space.
    prior : {"gaussian", "uniform"} or scipy.stats frozen distribution, \
            default="gaussian"
        Target prior.
    dims : sequence of int, default=None
        Dimensions to show; the first 4 by default.
    max_points : int, default=2000
        Most rows drawn in each scatter plot (a seeded random subset).
    random_state : int, RandomState instance or None, default=0
        Seeds the subset.

    Returns
    -------
    fig : matplotlib.figure.Figure
        ``len(dims) x len(dims)`` axes.
    """
    plt = _pyplot()
    Z = check_embedding(Z)
    marginal = resolve_prior(prior).marginal
    dims = _check_dims(dims, Z.shape[1], default=4)
    shown = Z
    if Z.shape[0] > max_points:
        shown = Z[make_rng(random_state).choice(Z.shape[0], size=max_points, replace=False)]
    limits = [_plot_range(Z[:, d], marginal) for d in dims]
    k = len(dims)
    fig, grid = plt.subplots(k, k, figsize=(2.2 * k, 2.2 * k), squeeze=False, layout="constrained")
    for row, (dim_y, ylim) in enumerate(zip(dims, limits, strict=True)):
        for col, (dim_x, xlim) in enumerate(zip(dims, limits, strict=True)):
            axis = grid[row, col]
            if row == col:
                grid_x = np.linspace(*xlim, 200)
                axis.hist(Z[:, dim_x], bins=40, range=xlim, density=True, alpha=0.6)
                axis.plot(grid_x, marginal.pdf(grid_x), color="black", linewidth=0.8)
            else:
                _density_contours(axis, marginal, xlim, ylim)
                axis.scatter(shown[:, dim_x], shown[:, dim_y], s=2, alpha=0.4)
                axis.set_ylim(ylim)
            axis.set_xlim(xlim)
            if row == k - 1:
                axis.set_xlabel(f"dim {dim_x}")
            if col == 0:
                axis.set_ylabel(f"dim {dim_y}")
    return fig


def plot_training_history(embedder, ax=None):
    """Per-epoch InfoNCE estimate against the capacity and the ``ln B`` ceiling.

    The estimate approaches the capacity ``C`` only when the embedding
    follows the prior. It can never exceed ``ln B``; when ``C > ln B`` the
    objective cannot see the remaining gap.

    Parameters
    ----------
    embedder : NoisyInfoMaxEmbedder
        A fitted embedder.
    ax : matplotlib Axes, default=None
        Axes to draw on; a new figure when None.

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    plt = _pyplot()
    check_is_fitted(embedder, ["history_", "capacity_"])
    history = embedder.history_
    batch_size = int(getattr(embedder, "batch_size_", embedder.batch_size))
    if ax is None:
        fig, ax = plt.subplots(figsize=(5, 3.5), layout="constrained")
    ax.plot(history[:, "epoch"], history[:, "mutual_info"], marker=".", label="InfoNCE estimate")
    if math.isfinite(embedder.capacity_):
        ax.axhline(embedder.capacity_, color="C1", label=f"capacity C = {embedder.capacity_:.3g}")
    ax.axhline(
        math.log(batch_size),
        color="gray",
        linestyle="--",
        label=f"ln B = {math.log(batch_size):.3g} (B = {batch_size})",
    )
    ax.set_xlabel("epoch")
    ax.set_ylabel("nats")
    ax.set_title(f"noise scale {embedder.noise_scale_:.3g}", fontsize="medium")
    ax.legend(fontsize="small")
    return ax.figure
