"""What every suite shares: the epoch budgets, the embedder's settings, one measured fit."""

import math
import time

import measures
import numpy as np

from sklearn_ndim import NoisyInfoMaxEmbedder


def epochs_for(settings, n_rows):
    """Epochs of every deep method on ``n_rows`` training rows.

    The embedder's documented ``max_epochs="auto"`` rule (about 250,000 row
    presentations, at most 100 epochs), so that its peers train as long; a
    quick run overrides it.
    """
    if settings["epochs"] is not None:
        return settings["epochs"]
    return min(100, math.ceil(250_000 / n_rows))


def our_epochs(settings):
    """The embedder's epochs: its own ``"auto"`` budget, or a quick run's override.

    On tables that is :func:`epochs_for`; images get half of it.
    """
    return settings["epochs"] if settings["epochs"] is not None else "auto"


def ours(settings, d, n_rows, random_state=0, **params):
    """The embedder with its defaults (epochs as :func:`our_epochs`)."""
    return NoisyInfoMaxEmbedder(
        d, max_epochs=our_epochs(settings), random_state=random_state, **params
    )


def evaluate(method, data, prior="gaussian", n_reference=50):
    """Fit ``method`` on the training rows; measure its test (and train) embedding."""
    X_train, X_test, y_train, y_test = data
    start = time.perf_counter()
    method.fit(X_train)
    fit_s = time.perf_counter() - start
    Z_train, Z_test = method.transform(X_train), method.transform(X_test)
    probe, knn = measures.probe_accuracies(Z_train, y_train, Z_test, y_test)
    row = {"probe": probe, "knn": knn, "fit_s": fit_s}
    row.update(measures.prior_match(Z_test, prior, n_reference))
    row["w2_ratio_train"] = measures.prior_match(Z_train, prior, 10)["w2_ratio"]
    if isinstance(method, NoisyInfoMaxEmbedder):
        row.update(
            noise_scale=method.noise_scale_,
            mutual_info=method.mutual_info_,
            capacity=method.capacity_,
            epochs=method.n_iter_,
        )
    return row


def averaged(rows):
    """Mean of the numeric fields of rows of the same configuration (seeds)."""
    out = dict(rows[0])
    for key, value in rows[0].items():
        if isinstance(value, float | int) and not isinstance(value, bool) and key != "seed":
            out[key] = float(np.nanmean([r[key] for r in rows]))
    out["seeds"] = len(rows)
    return out
