"""The suites that time fits: ``speed`` (against UMAP, over processes and streams)
and ``scaling`` (fit time and peak memory over 10x steps of rows, each in a
fresh process).
"""

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import datasets
import numpy as np
from harness import epochs_for, evaluate, ours
from methods import make
from skorch.callbacks import LRScheduler

import sklearn_ndim
from sklearn_ndim import NoisyInfoMaxEmbedder
from sklearn_ndim.distributed import fit_distributed

HERE = Path(__file__).resolve().parent


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
