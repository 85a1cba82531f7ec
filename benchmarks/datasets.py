"""Offline data sets for the benchmarks: digits, Fashion-MNIST, a generated table,
and digits drawn as distorted 28 x 28 images (a second image set).

Fashion-MNIST comes from the Debian package ``dataset-fashion-mnist``
(``apt-get install dataset-fashion-mnist``); its IDX files are read with numpy.
Nothing is downloaded. Every loader returns ``X_train, X_test, y_train,
y_test`` with tables standardised on the training rows and images as float
pixels in [0, 1], shaped ``(n, 1, H, W)``.
"""

import gzip
from pathlib import Path

import numpy as np
from scipy import ndimage
from sklearn.datasets import load_digits, make_classification
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")


def read_idx(path):
    """Read an IDX file (optionally gzipped) into a numpy array."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as handle:
        data = handle.read()
    if data[:2] != b"\x00\x00":
        raise ValueError(f"{path} is not an IDX file")
    dtype = {0x08: np.uint8, 0x09: np.int8, 0x0D: np.float32}[data[2]]
    n_dims = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(n_dims))
    return np.frombuffer(data, dtype=dtype, offset=4 + 4 * n_dims).reshape(shape)


def fashion_available(directory=FASHION_DIR):
    """Whether the Debian package's files are present."""
    return (Path(directory) / "train-images-idx3-ubyte.gz").exists()


def fashion_mnist(n_train=10_000, seed=0, directory=FASHION_DIR):
    """Fashion-MNIST: a stratified subset of the training set and the official test set.

    Returns uint8 images of shape (n, 28, 28) and integer labels.
    """
    directory = Path(directory)
    if not (directory / "train-images-idx3-ubyte.gz").exists():
        raise FileNotFoundError(
            f"Fashion-MNIST not found in {directory}; install the Debian package "
            "dataset-fashion-mnist (apt-get install dataset-fashion-mnist)."
        )
    X = read_idx(directory / "train-images-idx3-ubyte.gz")
    y = read_idx(directory / "train-labels-idx1-ubyte.gz").astype(np.int64)
    X_test = read_idx(directory / "t10k-images-idx3-ubyte.gz")
    y_test = read_idx(directory / "t10k-labels-idx1-ubyte.gz").astype(np.int64)
    if n_train < len(X):
        X, _, y, _ = train_test_split(X, y, train_size=n_train, random_state=seed, stratify=y)
    return X, X_test, y, y_test


def digits(seed=0):
    """scikit-learn's digits as 8x8 images (values 0-16), 70/30 stratified split."""
    X, y = load_digits(return_X_y=True)
    X = X.reshape(-1, 8, 8)
    return train_test_split(X, y, test_size=0.3, random_state=seed, stratify=y)


