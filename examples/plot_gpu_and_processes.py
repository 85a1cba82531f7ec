"""
====================================================
GPUs, several processes, and saving the fitted model
====================================================

Three practical matters on the digits table:

- training on a GPU when there is one (``device=``);
- training data-parallel over several local processes with
  :func:`sklearn_ndim.distributed.fit_distributed`;
- saving a fitted embedder to a file that runs no code when loaded
  (:func:`sklearn_ndim.io.save` and :func:`~sklearn_ndim.io.load`, safetensors).

The question for the second: does a model trained over two processes embed as well as one
trained in a single process?

.. note::
   ``fit_distributed`` starts its processes with the ``spawn`` method, which re-imports the
   script that started them. In a script, the code that fits must therefore sit under
   ``if __name__ == "__main__":``, or every new process would run the script again (and fail).
   The cells below that train use that guard; it is harmless where it is not needed.
"""

# %%
# Data and the two checks
# -----------------------
# Cheap code (imports, data) may stay outside the guard.
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_ndim import NoisyInfoMaxEmbedder
from sklearn_ndim.distributed import fit_distributed
from sklearn_ndim.io import load, save
from sklearn_ndim.metrics import prior_match_report

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)


def evaluate(name, embedder):
    """Held-out probe accuracy and W2 ratio of a fitted embedder."""
    Z_train, Z_test = embedder.transform(X_train), embedder.transform(X_test)
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000))
    accuracy = probe.fit(Z_train, y_train).score(Z_test, y_test)
    ratio = prior_match_report(Z_test).sw2_ratio
    print(
        f"{name:<12} batch_size_={embedder.batch_size_:<4} noise_scale_={embedder.noise_scale_:.3f}"
        f"  probe accuracy {accuracy:.3f}  W2 ratio {ratio:.2f}"
    )
    return accuracy, ratio


# %%
# One process, on a GPU if there is one
# -------------------------------------
# ``device`` takes any torch device string (``"cuda"``, ``"cuda:1"``, ``"mps"``) or ``"auto"``.
# On CUDA devices that support it, the encoder trains in bfloat16 mixed precision; inference is
# always in full precision. A model fitted on a GPU is saved and pickled with CPU tensors, so it
# loads on a machine without one.
device = "cuda" if torch.cuda.is_available() else "cpu"

if __name__ == "__main__":
    print("training on:", device)
    start = time.perf_counter()
    single = NoisyInfoMaxEmbedder(n_components=16, device=device, random_state=0).fit(X_train)
    single_time = time.perf_counter() - start
    print(f"one process: {single_time:.1f} s, {single.n_iter_} epochs")
    single_scores = evaluate("1 process", single)

# %%
# Two processes
# -------------
# :func:`~sklearn_ndim.distributed.fit_distributed` fits a clone of the estimator in each of
# ``n_processes`` processes joined in a ``torch.distributed`` group (``gloo`` on CPUs, ``nccl``
# on GPUs, one GPU per process). Each process trains on its own share of the rows, and each
# row is contrasted with the rows of *all* processes, so the effective batch doubles: with the
# default ``batch_size=256`` and two processes, ``batch_size_`` is 512, and ``noise_scale="auto"``
# (capacity ``ln B``) resolves to a smaller noise. Every process ends with the same model; the
# one of process 0 is returned.
if __name__ == "__main__":
    start = time.perf_counter()
    double = fit_distributed(
        NoisyInfoMaxEmbedder(n_components=16, random_state=0), X_train, n_processes=2
    )
    double_time = time.perf_counter() - start
    print(f"two processes: {double_time:.1f} s (including starting them), {double.n_iter_} epochs")
    double_scores = evaluate("2 processes", double)

# %%
# The picture: both numbers for both fits.
import matplotlib.pyplot as plt

if __name__ == "__main__":
    names = ["1 process", "2 processes"]
    fig, (ax_acc, ax_w2) = plt.subplots(1, 2, figsize=(8, 3.2), layout="constrained")
    ax_acc.bar(names, [single_scores[0], double_scores[0]], color=["C0", "C1"])
    ax_acc.set_ylim(0, 1)
    ax_acc.set_ylabel("held-out probe accuracy")
    ax_acc.set_title("class information")
    ax_w2.bar(names, [single_scores[1], double_scores[1]], color=["C0", "C1"])
    ax_w2.axhline(1.0, color="black", linestyle="--", linewidth=0.8, label="sampling floor")
    ax_w2.set_ylabel("held-out W2 ratio")
    ax_w2.set_title("distance to N(0, I)")
    ax_w2.legend()
    plt.show()

# %%
# The two fits are different models, not the same computation split in two: the effective
# batch, hence the ``"auto"`` noise, differs, and each process sees half the rows per epoch
# (half the optimiser steps of the single-process fit). Expect similar quality, not equal
# numbers: in this run the two fits kept about the same class information, and the
# two-process model matched the prior less closely. On a machine with two cores, two processes
# do not train faster (each gets one core, and starting them costs seconds): the use of
# ``fit_distributed`` is several GPUs, or many cores, on data large enough for the start-up to
# pay off. On a cluster, ``torchrun`` starts the processes instead (see the module
# documentation of :mod:`sklearn_ndim.distributed`).
#
# Saving and loading
# ------------------
# :func:`sklearn_ndim.io.save` writes one safetensors file: the weights and input scaling as
# tensors, everything else as JSON, with a checksum. Loading parses JSON and reads tensors;
# nothing is unpickled, so a model file from elsewhere cannot run code on your machine (a
# pickle or joblib file can). ``load(path, device=...)`` chooses where the model runs.
if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "digits.safetensors"
        save(double, path)
        print(f"saved {path.name}: {path.stat().st_size / 1024:.0f} KiB")
        restored = load(path, device="cpu")
    same = np.array_equal(restored.transform(X_test), double.transform(X_test))
    print("loaded model gives the same embedding:", same)
    print("restored:", restored)
