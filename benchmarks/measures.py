"""What the benchmarks measure, each as one small function of arrays.

- accuracy of a logistic probe and of 5 nearest neighbours on an embedding;
- the match of a test embedding to the prior (:func:`sklearn_ndim.metrics.prior_match_report`);
- the Pareto front on (probe accuracy, W2 ratio);
- outlier detection (AUROC, precision and recall at a threshold);
- a classifier two-sample test (AUROC of telling real rows from generated ones);
- the dependence between embedding dimensions (distance correlation).
"""

import math

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import cross_val_predict
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_ndim.metrics import prior_match_report

__all__ = [
    "probe_accuracies",
    "prior_match",
    "dominates",
    "pareto_front",
    "outlier_scores",
    "two_sample_auroc",
    "mean_distance_correlation",
]


def probe_accuracies(Z_train, y_train, Z_test, y_test):
    """Test accuracy of a logistic probe (on standardised features) and of 5-NN."""
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000))
    probe.fit(Z_train, y_train)
    knn = KNeighborsClassifier(n_neighbors=5).fit(Z_train, y_train)
    return float(probe.score(Z_test, y_test)), float(knn.score(Z_test, y_test))


def prior_match(Z, prior="gaussian", n_reference=50):
    """The statistics of :func:`prior_match_report` that the tables show, as a dict."""
    report = prior_match_report(Z, prior=prior, random_state=0, n_reference=n_reference)
    return {
        "w2_ratio": report.sw2_ratio,
        "w2_pvalue": report.sw2_pvalue,
        "hz_pvalue": report.hz_pvalue,
        "energy_pvalue": report.energy_pvalue,
        "max_correlation": report.max_correlation,
        "ks_min_pvalue": report.ks_min_pvalue,
    }


def dominates(a, b, accuracy="probe", match="w2_ratio"):
    """Whether ``a`` is at least as good as ``b`` on both and better on one.

    Higher ``accuracy`` and lower ``match`` are better; rows missing either
    value dominate nothing and are dominated by nothing.
    """
    values = (a.get(accuracy), a.get(match), b.get(accuracy), b.get(match))
    if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in values):
        return False
    at_least = a[accuracy] >= b[accuracy] and a[match] <= b[match]
    better = a[accuracy] > b[accuracy] or a[match] < b[match]
    return at_least and better


def pareto_front(rows, accuracy="probe", match="w2_ratio"):
    """The rows that no other row dominates, in their input order."""
    return [
        row
        for row in rows
        if not any(dominates(other, row, accuracy, match) for other in rows if other is not row)
    ]


def outlier_scores(
    inlier_scores, outlier_scores_, inlier_pvalues=None, outlier_pvalues=None, alpha=0.05
):
    """AUROC of normality scores (higher = more normal), and precision at a p-value threshold.

    Parameters
    ----------
    inlier_scores, outlier_scores_ : ndarray
        Scores of held-out inliers and of outliers; higher means more normal.
    inlier_pvalues, outlier_pvalues : ndarray, optional
        p-values; rows with ``p <= alpha`` are flagged.
    alpha : float, default=0.05

    Returns
    -------
    result : dict
        ``auroc``, and with p-values ``precision``, ``recall`` and
        ``false_positive_rate`` of the flagged rows.
    """
    truth = np.r_[np.zeros(len(inlier_scores)), np.ones(len(outlier_scores_))]
    result = {"auroc": float(roc_auc_score(truth, -np.r_[inlier_scores, outlier_scores_]))}
    if inlier_pvalues is not None:
        flagged_in = np.asarray(inlier_pvalues) <= alpha
        flagged_out = np.asarray(outlier_pvalues) <= alpha
        n_flagged = flagged_in.sum() + flagged_out.sum()
        result["precision"] = float(flagged_out.sum() / n_flagged) if n_flagged else math.nan
        result["recall"] = float(flagged_out.mean())
        result["false_positive_rate"] = float(flagged_in.mean())
    return result


def two_sample_auroc(real, generated, random_state=0):
    """Classifier two-sample test: cross-validated AUROC of telling real from generated rows.

    0.5 means the classifier cannot tell them apart (perfect generation);
    1.0 means every generated row is recognised. A gradient-boosted tree
    classifier sees non-linear differences; each set is capped at the
    smaller one's size so that chance is 0.5.
    """
    n_rows = min(len(real), len(generated))
    rng = np.random.default_rng(random_state)
    real = real[rng.choice(len(real), n_rows, replace=False)].reshape(n_rows, -1)
    generated = generated[rng.choice(len(generated), n_rows, replace=False)].reshape(n_rows, -1)
    X = np.r_[real, generated]
    y = np.r_[np.zeros(n_rows), np.ones(n_rows)]
    classifier = HistGradientBoostingClassifier(max_iter=200, random_state=random_state)
    probability = cross_val_predict(classifier, X, y, cv=5, method="predict_proba")[:, 1]
    return float(roc_auc_score(y, probability))


def _distance_correlation(x, y):
    """Sample distance correlation of two 1-D samples (Szekely, Rizzo and Bakirov, 2007)."""

    def centred(values):
        distances = np.abs(values[:, None] - values[None, :])
        return (
            distances - distances.mean(axis=0) - distances.mean(axis=1)[:, None] + distances.mean()
        )

    a, b = centred(x), centred(y)
    covariance = (a * b).mean()
    variance = math.sqrt((a * a).mean() * (b * b).mean())
    return math.sqrt(max(covariance, 0.0) / variance) if variance > 0 else 0.0


def mean_distance_correlation(Z, max_rows=1000, random_state=0):
    """Mean distance correlation over all pairs of dimensions (0 iff independent).

    Unlike the Pearson correlation, which whitening sets to 0, it sees any
    dependence between two dimensions.
    """
    rng = np.random.default_rng(random_state)
    if len(Z) > max_rows:
        Z = Z[rng.choice(len(Z), max_rows, replace=False)]
    d = Z.shape[1]
    values = [_distance_correlation(Z[:, i], Z[:, j]) for i in range(d) for j in range(i + 1, d)]
    return float(np.mean(values))
