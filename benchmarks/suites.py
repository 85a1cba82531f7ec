"""The benchmark suites: each a function ``suite(settings, log) -> list of result rows``.

- ``match``: the embedder over a noise grid against the other ways of getting
  a Gaussian latent, same splits and ``d`` for all (issue 8);
- ``images``: full Fashion-MNIST (60,000 / official 10,000), d = 16 and 64;
- ``speed``: fit time against UMAP, processes, streams;
- ``scaling``: fit time and peak memory from 10^3 to 10^6 rows;
- ``uses``: outliers, generation and independent factors (issue 12);
- ``tune``: the one-off choice of the peers' penalty weights;
- ``penalty``: the embedder's prior penalty over a grid of weights and noises;
- ``epochs`` (in ``training_length``): probe, match and label-free scores
  against the number of epochs;
- ``terms`` (in ``identity_terms``): each term of the method's identity over
  the noise, on training and test rows.
"""

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import datasets
import measures
import numpy as np
from identity_terms import terms
from methods import PEERS, make
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import train_test_split
from sklearn.neighbors import LocalOutlierFactor
from sklearn.svm import OneClassSVM
from skorch.callbacks import LRScheduler
from training_length import epochs

import sklearn_ndim
from sklearn_ndim import NoisyInfoMaxEmbedder
from sklearn_ndim.distributed import fit_distributed
from sklearn_ndim.outliers import OutlierDetector

HERE = Path(__file__).resolve().parent
NOISE_GRID = (0.25, 0.5, "auto", 2.0)
# The uniform prior is the Gaussian embedding mapped by Phi: its default only.
UNIFORM_GRID = ("auto",)


def epochs_for(settings, n_rows):
    """Epochs of every deep method on ``n_rows`` training rows.

    The embedder's documented ``max_epochs="auto"`` rule (about 250,000 row
    presentations, at most 100 epochs), so that its peers train as long; a
    quick run overrides it.
    """
    if settings["epochs"] is not None:
        return settings["epochs"]
    return min(100, math.ceil(250_000 / n_rows))


def our_epochs(settings):
    """The embedder's epochs: its own ``"auto"`` budget, or a quick run's override.

    On tables that is :func:`epochs_for`; images get half of it.
    """
    return settings["epochs"] if settings["epochs"] is not None else "auto"


def ours(settings, d, n_rows, random_state=0, **params):
    """The embedder with its defaults (epochs as :func:`our_epochs`)."""
    return NoisyInfoMaxEmbedder(
        d, max_epochs=our_epochs(settings), random_state=random_state, **params
    )


def evaluate(method, data, prior="gaussian", n_reference=50):
    """Fit ``method`` on the training rows; measure its test (and train) embedding."""
    X_train, X_test, y_train, y_test = data
    start = time.perf_counter()
    method.fit(X_train)
    fit_s = time.perf_counter() - start
    Z_train, Z_test = method.transform(X_train), method.transform(X_test)
    probe, knn = measures.probe_accuracies(Z_train, y_train, Z_test, y_test)
    row = {"probe": probe, "knn": knn, "fit_s": fit_s}
    row.update(measures.prior_match(Z_test, prior, n_reference))
    row["w2_ratio_train"] = measures.prior_match(Z_train, prior, 10)["w2_ratio"]
    if isinstance(method, NoisyInfoMaxEmbedder):
        row.update(
            noise_scale=method.noise_scale_,
            mutual_info=method.mutual_info_,
            capacity=method.capacity_,
            epochs=method.n_iter_,
        )
    return row


def _averaged(rows):
    """Mean of the numeric fields of rows of the same configuration (seeds)."""
    out = dict(rows[0])
    for key, value in rows[0].items():
        if isinstance(value, float | int) and not isinstance(value, bool) and key != "seed":
            out[key] = float(np.nanmean([r[key] for r in rows]))
    out["seeds"] = len(rows)
    return out


# --------------------------------------------------------------------- match


