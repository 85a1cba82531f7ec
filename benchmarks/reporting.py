"""Pareto analysis of (probe accuracy, sw2_ratio) and the Markdown report."""

import math

from methods import EMBEDDER, PEER_NAMES

#: A point "dominates" another when it is better on both axes by more than this.
TOLERANCE = 0.0


def fmt(value, digits=3):
    """Format a number for a table: fixed digits, ``inf``, or ``-`` for missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float) and math.isinf(value):
        return "inf"
    if isinstance(value, float):
        return (
            f"{value:.{digits}g}"
            if abs(value) >= 100 or abs(value) < 1e-3
            else (f"{value:.{digits}f}")
        )
    return str(value)


def markdown_table(header, rows):
    """A GitHub Markdown table.

    Parameters
    ----------
    header : list of str
        Column titles.
    rows : list of list
        Cells, formatted with :func:`fmt`.

    Returns
    -------
    table : str
    """
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(fmt(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _valid(row):
    """True for a row whose fit and measurements succeeded."""
    return not row["error"] and not math.isnan(row["probe_acc"])


def dominates(a, b):
    """True when ``a`` has strictly higher probe accuracy and strictly lower sw2_ratio."""
    return (
        a["probe_acc"] > b["probe_acc"] + TOLERANCE and a["sw2_ratio"] < b["sw2_ratio"] - TOLERANCE
    )


def groups(results):
    """Result rows grouped by ``(dataset, prior)``, in first-seen order."""
    grouped = {}
    for row in results:
        grouped.setdefault((row["dataset"], row["prior"]), []).append(row)
    return grouped


def pareto_front(rows):
    """Names of the rows not weakly dominated on (probe_acc up, sw2_ratio down).

    Parameters
    ----------
    rows : list of dict
        Results of one data set and prior.

    Returns
    -------
    ahead : set of str
        Methods on the front.
    """
    valid = [row for row in rows if _valid(row)]
    ahead = set()
    for row in valid:
        beaten = any(
            other is not row
            and other["probe_acc"] >= row["probe_acc"]
            and other["sw2_ratio"] <= row["sw2_ratio"]
            and (other["probe_acc"] > row["probe_acc"] or other["sw2_ratio"] < row["sw2_ratio"])
            for other in valid
        )
        if not beaten:
            ahead.add(row["method"])
    return ahead


def best_configuration(rows):
    """The noisy-embedder configuration that dominates the most peers.

    Ties go to the higher probe accuracy.

    Parameters
    ----------
    rows : list of dict
        Results of one data set and prior.

    Returns
    -------
    best : dict or None
        The chosen row, with ``dominated`` (list of peer names) added.
    peers : dict
        Peer name -> row.
    """
    peers = {row["method"]: row for row in rows if row["method"] in PEER_NAMES and _valid(row)}
    best = None
    for row in rows:
        if row["family"] != EMBEDDER or not _valid(row):
            continue
        beaten = [name for name, peer in peers.items() if dominates(row, peer)]
        key = (len(beaten), row["probe_acc"])
        if best is None or key > (len(best["dominated"]), best["probe_acc"]):
            best = dict(row, dominated=beaten)
    return best, peers


def verdicts(results):
    """Per data set and prior: does some noise scale dominate every peer?

    Parameters
    ----------
    results : list of dict
        All result rows.

    Returns
    -------
    verdicts : list of dict
        ``dataset``, ``prior``, ``best`` (method name), ``dominated`` and
        ``not_dominated`` (peer names) and ``dominates_all`` (bool).
    """
    out = []
    for (dataset, prior), rows in groups(results).items():
        best, peers = best_configuration(rows)
        dominated = best["dominated"] if best else []
        out.append(
            {
                "dataset": dataset,
                "prior": prior,
                "best": best["method"] if best else None,
                "dominated": dominated,
                "not_dominated": [name for name in peers if name not in dominated],
                "dominates_all": bool(best) and len(dominated) == len(peers) > 0,
            }
        )
    return out


def _cell(row, dominated=False):
    """``accuracy / sw2_ratio``, bold when dominated."""
    text = f"{row['probe_acc']:.3f} / {row['sw2_ratio']:.2f}"
    return f"**{text}**" if dominated else text


def headline_table(results):
    """Best noisy-embedder configuration against each peer, per data set and prior.

    Cells are ``probe accuracy / sw2_ratio``; a bold peer cell is dominated
    by the chosen configuration (higher accuracy and lower ratio).

    Parameters
    ----------
    results : list of dict
        All result rows.

    Returns
    -------
    table : str
        Markdown.
    """
    header = ["data set", "prior", "NI-DIM (best noise)", *PEER_NAMES, "dominates all"]
    rows = []
    for (dataset, prior), group in groups(results).items():
        best, peers = best_configuration(group)
        if best is None:
            continue
        cells = [
            _cell(peers[name], name in best["dominated"]) if name in peers else "-"
            for name in PEER_NAMES
        ]
        label = f"noise {best['method'].split()[-1]}: {_cell(best)}"
        everyone = len(best["dominated"]) == len(peers)
        rows.append([dataset, prior, label, *cells, "yes" if everyone else "no"])
    return markdown_table(header, rows)


def detail_table(rows):
    """Every method on one data set and prior, with the front marked.

    Parameters
    ----------
    rows : list of dict
        Results of one data set and prior.

    Returns
    -------
    table : str
        Markdown.
    """
    ahead = pareto_front(rows)
    header = [
        "method",
        "noise",
        "probe acc",
        "5-NN acc",
        "sw2 ratio (test)",
        "sw2 ratio (train)",
        "HZ p",
        "KL (floor)",
        "max corr (floor)",
        "MI test",
        "capacity",
        "fit s",
        "ahead",
    ]
    body = []
    for row in sorted(rows, key=lambda r: -r["probe_acc"] if _valid(r) else 1):
        if not _valid(row):
            body.append([row["method"], row["noise_scale"], row["error"]] + [""] * 10)
            continue
        body.append(
            [
                row["method"],
                row["noise_scale"],
                row["probe_acc"],
                row["knn_acc"],
                row["sw2_ratio"],
                row["sw2_ratio_train"],
                f"{row['hz_pvalue']:.2g}",
                f"{row['kl']:.3f} ({row['kl_floor']:.3f})",
                f"{row['max_correlation']:.2f} ({row['max_correlation_floor']:.2f})",
                row["mutual_info_test"],
                row["capacity"],
                row["fit_s"],
                "yes" if row["method"] in ahead else "",
            ]
        )
    return markdown_table(header, body)


def verdict_lines(results):
    """One sentence per data set: does the goal hold for either prior?

    Parameters
    ----------
    results : list of dict
        All result rows.

    Returns
    -------
    lines : list of str
        Markdown bullet points.
    """
    lines = []
    by_dataset = {}
    for verdict in verdicts(results):
        by_dataset.setdefault(verdict["dataset"], []).append(verdict)
    for dataset, items in by_dataset.items():
        parts = []
        for item in items:
            if item["dominates_all"]:
                parts.append(f"{item['prior']}: yes, `{item['best']}` dominates every peer")
            else:
                missing = ", ".join(item["not_dominated"]) or "-"
                parts.append(
                    f"{item['prior']}: no (best `{item['best']}` does not dominate {missing})"
                )
        lines.append(f"- **{dataset}**: " + "; ".join(parts))
    return lines


def speed_tables(scaling_rows, slopes, throughput, summary):
    """Markdown tables of fit time against n, slopes, throughput and the goals.

    Parameters
    ----------
    scaling_rows : list of dict
        Output of ``speed.fit_scaling``.
    slopes, throughput, summary : dict
        Outputs of ``speed.loglog_slopes``, ``speed.transform_throughput``
        and ``speed.speed_summary``.

    Returns
    -------
    text : str
        Markdown.
    """
    sizes = sorted({row["n_samples"] for row in scaling_rows})
    fit = {(row["method"], row["n_samples"]): row["fit_s"] for row in scaling_rows}
    header = ["method", *[f"fit s, n={n}" for n in sizes], "log-log slope", "transform rows/s"]
    body = [
        [name, *[fit[(name, n)] for n in sizes], slopes[name], f"{throughput[name]:,.0f}"]
        for name in slopes
    ]
    goals = markdown_table(
        ["goal", "measured", "target", "met"],
        [
            [
                "transform throughput, NI-DIM / UMAP",
                f"{summary['transform_speedup_vs_umap']:.1f}x",
                ">= 10x",
                "yes" if summary["transform_speedup_met"] else "no",
            ],
            [
                "skorch epoch / bare torch epoch",
                f"{summary['skorch_overhead_ratio']:.3f}",
                f"<= {summary['skorch_overhead_goal']}",
                "yes" if summary["skorch_overhead_met"] else "no",
            ],
        ],
    )
    return markdown_table(header, body) + "\n\n" + goals
