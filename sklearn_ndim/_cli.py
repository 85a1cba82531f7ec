"""Command line: ``python -m sklearn_ndim`` (or ``sklearn-ndim``).

Without ``--csv`` it fits on scikit-learn's bundled digits (a 70/30 split)
and reports how closely the held-out embedding follows the prior and how a
logistic-regression probe on it compares with PCA. With ``--csv`` it embeds
the numeric columns of a local CSV file. Every problem with the input is
reported in one line before any training; nothing is guessed silently.
"""

import argparse
import contextlib
import math
import os
import sys
import time

import numpy as np

from . import __version__
from ._cli_files import (
    InputError,
    check_column_names,
    check_output,
    check_size,
    class_counts,
    load_csv,
    local_file,
    missing_labels,
    write_output,
)

__all__ = ["main"]


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
        help="comma-separated columns (ids, labels) copied to the output, not embedded",
    )
    data.add_argument(
        "--output",
        help="write the embedding of every row to this CSV file; '-' writes it to standard "
        "output, and the report to standard error",
    )
    data.add_argument(
        "--holdout",
        type=float,
        default=0.3,
        help="share of the rows held out of the fit for the report; 0 fits on every row and "
        "skips the report (then give --output or --save-model)",
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
    model.add_argument(
        "--mixed-precision",
        choices=["auto", "true", "false"],
        default="auto",
        help="train in bfloat16: auto (CUDA devices with it in hardware), true (the CPU too), "
        "false",
    )
    model.add_argument("--seed", type=int, default=0, help="random seed")
    model.add_argument("--save-model", help="save the fitted model to this .safetensors file")
    model.add_argument(
        "--model",
        help="embed --csv into --output with this saved model instead of fitting",
    )
    parser.add_argument(
        "--verbose", type=int, default=0, choices=[0, 1, 2], help="0 quiet, 1 epochs, 2 progress"
    )
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
    "mixed_precision",
    "seed",
    "holdout",
)


def _given_options(argv, names):
    """The options among ``names`` given on the command line (not left at their defaults)."""
    # argparse leaves attributes the namespace already has unless the option is given.
    unset = object()
    start = argparse.Namespace(**dict.fromkeys(names, unset))
    parsed = vars(_parser().parse_args(argv, namespace=start))
    return [f"--{name.replace('_', '-')}" for name in names if parsed[name] is not unset]


def _given_model_options(argv):
    """The model options given on the command line (not left at their defaults)."""
    return _given_options(argv, _MODEL_OPTIONS)


def _parse_args(argv):
    parser = _parser()
    args = parser.parse_args(argv)  # --help and --version exit here, before the heavy imports
    from ._validation import MAX_NOISE, MIN_NOISE

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
    if not isinstance(args.noise_scale, str) and not (
        args.noise_scale == 0 or MIN_NOISE <= args.noise_scale <= MAX_NOISE
    ):
        parser.error(
            f"--noise-scale must be 0 or in [{MIN_NOISE:g}, {MAX_NOISE:g}], got {args.noise_scale}"
        )
    if not 0 <= args.seed < 2**32:
        parser.error(f"--seed must be in [0, 2**32 - 1], got {args.seed}")
    if not 0 <= args.prior_penalty <= 1e6:
        parser.error(f"--prior-penalty must be in [0, 1e6], got {args.prior_penalty}")
    for name, least in (("n_components", 1), ("max_epochs", 1), ("batch_size", 2)):
        if not isinstance(getattr(args, name), str) and getattr(args, name) < least:
            parser.error(f"--{name.replace('_', '-')} must be at least {least}")
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
    if args.model and not args.output:
        parser.error("--model embeds the file for --output, and there is none: give --output")
    if not args.model and args.holdout == 0 and not (args.output or args.save_model):
        keep = "--output or --save-model" if args.csv else "--save-model"
        parser.error(
            "--holdout 0 skips the report, and with neither --output nor --save-model the fitted "
            f"model would be lost: give {keep}, or a --holdout above 0"
        )
    # --device moves a saved model only when given: otherwise it loads on its own device.
    args.device_given = bool(_given_options(argv, ("device",)))
    args.na_values = [v for v in (args.na_values or "").split(",") if v]
    # Spaces after the commas, as in "id, name", are not part of the names.
    args.keep_columns = [c.strip() for c in (args.keep_columns or "").split(",") if c.strip()]
    repeated = sorted({c for c in args.keep_columns if args.keep_columns.count(c) > 1})
    if repeated:
        parser.error(f"--keep-columns names {', '.join(repeated)} more than once")
    if args.delimiter == "\\t":
        args.delimiter = "\t"
    if args.delimiter is not None and len(args.delimiter) != 1:
        parser.error(f"--delimiter must be one character (or \\t); got {args.delimiter!r}")
    return args


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
            "(a sliced-W2 ratio above 1.5, normality tests at a combined p <= 0.05, or a "
            "collapsed dimension); more training rows, another --noise-scale or a "
            "--prior-penalty (e.g. 100) can help."
        )
    print(
        f"\nMutual information: {embedder.mutual_info_:.2f} nats of capacity "
        f"{embedder.capacity_:.2f} (noise_scale={embedder.noise_scale_:.3g})"
    )
    if y_train is None:
        return
    pca = PCA(embedder.n_components_, whiten=True).fit(X_train)
    train, test = ~missing_labels(y_train), ~missing_labels(y_test)
    if not (train.all() and test.all()):
        print(
            f"{int((~train).sum() + (~test).sum())} rows have no label: fitted and embedded, "
            "left out of the probe."
        )
    if len(class_counts(y_train[train])[0]) < 2 or not test.any():
        print("Too few labelled rows on one side of the split for the probe.")
        return

    def probe(Z_train, Z_test):
        model = LogisticRegression(max_iter=5000).fit(Z_train[train], y_train[train])
        return model.score(Z_test[test], y_test[test])

    ours = probe(embedder.transform(X_train), np.asarray(Z_test))
    theirs = probe(pca.transform(X_train), pca.transform(X_test))
    print(f"Logistic probe accuracy: embedding {ours:.3f}, PCA(whiten) {theirs:.3f}")
    held_out_classes = class_counts(y_test[test])[0]
    if len(held_out_classes) == 1:
        # A classifier that always answers that class scores 1.000 here too.
        print(
            f"Note: every labelled held-out row is of one class ({str(held_out_classes[0])!r}), so "
            "these accuracies cannot tell the embeddings apart; raise --holdout so that the "
            "held-out rows hold more classes."
        )


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
        mixed_precision={"auto": "auto", "true": True, "false": False}[args.mixed_precision],
        random_state=args.seed,
        verbose=args.verbose,
    )
    # A bad option, or a device this machine lacks, is reported before the banner and the fit.
    embedder._validate_params()
    resolve_device(args.device)
    stratify = y if _can_stratify(y, args.holdout) else None
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


