"""Training over several processes or GPUs with torch.distributed.

:meth:`NoisyInfoMaxEmbedder.fit <sklearn_ndim.NoisyInfoMaxEmbedder.fit>` trains
data-parallel whenever it runs in an initialised ``torch.distributed``
process group of more than one process:
each process passes the same ``X``, trains on its own equal share of the
rows inside :class:`~torch.nn.parallel.DistributedDataParallel` (with
neighbour views drawn from all rows), and scores its rows against the
embeddings gathered from every process. The effective
batch, and InfoNCE's ``ln B`` ceiling, grow with the number of processes
(``batch_size_`` reports it); all processes end with the same model.

Two ways to start the processes:

- ``torchrun --nproc_per_node=4 train.py`` on one or several machines, where
  ``train.py`` calls ``torch.distributed.init_process_group()``, fits, and
  saves the model from rank 0 (see the docs' distributed page);
- :func:`fit_distributed`, which starts local processes itself.

Hyper-parameter searches over a cluster need no process group: run
``GridSearchCV`` under joblib's Dask backend (``joblib.parallel_backend("dask")``
with a ``dask.distributed.Client``; ``pip install 'sklearn-ndim[distributed]'``);
each candidate then fits in one worker.
"""

import io
import multiprocessing
import numbers
import os
import pickle
import re
import socket
import sys
import tempfile
import types
import warnings
from datetime import timedelta
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from sklearn.base import clone
from sklearn.utils import check_scalar

from ._distributed import leave_worker_process
from ._validation import check_embedder, warn_again

__all__ = ["fit_distributed"]


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _worker(rank, size, port, backend, arguments, path, threads, shown):
    torch.set_num_threads(threads)
    estimator, X = _read_arguments(arguments)
    # Each warning once: the caller has seen ``shown`` already, and process 0
    # speaks for all (the others train alike on equal shares).
    if rank:
        warnings.simplefilter("ignore")
    for message, category in shown:
        warnings.filterwarnings("ignore", message=re.escape(message) + r"\Z", category=category)
    dist.init_process_group(
        backend,
        init_method=f"tcp://127.0.0.1:{port}",
        rank=rank,
        world_size=size,
        timeout=timedelta(minutes=30),
    )
    try:
        if backend == "nccl":
            gpu = rank % torch.cuda.device_count()
            torch.cuda.set_device(gpu)  # NCCL's collectives run on the current device
            estimator.set_params(device=f"cuda:{gpu}")
        # Every process holds its arguments: their file can go.
        dist.barrier(device_ids=[gpu]) if backend == "nccl" else dist.barrier()
        if rank == 0:
            os.remove(arguments)
        estimator.fit(X)
        if rank == 0:
            from .io import save

            save(estimator, path)
        dist.barrier()
    finally:
        dist.destroy_process_group()
    leave_worker_process()