def match(settings, log):
    """Probe accuracy and held-out prior match of every method on every data set."""
    rows = []
    plans = [("digits", 16), ("table", 16)]
    if datasets.fashion_available():
        # d = 64 on Fashion-MNIST is measured on the full set only (the images suite).
        plans += [("fashion", 16)]
    for name, d in plans:
        data = datasets.load(
            name, n_train=settings["fashion_train"], n_test=settings["fashion_test"]
        )
        seeds = settings["seeds"] if name != "fashion" else settings["seeds"][:1]
        epochs = epochs_for(settings, len(data[0]))
        configurations = [("InfoMax (noise 0)", {})]
        configurations += [("NI-DIM", {"noise_scale": noise}) for noise in NOISE_GRID]
        configurations += [(peer, {}) for peer in PEERS]
        if name != "fashion":
            configurations += [("NI-DIM uniform", {"noise_scale": n}) for n in UNIFORM_GRID]
        for method, params in configurations:
            per_seed = []
            prior = "uniform" if method.endswith("uniform") else "gaussian"
            for seed in seeds:
                model = make(
                    method,
                    d,
                    max_epochs=epochs,
                    own_epochs=our_epochs(settings),
                    random_state=seed,
                    **params,
                )
                row = {
                    "dataset": name,
                    "d": d,
                    "method": method,
                    "seed": seed,
                    "noise": str(params.get("noise_scale", "")),
                    **evaluate(model, data, prior=prior),
                }
                per_seed.append(row)
            rows.append(_averaged(per_seed))
            log(
                f"match {name} d={d} {method} {params}: probe {rows[-1]['probe']:.3f} "
                f"W2 {rows[-1]['w2_ratio']:.2f} fit {rows[-1]['fit_s']:.1f}s"
            )
    return rows


