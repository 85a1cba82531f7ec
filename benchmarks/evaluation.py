"""Fit one method on one split and measure its embedding of the test rows."""

import math
import time
import warnings

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_ndim.metrics import prior_match_report, sliced_wasserstein

#: Exact N(0, I) samples that set the floor of the training rows' sliced distance.
TRAIN_FLOOR_SAMPLES = 10

#: Columns of one result row, in the order of the CSV file.
COLUMNS = (
    "dataset",
    "prior",
    "method",
    "family",
    "noise_scale",
    "probe_acc",
    "knn_acc",
    "sw2_ratio",
    "sw2_pvalue",
    "sw2_ratio_train",
    "hz_pvalue",
    "kl",
    "kl_floor",
    "max_correlation",
    "max_correlation_floor",
    "ks_min_pvalue",
    "mutual_info_test",
    "mutual_info_train",
    "capacity",
    "fit_s",
    "transform_s",
    "error",
)


def probe_accuracies(Z_train, y_train, Z_test, y_test):
    """Test accuracy of a logistic probe (on standardised features) and of 5-NN.

    Parameters
    ----------
    Z_train, Z_test : ndarray of shape (n, d)
        Embeddings of the training and test rows.
    y_train, y_test : ndarray of shape (n,)
        Labels.

    Returns
    -------
    probe_acc, knn_acc : float
    """
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000))
    probe.fit(Z_train, y_train)
    knn = KNeighborsClassifier(n_neighbors=5).fit(Z_train, y_train)
    return float(probe.score(Z_test, y_test)), float(knn.score(Z_test, y_test))


def prior_statistics(Z_test, Z_train, prior, n_reference):
    """Distribution statistics of the test embedding (and the train sliced-W2 ratio).

    Parameters
    ----------
    Z_test, Z_train : ndarray of shape (n, d)
        Embeddings in the prior's space.
    prior : {"gaussian", "uniform"}
        Target prior.
    n_reference : int
        Exact prior samples used for the floors.

    Returns
    -------
    statistics : dict
        ``sw2_ratio`` (1 = as close as sampling allows), ``sw2_pvalue``,
        ``hz_pvalue``, ``kl`` and ``max_correlation`` with floors,
        ``ks_min_pvalue`` and ``sw2_ratio_train``.
    """
    report = prior_match_report(Z_test, prior, random_state=0, n_reference=n_reference)
    names = (
        "sw2_ratio",
        "sw2_pvalue",
        "hz_pvalue",
        "kl",
        "kl_floor",
        "max_correlation",
        "max_correlation_floor",
        "ks_min_pvalue",
    )
    statistics = {name: float(getattr(report, name)) for name in names}
    # The training rows get their own floor: exact N(0, I) samples of their size.
    rng = np.random.default_rng(0)
    floor = np.mean(
        [
            sliced_wasserstein(rng.standard_normal(Z_train.shape), "gaussian", random_state=0)
            for _ in range(TRAIN_FLOOR_SAMPLES)
        ]
    )
    statistics["sw2_ratio_train"] = float(
        sliced_wasserstein(Z_train, prior, random_state=0) / floor
    )
    return statistics


def information(estimator, E_test):
    """InfoNCE estimates and capacity of a fitted noisy embedder (NaN for others).

    Parameters
    ----------
    estimator : estimator
        Any fitted method.
    E_test : ndarray
        Test rows in the embedder's input format.

    Returns
    -------
    info : dict
        ``mutual_info_test`` (nats, on the test rows), ``mutual_info_train``
        and ``capacity`` (``inf`` without noise).
    """
    if not hasattr(estimator, "capacity_"):
        return {"mutual_info_test": math.nan, "mutual_info_train": math.nan, "capacity": math.nan}
    return {
        "mutual_info_test": float(estimator.estimate_mutual_info(E_test)),
        "mutual_info_train": float(estimator.mutual_info_),
        "capacity": float(estimator.capacity_),
    }


def evaluate(method, split, prior, n_reference):
    """Fit ``method`` on the training rows of ``split`` and measure the test embedding.

    Parameters
    ----------
    method : methods.Method
        What to fit.
    split : suites.Split
        Data set.
    prior : {"gaussian", "uniform"}
        Target prior of the method and of the statistics.
    n_reference : int
        Exact prior samples used for the statistics' floors.

    Returns
    -------
    row : dict
        One value per name in :data:`COLUMNS`; a failed fit gives NaNs and
        the error message in ``error``.
    """
    row = dict.fromkeys(COLUMNS, math.nan)
    row.update(
        dataset=split.name,
        prior=prior,
        method=method.name,
        family=method.family,
        noise_scale=method.noise_scale,
        error="",
    )
    X_train, X_test = (
        (split.E_train, split.E_test) if method.uses_images else (split.X_train, split.X_test)
    )
    estimator = method.make(prior, split.max_epochs)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            Z_train = estimator.fit_transform(X_train)
            row["fit_s"] = time.perf_counter() - start
            start = time.perf_counter()
            Z_test = estimator.transform(X_test)
            row["transform_s"] = time.perf_counter() - start
        Z_train, Z_test = np.asarray(Z_train, float), np.asarray(Z_test, float)
        if not (np.isfinite(Z_train).all() and np.isfinite(Z_test).all()):
            raise FloatingPointError("non-finite embedding")
        row["probe_acc"], row["knn_acc"] = probe_accuracies(
            Z_train, split.y_train, Z_test, split.y_test
        )
        row.update(prior_statistics(Z_test, Z_train, prior, n_reference))
        row.update(information(estimator, split.E_test))
    except (FloatingPointError, ValueError, RuntimeError) as error:
        row["error"] = f"{type(error).__name__}: {error}"
    return row
