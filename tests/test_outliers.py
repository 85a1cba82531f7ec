"""OutlierDetector: calibrated p-values, the detector interface, held-out classes."""

import pickle
import warnings

import numpy as np
import pytest
from scipy import stats
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_ndim import NoisyInfoMaxEmbedder
from sklearn_ndim.outliers import OutlierDetector


def _clusters(n_per_cluster, seed, n_clusters=4):
    rng = np.random.default_rng(42)
    centers = rng.normal(scale=4.0, size=(n_clusters + 1, 6))
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(n_clusters + 1), n_per_cluster)
    return centers[labels] + rng.normal(size=(len(labels), 6)), labels


@pytest.fixture(scope="module")
def data():
    X, labels = _clusters(150, seed=0)
    inliers, unseen = X[labels < 4], X[labels == 4]
    fresh, fresh_labels = _clusters(60, seed=1)
    return inliers, fresh[fresh_labels < 4], unseen


@pytest.fixture(scope="module", params=["typicality", "reconstruction", "combined"])
def detector(request, data, fast):
    embedder = NoisyInfoMaxEmbedder(n_components=3, **{**fast, "max_epochs": 30})
    return OutlierDetector(embedder, statistic=request.param, random_state=0).fit(data[0])


def test_conformal_pvalues_of_fresh_inliers_are_uniform(detector, data):
    if detector.statistic == "typicality":
        pytest.skip("calibrated by the prior: uniform only as far as the embedding matches it")
    pvalues = detector.pvalues(data[1])
    assert np.all((pvalues > 0) & (pvalues <= 1))
    assert stats.kstest(pvalues, "uniform").pvalue > 0.01
    n_calibration = len(detector.calibration_scores_)
    ranks = np.round(pvalues * (n_calibration + 1))
    assert n_calibration == 120 and set(ranks) <= set(range(1, n_calibration + 2))


def test_an_unseen_cluster_gets_small_pvalues(detector, data):
    _, fresh, unseen = data
    truth = np.r_[np.zeros(len(fresh)), np.ones(len(unseen))]
    auroc = roc_auc_score(
        truth, -np.r_[detector.score_samples(fresh), detector.score_samples(unseen)]
    )
    # In 3 dimensions the typical set is a thick shell; the decoder sees more.
    assert auroc > (0.7 if detector.statistic == "typicality" else 0.9)


def test_predict_flags_pvalues_below_alpha(detector, data):
    X = np.r_[data[1], data[2]]
    pvalues = detector.pvalues(X)
    np.testing.assert_array_equal(detector.predict(X), np.where(pvalues < 0.01, -1, 1))
    np.testing.assert_allclose(detector.decision_function(X), np.log(pvalues) - np.log(0.01))
    assert detector.offset_ == pytest.approx(np.log(0.01))