def images(settings, log):
    """Full Fashion-MNIST: all 60,000 training images and the official test set."""
    if not datasets.fashion_available():
        log("images: Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
        return []
    data = datasets.load("fashion", n_train=None)
    rows = []
    # UMAP is left out here: on 60,000 images it costs more than all the others together, and
    # the match suite compares it on the 10,000-image subset.
    peers = [peer for peer in PEERS if not peer.startswith("UMAP")]
    for d in (16, 64):
        for method in ("NI-DIM", "InfoMax (noise 0)", *peers):
            model = make(
                method,
                d,
                max_epochs=epochs_for(settings, len(data[0])),
                own_epochs=our_epochs(settings),
                random_state=0,
            )
            rows.append(
                {"dataset": "fashion-60k", "d": d, "method": method, **evaluate(model, data)}
            )
            log(
                f"images d={d} {method}: probe {rows[-1]['probe']:.3f} "
                f"W2 {rows[-1]['w2_ratio']:.2f} fit {rows[-1]['fit_s']:.0f}s"
            )
    return rows


# --------------------------------------------------------------------- speed


def child_python_path():
    """``PYTHONPATH`` for a benchmark child: this directory, then the measured package's root."""
    package_root = Path(sklearn_ndim.__file__).resolve().parent.parent
    inherited = os.environ.get("PYTHONPATH")
    return os.pathsep.join([str(HERE), str(package_root), *([inherited] if inherited else [])])


def _child(code, threads):
    """Run ``code`` in a fresh interpreter; return the JSON it prints last.

    The child imports this directory's modules and the same ``sklearn_ndim``
    as this process (a checkout's, not another one installed in the
    environment), so that the results are the measured package's.
    """
    environment = {
        **os.environ,
        "OMP_NUM_THREADS": str(threads),
        "PYTHONPATH": child_python_path(),
    }
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=environment,
        cwd=HERE,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


_SCALING_CHILD = """
import json, time
import numpy as np
import datasets, measures
from sklearn_ndim import NoisyInfoMaxEmbedder

def memory(field):
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith(field))
    return int(line.split()[1]) * 1024

baseline = memory("VmRSS")
{load}
# The fit's own peak: reset the high-water mark once the data exist (Linux >= 4.0),
# so that the temporaries of generating them do not count.
with open("/proc/self/clear_refs", "w") as refs:
    refs.write("5")
before_fit = memory("VmRSS")
start = time.perf_counter()
model = NoisyInfoMaxEmbedder(16, random_state=0).fit(X)
fit_s = time.perf_counter() - start
peak = memory("VmHWM")
probe, _ = measures.probe_accuracies(model.transform(X[:20000]), y[:20000],
                                     model.transform(X_test), y_test)
w2 = measures.prior_match(model.transform(X_test), n_reference=20)["w2_ratio"]
print(json.dumps(dict(n=int(len(X)), fit_s=fit_s, peak_bytes=peak, baseline_bytes=baseline,
                      before_fit_bytes=before_fit, data_bytes=int(X.nbytes),
                      epochs=model.n_iter_, probe=probe, w2_ratio=w2)))
"""
# Code that makes each scaling child's data: X, y, X_test, y_test.
_SCALING_DATA = {
    "table": (
        "X, y = datasets.scaling_table({n})\nX_test, y_test = datasets.scaling_table(10000, seed=1)"
    ),
    # float32 pixels in [0, 1], as in the other image suites; the official test set.
    "fashion": 'X, X_test, y, y_test = datasets.load("fashion", n_train={n})',
}


#: The faster setting that the scaling page documents for tables: half the
#: epochs of a table's "auto" budget, a higher learning rate and a cosine decay
#: to zero (what "auto" gives images, without their prior penalty).
FAST_LEARNING_RATE = 3e-3


def _speed_method(method, table_epochs):
    """A fresh NI-DIM in one of its settings, or UMAP with its defaults, at d = 16.

    ``table_epochs`` is the "auto" budget of a table of these rows. "NI-DIM
    fast" is the faster setting; "NI-DIM table settings" trains images as
    tables are (``table_epochs`` at a constant 1e-3, no penalty), the
    default before images had their own. A name ending in " bf16" trains the
    same setting with ``mixed_precision=True``.
    """
    if method == "UMAP":
        return make(method, 16, max_epochs=None, random_state=0)
    mixed_precision = method.endswith(" bf16")
    setting = method.removesuffix(" bf16")
    if setting == "NI-DIM fast":
        epochs = math.ceil(table_epochs / 2)
        return NoisyInfoMaxEmbedder(
            16,
            max_epochs=epochs,
            learning_rate=FAST_LEARNING_RATE,
            callbacks=[LRScheduler(policy="CosineAnnealingLR", T_max=epochs)],
            prior_penalty=0.0,
            mixed_precision=mixed_precision,
            random_state=0,
        )
    if setting == "NI-DIM table settings":
        return NoisyInfoMaxEmbedder(
            16,
            max_epochs=table_epochs,
            learning_rate=1e-3,
            prior_penalty=0.0,
            mixed_precision=mixed_precision,
            random_state=0,
        )
    return NoisyInfoMaxEmbedder(16, mixed_precision=mixed_precision, random_state=0)


#: The settings timed on each data set: images add the one they trained with before.
_SPEED_METHODS = {
    "digits": ("NI-DIM", "NI-DIM fast", "NI-DIM bf16", "NI-DIM fast bf16", "UMAP"),
    "fashion": (
        "NI-DIM",
        "NI-DIM fast",
        "NI-DIM table settings",
        "NI-DIM bf16",
        "NI-DIM fast bf16",
        "UMAP",
    ),
}


def speed(settings, log):
    """Fit time against UMAP (the default fit and the faster setting, each also
    in bfloat16; on images also the table settings they had before), and
    probe and match over processes and streams.

    UMAP's first fit in a process compiles numba code, and how much depends
    on the data's size (above 4,096 rows it takes pynndescent's path), so
    each method first fits the data once in a fresh state (``first_fit_s``),
    then ``speed_repeats`` more times, alternating with the other method:
    ``fit_s``, which the ratio uses, is the median of those steady-state fits
    (one fit on a shared 2-core machine varies by 15 to 30%), and
    ``fit_s_min``/``fit_s_max`` their range.
    The fits are identical but for their time (fixed seeds), so probe and
    W2 ratio come from the last one.
    """
    rows = []
    repeats = settings["speed_repeats"]
    for name in ("digits", "fashion"):
        methods = _SPEED_METHODS[name]
        if name == "fashion" and not datasets.fashion_available():
            continue
        data = datasets.load(name, n_train=10_000, n_test=2_000)
        first_fit_s, times, last = {}, {method: [] for method in methods}, {}
        table_epochs = epochs_for({"epochs": None}, len(data[0]))
        for method in methods:
            start = time.perf_counter()
            _speed_method(method, table_epochs).fit(data[0])
            first_fit_s[method] = time.perf_counter() - start
        # Alternate the methods, so that a slow spell of the shared machine
        # falls on both rather than on one method's fits.
        for _ in range(repeats):
            for method in methods:
                last[method] = evaluate(_speed_method(method, table_epochs), data)
                times[method].append(last[method]["fit_s"])
        for method in methods:
            row = last[method]
            spread = times[method]
            row.update(fit_s=float(np.median(spread)), fit_s_min=min(spread), fit_s_max=max(spread))
            rows.append(
                {
                    "part": "versus UMAP",
                    "dataset": name,
                    "method": method,
                    "first_fit_s": first_fit_s[method],
                    "repeats": repeats,
                    **row,
                }
            )
            log(
                f"speed {name} {method}: fit {first_fit_s[method]:.1f}s then "
                + ", ".join(f"{t:.1f}s" for t in spread)
                + f", probe {row['probe']:.3f} W2 {row['w2_ratio']:.2f}"
            )
    data = datasets.load("digits")
    one = evaluate(ours(settings, 16, len(data[0]), batch_size=256), data)
    two = evaluate(_Distributed(ours(settings, 16, len(data[0]), batch_size=128)), data)
    rows += [
        {"part": "processes", "processes": 1, **one},
        {"part": "processes", "processes": 2, **two},
    ]
    log(
        f"processes: 1 {one['probe']:.3f}/{one['w2_ratio']:.2f}, "
        f"2 {two['probe']:.3f}/{two['w2_ratio']:.2f}"
    )
    # A stream against a batch fit over several seeds: one seed's difference is
    # within the seed-to-seed spread of the fit itself.
    for name in ("digits", "table"):
        data = datasets.load(name)
        for seed in settings["stream_seeds"]:
            fitted = ours(settings, 16, len(data[0]), random_state=seed)
            batch = evaluate(fitted, data)
            streamed = _Streamed(
                ours(settings, 16, len(data[0]), random_state=seed), 4, fitted.n_iter_
            )
            stream = evaluate(streamed, data)
            rows += [
                {"part": "stream", "dataset": name, "seed": seed, "mode": "fit", **batch},
                {
                    "part": "stream",
                    "dataset": name,
                    "seed": seed,
                    "mode": "partial_fit x4 chunks",
                    **stream,
                },
            ]
            log(
                f"stream {name} seed {seed}: fit {batch['probe']:.3f}/{batch['w2_ratio']:.2f}, "
                f"partial_fit {stream['probe']:.3f}/{stream['w2_ratio']:.2f}"
            )
    return rows


def scaling(settings, log):
    """Fit time and peak memory over 10x steps of rows, each fit in a fresh process.

    Tables of 50 features from 10^3 to 10^6 rows, and Fashion-MNIST training
    subsets up to the full 60,000 images (when installed). The peak is the
    process's resident high-water mark during the fit: it includes the
    imports and the data, not the temporaries of generating them.
    """
    plans = [("table", n) for n in settings["scaling_sizes"]]
    if datasets.fashion_available():
        plans += [("fashion", n) for n in settings["scaling_images"]]
    rows = []
    for name, n in plans:
        code = _SCALING_CHILD.format(load=_SCALING_DATA[name].format(n=n))
        row = _child(code, threads=2)
        rows.append({"part": "scaling", "dataset": name, **row})
        log(
            f"scaling {name} n={n}: fit {row['fit_s']:.1f}s, peak "
            f"{row['peak_bytes'] / 2**30:.2f} GiB ({row['before_fit_bytes'] / 2**30:.2f} GiB "
            "before the fit)"
        )
    return rows


class _Distributed:
    """fit through two gloo processes (sklearn_ndim.distributed.fit_distributed)."""

    def __init__(self, embedder):
        self.embedder = embedder

    def fit(self, X):
        self.fitted_ = fit_distributed(self.embedder, X, 2)
        return self

    def transform(self, X):
        return self.fitted_.transform(X)


class _Streamed:
    """partial_fit over ``chunks`` shuffled chunks per epoch, for ``epochs`` epochs."""

    def __init__(self, embedder, chunks, epochs):
        self.embedder, self.chunks, self.epochs = embedder, chunks, epochs

    def fit(self, X):
        rng = np.random.default_rng(0)
        for _ in range(self.epochs):
            for part in np.array_split(rng.permutation(len(X)), self.chunks):
                self.embedder.partial_fit(X[np.sort(part)])
        return self

    def transform(self, X):
        return self.embedder.transform(X)


# ---------------------------------------------------------------------- uses


def _outlier_rows(name, d, split, log):
    train, inliers, outliers = split
    rows = []
    for statistic in ("typicality", "reconstruction", "combined"):
        detector = OutlierDetector(
            NoisyInfoMaxEmbedder(d, random_state=0), statistic=statistic, random_state=0
        ).fit(train)
        result = measures.outlier_scores(
            detector.score_samples(inliers),
            detector.score_samples(outliers),
            detector.pvalues(inliers),
            detector.pvalues(outliers),
        )
        rows.append({"method": f"NI-DIM {statistic}", **result})
    flat = [np.asarray(part).reshape(len(part), -1) for part in split]
    peers = {
        "IsolationForest": IsolationForest(random_state=0),
        "LocalOutlierFactor": LocalOutlierFactor(novelty=True),
        "OneClassSVM": OneClassSVM(gamma="scale", nu=0.05),
        f"PCA({d}) log-likelihood": PCA(d, random_state=0),
    }
    for label, peer in peers.items():
        peer.fit(flat[0])
        rows.append(
            {
                "method": label,
                **measures.outlier_scores(peer.score_samples(flat[1]), peer.score_samples(flat[2])),
            }
        )
    for row in rows:
        row.update(part="outliers", dataset=name)
        log(f"outliers {name} {row['method']}: AUROC {row['auroc']:.3f}")
    return rows


def uses(settings, log):
    """Outlier detection, generation and independence against today's tools."""
    rows = []
    sets = [("digits", 16, [0, 3, 8]), ("table", 16, [0, 5])]
    if datasets.fashion_available():
        sets.append(("fashion", 16, [0]))
    for name, d, held_out_classes in sets:
        data = datasets.load(name, n_train=10_000, n_test=2_000)
        per_class = [
            _outlier_rows(name, d, datasets.without_class(data, c), log) for c in held_out_classes
        ]
        for position in range(len(per_class[0])):
            rows.append(_averaged([rows_[position] for rows_ in per_class]))
        rows += _generation_rows(name, d, data, settings, log)
        rows += _independence_rows(name, d, data, settings, log)
    return rows


def _generation_rows(name, d, data, settings, log):
    X_train, X_test = data[0], data[1]
    flat_train = X_train.reshape(len(X_train), -1)
    n = min(2000, len(X_test))
    model = ours(settings, d, len(X_train), fit_inverse_transform=True).fit(X_train)
    samples = {
        "NI-DIM decoder": model.sample(n, random_state=1),
        f"probabilistic PCA({d})": _ppca_samples(flat_train, d, n),
        "GaussianMixture(10)": GaussianMixture(10, covariance_type="diag", random_state=0)
        .fit(flat_train)
        .sample(n)[0],
    }
    rows = []
    for label, generated in samples.items():
        auroc = measures.two_sample_auroc(X_test.reshape(len(X_test), -1), generated.reshape(n, -1))
        rows.append({"part": "generation", "dataset": name, "method": label, "c2st_auroc": auroc})
        log(f"generation {name} {label}: C2ST AUROC {auroc:.3f}")
        if X_train.ndim == 4:
            np.save(
                settings["output"] / f"samples_{name}_{label.split()[0]}.npy",
                generated[:64].reshape(64, *X_train.shape[1:]),
            )
    return rows


def _ppca_samples(X, d, n, seed=0):
    """Draws from probabilistic PCA: ``x = W z + mean + e``, isotropic residual ``e``."""
    pca = PCA(d, random_state=seed).fit(X)
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, d)) * np.sqrt(pca.explained_variance_)
    noise = rng.standard_normal((n, X.shape[1])) * math.sqrt(pca.noise_variance_)
    return z @ pca.components_ + pca.mean_ + noise


