"""Command line: ``python -m sklearn_ndim`` (or ``sklearn-ndim``).

Without ``--csv`` it fits on scikit-learn's bundled digits (a 70/30 split)
and reports how closely the held-out embedding follows the prior and how a
logistic-regression probe on it compares with PCA. With ``--csv`` it embeds
the numeric columns of a local CSV file. Every problem with the input is
reported in one line before any training; nothing is guessed silently.
"""

import argparse
import csv
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

from . import __version__

__all__ = ["main"]


class InputError(Exception):
    """A problem with the user's files or options, reported as one line."""


class _Parser(argparse.ArgumentParser):
    """argparse with errors in one line, like every other error of the command line."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _parser():
    parser = _Parser(
        prog="sklearn-ndim",
        description=(
            "Embed the numeric columns of a CSV file so that the embedding follows a chosen "
            "prior (Noise-Injected Deep InfoMax). Without --csv, fit on scikit-learn's digits "
            "and report the prior match and a logistic probe against PCA."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    data = parser.add_argument_group("data")
    data.add_argument("--csv", help="local CSV file to embed (instead of the digits demo)")
    data.add_argument(
        "--no-header", action="store_true", help="the file has no header row; columns are 0, 1, ..."
    )
    data.add_argument(
        "--delimiter", help="field delimiter, e.g. ';' or '\\t'; None: detected from the file"
    )
    data.add_argument(
        "--na-values",
        default="",
        help="comma-separated extra cell values that mean 'missing', e.g. '?,-'",
    )
    data.add_argument(
        "--drop-missing",
        action="store_true",
        help="drop rows with missing values (reported) instead of stopping",
    )
    data.add_argument(
        "--label-column", help="column of labels: kept out of the features; probed when given"
    )
    data.add_argument(
        "--keep-columns",
        default="",
        help="comma-separated columns (ids, labels) copied to the output, not embedded",
    )
    data.add_argument("--output", help="write the embedding of every row to this CSV file")
    data.add_argument(
        "--holdout",
        type=float,
        default=0.3,
        help="share of the rows held out of the fit for the report; 0 fits on every row and "
        "skips the report",
    )
    model = parser.add_argument_group("model")
    model.add_argument(
        "--prior",
        default="gaussian",
        choices=["gaussian", "uniform"],
        help="target distribution of the embedding",
    )
    model.add_argument("--n-components", type=int, default=16, help="embedding dimension")
    model.add_argument(
        "--noise-scale",
        default="auto",
        help="channel noise: 0, a number in [1e-3, 1e3], or 'auto'",
    )
    model.add_argument(
        "--prior-penalty",
        type=float,
        default=0.0,
        help="weight of a sliced-Wasserstein pull towards the prior; 0 is off",
    )
    model.add_argument(
        "--normalizer",
        choices=["whiten", "standardize"],
        default="whiten",
        help="output normaliser: whiten (no linear correlation) or per-dimension standardize",
    )
    model.add_argument(
        "--max-epochs", default="auto", help="training passes: a number, or 'auto' (by rows)"
    )
    model.add_argument("--batch-size", type=int, default=256, help="rows per training batch")
    model.add_argument("--device", default="cpu", help="torch device: cpu, cuda, cuda:1, auto")
    model.add_argument("--seed", type=int, default=0, help="random seed")
    model.add_argument("--save-model", help="save the fitted model to this .safetensors file")
    model.add_argument(
        "--model", help="embed with this saved model instead of fitting (needs --csv)"
    )
    parser.add_argument("--verbose", type=int, default=0, help="0 quiet, 1 epochs, 2 progress")
    parser.add_argument("--version", action="version", version=f"sklearn-ndim {__version__}")
    return parser


#: Options that shape a fitted model; a saved one (--model) has its own.
_MODEL_OPTIONS = (
    "prior",
    "n_components",
    "noise_scale",
    "prior_penalty",
    "normalizer",
    "max_epochs",
    "batch_size",
    "seed",
    "holdout",
)


def _given_model_options(argv):
    """The model options given on the command line (not left at their defaults)."""
    # argparse leaves attributes the namespace already has unless the option is given.
    unset = object()
    start = argparse.Namespace(**dict.fromkeys(_MODEL_OPTIONS, unset))
    parsed = vars(_parser().parse_args(argv, namespace=start))
    return [f"--{name.replace('_', '-')}" for name in _MODEL_OPTIONS if parsed[name] is not unset]


def _parse_args(argv):
    parser = _parser()
    args = parser.parse_args(argv)
    if args.noise_scale != "auto":
        try:
            args.noise_scale = float(args.noise_scale)
        except ValueError:
            parser.error(f"--noise-scale must be a number or 'auto', got {args.noise_scale!r}")
    if args.max_epochs != "auto":
        try:
            args.max_epochs = int(args.max_epochs)
        except ValueError:
            parser.error(f"--max-epochs must be a whole number or 'auto', got {args.max_epochs!r}")
    if not 0 <= args.holdout <= 0.9:
        parser.error(f"--holdout must be in [0, 0.9], got {args.holdout}")
    if not 0 <= args.prior_penalty <= 1e6:
        parser.error(f"--prior-penalty must be in [0, 1e6], got {args.prior_penalty}")
    for name in ("n_components", "max_epochs", "batch_size"):
        if not isinstance(getattr(args, name), str) and getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.model and not args.csv:
        parser.error("--model embeds a file: give it with --csv")
    if args.model:
        given = _given_model_options(argv)
        if given:
            parser.error(
                f"--model embeds with the saved model's settings; {', '.join(given)} cannot "
                "apply to it: leave them out, or fit a new model without --model"
            )
    if args.output and not args.csv:
        parser.error("--output needs --csv")
    args.na_values = [v for v in args.na_values.split(",") if v]
    args.keep_columns = [c for c in args.keep_columns.split(",") if c]
    if args.delimiter == "\\t":
        args.delimiter = "\t"
    return args


# ----------------------------------------------------------------- reading


def _local_file(path, option):
    if "://" in path:
        raise InputError(f"{option} must be a local file; got the URL {path!r}")
    resolved = Path(path)
    if not resolved.is_file():
        raise InputError(f"{option} {path!r}: no such file")
    return resolved


def _scan(path, delimiter):
    """Delimiter, and a check that every row has as many fields as the first."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        sample = handle.read(65536)
        if not sample.strip():
            raise InputError(f"{path} is empty")
        if delimiter is None:
            try:
                delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
            except csv.Error:
                delimiter = ","
        handle.seek(0)
        expected = None
        for line_number, row in enumerate(csv.reader(handle, delimiter=delimiter), start=1):
            if not row:
                continue
            if expected is None:
                expected = len(row)
            elif len(row) != expected:
                raise InputError(
                    f"{path}, line {line_number}: {len(row)} fields where the first row has "
                    f"{expected} (delimiter {delimiter!r}); fix the row or pass --delimiter"
                )
    return delimiter


