"""Label-free scorers and the refit rule for GridSearchCV (sklearn_ndim._scoring)."""

import math

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_ndim import NoisyInfoMaxEmbedder
from sklearn_ndim.metrics import (
    mutual_info_scorer,
    prior_match_report,
    prior_match_scorer,
    refit_most_informative,
)


def test_prior_match_scorer(embedder, training_data):
    score = prior_match_scorer(embedder, training_data)
    expected = prior_match_report(
        embedder.transform(training_data), random_state=0, n_reference=10
    ).sw2_ratio
    assert score == pytest.approx(-expected)
    assert score < 0


def test_mutual_info_scorer(embedder, training_data):
    score = mutual_info_scorer(embedder, training_data)
    assert score == pytest.approx(embedder.estimate_mutual_info(training_data))
    assert 0 < score <= math.log(100)


def test_scorers_accept_a_pipeline(training_data):
    pipeline = make_pipeline(
        StandardScaler(), NoisyInfoMaxEmbedder(n_components=2, max_epochs=1, random_state=0)
    ).fit(training_data)
    assert math.isfinite(prior_match_scorer(pipeline, training_data))
    assert math.isfinite(mutual_info_scorer(pipeline, training_data))
    # One level down, in a nested Pipeline, the same embedding is scored.
    nested = make_pipeline(pipeline[0], make_pipeline(pipeline[1]))
    assert prior_match_scorer(nested, training_data) == prior_match_scorer(pipeline, training_data)
    with pytest.raises(ValueError, match="holds no NoisyInfoMaxEmbedder"):
        prior_match_scorer(make_pipeline(StandardScaler()).fit(training_data), training_data)
    with pytest.raises(ValueError, match="StandardScaler is neither"):
        prior_match_scorer(StandardScaler().fit(training_data), training_data)


def test_grid_search_with_refit_most_informative(training_data):
    search = GridSearchCV(
        NoisyInfoMaxEmbedder(n_components=2, max_epochs=1, random_state=0),
        {"noise_scale": [0.1, 1.0]},
        cv=2,
        scoring={"prior_match": prior_match_scorer, "mutual_info": mutual_info_scorer},
        refit=refit_most_informative(max_ratio=np.inf),
    ).fit(training_data)
    info = search.cv_results_["mean_test_mutual_info"]
    assert search.best_index_ == int(np.argmax(info))


def test_refit_most_informative_rules():
    results = {
        "mean_test_prior_match": np.array([-3.0, -1.2, -1.4, -2.0]),
        "mean_test_mutual_info": np.array([5.0, 1.0, 2.0, 4.0]),
    }
    assert refit_most_informative(max_ratio=1.5)(results) == 2
    assert refit_most_informative(max_ratio=2.5)(results) == 3
    with pytest.warns(UserWarning, match="No candidate"):
        assert refit_most_informative(max_ratio=1.0)(results) == 1


def test_refit_most_informative_skips_failed_information_scores():
    # The only matching candidate's information score failed (error_score=nan):
    # it cannot be ranked, and a non-matching candidate must not be picked silently.
    results = {
        "mean_test_prior_match": np.array([-3.0, -1.2, -2.5]),
        "mean_test_mutual_info": np.array([2.0, np.nan, 1.0]),
    }
    with pytest.warns(UserWarning, match="finite 'mutual_info' score"):
        assert refit_most_informative(max_ratio=1.5)(results) == 1
    results["mean_test_prior_match"][2] = -1.4
    assert refit_most_informative(max_ratio=1.5)(results) == 2


def test_refit_most_informative_explains_its_misuse():
    results = {"mean_test_match": np.array([-1.0]), "mean_test_mi": np.array([1.0])}
    # Passed uncalled, GridSearchCV would call it with cv_results_.
    with pytest.raises(TypeError, match=r"refit=refit_most_informative\(\)"):
        refit_most_informative(results)
    with pytest.raises(
        ValueError, match=r"'prior_match'.*\['match', 'mi'\].*match= and information="
    ):
        refit_most_informative()(results)
    assert refit_most_informative(match="match", information="mi")(results) == 0


@pytest.mark.parametrize("max_ratio", ["1.5", None, -1, float("nan"), True])
def test_refit_most_informative_checks_max_ratio_when_made(max_ratio):
    with pytest.raises(ValueError, match="max_ratio is the largest accepted"):
        refit_most_informative(max_ratio=max_ratio)
    assert callable(refit_most_informative(max_ratio=np.inf))


def test_refit_most_informative_explains_when_every_score_failed():
    results = {
        "mean_test_prior_match": np.array([np.nan, np.nan]),
        "mean_test_mutual_info": np.array([np.nan, np.nan]),
    }
    with pytest.raises(ValueError, match="Every candidate's 'prior_match' score failed"):
        refit_most_informative()(results)