def _independence_rows(name, d, data, settings, log):
    rows = []
    for method in ("NI-DIM", "PCA(whiten)", "FastICA"):
        model = make(
            method,
            d,
            max_epochs=epochs_for(settings, len(data[0])),
            own_epochs=our_epochs(settings),
            random_state=0,
        )
        model.fit(data[0])
        value = measures.mean_distance_correlation(model.transform(data[1]))
        rows.append(
            {
                "part": "independence",
                "dataset": name,
                "method": method,
                "distance_correlation": value,
            }
        )
        log(f"independence {name} {method}: mean distance correlation {value:.3f}")
    return rows


# ---------------------------------------------------------------------- tune


def tune(settings, log):
    """The peers' penalty weights, chosen once on an inner split of the digits training rows.

    Rule fixed in advance: among the weights whose validation probe is within
    0.02 of the best, the lowest validation W2 ratio.
    """
    X, _, y, _ = datasets.load("digits")
    X_fit, X_val, y_fit, y_val = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    rows = []
    grids = {
        "WAE-MMD": ("mmd_weight", (1.0, 10.0, 100.0, 1000.0)),
        "adversarial DIM": ("adversarial_weight", (0.1, 0.3, 1.0, 3.0)),
    }
    for method, (parameter, values) in grids.items():
        for value in values:
            epochs = epochs_for(settings, len(X_fit))
            model = make(method, 16, max_epochs=epochs, random_state=0, **{parameter: value})
            row = evaluate(model, (X_fit, X_val, y_fit, y_val))
            rows.append({"method": method, "parameter": parameter, "value": value, **row})
            log(
                f"tune {method} {parameter}={value}: "
                f"probe {row['probe']:.3f} W2 {row['w2_ratio']:.2f}"
            )
    return rows


