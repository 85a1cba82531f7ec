"""Pictures of an embedding against its prior, and of training.

Needs matplotlib (``pip install 'sklearn-ndim[plot]'``), imported only when a
function is called. Every function returns the matplotlib Figure it drew on.
"""

import math
import numbers

import numpy as np
from scipy import stats
from sklearn.utils.validation import check_is_fitted

from ._priors import resolve_prior
from ._stats import check_embedding, check_positive_int, make_rng
from .metrics import warn_outside_support

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
            "sklearn_ndim.plotting needs matplotlib: pip install 'sklearn-ndim[plot]'"
        ) from exc
    return plt


def _check_dims(dims, n_components, default):
    """Validated tuple of dimension indices; the first ``default`` when None."""
    if dims is None:
        return tuple(range(min(default, n_components)))
    values = np.atleast_1d(dims)
    # An empty list reads as floats: it gets the "non-empty" message below.
    if values.size and (
        values.ndim != 1
        or not np.issubdtype(values.dtype, np.integer)
        or np.issubdtype(values.dtype, np.bool_)
    ):
        raise ValueError(f"dims must be a list of integer indices; got {dims!r}.")
    dims = tuple(int(d) for d in values)
    if not dims or any(d < 0 or d >= n_components for d in dims):
        raise ValueError(
            f"dims must be a non-empty list of indices in [0, {n_components}); got {dims}."
        )
    return dims


def _check_axes(ax, count):
    """Flat array of ``count`` Axes taken from a user-supplied Axes or array of Axes."""
    axes = np.ravel(np.asarray(ax, dtype=object))
    for axis in axes:
        if not hasattr(axis, "fill_between"):
            raise TypeError(
                f"ax must be a matplotlib Axes or an array of them; got {type(axis).__name__}."
            )
    if len(axes) < count:
        raise ValueError(f"ax must hold at least {count} Axes, one per dimension; got {len(axes)}.")
    return axes[:count]


def _check_band(band):
    if band is not None and not (
        isinstance(band, numbers.Real) and not isinstance(band, bool) and 0 < band < 1
    ):
        raise ValueError(f"band must be a coverage in (0, 1) or None; got {band!r}.")


def _plotting_positions(n_samples):
    """Probabilities ``(i - 0.5) / m`` with ``m = min(n_samples, _QQ_POINTS)``."""
    count = min(n_samples, _QQ_POINTS)
    return (np.arange(1, count + 1) - 0.5) / count


def _floor_band(marginal, levels, n_samples, coverage):
    """Pointwise ``coverage`` interval of the order statistics of exact prior samples.

    The ``k``-th smallest of ``n`` uniform values is Beta(k, n - k + 1)
    distributed; the prior's quantile function maps its interval to the
    prior's scale. A QQ curve inside the band is as close as sampling allows.
    """
    k = np.clip(np.round(levels * n_samples + 0.5), 1, n_samples)
    tail = (1.0 - coverage) / 2.0
    lower = marginal.ppf(stats.beta.ppf(tail, k, n_samples - k + 1))
    upper = marginal.ppf(stats.beta.ppf(1.0 - tail, k, n_samples - k + 1))
    return lower, upper


def _qq_panel(ax, theoretical, sample, band=None):
    """Draw sample against theoretical quantiles with the identity line and the floor band."""
    if band is not None:
        ax.fill_between(theoretical, *band, color="0.85", linewidth=0, zorder=0)
    ax.plot(theoretical, sample, ".", markersize=2)
    lo = min(theoretical.min(), sample.min())
    hi = max(theoretical.max(), sample.max())
    ax.plot([lo, hi], [lo, hi], color="black", linewidth=0.8)


