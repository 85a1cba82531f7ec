"""The GPU checks, as one short script for a machine with CUDA: ``python benchmarks/gpu_check.py``.

1. Throughput (training images per second) on Fashion-MNIST (or generated
   28x28 images when the data set is absent), on the GPU and on 2 CPU
   threads, same model and settings; the goal is a ratio of at least 20.
2. A GPU-fitted model, pickled and saved with :mod:`sklearn_ndim.io`, loads in
   a process that sees no GPU and gives the same transform as the GPU
   model moved to the CPU (bitwise), and the GPU transform to 1e-4.
3. Two processes on two GPUs (when there are two) train data-parallel.

Prints one JSON line of results; exits 1 when a check fails.
"""

import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import datasets  # noqa: E402

from sklearn_ndim import NoisyInfoMaxEmbedder  # noqa: E402
from sklearn_ndim.io import save  # noqa: E402


def images(n):
    if datasets.fashion_available():
        return datasets.load("fashion", n_train=n, n_test=1000)[0]
    rng = np.random.default_rng(0)
    return rng.random((n, 1, 28, 28), dtype=np.float32)


def throughput(device, X, epochs):
    model = NoisyInfoMaxEmbedder(16, max_epochs=epochs, device=device, random_state=0)
    start = time.perf_counter()
    model.fit(X)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    return model, len(X) * model.n_iter_ / seconds


def main():
    if not torch.cuda.is_available():
        print(json.dumps({"error": "no CUDA device"}))
        return 1
    results, failures = {}, []
    X = images(20_000)
    torch.set_num_threads(2)
    _, results["cpu_images_per_s"] = throughput("cpu", X[:5_000], 2)
    gpu_model, results["gpu_images_per_s"] = throughput("cuda", X, 10)
    results["gpu_over_cpu"] = results["gpu_images_per_s"] / results["cpu_images_per_s"]
    if results["gpu_over_cpu"] < 20:
        failures.append("GPU throughput below 20x the 2-core CPU")

    probe = X[:2_000]
    on_gpu = gpu_model.transform(probe)
    folder = Path(tempfile.mkdtemp())
    (folder / "model.pkl").write_bytes(pickle.dumps(gpu_model))
    save(gpu_model, folder / "model.safetensors")
    np.save(folder / "rows.npy", probe)
    code = (
        "import pickle, numpy as np; from sklearn_ndim.io import load; "
        f"rows = np.load('{folder}/rows.npy'); "
        f"a = pickle.loads(open('{folder}/model.pkl', 'rb').read()).transform(rows); "
        f"b = load('{folder}/model.safetensors').transform(rows); "
        f"np.save('{folder}/a.npy', a); np.save('{folder}/b.npy', b)"
    )
    environment = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    subprocess.run([sys.executable, "-c", code], env=environment, check=True)
    unpickled, loaded = np.load(folder / "a.npy"), np.load(folder / "b.npy")
    gpu_model.net_.module_.cpu()
    on_cpu = gpu_model.transform(probe)
    results["cpu_load_bitwise"] = bool(
        np.array_equal(unpickled, on_cpu) and np.array_equal(loaded, on_cpu)
    )
    results["cpu_vs_gpu_max_abs"] = float(np.abs(on_cpu - on_gpu).max())
    if not results["cpu_load_bitwise"] or results["cpu_vs_gpu_max_abs"] > 1e-4:
        failures.append("a GPU-trained model does not load on the CPU with the same transform")

    if torch.cuda.device_count() >= 2:
        from sklearn_ndim.distributed import fit_distributed

        two = fit_distributed(NoisyInfoMaxEmbedder(16, max_epochs=3, device="cuda"), X, 2)
        results["two_gpus_batch_size"] = two.batch_size_
    results["failures"] = failures
    print(json.dumps(results))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