def fit_distributed(estimator, X, n_processes=2, *, backend="auto"):
    """Fit a clone of ``estimator`` data-parallel over local processes.

    Starts ``n_processes`` processes (``spawn``), joins them in a
    torch.distributed group on this machine, fits a clone of ``estimator``
    on ``X`` in each (see the module documentation), and returns the model
    of process 0, passed back through a safe model file
    (:func:`sklearn_ndim.io.save`).

    Parameters
    ----------
    estimator : NoisyInfoMaxEmbedder
        Unfitted or fitted; a clone is fitted, ``estimator`` is not changed.
    X : array-like
        Training rows or images; every process receives a copy, through a
        file in ``tempfile.gettempdir()`` (``TMPDIR``), removed once every
        process has read it; a memmap is passed as the array it holds. For
        data larger than memory, start the processes with ``torchrun``.
    n_processes : int, default=2
        Number of processes, >= 2.
    backend : {"auto", "gloo", "nccl"}, default="auto"
        ``"nccl"`` puts process ``r`` on GPU ``r`` (modulo the GPUs present);
        ``"auto"`` picks it when the estimator's device is CUDA, else
        ``"gloo"`` (CPU processes, each with an equal share of the cores
        this process may use, at most ``OMP_NUM_THREADS`` threads when set).

    Returns
    -------
    fitted : NoisyInfoMaxEmbedder
        The fitted model of process 0, with ``estimator``'s parameters and on
        its device. Parameters, the device and ``X`` are checked here before
        any process starts; an error inside a process arrives as torch's
        ``ProcessRaisedException`` with the process's traceback. Parameters
        that cannot be pickled, or that new processes cannot import (a class
        defined in a notebook), are named before any process starts. The checks'
        warnings are raised here, as ``fit`` raises them; warnings from
        training are printed by process 0 alone, once.

    Notes
    -----
    The processes are started with ``spawn``, which imports the calling
    script again in each of them. In a script, call this function under
    ``if __name__ == "__main__":``, as for any :mod:`multiprocessing` code;
    otherwise every process tries to start processes of its own and the
    call fails (Python's "bootstrapping phase" error) or hangs. Notebooks,
    IPython and sphinx-gallery need no guard. An interrupt (Ctrl-C) stops
    the processes and leaves ``estimator`` as it was.
    """
    check_embedder(estimator, "fit_distributed trains")
    if isinstance(n_processes, bool) or not isinstance(n_processes, numbers.Integral):
        raise TypeError(f"n_processes must be an integer >= 2; got {n_processes!r}.")
    n_processes = int(n_processes)
    check_scalar(n_processes, "n_processes", int, min_val=2)
    if backend not in ("auto", "gloo", "nccl"):
        raise ValueError(f"backend must be 'auto', 'gloo' or 'nccl'; got {backend!r}.")
    on_cuda = str(estimator.get_params()["device"]).startswith("cuda")
    if backend == "auto":
        backend = "nccl" if on_cuda and torch.cuda.is_available() else "gloo"
    if backend == "nccl" and not torch.cuda.is_available():
        raise ValueError("backend='nccl' needs CUDA, which this torch build does not have.")
    shown = _check_before_spawning(estimator, X, n_processes)
    threads = _threads_per_process(n_processes)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "rank0.safetensors"
        arguments = Path(folder) / "arguments.pkl"
        _write_arguments(arguments, clone(estimator), X)
        earlier = set(multiprocessing.active_children())
        try:
            # Starting takes seconds (each process imports torch and reads X): an
            # interrupt may come before the processes are handed back.
            processes = torch.multiprocessing.start_processes(
                _worker,
                args=(
                    n_processes,
                    _free_port(),
                    backend,
                    str(arguments),
                    str(path),
                    threads,
                    shown,
                ),
                nprocs=n_processes,
                start_method="spawn",
                join=False,
            )
            while not processes.join():
                pass
        except BaseException as error:
            _stop(set(multiprocessing.active_children()) - earlier)
            if isinstance(error, KeyboardInterrupt):
                raise KeyboardInterrupt(
                    "fit_distributed was interrupted; its processes were stopped and the "
                    "estimator was left as it was."
                ) from None
            raise
        from .io import load

        params = estimator.get_params()
        encoder = None if isinstance(params["encoder"], str) else params["encoder"]
        # On the estimator's own device, with its own parameters (process 0 ran
        # with device="cuda:0" under NCCL); the file keeps neither the live
        # callbacks nor a RandomState instance, which are the caller's.
        fitted = load(path, encoder=encoder, device=params["device"])
        return fitted.set_params(callbacks=params["callbacks"], random_state=params["random_state"])