def _column(frame, name):
    """A column by name, or by 0-based position for files without a header."""
    if name in frame.columns:
        return name
    if name.isdigit() and int(name) in frame.columns:
        return int(name)
    raise InputError(f"column {name!r} not found; the columns are {list(frame.columns)}")


def _load_csv(args):
    """Features, labels and kept columns of the CSV file, all checked.

    The features and labels hold the complete rows only; the kept columns hold
    every row, and ``complete`` marks which of them the features are.
    """
    try:
        import pandas as pd
    except ImportError:
        raise InputError(
            "reading CSV files needs pandas: pip install 'sklearn-ndim[cli]'"
        ) from None
    path = _local_file(args.csv, "--csv")
    delimiter = _scan(path, args.delimiter)
    frame = pd.read_csv(
        path,
        sep=delimiter,
        header=None if args.no_header else 0,
        index_col=False,
        na_values=args.na_values,
        skipinitialspace=True,
        encoding="utf-8-sig",
    )
    first_line = 1 if args.no_header else 2
    if not args.no_header and all(_is_number(name) for name in frame.columns):
        print(
            f"Warning: the header line of {path} holds only numbers "
            f"({', '.join(map(str, frame.columns[:3]))}, ...); if it is a data row, pass "
            "--no-header, or that row is not embedded.",
            file=sys.stderr,
        )
    if frame.empty:
        raise InputError(f"{path} has no data rows, too few to learn an embedding")
    label = _column(frame, args.label_column) if args.label_column else None
    kept = [_column(frame, c) for c in args.keep_columns]
    features = frame.drop(columns=list({*kept, *([label] if label is not None else [])}))
    # A missing label only keeps a row out of the probe: its features are embedded.
    missing = features.isna().any(axis=1)
    complete = ~missing.to_numpy()
    if missing.any():
        if not args.drop_missing:
            row = int(np.flatnonzero(missing.to_numpy())[0])
            columns = [c for c in features.columns if features[c].isna().iloc[row]]
            raise InputError(
                f"{path}: {int(missing.sum())} rows have missing values (first at line "
                f"{row + first_line}, column {columns[0]!r}); fill them, or pass --drop-missing"
            )
        kept_in_output = (
            "; --output keeps their rows, in input order, with empty embedding cells"
            if args.output
            else ""
        )
        print(
            f"Dropping {int(missing.sum())} rows with missing values (neither fitted, reported "
            f"nor embedded){kept_in_output}.",
            file=sys.stderr,
        )
        # A column of True/False with an empty cell was read as objects.
        features = features[complete].infer_objects()
    text = [
        name
        for name in features.columns
        if not (
            pd.api.types.is_bool_dtype(features[name])
            or pd.api.types.is_numeric_dtype(features[name])
        )
    ]
    if text:
        # Every text column is named, so that one run finds them all; the first
        # offending cell of the first one shows what was read.
        values = features[text[0]]
        row = int(np.flatnonzero(pd.to_numeric(values, errors="coerce").isna().to_numpy())[0])
        # The index, not the position: dropped rows must not shift the line.
        where = f"line {values.index[row] + first_line}"
        if len(text) == 1:
            problem, them = f"column {text[0]!r} is not numeric ({where}", "it"
        else:
            listed = ", ".join(map(repr, text))
            problem, them = f"columns {listed} are not numeric ({where} of {text[0]!r}", "them"
        raise InputError(
            f"{path}: {problem} holds {values.iloc[row]!r}); encode {them}, name {them} in "
            "--keep-columns or --label-column, or pass --na-values if such cells mean missing"
        )
    X = features.to_numpy(dtype=np.float64)
    if X.shape[1] == 0:
        raise InputError(f"{path} has no numeric feature columns")
    labels = frame[label].to_numpy()[complete] if label is not None else None
    if labels is not None:
        _check_labels(labels, args.label_column, path)
    # The kept columns hold every row, so that --output keeps one row per input row.
    return X, labels, frame[kept], list(features.columns), complete


