"""information_report and suggest_noise_scale: the estimate against the capacity, and back."""

import copy
import json
import math
import warnings

import numpy as np
import pytest
from scipy import stats

from sklearn_ndim import NoisyInfoMaxEmbedder
from sklearn_ndim.metrics import InformationReport, information_report, suggest_noise_scale


def test_information_report_names_the_estimator_it_needs():
    from sklearn.decomposition import PCA

    with pytest.raises(TypeError, match="fitted NoisyInfoMaxEmbedder; got a PCA"):
        information_report(PCA(2).fit(np.random.default_rng(0).standard_normal((100, 4))))


def test_information_report(embedder):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "auto" noise: C == ln B, no warning
        report = information_report(embedder)
    assert isinstance(report, InformationReport)
    assert report.batch_size == 100
    assert report.ln_batch == pytest.approx(math.log(100))
    assert report.capacity == pytest.approx(embedder.capacity_)
    assert report.capacity_visible
    assert report.efficiency == pytest.approx(embedder.mutual_info_ / embedder.capacity_)
    assert report.gap == pytest.approx(embedder.capacity_ - embedder.mutual_info_)
    assert report.noise_at_ceiling == pytest.approx(embedder.noise_scale_)
    assert len(report.mutual_info_history) == 2
    assert "ln B" in str(report)
    assert json.loads(json.dumps(report.to_dict())) == report.to_dict()


def test_a_negative_estimate_reports_no_efficiency(embedder):
    negative = copy.deepcopy(embedder)
    negative.mutual_info_ = -0.3
    with pytest.warns(UserWarning, match="negative .*-0.3 nats.*efficiency is reported as 0"):
        report = information_report(negative)
    assert report.efficiency == 0.0
    assert report.mutual_info == -0.3 and report.gap == pytest.approx(negative.capacity_ + 0.3)


def test_information_report_describes_the_fitted_model_not_new_parameters(embedder):
    changed = copy.deepcopy(embedder).set_params(n_components=5)
    assert information_report(changed).n_components == 2


@pytest.mark.parametrize("noise_scale", [0.0, 0.01])
def test_information_report_warns_when_capacity_exceeds_ln_b(training_data, noise_scale):
    embedder = NoisyInfoMaxEmbedder(
        n_components=2, noise_scale=noise_scale, max_epochs=1, random_state=0
    ).fit(training_data)
    with pytest.warns(UserWarning, match="ln\\(B\\)"):
        report = information_report(embedder)
    assert not report.capacity_visible
    if noise_scale == 0:
        assert report.efficiency == 0.0


def test_information_report_needs_a_fitted_embedder():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        information_report(NoisyInfoMaxEmbedder())


@pytest.mark.parametrize(
    "n_components, batch_size, expected", [(8, 256, 0.58), (16, 256, 1.0), (32, 256, 1.55)]
)
def test_suggest_noise_scale_reference_values(n_components, batch_size, expected):
    assert suggest_noise_scale(n_components, batch_size) == pytest.approx(expected, abs=0.01)


def test_suggest_noise_scale_priors_and_fraction():
    gaussian = suggest_noise_scale(4, 128)
    assert 2 * math.log1p(gaussian**-2) == pytest.approx(math.log(128))
    # Every prior trains through the same Gaussian channel.
    assert suggest_noise_scale(4, 128, prior=stats.laplace()) == gaussian
    assert suggest_noise_scale(4, 128, prior="uniform") == gaussian
    assert suggest_noise_scale(4, 128, fraction=0.5) > gaussian


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_components": 0}, "n_components"),
        ({"batch_size": 1}, "batch_size"),
        ({"fraction": 0.0}, "fraction"),
        ({"fraction": math.inf}, "fraction"),
        ({"prior": "cauchy"}, "prior"),
    ],
)
def test_suggest_noise_scale_bad_inputs(kwargs, match):
    arguments = {"n_components": 4, "batch_size": 64, **kwargs}
    with pytest.raises(ValueError, match=match):
        suggest_noise_scale(**arguments)


def test_information_report_warns_when_the_estimate_exceeds_the_capacity(embedder):
    above = copy.copy(embedder)
    above.mutual_info_ = embedder.capacity_ + 0.2
    with pytest.warns(UserWarning, match="exceeds the capacity"):
        report = information_report(above)
    assert report.gap == pytest.approx(-0.2)


@pytest.mark.parametrize(
    "fraction, clipped_to",
    [(100, 1e-3), (1e-300, 1e3)],  # OverflowError; 1.2e150
)
def test_suggest_noise_scale_keeps_to_the_range_noise_scale_accepts(fraction, clipped_to):
    with pytest.warns(UserWarning, match="outside \\[0.001, 1000\\].*returning"):
        assert suggest_noise_scale(1, 256, fraction=fraction) == clipped_to
    with pytest.raises(ValueError, match="positive finite float; got True"):
        suggest_noise_scale(1, 256, fraction=True)
    assert 1e-3 <= suggest_noise_scale(1, 256, fraction=1.24) < 1.1e-3


def test_auto_noise_keeps_to_the_range_noise_scale_accepts():
    # At d = 1, batches of more than 1,000 rows would need a scale below 1e-3.
    X = np.random.default_rng(0).normal(size=(1100, 3))
    fitted = NoisyInfoMaxEmbedder(n_components=1, batch_size=1100, max_epochs=1).fit(X)
    assert fitted.noise_scale_ == 1e-3
    with pytest.warns(UserWarning, match="returning 0.001"):
        assert suggest_noise_scale(1, 1100) == fitted.noise_scale_