def plot_qq(Z, prior="gaussian", dims=None, ax=None, band=0.95):
    """Per-dimension QQ plots of an embedding against the prior's marginal.

    Points on the diagonal mean the dimension has the prior's marginal;
    S-shapes show tails that are too light or too heavy, offsets a shift.
    The grey band is the sampling floor: where the quantiles of exact prior
    samples of the same size fall with probability ``band``.

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
    band : float in (0, 1) or None, default=0.95
        Coverage of the pointwise sampling band; None draws no band.

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    plt = _pyplot()
    given, Z = Z, check_embedding(Z)
    _check_band(band)
    resolved = resolve_prior(prior)
    warn_outside_support(given, resolved)
    marginal = resolved.marginal
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
    floor = None if band is None else _floor_band(marginal, levels, Z.shape[0], band)
    for axis, dim in zip(axes, dims, strict=False):
        _qq_panel(axis, theoretical, np.quantile(Z[:, dim], levels, method="hazen"), floor)
        axis.set_title(f"dim {dim}", fontsize="small")
    return fig


def plot_chi2_qq(Z, prior="gaussian", ax=None, band=0.95):
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
    band : float in (0, 1) or None, default=0.95
        Coverage of the pointwise sampling band (grey); None draws none.

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    plt = _pyplot()
    given, Z = Z, check_embedding(Z)
    _check_band(band)
    resolved = resolve_prior(prior)
    warn_outside_support(given, resolved)
    base = resolved.to_gaussian(Z)
    if ax is None:
        fig, ax = plt.subplots(figsize=(4, 4), layout="constrained")
    elif not hasattr(ax, "fill_between"):
        raise TypeError(f"ax must be one matplotlib Axes; got {type(ax).__name__}.")
    n_components = Z.shape[1]
    levels = _plotting_positions(Z.shape[0])
    squared = np.quantile(np.sum(base**2, axis=1), levels, method="hazen")
    chi2 = stats.chi2(n_components)
    floor = None if band is None else _floor_band(chi2, levels, Z.shape[0], band)
    _qq_panel(ax, chi2.ppf(levels), squared, floor)
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


def plot_pairs(Z, prior="gaussian", dims=None, max_points=2000, random_state=0, labels=None):
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
    labels : array-like of shape (n_samples,), default=None
        Colour the points by these labels (a legend for up to 20 distinct
        values, a colour bar for numbers with more).

    Returns
    -------
    fig : matplotlib.figure.Figure
        ``len(dims) x len(dims)`` axes.
    """
    plt = _pyplot()
    given, Z = Z, check_embedding(Z)
    resolved = resolve_prior(prior)
    warn_outside_support(given, resolved)
    marginal = resolved.marginal
    dims = _check_dims(dims, Z.shape[1], default=4)
    if labels is not None:
        labels = np.asarray(labels)
        if labels.dtype == object:
            # Mixed values (text with None, say) cannot be sorted into classes: as text they can.
            labels = labels.astype(str)
        if labels.shape != (Z.shape[0],):
            raise ValueError(
                f"labels must hold one value per row of Z ({Z.shape[0]}); got shape {labels.shape}."
            )
    rows = np.arange(Z.shape[0])
    check_positive_int(max_points, "max_points")
    if Z.shape[0] > max_points:
        rows = np.sort(make_rng(random_state).choice(Z.shape[0], size=max_points, replace=False))
    shown = Z[rows]
    colours = _label_colours(None if labels is None else labels[rows])
    limits = [_plot_range(Z[:, d], marginal) for d in dims]
    columns = getattr(given, "columns", None)  # a DataFrame's, from set_output
    names = (
        [str(c) for c in columns]
        if columns is not None
        else [f"dim {d}" for d in range(Z.shape[1])]
    )
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
                scatter = axis.scatter(
                    shown[:, dim_x], shown[:, dim_y], s=2, alpha=0.5, **colours["scatter"]
                )
                axis.set_ylim(ylim)
            axis.set_xlim(xlim)
            axis.set_box_aspect(1)  # equal limits on square axes: the prior's circles are round
            if row == k - 1:
                axis.set_xlabel(names[dim_x])
            if col == 0:
                axis.set_ylabel(names[dim_y])
    if colours["classes"] is not None:
        handles = [
            plt.Line2D([], [], marker="o", linestyle="", color=colours["cmap"](i), markersize=4)
            for i in range(len(colours["classes"]))
        ]
        fig.legend(handles, [str(c) for c in colours["classes"]], loc="outside right upper")
    elif labels is not None and k > 1:
        fig.colorbar(scatter, ax=grid, shrink=0.6, label="label")
    return fig


