"""Markdown tables, goal verdicts and figures from a suite's result rows."""

import math

import numpy as np
from measures import dominates, pareto_front


def _fmt(value, digits=3):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.1e}"
    return str(value)


def table(rows, columns):
    """A Markdown table of ``rows`` (dicts) with ``columns`` as ``(title, key)`` pairs."""
    lines = ["| " + " | ".join(title for title, _ in columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(_fmt(row.get(key)) for _, key in columns) + " |")
    return "\n".join(lines)


def _header(payload):
    p = payload["provenance"]
    machine = p["machine"]
    # Runs from before the CPU model or thread count were recorded show none.
    details = []
    if "cpu_model" in machine:
        bfloat16 = ", bfloat16 instructions" if machine["bfloat16_instructions"] else ""
        details.append(f"{machine['cpu_model']}{bfloat16}")
    if "torch_threads" in machine:
        threads = machine["torch_threads"]
        details.append(f"{threads} torch thread{'s' if threads != 1 else ''}")
    return (
        f"# Benchmark suite `{payload['suite']}`{' (quick run)' if payload['quick'] else ''}\n\n"
        f"Package code {p['package_commit'][:10]}"
        f"{' with uncommitted changes' if p['uncommitted_changes'] else ''}, "
        f"torch {p['versions']['torch']}, scikit-learn {p['versions']['scikit-learn']}, "
        f"{machine['cpus']} CPUs"
        + (f" ({'; '.join(details)})" if details else "")
        + f", started {p['started']}, {p['minutes']} min, "
        f"load average at the end {p['load_average_end']:.1f}."
        + (f" Note: {p['note']}." if p.get("note") else "")
        + "\n"
    )


def markdown(payload):
    """The whole report of one suite."""
    body = {
        "match": _match,
        "images": _images,
        "speed": _speed,
        "scaling": _speed,
        "uses": _uses,
        "tune": _tune,
        "penalty": _penalty,
        "epochs": _epochs,
        "terms": _terms,
        "splits": _splits,
    }[payload["suite"]](payload["rows"])
    return _header(payload) + "\n" + body + "\n"


MATCH_COLUMNS = [
    ("method", "method"),
    ("noise", "noise"),
    ("probe", "probe"),
    ("5-NN", "knn"),
    ("W2 ratio (test)", "w2_ratio"),
    ("W2 ratio (train)", "w2_ratio_train"),
    ("HZ p", "hz_pvalue"),
    ("energy p", "energy_pvalue"),
    ("fit s", "fit_s"),
    ("Pareto", "pareto"),
]


def _groups(rows):
    keys = []
    for row in rows:
        key = (row["dataset"], row["d"])
        if key not in keys:
            keys.append(key)
    return [(key, [r for r in rows if (r["dataset"], r["d"]) == key]) for key in keys]


def _match(rows):
    parts = []
    for (name, d), group in _groups(rows):
        # The front compares embeddings judged against N(0, I); uniform rows apart.
        front = pareto_front([r for r in group if not r["method"].endswith("uniform")])
        for row in group:
            row["pareto"] = "yes" if row in front else ""
        parts.append(f"## {name}, d = {int(d)}\n\n" + table(group, MATCH_COLUMNS))
        parts.append("\n".join(f"- {line}" for line in verdicts(name, group)))
    return "\n\n".join(parts)


def verdicts(name, group):
    """The issue's goals for one data set, each with its measured numbers."""
    by = {(r["method"], r.get("noise", "")): r for r in group}
    default = by.get(("NI-DIM", "auto"))
    pca = next(r for r in group if r["method"] == "PCA(whiten)")
    zero = next(r for r in group if r["method"] == "InfoMax (noise 0)")
    if default is None:
        return []
    limit = 1.5 if name.startswith("fashion") else 1.25
    met = default["w2_ratio"] <= limit and default["probe"] >= pca["probe"]
    lines = [
        f"goal W2 <= {limit} with probe >= PCA(whiten): {'met' if met else 'missed'}"
        f" (W2 {default['w2_ratio']:.2f}, probe {default['probe']:.3f} vs {pca['probe']:.3f})",
        f"W2 does not increase from noise 0 to the default: "
        f"{'met' if default['w2_ratio'] <= zero['w2_ratio'] else 'missed'} "
        f"({zero['w2_ratio']:.2f} -> {default['w2_ratio']:.2f})",
    ]
    for peer in ("InfoMax (noise 0)", "VAE", "WAE-MMD"):
        other = next((r for r in group if r["method"] == peer), None)
        if other is not None:
            lines.append(
                f"default dominates {peer}: {'yes' if dominates(default, other) else 'no'} "
                f"({default['probe']:.3f}/{default['w2_ratio']:.2f} vs "
                f"{other['probe']:.3f}/{other['w2_ratio']:.2f})"
            )
    normal = [r for r in group if r.get("hz_pvalue", 0) > 0.05 and r["probe"] >= pca["probe"]]
    lines.append(
        f"Henze-Zirkler p > 0.05 at PCA-level probe: "
        f"{', '.join(r['method'] + ' ' + str(r.get('noise', '')) for r in normal) or 'none'}"
    )
    return lines


def _images(rows):
    return _match(rows)


def _speed(rows):
    parts = []
    versus = [r for r in rows if r["part"] == "versus UMAP"]
    if versus:
        parts.append(
            "## Default fit against UMAP\n\n"
            + table(
                versus,
                [
                    ("data", "dataset"),
                    ("method", "method"),
                    ("first fit s", "first_fit_s"),
                    ("steady fit s (median)", "fit_s"),
                    ("min", "fit_s_min"),
                    ("max", "fit_s_max"),
                    ("probe", "probe"),
                    ("W2 ratio", "w2_ratio"),
                ],
            )
        )
        for name in sorted({r["dataset"] for r in versus}):
            by_method = {r["method"]: r for r in versus if r["dataset"] == name}
            umap = by_method["UMAP"]
            # Older results lack the faster setting and the bfloat16 rows.
            for method in by_method:
                if method == "UMAP":
                    continue
                ours = by_method[method]
                parts.append(
                    f"- {name}: fit time ratio {method} / UMAP = "
                    f"{ours['fit_s'] / umap['fit_s']:.2f} (median steady-state fits; first "
                    f"fits {ours['first_fit_s'] / umap['first_fit_s']:.2f}); probe "
                    f"{ours['probe']:.3f} against {umap['probe']:.3f}, W2 ratio "
                    f"{ours['w2_ratio']:.2f} against {umap['w2_ratio']:.2f}"
                )
    for name in ("table", "fashion"):
        # Results from before the image part have no "dataset": they are tables.
        scaling = [r for r in rows if r["part"] == "scaling" and r.get("dataset", "table") == name]
        if scaling:
            parts.append(_scaling_table(name, scaling))
    for part, key in (("processes", "processes"), ("stream", "mode")):
        chosen = [r for r in rows if r["part"] == part]
        if chosen:
            # Runs from before the stream had seeds show none (one seed, 0).
            seed = [("seed", "seed")] if part == "stream" else []
            parts.append(
                f"## {part}\n\n"
                + table(
                    chosen,
                    [("data", "dataset"), *seed, (key, key)]
                    + [("probe", "probe"), ("W2 ratio", "w2_ratio"), ("fit s", "fit_s")],
                )
            )
    parts += _stream_means([r for r in rows if r["part"] == "stream"])
    return "\n\n".join(parts)


def _stream_means(stream):
    """One line per data set: mean probe and W2 ratio of fit and stream over the seeds."""
    lines = []
    for name in sorted({r["dataset"] for r in stream}):
        means = {}
        for mode in ("fit", "partial_fit x4 chunks"):
            chosen = [r for r in stream if r["dataset"] == name and r["mode"] == mode]
            means[mode] = (
                np.mean([r["probe"] for r in chosen]),
                np.mean([r["w2_ratio"] for r in chosen]),
                len(chosen),
            )
        (fit_probe, fit_w2, n), (probe, w2, _) = means.values()
        lines.append(
            f"- stream {name}, mean of {n} seeds: fit {fit_probe:.3f} / {fit_w2:.2f}, "
            f"partial_fit {probe:.3f} / {w2:.2f} (probe {probe - fit_probe:+.3f}, "
            f"W2 ratio {w2 - fit_w2:+.2f})"
        )
    return ["\n".join(lines)] if lines else []


_SCALING_TITLES = {
    "table": "Scaling (tables of 50 features, defaults)",
    "fashion": "Scaling (Fashion-MNIST training images, defaults; official test set)",
}


def _scaling_table(name, scaling):
    """One data set's scaling rows: 10x steps, peak memory against the budget, the slope."""
    for row, previous in zip(scaling[1:], scaling[:-1], strict=True):
        row["ratio"] = row["fit_s"] / previous["fit_s"]
        row["rows_ratio"] = row["n"] / previous["n"]
    for row in scaling:
        row["peak_gib"] = row["peak_bytes"] / 2**30
        row["before_fit_gib"] = row.get("before_fit_bytes", float("nan")) / 2**30
        row["budget_gib"] = 2 * row["data_bytes"] / 2**30 + 1
    n = np.log([r["n"] for r in scaling])
    slope = float(np.polyfit(n, np.log([r["fit_s"] for r in scaling]), 1)[0])
    return (
        f"## {_SCALING_TITLES[name]}\n\n"
        + table(
            scaling,
            [
                ("rows", "n"),
                ("fit s", "fit_s"),
                ("x rows", "rows_ratio"),
                ("x time", "ratio"),
                ("epochs", "epochs"),
                ("GiB before the fit", "before_fit_gib"),
                ("peak GiB", "peak_gib"),
                ("2 x data + 1 GiB", "budget_gib"),
                ("probe", "probe"),
                ("W2 ratio", "w2_ratio"),
            ],
        )
        + f"\n\nlog-log slope: {slope:.2f}"
    )


def _uses(rows):
    parts = []
    outliers = [r for r in rows if r["part"] == "outliers"]
    if outliers:
        parts.append(
            "## Outliers (one class held out of the fit, mean over classes)\n\n"
            + table(
                outliers,
                [
                    ("data", "dataset"),
                    ("method", "method"),
                    ("AUROC", "auroc"),
                    ("precision at p <= 0.05", "precision"),
                    ("recall", "recall"),
                    ("inliers flagged", "false_positive_rate"),
                ],
            )
        )
    generation = [r for r in rows if r["part"] == "generation"]
    if generation:
        parts.append(
            "## Generation (classifier two-sample AUROC, 0.5 = indistinguishable)\n\n"
            + table(
                generation,
                [("data", "dataset"), ("method", "method"), ("C2ST AUROC", "c2st_auroc")],
            )
        )
    independence = [r for r in rows if r["part"] == "independence"]
    if independence:
        parts.append(
            "## Independent factors (mean distance correlation between dimensions)\n\n"
            + table(
                independence,
                [
                    ("data", "dataset"),
                    ("method", "method"),
                    ("distance correlation", "distance_correlation"),
                ],
            )
        )
    return "\n\n".join(parts)


def _tune(rows):
    parts = []
    for method in sorted({r["method"] for r in rows}):
        group = [r for r in rows if r["method"] == method]
        best = max(r["probe"] for r in group)
        chosen = min((r for r in group if r["probe"] >= best - 0.02), key=lambda r: r["w2_ratio"])
        parts.append(
            f"## {method}\n\n"
            + table(group, [("weight", "value"), ("probe", "probe"), ("W2 ratio", "w2_ratio")])
            + f"\n\nchosen: {chosen['parameter']} = {chosen['value']}"
        )
    return "\n\n".join(parts)


PENALTY_COLUMNS = [
    ("prior penalty", "penalty"),
    ("noise", "noise"),
    ("probe", "probe"),
    ("W2 ratio (test)", "w2_ratio"),
    ("W2 ratio (train)", "w2_ratio_train"),
    ("HZ p", "hz_pvalue"),
    ("MI estimate", "mutual_info"),
    ("fit s", "fit_s"),
]


def _tables_per_set(rows, columns, after=None):
    """One section per data set: its table, then ``after(group)`` when given."""
    return "\n\n".join(
        f"## {name}, d = {int(d)}\n\n"
        + table(group, columns)
        + ("" if after is None else "\n\n" + after(group))
        for (name, d), group in _groups(rows)
    )


def _penalty(rows):
    return _tables_per_set(rows, PENALTY_COLUMNS)


EPOCHS_COLUMNS = [
    ("epochs", "epochs"),
    ("InfoNCE, training rows", "mi_train"),
    ("InfoNCE, held-out rows", "mi_held_out"),
    ("score, held-out rows", "score_held_out"),
    ("probe", "probe"),
    ("W2 ratio (test)", "w2_ratio"),
]


def _epoch_optima(group):
    """Where each measure is best: the held-out score, the probe and the match."""
    best = {
        "held-out score": max(group, key=lambda row: row["score_held_out"]),
        "probe": max(group, key=lambda row: row["probe"]),
        "W2 ratio": min(group, key=lambda row: row["w2_ratio"]),
    }
    return "- best at: " + ", ".join(
        f"{measure} {row['epochs']} epochs" for measure, row in best.items()
    )


def _epochs(rows):
    return _tables_per_set(rows, EPOCHS_COLUMNS, after=_epoch_optima)


TERMS_COLUMNS = [
    ("noise", "noise"),
    ("rows", "rows"),
    ("n", "n"),
    ("C", "capacity"),
    ("InfoNCE (B = 256)", "info_nce"),
    ("I(f(X); Y)", "information"),
    ("KL term", "kl"),
    ("non-invariance + critic", "remainder"),
    ("W2 ratio", "w2_ratio"),
]


def _span(low, high):
    """``low`` to ``high`` with two decimals, as one figure when they agree."""
    low, high = f"{low:.2f}", f"{high:.2f}"
    return low if low == high else f"{low} to {high}"


def _terms(rows):
    shown = [
        {
            **row,
            "information": _span(row["information_low"], row["information_high"]),
            "kl": _span(row["kl_low"], row["kl_high"]),
            "remainder": _span(row["remainder_low"], row["remainder_high"]),
        }
        for row in rows
    ]
    return _tables_per_set(shown, TERMS_COLUMNS)


def figures(payload, folder):
    """Figures of a suite (matplotlib): trade-off, scaling, sample grids."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows, suite = payload["rows"], payload["suite"]
    if suite in ("match", "images") and rows:
        groups = _groups(rows)
        fig, axes = plt.subplots(
            1, len(groups), figsize=(4.2 * len(groups), 3.8), squeeze=False, layout="constrained"
        )
        for axis, ((name, d), group) in zip(axes[0], groups, strict=True):
            for row in group:
                ours = row["method"] in ("NI-DIM", "InfoMax (noise 0)")
                axis.scatter(
                    row["w2_ratio"],
                    row["probe"],
                    marker="o" if ours else "s",
                    color="C0" if ours else "C1",
                )
                axis.annotate(
                    f"{row['method']} {row.get('noise', '')}".strip(),
                    (row["w2_ratio"], row["probe"]),
                    fontsize=6,
                )
            axis.set_xscale("log")
            axis.set_title(f"{name}, d = {d}", fontsize="medium")
            axis.set_xlabel("W2 ratio of the test embedding (1 = floor)")
            axis.set_ylabel("logistic probe accuracy")
        fig.savefig(folder / f"{suite}.png", dpi=110)
        plt.close(fig)
    if suite == "uses":
        for path in sorted(folder.glob("samples_*.npy")):
            images = np.load(path)[:, 0]
            fig, axes = plt.subplots(4, 8, figsize=(6, 3), layout="constrained")
            for axis, image in zip(axes.ravel(), images, strict=False):
                axis.imshow(image, cmap="gray_r")
                axis.axis("off")
            fig.savefig(path.with_suffix(".png"), dpi=100)
            plt.close(fig)


SPLITS_COLUMNS = [
    ("split", "split"),
    ("method", "method"),
    ("probe", "probe"),
    ("W2 ratio (test)", "w2_ratio"),
    ("W2 ratio (train)", "w2_ratio_train"),
]


def _split_summary(group):
    """Each method's mean and spread over the splits, and the goal split by split."""
    by_method = {}
    for row in group:
        by_method.setdefault(row["method"], []).append(row)
    lines = []
    for method, rows in by_method.items():
        probe = np.array([row["probe"] for row in rows])
        w2 = np.array([row["w2_ratio"] for row in rows])
        lines.append(
            f"- {method}, mean of {len(rows)} splits: probe {probe.mean():.3f} "
            f"(sd {probe.std():.3f}), W2 ratio {w2.mean():.2f} (sd {w2.std():.2f})"
        )
    pca = {row["split"]: row for row in by_method.get("PCA(whiten)", [])}
    ours = [row for row in by_method.get("NI-DIM", []) if row["split"] in pca]
    if ours:
        met = [
            row["split"]
            for row in ours
            if row["w2_ratio"] <= 1.25 and row["probe"] >= pca[row["split"]]["probe"]
        ]
        lines.append(
            f"- goal W2 <= 1.25 with probe >= PCA(whiten)'s: met on {len(met)} of {len(ours)} "
            f"splits ({', '.join(map(str, met)) or 'none'})"
        )
    return "\n".join(lines)


def _splits(rows):
    return _tables_per_set(rows, SPLITS_COLUMNS, after=_split_summary)
