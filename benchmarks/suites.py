"""The benchmark's data sets and settings, in a full and a quick size.

Every method sees the same split of each data set. Peers get flat rows;
the embedders get images where the data set has them (so the noisy embedder
picks its conv encoder) and the same flat rows otherwise.
"""

from dataclasses import dataclass

import numpy as np
from datasets import digits, fashion_mnist, synthetic_table
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

N_COMPONENTS = 16
SEED = 0


@dataclass
class Split:
    """One data set, split and shaped for the methods.

    Attributes
    ----------
    name : str
        Short name used in tables and plots.
    X_train, X_test : ndarray of shape (n, n_features)
        Flat float rows for the peers.
    E_train, E_test : ndarray
        What the embedders are fitted on: the same rows, or images ``(n, H, W)``.
    y_train, y_test : ndarray of shape (n,)
        Labels, used only by the probes.
    max_epochs : int
        Training epochs of both InfoMax embedders on this set.
    description : str
        One line for the report.
    """

    name: str
    X_train: np.ndarray
    X_test: np.ndarray
    E_train: np.ndarray
    E_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    max_epochs: int
    description: str = ""


@dataclass(frozen=True)
class Settings:
    """Sizes of one benchmark run.

    Attributes
    ----------
    quick : bool
        Small data and few epochs: a smoke test of the whole pipeline.
    gaussian_noise, uniform_noise : tuple of float
        Noise grids of the noisy embedder (sigma, and eps for the uniform prior).
    table_epochs, image_epochs : int
        Epochs of the InfoMax embedders on tables and on Fashion-MNIST.
    fashion_train, fashion_test, table_samples, digits_train : int or None
        Data sizes (``digits_train=None`` keeps the 70% split).
    scaling_sizes : tuple of int
        Training sizes of the fit-time study.
    scaling_epochs : int
        Epochs of the InfoMax embedders in the fit-time study.
    transform_rows : int
        Rows embedded to measure transform throughput.
    overhead_repeats, overhead_epochs : int
        Arguments of ``bench_core.overhead``.
    n_reference : int
        Reference samples of ``prior_match_report``.
    """

    quick: bool
    gaussian_noise: tuple
    uniform_noise: tuple
    table_epochs: int
    image_epochs: int
    fashion_train: int
    fashion_test: int
    table_samples: int
    digits_train: int | None
    scaling_sizes: tuple
    scaling_epochs: int
    transform_rows: int
    overhead_repeats: int
    overhead_epochs: int
    n_reference: int


FULL = Settings(
    quick=False,
    gaussian_noise=(0.0, 0.5, 1.0, 2.0),
    uniform_noise=(0.0, 0.1, 0.3, 0.5),
    table_epochs=100,
    image_epochs=10,
    fashion_train=5000,
    fashion_test=2000,
    table_samples=3000,
    digits_train=None,
    scaling_sizes=(500, 1000, 2000, 4000),
    scaling_epochs=100,
    transform_rows=10_000,
    overhead_repeats=5,
    overhead_epochs=20,
    n_reference=50,
)

QUICK = Settings(
    quick=True,
    gaussian_noise=(0.0, 1.0),
    uniform_noise=(0.0, 0.3),
    table_epochs=5,
    image_epochs=1,
    fashion_train=500,
    fashion_test=300,
    table_samples=800,
    digits_train=500,
    scaling_sizes=(250, 500, 1000),
    scaling_epochs=2,
    transform_rows=1000,
    overhead_repeats=2,
    overhead_epochs=2,
    n_reference=10,
)


def _standardized(X_train, X_test):
    """Both sets scaled with the training mean and standard deviation."""
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test)


def _digits(settings):
    """Digits as 64 standardised features."""
    X_train, X_test, y_train, y_test = digits(SEED)
    X_train, X_test = X_train.reshape(len(X_train), -1), X_test.reshape(len(X_test), -1)
    if settings.digits_train is not None:
        X_train, y_train = X_train[: settings.digits_train], y_train[: settings.digits_train]
    X_train, X_test = _standardized(X_train, X_test)
    return Split(
        "digits",
        X_train,
        X_test,
        X_train,
        X_test,
        y_train,
        y_test,
        settings.table_epochs,
        "load_digits, 64 standardised features, 70/30",
    )


def _table(settings):
    """The generated table, standardised."""
    X_train, X_test, y_train, y_test = synthetic_table(settings.table_samples, SEED)
    X_train, X_test = _standardized(X_train, X_test)
    return Split(
        "table",
        X_train,
        X_test,
        X_train,
        X_test,
        y_train,
        y_test,
        settings.table_epochs,
        "make_classification: 30 features, 8 informative, 6 classes, 70/30",
    )


def _fashion(settings):
    """Fashion-MNIST subsets: flat pixels for peers, images for the embedders."""
    images, images_test, y_train, y_test = fashion_mnist(settings.fashion_train, SEED)
    images_test, y_test = _stratified_subset(images_test, y_test, settings.fashion_test)
    E_train = images.astype(np.float32) / 255.0
    E_test = images_test.astype(np.float32) / 255.0
    return Split(
        "fashion",
        E_train.reshape(len(E_train), -1),
        E_test.reshape(len(E_test), -1),
        E_train,
        E_test,
        y_train,
        y_test,
        settings.image_epochs,
        "Fashion-MNIST subset (official test set), pixels/255, images for the "
        "InfoMax embedders (conv encoder)",
    )


LOADERS = {"digits": _digits, "table": _table, "fashion": _fashion}


def load_splits(settings, names=None):
    """The data sets of the trade-off study, split with fixed seeds.

    Parameters
    ----------
    settings : Settings
        Sizes to use.
    names : list of str or None, default=None
        Subset of ``"digits"`` (64 standardised features), ``"table"`` (the
        generated table, 30 standardised features) and ``"fashion"`` (pixels
        / 255; images for the embedders). None loads all three.

    Returns
    -------
    splits : list of Split
        Fashion-MNIST is skipped, with a message, when its files are missing.
    """
    splits = []
    for name in names or LOADERS:
        try:
            splits.append(LOADERS[name](settings))
        except FileNotFoundError as error:
            print(f"  skipping {name}: {error}")
    return splits


def _stratified_subset(X, y, n_rows):
    """A seeded, stratified subset of ``n_rows`` rows (the official test set is large)."""
    if n_rows >= len(X):
        return X, y
    X_sub, _, y_sub, _ = train_test_split(X, y, train_size=n_rows, random_state=SEED, stratify=y)
    return X_sub, y_sub


def scaling_data(settings):
    """Rows of the generated table for the fit-time and throughput study.

    Parameters
    ----------
    settings : Settings
        Gives the largest training size and the number of transform rows.

    Returns
    -------
    X_fit : ndarray of shape (max(scaling_sizes), 30)
        Standardised rows; prefixes of it are the training sets.
    X_new : ndarray of shape (transform_rows, 30)
        Other rows of the same distribution, to embed.
    """
    n_fit = max(settings.scaling_sizes)
    n_total = n_fit + settings.transform_rows
    X_train, X_test, _, _ = synthetic_table(int(np.ceil(n_total / 0.7)) + 1, SEED + 1)
    X = np.vstack([X_train, X_test])[:n_total]
    X = StandardScaler().fit(X[:n_fit]).transform(X)
    return X[:n_fit], X[n_fit:]