def _distorted_digit(image, rng):
    """One 8x8 digit (values 0-16) drawn at 28x28: a random affine map, blur and noise."""
    glyph = ndimage.zoom(image / 16.0, 2.5, order=1)  # 20 x 20, as MNIST's digits
    canvas = np.zeros((28, 28))
    canvas[4:24, 4:24] = glyph
    angle = np.deg2rad(rng.uniform(-15, 15))
    scale, shear = rng.uniform(0.85, 1.15), rng.uniform(-0.2, 0.2)
    matrix = np.array([[np.cos(angle), shear - np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    matrix /= scale
    centre = np.array([13.5, 13.5])
    offset = centre - matrix @ centre + rng.uniform(-2, 2, size=2)
    drawn = ndimage.affine_transform(canvas, matrix, offset=offset, order=1)
    drawn = ndimage.gaussian_filter(drawn, rng.uniform(0.3, 0.8))
    drawn = drawn * rng.uniform(0.8, 1.2) + rng.normal(0, 0.03, drawn.shape)
    return np.clip(drawn, 0, 1).astype(np.float32)


def digits28(seed=0, train_copies=8, test_copies=4):
    """scikit-learn's digits drawn as 28x28 images, each original several times distorted.

    The 70/30 stratified split is of the original digits, so no test image is
    a distortion of a training digit: 1,257 x ``train_copies`` training and
    540 x ``test_copies`` test images (10,056 and 2,160 by default), float32
    pixels in [0, 1] of shape (n, 28, 28).
    """
    X_train, X_test, y_train, y_test = digits(seed)
    rng = np.random.default_rng(seed)

    def draw(images, labels, copies):
        drawn = [_distorted_digit(image, rng) for image in images for _ in range(copies)]
        return np.stack(drawn), np.repeat(labels, copies)

    (X_train, y_train), (X_test, y_test) = (
        draw(X_train, y_train, train_copies),
        draw(X_test, y_test, test_copies),
    )
    return X_train, X_test, y_train, y_test


def synthetic_table(n_samples=3000, seed=0):
    """A generated tabular classification problem: 30 features, 8 informative, 6 classes."""
    X, y = make_classification(
        n_samples=n_samples,
        n_features=30,
        n_informative=8,
        n_redundant=6,
        n_classes=6,
        n_clusters_per_class=2,
        class_sep=1.5,
        random_state=seed,
    )
    return train_test_split(X, y, test_size=0.3, random_state=seed, stratify=y)


def standardized(X_train, X_test):
    """Tables standardised with the training rows' statistics."""
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test)


def load(name, seed=0, n_train=10_000, n_test=None):
    """One benchmark data set as ``X_train, X_test, y_train, y_test``.

    ``"digits"`` and ``"table"`` are standardised tables; ``"digits28"`` the
    digits drawn as distorted 28x28 images (see :func:`digits28`); ``"fashion"`` is
    ``n_train`` stratified training images (all 60,000 with ``None``) and the
    official test set (``n_test`` stratified images of it when given).
    """
    if name == "digits":
        X, y = load_digits(return_X_y=True)
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.3, random_state=seed, stratify=y
        )
        return (*standardized(X_train, X_test), y_train, y_test)
    if name == "table":
        X_train, X_test, y_train, y_test = synthetic_table(seed=seed)
        return (*standardized(X_train, X_test), y_train, y_test)
    if name == "digits28":
        X_train, X_test, y_train, y_test = digits28(seed)
        return X_train[:, None], X_test[:, None], y_train, y_test
    if name == "fashion":
        X_train, X_test, y_train, y_test = fashion_mnist(n_train or 60_000, seed=seed)
        if n_test is not None and n_test < len(X_test):
            X_test, _, y_test, _ = train_test_split(
                X_test, y_test, train_size=n_test, random_state=seed, stratify=y_test
            )
        scale = np.float32(1 / 255)
        return (
            X_train[:, None].astype(np.float32) * scale,
            X_test[:, None].astype(np.float32) * scale,
            y_train,
            y_test,
        )
    raise ValueError(f"unknown data set {name!r}")


def without_class(data, held_out):
    """Outlier split: training rows without one class; test inliers and the held-out class."""
    X_train, X_test, y_train, y_test = data
    return (
        X_train[y_train != held_out],
        X_test[y_test != held_out],
        np.concatenate([X_train[y_train == held_out], X_test[y_test == held_out]]),
    )


def scaling_table(n_samples, n_features=50, seed=0):
    """A generated table for the scaling runs: 20 clusters, ``n_samples`` rows, float32.

    The cluster centres are the same for every ``seed``; the seed draws the rows.
    """
    centers = np.random.default_rng(12345).normal(scale=2.0, size=(20, n_features))
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 20, size=n_samples)
    X = centers[labels].astype(np.float32)
    X += rng.standard_normal((n_samples, n_features), dtype=np.float32)
    return X, labels


def each_set(settings):
    """Yield ``(name, (X_train, X_test, y_train, y_test))`` for every benchmark set.

    Digits, the generated table and, when installed, the Fashion-MNIST subset
    that ``settings`` sizes.
    """
    names = ["digits", "table"] + (["fashion"] if fashion_available() else [])
    for name in names:
        yield name, load(name, n_train=settings["fashion_train"], n_test=settings["fashion_test"])