def _check_labels(labels, name, path):
    """Refuse labels the logistic probe cannot use: continuous values, or one class."""
    import pandas as pd
    from sklearn.utils.multiclass import type_of_target

    known = labels[~pd.isna(labels)]
    # A CSV column is read as all numbers or all text, never a mix of both.
    kind = type_of_target(known) if len(known) else "unknown"
    classes = len(pd.unique(known))
    if kind in ("binary", "multiclass") and classes >= 2:
        return
    if kind == "continuous":
        problem = f"holds continuous values ({known[0]}, ...)"
    else:
        problem = f"holds {classes} class{'es' if classes != 1 else ''}"
    raise InputError(
        f"{path}: --label-column {name!r} {problem}; the probe is a classifier and needs class "
        "labels of two classes or more. Leave --label-column out (--keep-columns copies the "
        "column to --output)"
    )


def _is_number(text):
    try:
        float(text)
    except (TypeError, ValueError):
        return False
    return True


def _check_size(X, n_components, holdout=0.0):
    n_rows, n_columns = X.shape
    if n_columns < n_components:
        raise InputError(
            f"--n-components {n_components} is more than the {n_columns} numeric columns; "
            f"choose at most {n_columns}"
        )
    if n_rows < max(10, 2 * n_components):
        raise InputError(
            f"{n_rows} rows are too few to learn a {n_components}-dimensional embedding; "
            f"give at least {max(10, 2 * n_components)}"
        )
    held_out = math.ceil(holdout * n_rows)
    if holdout and held_out < n_components + 2:
        raise InputError(
            f"--holdout {holdout} keeps {held_out} of the {n_rows} rows for the report, which "
            f"needs at least n_components + 2 = {n_components + 2}; raise --holdout, or pass "
            "--holdout 0 to fit on every row without a report"
        )
    if n_rows - held_out < max(10, 2 * n_components):
        raise InputError(
            f"--holdout {holdout} leaves {n_rows - held_out} rows to fit on; give at least "
            f"{max(10, 2 * n_components)}, or lower --holdout"
        )