def _label_colours(labels, max_classes=20):
    """Scatter keyword arguments colouring ``labels``: categories or a colour scale."""
    from matplotlib import colormaps
    from matplotlib.colors import ListedColormap

    if labels is None:
        return {"scatter": {}, "classes": None}
    classes, codes = np.unique(labels, return_inverse=True)
    numeric = np.issubdtype(labels.dtype, np.number)
    if len(classes) <= max_classes or not numeric:
        # The first colours of the palette: resampling picked blue and cyan for 3 classes.
        palette = colormaps["tab10" if len(classes) <= 10 else "tab20"]
        cmap = ListedColormap(palette.colors[: len(classes)])
        return {
            "scatter": {"c": codes, "cmap": cmap, "vmin": -0.5, "vmax": len(classes) - 0.5},
            "classes": classes,
            "cmap": cmap,
        }
    return {"scatter": {"c": labels, "cmap": "viridis"}, "classes": None}


def plot_training_history(embedder, ax=None):
    """Per-epoch InfoNCE estimate against the capacity and the ``ln B`` ceiling.

    The estimate approaches the capacity ``C`` only when the embedding
    follows the prior. It can never exceed ``ln B``; when ``C > ln B`` the
    objective cannot see the remaining gap. The training loss is drawn on a
    second axis (right).

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
    check_is_fitted(embedder)
    if not all(hasattr(embedder, name) for name in ("history_", "capacity_", "batch_size_")):
        raise TypeError(
            "plot_training_history draws the history_ of a fitted NoisyInfoMaxEmbedder; got a "
            f"{type(embedder).__name__}."
        )
    history = embedder.history_
    batch_size = int(embedder.batch_size_)
    if ax is None:
        fig, ax = plt.subplots(figsize=(5, 3.5), layout="constrained")
    elif not hasattr(ax, "twinx"):
        raise TypeError(f"ax must be one matplotlib Axes; got {type(ax).__name__}.")
    epochs = history[:, "epoch"]
    ax.plot(epochs, history[:, "mutual_info"], marker=".", label="InfoNCE estimate (MI)")
    ln_batch = math.log(batch_size)
    if math.isfinite(embedder.capacity_):
        ax.axhline(
            embedder.capacity_,
            color="C1",
            linewidth=3,
            alpha=0.7,
            label=f"capacity C = {embedder.capacity_:.3g}",
        )
    # Thin and dashed on top of the thick capacity line, so that both stay
    # visible when they coincide (noise_scale="auto" sets C = ln B, bar d = 1 with B > 1000
    # and images with a prior penalty above d = 16).
    ax.axhline(
        ln_batch,
        color="black",
        linestyle="--",
        linewidth=1,
        label=f"ln B = {ln_batch:.3g} (B = {batch_size})",
    )
    loss_ax = ax.twinx()
    loss_ax.plot(epochs, history[:, "train_loss"], color="C2", linewidth=1, label="train loss")
    loss_ax.set_ylabel("loss = ln B - MI (+ prior penalty)", color="C2")
    loss_ax.tick_params(axis="y", colors="C2")
    ax.set_xlabel("epoch")
    ax.set_ylabel("nats")
    ax.set_title(f"noise scale {embedder.noise_scale_:.3g}", fontsize="medium")
    lines, names = ax.get_legend_handles_labels()
    more_lines, more_names = loss_ax.get_legend_handles_labels()
    ax.legend(lines + more_lines, names + more_names, fontsize="small", loc="center right")
    return ax.figure
