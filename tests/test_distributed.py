"""Data-parallel training with torch.distributed (gloo processes on the CPU), and Dask."""

import pickle
import socket
import sys
import types
from datetime import timedelta

import numpy as np
import pytest
import torch
import torch.distributed as dist
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats
from sklearn.decomposition import PCA
from skorch.callbacks import Callback

from sklearn_ndim import NoisyInfoMaxEmbedder
from sklearn_ndim._distributed import (
    ProcessGroup,
    average_gradients,
    data_parallel,
    initialised_group,
    leave_worker_process,
)
from sklearn_ndim._model import InfoMaxModule, MLPEncoder, QuadraticCritic
from sklearn_ndim._objective import contrastive_loss
from sklearn_ndim._priors import resolve_prior
from sklearn_ndim.distributed import fit_distributed


def _module(prior_penalty=0.0):
    """A module calibrated on seeded rows: in eval mode every process normalises alike."""
    torch.manual_seed(0)
    encoder = MLPEncoder(5, 3, (8,))
    module = InfoMaxModule(
        encoder,
        3,
        resolve_prior("gaussian"),
        0.0,
        QuadraticCritic(0.5),
        (5,),
        prior_penalty=prior_penalty,
    ).eval()
    with torch.no_grad():
        module.normalizer.calibrate(module.encode(torch.randn(64, 5)))
    return module


def _directions():
    # Without noise the generator draws only the penalty's directions: the
    # same on every process and in the one-process reference.
    return torch.Generator().manual_seed(7)


def _identity_views(x, indices, generator):
    return x


def _batch():
    return torch.randn(16, 5, generator=torch.Generator().manual_seed(1))


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _join(rank, port):
    """Join the two-process gloo group of a test."""
    dist.init_process_group(
        "gloo",
        init_method=f"tcp://127.0.0.1:{port}",
        rank=rank,
        world_size=2,
        timeout=timedelta(seconds=60),
    )


def _step_worker(rank, port, folder, prior_penalty):
    _join(rank, port)
    try:
        module = _module(prior_penalty).eval()
        rows = _batch()[rank * 8 : (rank + 1) * 8]
        with data_parallel(initialised_group()):
            loss, mutual_info = contrastive_loss(
                module, rows, torch.arange(8), _identity_views, _directions()
            )
        loss.backward()
        # The library's own averaging (the decoder's steps use it), checked below
        # against the one-process gradients of the whole batch.
        average_gradients(module.parameters())
        grads = [p.grad.clone() for p in module.parameters()]
        with open(f"{folder}/rank{rank}.pkl", "wb") as handle:
            pickle.dump((loss.item(), mutual_info.item(), grads), handle)
        # As fit_distributed does: a process that tears its group down while the
        # other still completes a collective makes gloo abort that one.
        dist.barrier()
    finally:
        dist.destroy_process_group()
    leave_worker_process()


@pytest.mark.parametrize("prior_penalty", [0.0, 3.0])
def test_gathered_negatives_give_exactly_the_full_batch_loss_and_gradients(tmp_path, prior_penalty):
    port = _free_port()
    torch.multiprocessing.start_processes(
        _step_worker, args=(port, str(tmp_path), prior_penalty), nprocs=2, start_method="spawn"
    )
    results = [pickle.loads((tmp_path / f"rank{r}.pkl").read_bytes()) for r in range(2)]
    module = _module(prior_penalty).eval()
    loss, mutual_info = contrastive_loss(
        module, _batch(), torch.arange(16), _identity_views, _directions()
    )
    loss.backward()
    # The penalty sees the rows of both processes, as the one process sees its batch.
    assert np.mean([r[0] for r in results]) == pytest.approx(loss.item(), rel=1e-5)
    if prior_penalty == 0:
        assert results[0][1] == pytest.approx(np.log(16) - results[0][0], rel=1e-6)
    for parameter, distributed_grad in zip(module.parameters(), results[0][2], strict=True):
        torch.testing.assert_close(distributed_grad, parameter.grad, rtol=1e-4, atol=1e-6)
    for grad_0, grad_1 in zip(results[0][2], results[1][2], strict=True):
        torch.testing.assert_close(grad_0, grad_1, rtol=0, atol=0)