def _write_arguments(path, estimator, X):
    """Pickle the estimator and the rows to the file that each process reads.

    Through a file, not the pipe that starts a process: a process that fails
    to unpickle its arguments leaves the pipe unread, and the parent blocked
    writing to it for good once they exceeded the pipe's buffer. A memmap is
    passed as the array it holds (the processes receive a copy whatever it
    is), so that they train as on rows in memory.
    """
    _check_importable_in_new_processes(estimator)
    if isinstance(X, np.memmap):
        X = np.asarray(X)
    try:
        with open(path, "wb") as file:
            pickle.dump((estimator, X), file, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError) as error:
        what = next(
            (
                f"its parameter {name}={value!r}"
                for name, value in estimator.get_params(deep=False).items()
                if not _picklable(value)
            ),
            "X",
        )
        raise TypeError(
            f"fit_distributed passes the estimator and X to its processes by pickling, and "
            f"{what} cannot be pickled ({type(error).__name__}: {error}). Define classes and "
            "functions at the top level of a module, and leave locks, files and lambdas out "
            "of the parameters."
        ) from error


def _picklable(value):
    try:
        pickle.dumps(value)
    except Exception:
        return False
    return True


class _MainReferences(pickle.Pickler):
    """A pickler that records the classes and functions of ``__main__`` it pickles by name."""

    def __init__(self, file):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.names = []

    def persistent_id(self, obj):
        # Lambdas and local definitions cannot be pickled at all: _write_arguments says so.
        if (
            isinstance(obj, type | types.FunctionType)
            and obj.__module__ == "__main__"
            and "<" not in obj.__qualname__
        ):
            self.names.append(obj.__qualname__)
        return None


def _check_importable_in_new_processes(estimator):
    """Refuse classes and functions of an interactive ``__main__``, which new processes lack.

    A process started with ``spawn`` imports a script's ``__main__`` again (its
    top level; a class under ``if __name__ == "__main__":`` fails there, with
    the process's own error), but a notebook's, IPython's or ``python -c``'s
    cannot be imported at all.
    """
    if hasattr(sys.modules["__main__"], "__file__"):
        return
    pickler = _MainReferences(io.BytesIO())
    try:
        pickler.dump(estimator)
    except Exception:  # _write_arguments explains what cannot be pickled
        pass
    if pickler.names:
        names = ", ".join(sorted(set(pickler.names)))
        raise ValueError(
            f"fit_distributed starts new Python processes, which cannot import {names}: it is "
            "defined in this interactive session (a notebook, IPython or python -c). Move it "
            "to a module file (my_encoders.py, say) and import it from there."
        )


def _read_arguments(path):
    try:
        with open(path, "rb") as file:
            return pickle.load(file)
    except (AttributeError, ImportError) as error:
        raise RuntimeError(
            f"This process could not rebuild the estimator ({type(error).__name__}: {error}). "
            "A class or function among its parameters (a custom encoder, callbacks) must be "
            "importable by new processes: define it at the top level of a module file, not "
            'under if __name__ == "__main__":.'
        ) from error


def _threads_per_process(n_processes):
    """An equal share of the cores this process may use, at most ``OMP_NUM_THREADS`` when set."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    share = max(1, (usable or 1) // n_processes)
    # OpenMP reads "4", " 4 " and "4,2" (nested levels) as 4 threads at the outer level.
    try:
        limit = int(os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip())
    except ValueError:
        return share
    return min(share, limit) if limit > 0 else share


def _stop(processes):
    """Terminate the ``processes`` that still run (after an interrupt or a failed one)."""
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join()


def _check_before_spawning(estimator, X, n_processes):
    """Check here, in this process, not in each child.

    Bad parameters, devices and rows raise; the checks' warnings reach the
    caller as ordinary warnings, and their ``(message, category)`` pairs are
    returned so that the processes do not print them again.
    """
    from ._fitting import check_fit_arguments

    probe = clone(estimator)
    probe._validate_params()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        checked = check_fit_arguments(probe, X, n_processes)
    warn_again(caught)  # at the caller's line, under the caller's filters, as fit raises them
    # Process 0 hands the model back through a model file: a prior that the
    # file cannot name would fail only after the whole fit.
    from .io import _check_prior_round_trips

    _check_prior_round_trips(checked.prior)
    return [(str(warning.message), warning.category) for warning in caught]