def _can_stratify(y, holdout):
    """Whether the hold-out split can keep the class shares.

    Few classes, each twice or more, and at least one row per class on each
    side of the split (scikit-learn refuses it otherwise).
    """
    if y is None or holdout == 0:
        return False
    if missing_labels(y).any():
        return False
    counts = class_counts(y)[1]
    held_out = math.ceil(holdout * len(y))
    return (
        len(counts) < len(y) // 5
        and counts.min() >= 2
        and min(held_out, len(y) - held_out) >= len(counts)
    )


def _check_kept_names(kept, n_components, output):
    """Refuse kept columns named like the embedding's columns in --output."""
    from . import NoisyInfoMaxEmbedder

    if not output or kept is None:
        return
    # scikit-learn's get_feature_names_out: the class name in lower case, then a number.
    prefix = NoisyInfoMaxEmbedder.__name__.lower()
    embedding = {f"{prefix}{i}" for i in range(n_components)}
    clashes = [str(name) for name in kept.columns if str(name) in embedding]
    if clashes:
        raise InputError(
            f"--keep-columns {', '.join(clashes)} would share its name with an embedding column "
            "of --output; rename that column in the file"
        )


def _run(args):
    from sklearn.datasets import load_digits

    from .io import load, save

    inputs = {"--csv": args.csv, "--model": args.model}
    output = None
    if args.output == "-":
        if args.output_stream is None:
            raise InputError("--output - writes to standard output, which is closed here")
        output = args.output_stream
    elif args.output:
        output = check_output(args.output, "--output", {**inputs, "--save-model": args.save_model})
    if args.save_model:
        check_output(args.save_model, "--save-model", {"--csv": args.csv})
    kept = complete = None
    if args.csv:
        X, y, kept, names, complete = load_csv(args)
        if not args.no_header:
            import pandas as pd

            # Fitted on named columns, the model checks them at transform and
            # carries them in its file for --model.
            X = pd.DataFrame(X, columns=[str(name) for name in names])
    else:
        X, y = load_digits(return_X_y=True)
        print("Data: scikit-learn digits (1797 images of 8x8 pixels as 64 features)")
    if args.model:
        device = args.device if args.device_given else None
        embedder = load(local_file(args.model, "--model"), device=device)
        if embedder.n_features_in_ != X.shape[1]:
            raise InputError(
                f"the model was fitted on {embedder.n_features_in_} features; "
                f"{args.csv} has {X.shape[1]} numeric columns"
            )
        check_column_names(embedder, X, args.csv)
        names = getattr(embedder, "feature_names_in_", None)
        if names is None and hasattr(X, "columns"):
            X = X.to_numpy()  # a model fitted without names (older files, --no-header)
        elif names is not None and not hasattr(X, "columns"):
            import pandas as pd

            print(
                f"Note: {args.csv} has no header; its columns are taken, by position, as the "
                f"model's {', '.join(map(str, names[:3]))}{', ...' if len(names) > 3 else '.'}",
                file=sys.stderr,
            )
            X = pd.DataFrame(X, columns=names)
        _check_kept_names(kept, embedder.n_components_, args.output)
        if args.label_column:
            print(
                f"Note: --model makes no report, so the labels in {args.label_column!r} are not "
                "used; the column is kept out of the features.",
                file=sys.stderr,
            )
    else:
        check_size(X, args.n_components, args.holdout, args.batch_size, args.normalizer)
        _check_kept_names(kept, args.n_components, args.output)
        embedder = _fit(args, X, y)
    if args.save_model:
        save(embedder, args.save_model)
        print(f"Saved the model to {args.save_model}")
    if output is not None:
        write_output(output, embedder.transform(X), embedder, kept, complete)
        where = "standard output" if args.output == "-" else output
        dropped = len(complete) - len(X)
        if dropped:
            print(
                f"Wrote {len(complete)} rows to {where}: the embedding of {len(X)}, and {dropped} "
                "rows with missing values left empty"
            )
        else:
            print(f"Wrote the embedding of all {len(X)} rows to {where}")
    return 0


def main(argv=None):
    """Run the command line job; returns the exit status."""
    args = _parse_args(sys.argv[1:] if argv is None else argv)
    args.output_stream = sys.stdout
    # With --output -, standard output carries the CSV alone: the report and
    # the progress go to standard error.
    report_stream = sys.stderr if args.output == "-" else sys.stdout
    try:
        with contextlib.redirect_stdout(report_stream):
            status = _run(args)
        # Flushed here, so that a closed pipe is met inside the handlers below
        # and not when Python flushes at exit (None: no standard output at all).
        if sys.stdout is not None:
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