def _check_output(path, source):
    output = Path(path)
    if output.resolve() == Path(source).resolve():
        raise InputError(f"--output {path!r} would overwrite the input file")
    folder = output.parent if str(output.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"--output {path!r}: the folder {str(folder)!r} does not exist")
    if not _writable(folder):
        raise InputError(f"--output {path!r}: the folder {str(folder)!r} is not writable")
    return output


def _writable(folder):
    return os.access(folder, os.W_OK)


# ---------------------------------------------------------------- running


def _report(embedder, X_train, X_test, y_train, y_test, prior):
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression

    from .metrics import prior_match_report

    Z_test = embedder.transform(X_test)
    report = prior_match_report(Z_test, prior=prior, random_state=0)
    print(f"\nHeld-out embedding ({len(X_test)} rows) against the {prior} prior:")
    print(report)
    if not report.passes():
        print(
            "passes: False means the held-out rows are distinguishable from exact prior samples "
            "(a sliced-W2 ratio above 1.5, or a normality test at p <= 0.05); more training "
            "rows, another --noise-scale, a --prior-penalty (e.g. 100) or fewer "
            "--n-components can help."
        )
    print(
        f"\nMutual information: {embedder.mutual_info_:.2f} nats of capacity "
        f"{embedder.capacity_:.2f} (noise_scale={embedder.noise_scale_:.3g})"
    )
    if y_train is None:
        return
    import pandas as pd

    pca = PCA(embedder.n_components_, whiten=True).fit(X_train)
    train, test = ~pd.isna(y_train), ~pd.isna(y_test)
    if not (train.all() and test.all()):
        print(
            f"{int((~train).sum() + (~test).sum())} rows have no label: fitted and embedded, "
            "left out of the probe."
        )
    if len(pd.unique(y_train[train])) < 2 or not test.any():
        print("Too few labelled rows on one side of the split for the probe.")
        return

    def probe(Z_train, Z_test):
        model = LogisticRegression(max_iter=5000).fit(Z_train[train], y_train[train])
        return model.score(Z_test[test], y_test[test])

    ours = probe(embedder.transform(X_train), np.asarray(Z_test))
    theirs = probe(pca.transform(X_train), pca.transform(X_test))
    print(f"Logistic probe accuracy: embedding {ours:.3f}, PCA(whiten) {theirs:.3f}")


def _fit(args, X, y):
    from sklearn.model_selection import train_test_split

    from . import NoisyInfoMaxEmbedder
    from ._validation import resolve_device

    embedder = NoisyInfoMaxEmbedder(
        n_components=args.n_components,
        prior=args.prior,
        noise_scale=args.noise_scale,
        prior_penalty=args.prior_penalty,
        normalizer=args.normalizer,
        max_epochs=args.max_epochs,
        batch_size=args.batch_size,
        device=args.device,
        random_state=args.seed,
        verbose=args.verbose,
    )
    # A bad option, or a device this machine lacks, is reported before the banner and the fit.
    embedder._validate_params()
    resolve_device(args.device)
    stratify = y if _can_stratify(y) else None
    if args.holdout == 0:
        X_train, X_test, y_train, y_test = X, None, y, None
    elif y is not None:
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=args.holdout, random_state=args.seed, stratify=stratify
        )
    else:
        X_train, X_test = train_test_split(X, test_size=args.holdout, random_state=args.seed)
        y_train = y_test = None
    held_out = f", {len(X) - len(X_train)} held out for the report" if args.holdout else ""
    print(f"Fitting {embedder!r}\non {len(X_train)} training rows{held_out} ...", flush=True)
    start = time.perf_counter()
    embedder.fit(X_train)
    print(f"Fitted in {time.perf_counter() - start:.1f} s ({embedder.n_iter_} epochs).")
    if X_test is None:
        print("No rows held out (--holdout 0): no report on the match or the probe.")
    else:
        _report(embedder, X_train, X_test, y_train, y_test, args.prior)
    return embedder