@pytest.mark.slow
def test_two_gloo_processes_match_one_process_on_digits():
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    from sklearn_ndim.metrics import prior_match_report

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=0, stratify=y
    )

    def probe_and_match(embedder):
        Z_train, Z_test = embedder.transform(X_train), embedder.transform(X_test)
        probe = LogisticRegression(max_iter=3000).fit(Z_train, y_train).score(Z_test, y_test)
        return probe, prior_match_report(Z_test, n_reference=20).sw2_ratio

    # "Within noise": two processes land inside the spread of one-process fits
    # over three seeds, widened by the tolerances (0.01 probe, 0.05 W2).
    ones = [
        NoisyInfoMaxEmbedder(16, batch_size=256, random_state=seed).fit(X_train)
        for seed in range(3)
    ]
    two = fit_distributed(NoisyInfoMaxEmbedder(16, batch_size=128, random_state=0), X_train, 2)
    assert two.batch_size_ == ones[0].batch_size_ == 256
    assert two.noise_scale_ == pytest.approx(ones[0].noise_scale_)
    probes, matches = zip(*(probe_and_match(one) for one in ones), strict=True)
    probe_two, match_two = probe_and_match(two)
    assert min(probes) - 0.01 <= probe_two <= max(probes) + 0.01
    assert min(matches) - 0.05 <= match_two <= max(matches) + 0.05


def _unseeded_fit_worker(rank, port, folder):
    _join(rank, port)
    try:
        X = np.random.default_rng(0).normal(size=(120, 5))
        embedder = NoisyInfoMaxEmbedder(
            2, max_epochs=2, hidden_layer_sizes=(8,), batch_size=20, fit_inverse_transform=True
        ).fit(X)
        decoder = [p.detach().clone() for p in embedder._decoder.parameters()]
        with open(f"{folder}/rank{rank}.pkl", "wb") as handle:
            pickle.dump((embedder._seed, decoder, embedder.transform(X)), handle)
        dist.barrier()
    finally:
        dist.destroy_process_group()
    leave_worker_process()