# ------------------------------------------------------------------- penalty

PENALTY_GRID = (0.0, 10.0, 100.0)
PENALTY_NOISES = (0.0, 0.5, "auto")


def penalty(settings, log):
    """The prior penalty's trade-off: probe and held-out match per weight and noise.

    digits and the table over the whole grid (all seeds); the Fashion-MNIST
    subset at weight 100 over the noises; the full Fashion-MNIST at weight 100
    and the default noise, d = 16 and 64 (weight 0 is in the match and images
    suites).
    """
    plans = [
        ("digits", 16, PENALTY_GRID, PENALTY_NOISES),
        ("table", 16, PENALTY_GRID, PENALTY_NOISES),
    ]
    if datasets.fashion_available():
        plans += [("fashion", 16, (100.0,), PENALTY_NOISES)]
        plans += [("fashion-60k", d, (100.0,), ("auto",)) for d in (16, 64)]
    rows = []
    for name, d, weights, noises in plans:
        if name == "fashion-60k":
            data = datasets.load("fashion", n_train=None)
        else:
            data = datasets.load(
                name, n_train=settings["fashion_train"], n_test=settings["fashion_test"]
            )
        seeds = settings["seeds"] if name in ("digits", "table") else settings["seeds"][:1]
        for weight in weights:
            for noise in noises:
                per_seed = [
                    {
                        "dataset": name,
                        "d": d,
                        "method": "NI-DIM",
                        "penalty": weight,
                        "noise": str(noise),
                        "seed": seed,
                        **evaluate(
                            make(
                                "NI-DIM",
                                d,
                                max_epochs=our_epochs(settings),
                                random_state=seed,
                                noise_scale=noise,
                                prior_penalty=weight,
                            ),
                            data,
                        ),
                    }
                    for seed in seeds
                ]
                rows.append(_averaged(per_seed))
                log(
                    f"penalty {name} d={d} weight {weight} noise {noise}: "
                    f"probe {rows[-1]['probe']:.3f} W2 {rows[-1]['w2_ratio']:.2f}"
                )
    return rows


