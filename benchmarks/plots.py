"""Figures of the benchmark: the trade-off curves and the fit-time scaling."""

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter  # noqa: E402
from methods import EMBEDDER, PEER_NAMES, PLAIN_INFOMAX  # noqa: E402
from reporting import groups  # noqa: E402

PEER_STYLE = {
    "PCA-whiten": ("s", "tab:gray"),
    "PCA+quantile": ("D", "tab:brown"),
    "UMAP": ("^", "tab:green"),
    PLAIN_INFOMAX: ("o", "black"),
    "adversarial DIM": ("v", "tab:red"),
}
PRIOR_COLOR = {"gaussian": "tab:blue", "uniform": "tab:orange"}
#: Accuracy range shown in a trade-off panel below its best point.
ACCURACY_SPAN = 0.15


def _color(name):
    """Colour of a method: the peer palette, blue for the noisy embedder."""
    return PEER_STYLE.get(name, (None, PRIOR_COLOR["gaussian"]))[1]


def _ok(row):
    """True for a row that can be plotted."""
    return not row["error"] and not math.isnan(row["probe_acc"])


def _log_axis(axis):
    """Log-scale axis labelled at 1, 2, 5 x 10^k in plain numbers."""
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FormatStrFormatter("%g"))
    axis.set_minor_formatter(NullFormatter())


def _tradeoff_panel(ax, rows, color):
    """One data set and prior: the NI-DIM curve and the peers.

    Accuracies more than :data:`ACCURACY_SPAN` below the best are drawn on
    the lower edge with their value, so one failed method does not squash
    the others.
    """
    accuracies = [r["probe_acc"] for r in rows]
    bottom = max(min(accuracies), max(accuracies) - ACCURACY_SPAN) - 0.01
    ax.set_ylim(bottom, max(accuracies) + 0.01)
    curve = sorted(
        (r for r in rows if r["family"] in (EMBEDDER, PLAIN_INFOMAX)),
        key=lambda r: r["noise_scale"],
    )
    ax.plot(
        [r["sw2_ratio"] for r in curve],
        [max(r["probe_acc"], bottom) for r in curve],
        "-o",
        color=color,
        zorder=3,
        label="NI-DIM over noise (0 = plain InfoMax)",
    )
    for r in curve:
        ax.annotate(
            f"{r['noise_scale']:g}",
            (r["sw2_ratio"], max(r["probe_acc"], bottom)),
            textcoords="offset points",
            xytext=(4, 4),
            fontsize=8,
            color=color,
        )
    for r in rows:
        if r["method"] not in PEER_NAMES or r["method"] == PLAIN_INFOMAX:
            continue
        marker, peer_color = PEER_STYLE[r["method"]]
        y = max(r["probe_acc"], bottom + 0.002)
        ax.scatter(
            r["sw2_ratio"],
            y,
            marker=marker,
            s=60,
            color=peer_color,
            label=r["method"],
            zorder=4,
            clip_on=False,
        )
        if r["probe_acc"] < bottom:
            ax.annotate(
                f"acc {r['probe_acc']:.2f} (off scale)",
                (r["sw2_ratio"], y),
                textcoords="offset points",
                xytext=(-10, 8),
                ha="right",
                fontsize=7,
                color=peer_color,
            )
    ax.axvline(1.0, color="0.6", linestyle="--", linewidth=1)
    ax.set_xscale("log")
    _log_axis(ax.xaxis)
    ax.set_xlabel("sw2_ratio of the test embedding (log, lower = closer to prior)")
    ax.set_ylabel("logistic probe accuracy (test)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="best")


def tradeoff_plot(results, path):
    """Probe accuracy against sw2_ratio: one column per data set, one row per prior.

    The noisy embedder's points over its noise grid are joined by a line
    (starting from plain InfoMax at noise 0) and labelled with their noise;
    peers are labelled markers. Up and left is better; the dashed line marks
    ``sw2_ratio = 1`` (as close to the prior as a sample of that size gets).

    Parameters
    ----------
    results : list of dict
        All result rows.
    path : pathlib.Path
        PNG file to write.
    """
    grouped = groups(results)
    datasets = list(dict.fromkeys(dataset for dataset, _ in grouped))
    priors = list(dict.fromkeys(prior for _, prior in grouped))
    fig, axes = plt.subplots(
        len(priors), len(datasets), squeeze=False, figsize=(5.2 * len(datasets), 4.4 * len(priors))
    )
    for i, prior in enumerate(priors):
        for j, dataset in enumerate(datasets):
            rows = [row for row in grouped.get((dataset, prior), []) if _ok(row)]
            _tradeoff_panel(axes[i, j], rows, PRIOR_COLOR.get(prior, "tab:blue"))
            axes[i, j].set_title(f"{dataset}, {prior} prior")
    fig.suptitle("Accuracy vs distribution match (noise labels: sigma, or eps for uniform)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def scaling_plot(scaling_rows, slopes, throughput, path):
    """Fit time against training size (log-log) and transform throughput.

    Parameters
    ----------
    scaling_rows : list of dict
        ``method``, ``n_samples``, ``fit_s`` rows.
    slopes : dict
        Method name -> log-log slope.
    throughput : dict
        Method name -> transform rows per second.
    path : pathlib.Path
        PNG file to write.
    """
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for name, slope in slopes.items():
        points = sorted((r["n_samples"], r["fit_s"]) for r in scaling_rows if r["method"] == name)
        left.plot(
            *zip(*points, strict=True),
            "-o",
            color=_color(name),
            label=f"{name} (slope {slope:.2f})",
        )
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_xticks(sorted({r["n_samples"] for r in scaling_rows}))
    left.xaxis.set_major_formatter(FormatStrFormatter("%d"))
    left.xaxis.set_minor_formatter(NullFormatter())
    left.set_xlabel("training rows")
    left.set_ylabel("fit time (s)")
    left.set_title("Fit time vs training size (generated table, 30 features)")
    left.grid(True, which="both", alpha=0.3)
    left.legend(fontsize=8)
    names = list(throughput)
    right.barh(names, [throughput[name] for name in names], color=[_color(n) for n in names])
    right.set_xscale("log")
    right.set_xlabel("transform throughput (rows/s, log)")
    right.set_title("transform on new rows")
    for k, name in enumerate(names):
        right.annotate(
            f"{throughput[name]:,.0f}",
            (throughput[name], k),
            xytext=(3, -3),
            textcoords="offset points",
            fontsize=8,
        )
    right.grid(True, axis="x", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