@pytest.mark.parametrize(
    "alpha, n_rows, warns",
    [(0.01, 495, True), (0.01, 500, False), (0.1, 60, False), (0.05, 95, True)],
)
def test_a_calibration_set_too_small_for_alpha_warns(data, fast, alpha, n_rows, warns):
    # 1/(1 + n) < alpha needs n >= floor(1/alpha) calibration rows (a fifth of the rows).
    embedder = NoisyInfoMaxEmbedder(n_components=2, **{**fast, "max_epochs": 1})
    detector = OutlierDetector(embedder, statistic="reconstruction", alpha=alpha, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        detector.fit(data[0][:n_rows])
    messages = [str(w.message) for w in caught if "flag no row" in str(w.message)]
    assert bool(messages) == warns
    if warns:
        n_calibration = len(detector.calibration_scores_)
        assert 1 / (1 + n_calibration) >= alpha and f"1/{n_calibration + 1}" in messages[0]


def test_a_contamination_fraction_sets_the_threshold(data, fast):
    embedder = NoisyInfoMaxEmbedder(n_components=3, **{**fast, "max_epochs": 30})
    detector = OutlierDetector(
        embedder, statistic="reconstruction", contamination=0.1, random_state=0
    )
    detector.fit(data[0])
    # Conformal p-values are multiples of 1/121: ties at the threshold stay inliers.
    assert 0.05 <= np.mean(detector.predict(data[0]) == -1) <= 0.1
    assert 0.02 <= np.mean(detector.predict(data[1]) == -1) <= 0.25


def test_detector_clones_pickles_and_exposes_nested_parameters(detector, data):
    assert clone(detector).get_params()["embedder__n_components"] == 3
    restored = pickle.loads(pickle.dumps(detector))
    np.testing.assert_array_equal(restored.pvalues(data[2]), detector.pvalues(data[2]))


def test_the_default_embedder_is_used_when_none_is_given(data):
    detector = OutlierDetector(statistic="typicality", random_state=0)
    assert detector.get_params()["embedder"] is None
    with pytest.raises(ValueError, match="alpha"):
        OutlierDetector(alpha=1.5).fit(data[0])


def test_a_feature_the_decoder_reproduces_exactly_cannot_dominate_the_error(fast):
    rng = np.random.default_rng(0)
    X = np.c_[rng.normal(size=(300, 4)), np.zeros(300)]
    embedder = NoisyInfoMaxEmbedder(n_components=2, **{**fast, "max_epochs": 20})
    detector = OutlierDetector(embedder, statistic="reconstruction", random_state=0).fit(X)
    scale = detector.residual_scale_
    assert scale[-1] == pytest.approx(0.01 * scale.mean(), rel=0.05)
    row = X[:1].copy()
    shifted = row.copy()
    shifted[0, -1] = 0.1  # a tenth of a standard deviation of the other features
    assert detector.pvalues(shifted)[0] > 1.0 / (len(detector.calibration_scores_) + 1)


def test_a_subclassed_embedder_is_scored_through_its_public_methods(fast):
    calls = []

    class Counting(NoisyInfoMaxEmbedder):
        def transform(self, X):
            calls.append("transform")
            return super().transform(X)

    X = np.random.default_rng(0).standard_normal((120, 4))
    detector = OutlierDetector(Counting(n_components=2, **fast), statistic="combined").fit(X)
    calls.clear()
    scores = detector.score_samples(X[:5])
    assert calls and scores.shape == (5,) and np.all(np.isfinite(scores))


def test_rows_near_the_float_range_get_the_smallest_pvalue(detector, data):
    far = data[1][:3].copy()
    far[:, 2] = [1e200, -1e300, 1e155]  # squared errors overflow to inf
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's overflow warning stays inside
        pvalues = detector.pvalues(far)
    if detector.statistic != "typicality":
        np.testing.assert_array_equal(pvalues, 1 / (1 + len(detector.calibration_scores_)))
    assert np.all(pvalues < 0.05) and np.all(detector.predict(far) == -1)
    if detector.statistic != "typicality":  # whose embedding of such rows overflows: -inf
        assert np.all(np.isfinite(detector.score_samples(far)))


def test_a_calibration_share_that_leaves_too_few_rows_to_fit_is_named(data, fast):
    detector = OutlierDetector(
        NoisyInfoMaxEmbedder(n_components=2, **fast), calibration_fraction=0.99
    )
    with pytest.raises(ValueError, match="calibration_fraction=0.99 holds out 50 of the 50 rows"):
        detector.fit(data[0][:50])


def test_an_embedder_refusing_its_share_of_the_rows_names_the_calibration_hold_out(fast):
    X = np.random.default_rng(0).normal(size=(3, 4))
    detector = OutlierDetector(NoisyInfoMaxEmbedder(n_components=2, **fast), random_state=0)
    with pytest.raises(
        ValueError, match=r"fitted on 2 of the 3 rows .*holds out 1 .*raised: .*2x2 cov"
    ):
        detector.fit(X)
    assert not hasattr(detector, "embedder_")
    # Parameter errors keep their own type and message.
    bad = OutlierDetector(NoisyInfoMaxEmbedder(n_components=-1), random_state=0)
    with pytest.raises(InvalidParameterError, match="n_components"):
        bad.fit(np.random.default_rng(0).normal(size=(30, 4)))


@pytest.mark.parametrize("error", [ValueError, KeyboardInterrupt])
def test_a_failed_fit_leaves_the_detector_as_it_was(data, fast, monkeypatch, error):
    # The embedder and the residual scales were replaced before the calibration
    # rows were scored: a failure there left them beside the old calibration.
    detector = OutlierDetector(NoisyInfoMaxEmbedder(n_components=2, **fast), random_state=0)
    detector.fit(data[0])
    before, pvalues = dict(detector.__dict__), detector.pvalues(data[1])

    def fail(self, X):
        raise error("while scoring the calibration rows")

    monkeypatch.setattr(OutlierDetector, "_statistic", fail)
    with pytest.raises(error, match="calibration rows"):
        detector.fit(data[0][::-1])
    monkeypatch.undo()
    assert detector.__dict__.keys() == before.keys()
    assert all(detector.__dict__[key] is value for key, value in before.items())
    np.testing.assert_array_equal(detector.pvalues(data[1]), pvalues)


def test_scoring_by_blocks_equals_scoring_all_rows_at_once(detector, data, monkeypatch):
    if detector.statistic == "typicality":
        pytest.skip("no decoder")
    import sklearn_ndim.outliers as outliers

    X = data[0]
    whole_residual = detector._residual_and_typicality(X)[0]
    whole_pvalues = detector.pvalues(X)
    monkeypatch.setattr(outliers, "_SCORE_ROWS", 7)  # blocks of 7 rows, the last one shorter
    np.testing.assert_allclose(
        detector._residual_variance(X), whole_residual.var(axis=0), rtol=1e-10
    )
    np.testing.assert_array_equal(detector.pvalues(X), whole_pvalues)


def test_feature_names_follow_the_last_fit(fast):
    pd = pytest.importorskip("pandas")
    X = _clusters(100, seed=0)[0]
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    detector = OutlierDetector(NoisyInfoMaxEmbedder(n_components=2, **fast), random_state=0)
    assert list(detector.fit(frame).feature_names_in_) == list(frame.columns)
    assert not hasattr(detector.fit(X), "feature_names_in_")


def test_rows_of_other_features_are_refused_in_the_detectors_name(detector, data):
    with pytest.raises(ValueError, match="X has 2 features, but OutlierDetector is expecting"):
        detector.predict(data[0][:, :2])


def test_rows_without_the_fitted_names_warn_once_in_the_detectors_name(data, fast):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(data[0], columns=[f"f{i}" for i in range(data[0].shape[1])])
    embedder = NoisyInfoMaxEmbedder(n_components=3, **fast)
    detector = OutlierDetector(embedder, statistic="combined", random_state=0).fit(frame)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        detector.predict(data[0])
    named = [str(w.message) for w in caught if "feature names" in str(w.message)]
    assert len(named) == 1 and "OutlierDetector was fitted with feature names" in named[0]


@pytest.mark.parametrize("statistic", ["reconstruction", "combined"])
def test_images_and_their_flat_rows_score_alike(statistic):
    # The embedder takes both layouts; the residual failed to broadcast (3, 36) - (3, 6, 6).
    images = np.random.default_rng(0).uniform(size=(120, 6, 6))
    embedder = NoisyInfoMaxEmbedder(n_components=2, max_epochs=1, batch_size=32, random_state=0)
    detector = OutlierDetector(embedder, statistic=statistic, random_state=0).fit(images)
    np.testing.assert_allclose(
        detector.pvalues(images[:3].reshape(3, -1)), detector.pvalues(images[:3]), rtol=1e-12
    )
