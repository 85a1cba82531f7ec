"""Speed: fit time against training size, transform throughput, skorch overhead."""

import math
import time
import warnings

import numpy as np
from bench_core import overhead

#: Transform timings repeat until this much time is spent (at most ``MAX_REPEATS`` runs).
MIN_TIMING_S = 1.0
MAX_REPEATS = 5


def fit_scaling(methods, X_fit, sizes, max_epochs, progress=print):
    """Fit each method on the first ``n`` rows for every ``n`` in ``sizes``.

    One untimed one-epoch fit on the smallest size comes first, so that
    start-up costs (imports, numba compilation) do not bend the slope.

    Parameters
    ----------
    methods : list of methods.Method
        Methods to time (Gaussian prior).
    X_fit : ndarray of shape (max(sizes), n_features)
        Training rows; prefixes are used.
    sizes : tuple of int
        Training sizes, increasing.
    max_epochs : int
        Epochs of the InfoMax methods.
    progress : callable, default=print
        Receives one line per fit.

    Returns
    -------
    rows : list of dict
        ``method``, ``n_samples``, ``fit_s``.
    fitted : dict
        Method name -> estimator fitted on the largest size.
    """
    rows, fitted = [], {}
    for method in methods:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # Untimed warm-up: imports, numba compilation, torch thread start-up.
            method.make("gaussian", 1).fit(X_fit[: sizes[0]])
        for n in sizes:
            estimator = method.make("gaussian", max_epochs)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                start = time.perf_counter()
                estimator.fit(X_fit[:n])
                elapsed = time.perf_counter() - start
            rows.append({"method": method.name, "n_samples": n, "fit_s": elapsed})
            progress(f"    fit {method.name:<16} n={n:<5} {elapsed:7.2f} s")
        fitted[method.name] = estimator
    return rows, fitted


def loglog_slopes(rows):
    """Least-squares slope of log(fit time) against log(n), per method.

    Parameters
    ----------
    rows : list of dict
        Output of :func:`fit_scaling`.

    Returns
    -------
    slopes : dict
        Method name -> slope (1 = linear in the number of samples).
    """
    slopes = {}
    for name in dict.fromkeys(row["method"] for row in rows):
        points = [(row["n_samples"], row["fit_s"]) for row in rows if row["method"] == name]
        n, seconds = np.log(np.array(points, dtype=float)).T
        slopes[name] = float(np.polyfit(n, seconds, 1)[0])
    return slopes


def transform_throughput(fitted, X_new):
    """Rows per second of ``transform`` on new rows, best of a few runs.

    Each method first transforms a few rows (numba compilation, lazy
    set-up), then ``X_new`` is embedded until :data:`MIN_TIMING_S` has passed.

    Parameters
    ----------
    fitted : dict
        Method name -> fitted estimator.
    X_new : ndarray of shape (n_rows, n_features)
        Rows not seen in fit.

    Returns
    -------
    throughput : dict
        Method name -> rows per second (best run).
    """
    throughput = {}
    for name, estimator in fitted.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            estimator.transform(X_new[:32])
            times, total = [], 0.0
            while total < MIN_TIMING_S and len(times) < MAX_REPEATS:
                start = time.perf_counter()
                estimator.transform(X_new)
                times.append(time.perf_counter() - start)
                total += times[-1]
        throughput[name] = len(X_new) / min(times)
    return throughput


def skorch_overhead(X, repeats, epochs):
    """Per-epoch time of the skorch fit against a bare torch loop (``bench_core.overhead``).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Standardised rows (digits in the benchmark).
    repeats, epochs : int
        Alternating repetitions, and epochs per timed loop.

    Returns
    -------
    result : dict
        ``skorch_epoch_s``, ``bare_torch_epoch_s``, ``ratio`` and ``goal``.
    """
    return overhead(X, repeats, epochs=epochs)


def speed_summary(slopes, throughput, overhead_result, embedder, umap_name="UMAP"):
    """The speed goals of the issue, with their figures.

    Parameters
    ----------
    slopes : dict
        Output of :func:`loglog_slopes`.
    throughput : dict
        Output of :func:`transform_throughput`.
    overhead_result : dict
        Output of :func:`skorch_overhead`.
    embedder : str
        Name of the noisy embedder in ``throughput``.
    umap_name : str, default="UMAP"
        Name of UMAP in ``throughput``.

    Returns
    -------
    summary : dict
        ``transform_speedup_vs_umap`` (goal >= 10), ``skorch_overhead_ratio``
        (goal <= 1.15), ``embedder_fit_slope`` and whether each goal is met.
    """
    speedup = throughput.get(embedder, math.nan) / throughput.get(umap_name, math.nan)
    ratio = overhead_result["ratio"]
    return {
        "transform_speedup_vs_umap": speedup,
        "transform_speedup_goal": 10.0,
        "transform_speedup_met": bool(speedup >= 10.0),
        "skorch_overhead_ratio": ratio,
        "skorch_overhead_goal": overhead_result["goal"],
        "skorch_overhead_met": bool(ratio <= overhead_result["goal"]),
        "embedder_fit_slope": slopes.get(embedder, math.nan),
    }
