"""Run every example of the gallery (``examples/plot_*.py``) with training cut short.

Each example runs as a script (``runpy.run_path(..., run_name="__main__")``) in a fresh
namespace, in a temporary working directory, with matplotlib's Agg backend. Training is
shortened by patching the one place where the number of epochs is resolved, and the decoder's
minimum number of steps; the examples' code, data and plots are otherwise those of the gallery,
so any exception in an example fails its test. The numbers the examples print are not checked:
two epochs give embeddings of no particular quality.
"""

import runpy
from pathlib import Path

import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg", force=True)

import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from sklearn.base import clone  # noqa: E402

from sklearn_ndim import _fitting, _training, distributed  # noqa: E402

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("plot_*.py"))

#: Epochs of every fit in the quick runs.
QUICK_EPOCHS = 2

#: Examples whose quick run still takes well over ten seconds: UMAP compiles its numba code
#: (about half a minute), and fit_distributed starts fresh Python processes.
SLOW_EXAMPLES = {"plot_compare_methods.py", "plot_gpu_and_processes.py"}


def _quick_fit_distributed(real):
    """``fit_distributed`` with ``max_epochs`` set on the estimator.

    Its processes are spawned, so they import sklearn_ndim afresh, without this test's
    patch of ``resolve_max_epochs``.
    """

    def fit_distributed(estimator, X, n_processes=2, **kwargs):
        quick = clone(estimator).set_params(max_epochs=QUICK_EPOCHS)
        return real(quick, X, n_processes, **kwargs)

    return fit_distributed


@pytest.fixture
def quick_training(monkeypatch):
    monkeypatch.setattr(_fitting, "resolve_max_epochs", lambda *args, **kwargs: QUICK_EPOCHS)
    monkeypatch.setattr(_training, "MIN_DECODER_STEPS", 10)
    monkeypatch.setattr(
        distributed, "fit_distributed", _quick_fit_distributed(distributed.fit_distributed)
    )


def test_examples_are_found():
    assert len(EXAMPLES) >= 11, EXAMPLES
    assert (EXAMPLES_DIR / "README.txt").exists()


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(path, id=path.name, marks=[pytest.mark.slow] * (path.name in SLOW_EXAMPLES))
        for path in EXAMPLES
    ],
)
def test_example_runs(path, quick_training, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    threads = torch.get_num_threads()
    try:
        # Examples may seed torch's global generator; later tests keep their own state.
        with torch.random.fork_rng():
            runpy.run_path(str(path), run_name="__main__")
    finally:
        plt.close("all")
        # UMAP's numba code changes the OpenMP thread count torch shares; later tests
        # must not inherit it.
        torch.set_num_threads(threads)
