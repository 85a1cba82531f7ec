"""Issue-4 figures: image embeddings against raw pixels and PCA.

Run: ``python benchmarks/bench_images.py [--n-train 10000] [--epochs 30]``

On Fashion-MNIST (a stratified subset of the training set, the official
10,000-image test set; Debian package ``dataset-fashion-mnist``) and on
scikit-learn's digits (8x8 images, 70/30 split), for 16 and 64 dimensions:
logistic-probe and 5-NN accuracy of the embedding, of PCA(whiten=True) with
the same number of components and of the raw pixels; the distribution
statistics of the test embedding (``sklearn_ndim.metrics``); fit time and
training throughput in images per second.
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler

from sklearn_ndim import NoisyInfoMaxEmbedder
from sklearn_ndim.metrics import prior_match_report

try:
    from benchmarks.datasets import digits, fashion_mnist
except ImportError:  # run as a script from the repository root
    from datasets import digits, fashion_mnist


def probes(train, test, y_train, y_test):
    """Logistic-regression and 5-NN test accuracy on standardised features."""
    scaler = StandardScaler().fit(train)
    train, test = scaler.transform(train), scaler.transform(test)
    logistic = LogisticRegression(max_iter=2000).fit(train, y_train).score(test, y_test)
    knn = KNeighborsClassifier(5).fit(train, y_train).score(test, y_test)
    return {"logistic": logistic, "knn5": knn}


def match_statistics(Z_test, seed):
    """Distribution statistics of a test embedding against N(0, I)."""
    report = prior_match_report(Z_test, prior="gaussian", random_state=seed, n_reference=20)
    names = [
        "sw2_ratio",
        "hz_pvalue",
        "energy_pvalue",
        "ks_min_pvalue",
        "kl",
        "kl_floor",
        "max_correlation",
    ]
    return {name: getattr(report, name) for name in names}


def embedder_row(images, images_test, y, y_test, n_components, epochs, seed):
    embedder = NoisyInfoMaxEmbedder(n_components=n_components, max_epochs=epochs, random_state=seed)
    start = time.perf_counter()
    embedder.fit(images)
    fit_s = time.perf_counter() - start
    train_s = float(sum(row["dur"] for row in embedder.history_))
    Z, Z_test = embedder.transform(images), embedder.transform(images_test)
    return {
        "method": "NoisyInfoMax",
        "d": n_components,
        **probes(Z, Z_test, y, y_test),
        **match_statistics(Z_test, seed),
        "mutual_info": embedder.mutual_info_,
        "capacity": embedder.capacity_,
        "fit_s": fit_s,
        "train_images_per_s": len(images) * embedder.n_iter_ / train_s,
    }


def pca_row(flat, flat_test, y, y_test, n_components, seed):
    pca = PCA(n_components, whiten=True, random_state=seed).fit(flat)
    Z, Z_test = pca.transform(flat), pca.transform(flat_test)
    return {
        "method": "PCA(whiten)",
        "d": n_components,
        **probes(Z, Z_test, y, y_test),
        **match_statistics(Z_test, seed),
    }


def run_dataset(name, images, images_test, y, y_test, epochs, seed):
    flat = images.reshape(len(images), -1).astype(np.float64)
    flat_test = images_test.reshape(len(images_test), -1).astype(np.float64)
    rows = [
        {
            "dataset": name,
            "method": "raw pixels",
            "d": flat.shape[1],
            **probes(flat, flat_test, y, y_test),
        }
    ]
    for n_components in (16, 64):
        rows.append({"dataset": name, **pca_row(flat, flat_test, y, y_test, n_components, seed)})
        print(rows[-1], flush=True)
        row = embedder_row(images, images_test, y, y_test, n_components, epochs, seed)
        rows.append({"dataset": name, **row})
        print(rows[-1], flush=True)
    return rows


def markdown(rows):
    columns = [
        "dataset",
        "method",
        "d",
        "logistic",
        "knn5",
        "sw2_ratio",
        "hz_pvalue",
        "ks_min_pvalue",
        "max_correlation",
        "fit_s",
        "train_images_per_s",
    ]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = []
        for column in columns:
            value = row.get(column, "")
            cells.append(f"{value:.3g}" if isinstance(value, float) else str(value))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default="benchmarks/results/images")
    args = parser.parse_args()
    rows = []
    X, X_test, y, y_test = digits(args.seed)
    rows += run_dataset("digits", X, X_test, y, y_test, 100, args.seed)
    X, X_test, y, y_test = fashion_mnist(args.n_train, args.seed)
    rows += run_dataset("fashion-mnist", X, X_test, y, y_test, args.epochs, args.seed)
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    (output / "images.json").write_text(json.dumps(rows, indent=2))
    (output / "images.md").write_text(markdown(rows) + "\n")
    print(markdown(rows))


if __name__ == "__main__":
    main()