def test_processes_without_a_random_state_train_one_model(tmp_path):
    # Each process draws its own seed from random_state=None; process 0's is
    # used by all, or the decoders (which DDP does not broadcast) would start
    # from different weights and be averaged into nonsense.
    port = _free_port()
    torch.multiprocessing.start_processes(
        _unseeded_fit_worker, args=(port, str(tmp_path)), nprocs=2, start_method="spawn"
    )
    (seed0, decoder0, Z0), (seed1, decoder1, Z1) = (
        pickle.loads((tmp_path / f"rank{r}.pkl").read_bytes()) for r in range(2)
    )
    assert seed0 == seed1
    for a, b in zip(decoder0, decoder1, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    np.testing.assert_array_equal(Z0, Z1)


def _rows_check_worker(rank, port, folder, case):
    _join(rank, port)
    try:
        X = np.random.default_rng(0).normal(size=(60, 3))
        if case == "other rows":  # rows read per process, as a torchrun script might
            X = np.random.default_rng(rank).normal(size=(60, 3))
        elif case == "more rows":
            X = X[: 40 + 20 * rank]
        elif case == "other layout":  # the same rows, column-major (a DataFrame's values)
            X = np.asfortranarray(X) if rank == 0 else X
        elif case == "one fails" and rank == 0:
            X = np.where(X > 1, np.nan, X)
        embedder = NoisyInfoMaxEmbedder(2, max_epochs=1, random_state=0)
        try:
            embedder.fit(X)
            outcome = "fitted"
            with pytest.warns(UserWarning, match="partial_fit is not data-parallel"):
                embedder.partial_fit(X)  # a stream after a data-parallel fit
        except ValueError as error:
            outcome = str(error)
        with pytest.warns(UserWarning, match="partial_fit is not data-parallel"):
            stream = NoisyInfoMaxEmbedder(2, max_epochs=1, batch_size=16)
            stream.partial_fit(np.random.default_rng(rank).normal(size=(30, 3)))
        with open(f"{folder}/rank{rank}.txt", "w") as handle:
            handle.write(outcome)
        dist.barrier()
    finally:
        dist.destroy_process_group()
    leave_worker_process()


@pytest.mark.parametrize(
    "case, expected",
    [
        ("other rows", ["were given different rows (rows per process: 60, 60"] * 2),
        ("more rows", ["were given different rows (rows per process: 40, 60"] * 2),
        ("other layout", ["fitted", "fitted"]),
        ("one fails", ["NaN", "Process 0 of this torch.distributed group failed its checks"]),
    ],
)
def test_processes_given_different_rows_are_refused_in_every_process(tmp_path, case, expected):
    torch.multiprocessing.start_processes(
        _rows_check_worker,
        args=(_free_port(), str(tmp_path), case),
        nprocs=2,
        start_method="spawn",
    )
    for rank in range(2):
        assert expected[rank] in (tmp_path / f"rank{rank}.txt").read_text()


def _sleeping_worker(rank, *args):
    import time

    time.sleep(60)


def test_an_interrupted_fit_distributed_stops_its_processes(monkeypatch):
    started = []
    real_start = torch.multiprocessing.start_processes

    def start_then_interrupt(function, args, nprocs, start_method, join):
        context = real_start(_sleeping_worker, (), nprocs, join=False, start_method=start_method)
        started.append(context)

        class Interrupted:
            processes = context.processes

            def join(self):
                raise KeyboardInterrupt

        return Interrupted()

    monkeypatch.setattr(torch.multiprocessing, "start_processes", start_then_interrupt)
    embedder = NoisyInfoMaxEmbedder(2)
    with pytest.raises(KeyboardInterrupt, match="processes were stopped and the estimator"):
        fit_distributed(embedder, np.random.default_rng(0).normal(size=(40, 3)), 2)
    assert not any(process.is_alive() for process in started[0].processes)
    assert not hasattr(embedder, "n_features_in_")


def test_an_interrupt_while_the_processes_start_stops_them(monkeypatch):
    started = []
    real_start = torch.multiprocessing.start_processes

    def interrupted_while_starting(function, args, nprocs, start_method, join):
        started.append(
            real_start(_sleeping_worker, (), nprocs, join=False, start_method=start_method)
        )
        raise KeyboardInterrupt

    monkeypatch.setattr(torch.multiprocessing, "start_processes", interrupted_while_starting)
    with pytest.raises(KeyboardInterrupt, match="processes were stopped"):
        fit_distributed(NoisyInfoMaxEmbedder(2), np.random.default_rng(0).normal(size=(40, 3)), 2)
    assert not any(process.is_alive() for process in started[0].processes)


def test_processes_get_an_equal_share_of_the_usable_cores(monkeypatch):
    from sklearn_ndim import distributed

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(distributed.os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    assert distributed._threads_per_process(2) == 1
    assert distributed._threads_per_process(5) == 1
    monkeypatch.setattr(distributed.os, "sched_getaffinity", lambda pid: set(range(8)))
    assert distributed._threads_per_process(2) == 4
    monkeypatch.setenv("OMP_NUM_THREADS", "3")  # a limit, not a count to multiply
    assert distributed._threads_per_process(2) == 3
    assert distributed._threads_per_process(4) == 2
    for spelled, expected in ((" 3 ", 3), ("3,2", 3), ("0", 4), ("abc", 4), ("\u00b2", 4)):
        monkeypatch.setenv("OMP_NUM_THREADS", spelled)
        assert distributed._threads_per_process(2) == expected, spelled


@given(n_rows=st.integers(0, 60), size=st.integers(2, 5))
def test_shards_are_equal_and_disjoint_and_the_others_are_the_rest(n_rows, size):
    X = np.arange(n_rows)
    shards = [ProcessGroup(rank, size).shard(X) for rank in range(size)]
    assert {len(shard) for shard in shards} == {n_rows // size}
    assert len(set(np.concatenate(shards))) == size * (n_rows // size)
    for rank, shard in enumerate(shards):
        group = ProcessGroup(rank, size)
        assert np.array_equal(X[group.shard_indices(n_rows)], shard)
        assert sorted([*shard, *group.others(X)]) == list(X)


def test_fit_distributed_checks_its_arguments():
    with pytest.raises(ValueError, match="n_processes"):
        fit_distributed(NoisyInfoMaxEmbedder(), np.zeros((10, 2)), 1)
    with pytest.raises(ValueError, match="backend"):
        fit_distributed(NoisyInfoMaxEmbedder(), np.zeros((10, 2)), 2, backend="mpi")
    with pytest.raises(TypeError, match="trains a NoisyInfoMaxEmbedder; got PCA"):
        fit_distributed(PCA(2), np.zeros((10, 2)), 2)
    with pytest.raises(TypeError, match="n_processes must be an integer"):
        fit_distributed(NoisyInfoMaxEmbedder(), np.zeros((10, 2)), True)
    with pytest.raises(ValueError, match="n_processes"):
        fit_distributed(NoisyInfoMaxEmbedder(), np.zeros((10, 2)), np.int64(1))  # numpy ints ok


def test_fit_distributed_refuses_bad_input_before_starting_processes(monkeypatch):
    def no_processes(*args, **kwargs):
        raise AssertionError("processes started although the input was bad")

    monkeypatch.setattr(torch.multiprocessing, "start_processes", no_processes)
    X = np.random.default_rng(0).normal(size=(40, 3))
    with pytest.raises(ValueError, match="n_components"):
        fit_distributed(NoisyInfoMaxEmbedder(n_components=0), X, 2)
    with pytest.raises(ValueError, match="NaN"):
        fit_distributed(NoisyInfoMaxEmbedder(2), np.where(X > 1, np.nan, X), 2)
    with pytest.raises(ValueError, match="3 rows among 2 processes, 1 each"):
        fit_distributed(NoisyInfoMaxEmbedder(2), X[:3], 2)
    with pytest.raises(TypeError, match="n_components"):
        fit_distributed(NoisyInfoMaxEmbedder(n_components=True), X, 2)
    with pytest.raises((TypeError, ValueError), match="callback"):
        fit_distributed(NoisyInfoMaxEmbedder(2, callbacks=[object()]), X, 2)
    with pytest.raises(ValueError, match="whiten"):  # batches of 4 rows cannot whiten 8 dims
        fit_distributed(NoisyInfoMaxEmbedder(8, batch_size=4), X, 2)
    if not torch.cuda.is_available():
        with pytest.raises((ValueError, RuntimeError), match="cuda|CUDA"):
            fit_distributed(NoisyInfoMaxEmbedder(2, device="cuda"), X, 2)
    with pytest.raises(ValueError, match="Every feature of X is constant"):
        fit_distributed(NoisyInfoMaxEmbedder(2), np.ones((40, 3)), 2)
    histogram = stats.rv_histogram(np.histogram(X[:, 0], 10))()
    with pytest.raises(ValueError, match="load could not rebuild it"):
        fit_distributed(NoisyInfoMaxEmbedder(2, prior=histogram), X, 2)


class _HoldsAFunction(Callback):
    def __init__(self, function=None):
        self.function = function


class _Unimportable(torch.nn.Module):
    pass


def test_what_cannot_reach_the_processes_is_named_before_they_start(monkeypatch, tmp_path):
    def no_processes(*args, **kwargs):
        raise AssertionError("processes started although they could not get the estimator")

    monkeypatch.setattr(torch.multiprocessing, "start_processes", no_processes)
    X = np.random.default_rng(0).normal(size=(40, 3))
    with pytest.raises(TypeError, match="parameter callbacks=.*cannot be pickled"):
        fit_distributed(NoisyInfoMaxEmbedder(2, callbacks=[_HoldsAFunction(lambda: None)]), X, 2)
    # A notebook's class: new processes cannot import an interactive __main__
    # (the parent hung, writing X to a process that had failed to read it).
    notebook = types.ModuleType("__main__")
    encoder = type("NotebookEncoder", (torch.nn.Module,), {"__module__": "__main__"})
    notebook.NotebookEncoder = encoder
    monkeypatch.setitem(sys.modules, "__main__", notebook)
    with pytest.raises(ValueError, match="cannot import NotebookEncoder: it is defined in this"):
        fit_distributed(NoisyInfoMaxEmbedder(2, encoder=encoder), X, 2)


def test_a_process_that_cannot_rebuild_the_estimator_says_why(monkeypatch, tmp_path):
    from sklearn_ndim.distributed import _read_arguments, _write_arguments

    path = tmp_path / "arguments.pkl"
    X = np.random.default_rng(0).normal(size=(40, 3))
    _write_arguments(path, NoisyInfoMaxEmbedder(2, encoder=_Unimportable), X)
    monkeypatch.delattr(sys.modules[__name__], "_Unimportable")  # as in a new process
    with pytest.raises(RuntimeError, match="importable by new processes.*top level of a module"):
        _read_arguments(path)


def test_a_memmap_reaches_the_processes_as_the_array_it_holds(tmp_path):
    # Each process trained on a memmap's chunks (neighbours from its share
    # only) while holding the whole array in memory anyway.
    from sklearn_ndim.distributed import _read_arguments, _write_arguments

    np.save(tmp_path / "rows.npy", np.random.default_rng(0).normal(size=(40, 3)))
    rows = np.load(tmp_path / "rows.npy", mmap_mode="r")
    _write_arguments(tmp_path / "arguments.pkl", NoisyInfoMaxEmbedder(2), rows)
    _, X = _read_arguments(tmp_path / "arguments.pkl")
    assert type(X) is np.ndarray and np.array_equal(X, rows)


def test_fit_distributed_warns_each_warning_once(capfd):
    # The data checks warn here, where the caller can catch the warning; the
    # views' warning comes from process 0 alone (it printed once per process).
    X = np.random.default_rng(0).normal(size=(200, 5))
    embedder = NoisyInfoMaxEmbedder(8, max_epochs=1, max_shift=2, batch_size=32, random_state=0)
    with pytest.warns(UserWarning, match="exceeds the 5 features") as caught:
        fit_distributed(embedder, X, 2)
    assert [w.filename for w in caught] == [__file__]
    printed = capfd.readouterr().err
    assert printed.count("max_shift=2 does not apply") == 1
    assert "exceeds the 5 features" not in printed


def test_grid_search_on_a_dask_cluster_equals_the_local_search(blobs, fast):
    distributed = pytest.importorskip("dask.distributed")
    import joblib
    from sklearn.model_selection import GridSearchCV

    # Dask workers run torch on one thread; so must this process, since
    # reductions split across threads round differently.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        X = blobs[0]
        grid = {"noise_scale": [0.3, 1.0]}
        local = GridSearchCV(NoisyInfoMaxEmbedder(n_components=2, **fast), grid, cv=2).fit(X)
        with (
            distributed.LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            distributed.Client(cluster),
            joblib.parallel_backend("dask"),
        ):
            remote = GridSearchCV(
                NoisyInfoMaxEmbedder(n_components=2, **fast), grid, cv=2, n_jobs=-1
            ).fit(X)
    finally:
        torch.set_num_threads(threads)
    np.testing.assert_array_equal(
        remote.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"]
    )
    np.testing.assert_array_equal(remote.transform(X), local.transform(X))
