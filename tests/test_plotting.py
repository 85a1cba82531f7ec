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
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes or an array.*got str"):
        plot_qq(Z, dims=[0], ax="hello")


def test_plots_warn_about_values_outside_the_prior_support(Z):
    for plot in (plot_qq, plot_chi2_qq, plot_pairs):
        with pytest.warns(UserWarning, match="another prior"):
            fig = plot(Z, prior="uniform")
        plt.close(fig)


def test_plot_pairs_colours_mixed_labels_as_text(Z):
    labels = np.array(["a", None] * (len(Z) // 2), dtype=object)
    fig = plot_pairs(Z, dims=[0, 1], labels=labels)
    legend = fig.legends[0] if fig.legends else fig.axes[0].get_legend()
    assert sorted(text.get_text() for text in legend.get_texts()) == ["None", "a"]
    plt.close(fig)


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


def test_plot_pairs_names_a_dataframes_columns_and_draws_round_circles(Z):
    # The axes said "dim 0" for named columns, and their aspect drew the
    # prior's circles as ellipses.
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(Z, columns=[f"code{i}" for i in range(Z.shape[1])])
    fig = plot_pairs(frame, dims=(1, 3))
    bottom_left = fig.axes[2]
    assert (bottom_left.get_xlabel(), bottom_left.get_ylabel()) == ("code1", "code3")
    assert all(axis.get_box_aspect() == 1 for axis in fig.axes)


def test_plot_pairs_gives_classes_distinct_palette_colours(Z):
    # Resampling tab10 gave 3 classes blue, purple and cyan (blue and cyan alike).
    from matplotlib import colormaps
    from matplotlib.colors import to_rgb

    labels = np.arange(len(Z)) % 3
    fig = plot_pairs(Z, dims=(0, 1), labels=labels)
    colours = [to_rgb(handle.get_color()) for handle in fig.legends[0].legend_handles]
    assert colours == [to_rgb(colour) for colour in colormaps["tab10"].colors[:3]]


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
    main, loss = fig.axes
    labels = main.get_legend().get_texts()
    assert [t.get_text().split(" ")[0] for t in labels] == ["InfoNCE", "capacity", "ln", "train"]
    # "auto" noise puts C on ln B: both lines must stay distinguishable.
    capacity_line, batch_line = main.lines[1], main.lines[2]
    assert capacity_line.get_ydata()[0] == pytest.approx(batch_line.get_ydata()[0])
    assert capacity_line.get_linewidth() > batch_line.get_linewidth()
    assert batch_line.get_linestyle() == "--"
    np.testing.assert_allclose(loss.lines[0].get_ydata(), embedder.history_[:, "train_loss"])
    assert _saved(fig, tmp_path)


def test_qq_plots_draw_the_sampling_floor_band(Z, tmp_path):
    fig = plot_qq(Z, dims=[0])
    band = fig.axes[0].collections[0].get_paths()[0].vertices[:, 1]
    x, y = fig.axes[0].lines[0].get_data()
    assert band.min() < y.min() and band.max() > y.max()
    inside = plot_qq(Z, dims=[0], band=None).axes[0].collections
    assert len(inside) == 0
    assert len(plot_chi2_qq(Z).axes[0].collections) == 1
    with pytest.raises(ValueError, match="band"):
        plot_qq(Z, band=1.5)


def test_band_is_the_exact_order_statistic_interval():
    from sklearn_ndim.plotting import _floor_band

    n = 200
    levels = (np.arange(1, n + 1) - 0.5) / n
    lower, upper = _floor_band(stats.norm(), levels, n, 0.9)
    samples = np.sort(np.random.default_rng(3).standard_normal((2000, n)), axis=1)
    covered = np.mean((samples >= lower) & (samples <= upper), axis=0)
    assert np.all(np.abs(covered - 0.9) < 0.05)


def test_plot_pairs_colours_by_label(Z, tmp_path):
    labels = np.repeat(["a", "b", "c", "d", "e"], 100)
    fig = plot_pairs(Z, dims=(0, 1), labels=labels)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == list("abcde")
    colours = fig.axes[1].collections[-1].get_array()
    assert len(np.unique(colours)) == 5
    continuous = plot_pairs(Z, dims=(0, 1), labels=np.linspace(0, 1, 500))
    assert len(continuous.axes) == 5  # four panels and a colour bar
    with pytest.raises(ValueError, match="one value per row"):
        plot_pairs(Z, labels=labels[:10])
    assert _saved(fig, tmp_path)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: plot_qq(np.zeros(10)), "reshape"),
        (lambda: plot_qq(np.full((5, 2), np.nan)), "NaN"),
        (lambda: plot_qq(np.zeros((5, 2)), prior="cauchy"), "prior"),
        (lambda: plot_pairs(np.zeros((5, 2)), dims=(0, 2)), "dims"),
        (lambda: plot_chi2_qq(np.zeros((1, 2))), "minimum of 2"),
        (lambda: plot_qq(np.zeros((5, 2)), dims=[1.7]), "integer indices"),
        (lambda: plot_qq(np.zeros((5, 2)), dims="01"), "integer indices"),
        (lambda: plot_pairs(np.zeros((5, 2)), max_points=0), "max_points"),
        (lambda: plot_qq(np.zeros((5, 2)), band=1.5), "coverage"),
        (lambda: plot_qq(np.zeros((5, 2)), dims=[]), "non-empty"),
    ],
)
def test_bad_inputs(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_max_points_is_a_whole_number():
    with pytest.raises(TypeError, match="max_points"):
        plot_pairs(np.zeros((5, 2)), max_points=2.5)


def test_numpy_scalars_are_accepted_and_one_axes_is_required(Z):
    plot_qq(Z, dims=np.array([0, 1]), band=np.float32(0.9))
    plot_pairs(Z, dims=(0, 1), max_points=np.int64(100))
    _, axes = plt.subplots(1, 2)
    with pytest.raises(TypeError, match="one matplotlib Axes"):
        plot_chi2_qq(Z, ax=list(axes))


def test_missing_matplotlib_explains_how_to_install(monkeypatch, Z):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install 'sklearn-ndim\[plot\]'"):
        plot_qq(Z)


def test_plot_training_history_explains_other_estimators_and_axes():
    from sklearn.decomposition import PCA

    X = np.random.default_rng(0).normal(size=(60, 4))
    # It had said "This PCA instance is not fitted yet".
    with pytest.raises(TypeError, match="fitted NoisyInfoMaxEmbedder; got a PCA"):
        plot_training_history(PCA(1).fit(X))
    embedder = NoisyInfoMaxEmbedder(n_components=2, max_epochs=1, random_state=0).fit(X)
    fig, ax = plt.subplots()
    with pytest.raises(TypeError, match="one matplotlib Axes; got list"):
        plot_training_history(embedder, ax=[ax])
    assert plot_training_history(embedder, ax=ax) is fig