def splits(settings, log):
    """The default embedder against PCA(whiten) over several train/test splits.

    digits and the generated table, whose split seed also draws a new table;
    one model seed (0), so that the spread is that of the data. The ``match``
    suite measures one split over model seeds.
    """
    rows = []
    for name in ("digits", "table"):
        for split in settings["split_seeds"]:
            data = datasets.load(name, seed=split)
            for method in ("NI-DIM", "PCA(whiten)"):
                fitted = (
                    ours(settings, 16, len(data[0]))
                    if method == "NI-DIM"
                    else make(method, 16, random_state=0)
                )
                rows.append(
                    {"dataset": name, "d": 16, "split": split, "method": method}
                    | evaluate(fitted, data)
                )
            ours_row, pca_row = rows[-2], rows[-1]
            log(
                f"splits {name} {split}: NI-DIM {ours_row['probe']:.3f}/"
                f"{ours_row['w2_ratio']:.2f}, PCA(whiten) {pca_row['probe']:.3f}/"
                f"{pca_row['w2_ratio']:.2f}"
            )
    return rows


SUITES = {
    "match": match,
    "images": images,
    "speed": speed,
    "scaling": scaling,
    "uses": uses,
    "tune": tune,
    "penalty": penalty,
    "epochs": epochs,
    "terms": terms,
    "splits": splits,
}
