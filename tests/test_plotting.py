"""Figures of sklearn_ndim.plotting, drawn with the Agg backend."""

import sys

import numpy as np
import pytest
from scipy import stats

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sklearn_ndim import NoisyInfoMaxEmbedder  # noqa: E402
from sklearn_ndim._priors import resolve_prior  # noqa: E402
from sklearn_ndim.plotting import (  # noqa: E402
    plot_chi2_qq,
    plot_pairs,
    plot_qq,
    plot_training_history,
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def Z():
    return np.random.default_rng(0).standard_normal((500, 5))


def _saved(fig, tmp_path):
    path = tmp_path / "figure.png"
    fig.savefig(path, dpi=40)
    return path.stat().st_size > 0


def test_plot_qq_one_axes_per_dimension(Z, tmp_path):
    fig = plot_qq(Z)
    assert len(fig.axes) == 5
    assert _saved(fig, tmp_path)


def test_plot_qq_caps_at_sixteen_dimensions():
    fig = plot_qq(np.random.default_rng(1).standard_normal((50, 20)))
    assert len(fig.axes) == 16


@pytest.mark.parametrize(
    "prior, sample",
    [
        ("uniform", lambda rng: rng.uniform(size=(300, 2))),
        (stats.laplace(), lambda rng: rng.laplace(size=(300, 2))),
    ],
)
def test_plot_qq_points_follow_the_prior_quantiles(prior, sample, tmp_path):
    fig = plot_qq(sample(np.random.default_rng(2)), prior)
    x, y = fig.axes[0].lines[0].get_data()
    assert len(x) == 300
    assert np.median(np.abs(x - y)) < 0.1
    assert _saved(fig, tmp_path)


def test_plot_qq_on_given_axes(Z):
    fig, axes = plt.subplots(1, 2)
    assert plot_qq(Z, dims=[3, 1], ax=axes) is fig
    assert [ax.get_title() for ax in axes] == ["dim 3", "dim 1"]
    with pytest.raises(ValueError, match="at least 3 Axes"):
        plot_qq(Z, dims=[0, 1, 2], ax=axes)


def test_plot_chi2_qq(Z, tmp_path):
    fig = plot_chi2_qq(Z)
    assert len(fig.axes) == 1
    assert "chi-square(5)" in fig.axes[0].get_xlabel()
    x, y = fig.axes[0].lines[0].get_data()
    assert np.corrcoef(x, y)[0, 1] > 0.99
    assert _saved(fig, tmp_path)


def test_plot_pairs(Z, tmp_path):
    fig = plot_pairs(Z)
    assert len(fig.axes) == 16
    assert _saved(fig, tmp_path)


@pytest.mark.parametrize("prior", ["uniform", stats.laplace()])
def test_plot_pairs_other_priors(prior, tmp_path):
    sample = resolve_prior(prior).sample(200, 3, random_state=0)
    fig = plot_pairs(sample, prior, dims=(0, 2), max_points=50)
    assert len(fig.axes) == 4
    assert len(fig.axes[1].collections[-1].get_offsets()) == 50
    assert _saved(fig, tmp_path)


def test_plot_training_history(tmp_path):
    X = np.random.default_rng(0).normal(size=(100, 5))
    embedder = NoisyInfoMaxEmbedder(n_components=2, max_epochs=2, random_state=0).fit(X)
    fig = plot_training_history(embedder)
    assert len(fig.axes) == 1
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert len(labels) == 3 and labels[2].startswith("ln B")
    assert len(fig.axes[0].lines[0].get_xdata()) == 2
    assert _saved(fig, tmp_path)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: plot_qq(np.zeros(10)), "reshape"),
        (lambda: plot_qq(np.full((5, 2), np.nan)), "NaN"),
        (lambda: plot_qq(np.zeros((5, 2)), prior="cauchy"), "prior"),
        (lambda: plot_pairs(np.zeros((5, 2)), dims=(0, 2)), "dims"),
        (lambda: plot_chi2_qq(np.zeros((1, 2))), "minimum of 2"),
    ],
)
def test_bad_inputs(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_missing_matplotlib_explains_how_to_install(monkeypatch, Z):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install sklearn-ndim\[plot\]"):
        plot_qq(Z)
