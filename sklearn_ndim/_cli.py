"""Command line: ``python -m sklearn_ndim`` (or ``sklearn-ndim``).

Without ``--csv`` it fits on scikit-learn's bundled digits (a 70/30 split),
then prints how closely the held-out embedding follows the prior and how a
logistic-regression probe on it compares with PCA. With ``--csv`` it embeds
the numeric columns of a CSV file and writes the embedding.
"""

import argparse
import sys
import time

import numpy as np

__all__ = ["main"]


def _parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="sklearn-ndim",
        description="Embed data so that it follows a chosen prior (Noise-Injected Deep InfoMax).",
    )
    parser.add_argument("--csv", help="embed this CSV file (numeric columns) instead of digits")
    parser.add_argument("--output", help="where to write the embedding CSV (with --csv)")
    parser.add_argument("--label-column", help="CSV column holding labels (excluded, probed)")
    parser.add_argument("--prior", default="gaussian", choices=["gaussian", "uniform"])
    parser.add_argument("--n-components", type=int, default=16)
    parser.add_argument("--noise-scale", default="auto", help="a number >= 0, or 'auto'")
    parser.add_argument("--max-epochs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=0)
    args = parser.parse_args(argv)
    if args.noise_scale != "auto":
        try:
            args.noise_scale = float(args.noise_scale)
        except ValueError:
            parser.error(f"--noise-scale must be a number or 'auto', got {args.noise_scale!r}")
    if args.output and not args.csv:
        parser.error("--output needs --csv")
    return args


def _load_csv(path, label_column):
    import pandas as pd

    frame = pd.read_csv(path)
    labels = None
    if label_column is not None:
        if label_column not in frame.columns:
            raise SystemExit(f"error: column {label_column!r} not in {path}")
        labels = frame.pop(label_column).to_numpy()
    non_numeric = [c for c in frame.columns if not np.issubdtype(frame[c].dtype, np.number)]
    if non_numeric:
        raise SystemExit(
            f"error: non-numeric columns {non_numeric} in {path}; encode them or drop them "
            "(or name the label column with --label-column)."
        )
    return frame, labels


def _report(embedder, X_train, X_test, y_train, y_test, prior):
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression

    from .metrics import prior_match_report

    Z_test = embedder.transform(X_test)
    print(f"\nHeld-out embedding ({len(X_test)} rows) against the {prior} prior:")
    print(prior_match_report(Z_test, prior=prior, random_state=0))
    print(
        f"\nMutual information: {embedder.mutual_info_:.2f} nats of capacity "
        f"{embedder.capacity_:.2f} (noise_scale={embedder.noise_scale_:.3g})"
    )
    if y_train is None:
        return
    pca = PCA(embedder.n_components, whiten=True).fit(X_train)

    def probe(train, test):
        model = LogisticRegression(max_iter=5000).fit(train, y_train)
        return model.score(test, y_test)

    ours = probe(embedder.transform(X_train), Z_test)
    theirs = probe(pca.transform(X_train), pca.transform(X_test))
    print(f"Logistic probe accuracy: embedding {ours:.3f}, PCA(whiten) {theirs:.3f}")


def main(argv=None):
    """Run the command line job; returns the exit status."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    from . import NoisyInfoMaxEmbedder

    args = _parse_args(sys.argv[1:] if argv is None else argv)
    if args.csv:
        X, y = _load_csv(args.csv, args.label_column)
        source = args.csv
    else:
        X, y = load_digits(return_X_y=True)
        source = "scikit-learn digits (1797 x 64)"
    stratify = y if y is not None and len(np.unique(y)) < len(y) // 5 else None
    X_train, X_test, y_train, y_test = (
        train_test_split(X, y, test_size=0.3, random_state=args.seed, stratify=stratify)
        if y is not None
        else (*train_test_split(X, test_size=0.3, random_state=args.seed), None, None)
    )
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    embedder = NoisyInfoMaxEmbedder(
        n_components=args.n_components,
        prior=args.prior,
        noise_scale=args.noise_scale,
        max_epochs=args.max_epochs,
        random_state=args.seed,
        verbose=args.verbose,
    )
    print(f"Fitting {embedder!r}\non {source}, {len(X_train)} training rows ...", flush=True)
    start = time.perf_counter()
    embedder.fit(X_train)
    print(f"Fitted in {time.perf_counter() - start:.1f} s ({embedder.n_iter_} epochs).")
    _report(embedder, X_train, X_test, y_train, y_test, args.prior)
    if args.output:
        import pandas as pd

        Z = embedder.transform(scaler.transform(X))
        pd.DataFrame(Z, columns=embedder.get_feature_names_out()).to_csv(args.output, index=False)
        print(f"Wrote the embedding of all {len(Z)} rows to {args.output}")
    return 0