def _can_stratify(y):
    """Whether the hold-out split can keep the class shares: few classes, each twice or more."""
    if y is None:
        return False
    import pandas as pd

    if pd.isna(y).any():
        return False
    counts = pd.Series(y).value_counts()
    return len(counts) < len(y) // 5 and counts.min() >= 2


def _run(args):
    from sklearn.datasets import load_digits

    from .io import load, save

    output = _check_output(args.output, args.csv) if args.output else None
    if args.save_model:
        _check_output(args.save_model, args.csv or "")
    kept = complete = None
    if args.csv:
        X, y, kept, names, complete = _load_csv(args)
        if not args.no_header:
            import pandas as pd

            # Fitted on named columns, the model checks them at transform and
            # carries them in its file for --model.
            X = pd.DataFrame(X, columns=[str(name) for name in names])
    else:
        X, y = load_digits(return_X_y=True)
        print("Data: scikit-learn digits (1797 images of 8x8 pixels as 64 features)")
    if args.model:
        embedder = load(_local_file(args.model, "--model"), device=None)
        if embedder.n_features_in_ != X.shape[1]:
            raise InputError(
                f"the model was fitted on {embedder.n_features_in_} features; "
                f"{args.csv} has {X.shape[1]} numeric columns"
            )
        _check_column_names(embedder, X, args.csv)
        if getattr(embedder, "feature_names_in_", None) is None and hasattr(X, "columns"):
            X = X.to_numpy()  # a model fitted without names (older files, --no-header)
    else:
        _check_size(X, args.n_components, args.holdout)
        embedder = _fit(args, X, y)
    if args.save_model:
        save(embedder, args.save_model)
        print(f"Saved the model to {args.save_model}")
    if output is not None:
        _write(output, embedder.transform(X), embedder, kept, complete)
        dropped = len(complete) - len(X)
        if dropped:
            print(
                f"Wrote {len(complete)} rows to {output}: the embedding of {len(X)}, and {dropped} "
                "rows with missing values left empty"
            )
        else:
            print(f"Wrote the embedding of all {len(X)} rows to {output}")
    return 0


def _check_column_names(embedder, X, path):
    """Refuse a file whose feature columns differ from the training file's, in name or order."""
    expected = getattr(embedder, "feature_names_in_", None)
    given = list(X.columns) if hasattr(X, "columns") else None
    if expected is None or given is None:
        return  # a file without a header, or a model fitted on one: positions only
    for position, (want, have) in enumerate(zip(expected, given, strict=True)):
        if want != have:
            raise InputError(
                f"{path}: feature column {position + 1} is {have!r}, but the model was fitted "
                f"with {want!r} there; give the columns the names and order of the training file"
            )


def _write(path, Z, embedder, kept, complete):
    """One row per input row, in input order; rows dropped for missing values are left empty."""
    import pandas as pd

    Z = np.asarray(Z)  # a DataFrame from a --model saved after set_output(transform="pandas")
    full = np.full((len(complete), Z.shape[1]), np.nan, dtype=Z.dtype)
    full[complete] = Z
    frame = pd.DataFrame(full, columns=embedder.get_feature_names_out())
    if kept is not None and len(kept.columns):
        frame = pd.concat([kept.reset_index(drop=True), frame], axis=1)
    frame.to_csv(path, index=False)


def main(argv=None):
    """Run the command line job; returns the exit status."""
    args = _parse_args(sys.argv[1:] if argv is None else argv)
    try:
        status = _run(args)
        # Flushed here, so that a closed pipe is met inside the handlers below
        # and not when Python flushes at exit.
        sys.stdout.flush()
        return status
    except InputError as exc:
        print(f"sklearn-ndim: error: {exc}", file=sys.stderr)
        return 2
    except (ValueError, TypeError) as exc:
        # The estimator's own checks say what was wrong and how to fix it.
        print(f"sklearn-ndim: error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("sklearn-ndim: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of our output (`| head`) stopped reading: stop quietly, as
        # Unix tools do, and keep Python from failing again when it flushes.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
