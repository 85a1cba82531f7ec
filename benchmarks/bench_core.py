"""Issue-2 figures: fit time, skorch overhead against a bare torch loop, MI vs capacity.

Run: ``python benchmarks/bench_core.py [--repeats 5] [--output benchmarks/results/core.json]``

The overhead is measured in one process, alternating the two loops, on the
same module, the same batches, views and noise (same seeds), so that only
the driving code differs: skorch's ``NeuralNet.fit`` (callbacks, history,
notifications) against a plain ``for batch in batches: step()`` loop.
"""

import argparse
import copy
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler

from sklearn_ndim import NoisyInfoMaxEmbedder
from sklearn_ndim._building import build_encoder, input_statistics
from sklearn_ndim._callbacks import MutualInfoRecorder
from sklearn_ndim._critics import make_critic
from sklearn_ndim._module import InfoMaxModule
from sklearn_ndim._net import InfoMaxNet, TensorBatchIterator
from sklearn_ndim._objectives import info_nce
from sklearn_ndim._priors import channel_capacity, noise_for_capacity
from sklearn_ndim._views import NeighborMix, TabularViews, nearest_neighbors


def _prepared(X, seed):
    """The default embedder's module and views, built as ``fit`` builds them."""
    embedder = NoisyInfoMaxEmbedder(n_components=16)
    data = torch.as_tensor(X, dtype=torch.float32)
    noise = noise_for_capacity("gaussian", 16, math.log(256))
    torch.manual_seed(seed)
    encoder, input_shape = build_encoder("mlp", None, X.shape[1], 16, embedder.hidden_layer_sizes)
    mean, scale = input_statistics(data, input_shape, standardize=True)
    critic = make_critic(embedder.critic, 16, noise)
    module = InfoMaxModule(
        encoder,
        16,
        "gaussian",
        noise,
        critic,
        input_shape,
        mean,
        scale,
        whiten=embedder.normalizer == "whiten",
    )
    scaled = module.preprocess(data)
    views = TabularViews(
        embedder.jitter_scale,
        embedder.corruption_rate,
        scaled,
        NeighborMix(scaled, nearest_neighbors(scaled, embedder.n_neighbors)),
    )
    callbacks = [("mutual_info", MutualInfoRecorder(256, channel_capacity("gaussian", 16, noise)))]
    return callbacks, data, module, views


def _skorch_epochs(callbacks, data, module, views, seed, epochs):
    net = InfoMaxNet(
        copy.deepcopy(module),
        optimizer=torch.optim.Adam,
        lr=1e-3,
        max_epochs=epochs,
        batch_size=256,
        callbacks=copy.deepcopy(callbacks),
        verbose=0,
        views=views,
        generator=torch.Generator().manual_seed(seed),
    )
    start = time.perf_counter()
    net.fit(data)
    return (time.perf_counter() - start) / epochs


def _bare_epochs(data, module, views, seed, epochs):
    module = copy.deepcopy(module)
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    for _ in range(epochs):
        module.train()
        for rows, indices in TensorBatchIterator(data, 256, True, True, generator):
            optimizer.zero_grad()
            x = module.preprocess(rows)
            scores = module.pair_scores(
                views(x, indices, generator), views(x, indices, generator), generator
            )
            loss = info_nce(scores)[0]
            loss.backward()
            optimizer.step()
            loss.item()  # skorch reads the loss every batch too
    return (time.perf_counter() - start) / epochs


def overhead(X, repeats, epochs=20, seed=0):
    callbacks, data, module, views = _prepared(X, seed)
    skorch_times, bare_times = [], []
    for _ in range(repeats):
        bare_times.append(_bare_epochs(data, module, views, seed, epochs))
        skorch_times.append(_skorch_epochs(callbacks, data, module, views, seed, epochs))
    skorch_epoch, bare_epoch = float(np.median(skorch_times)), float(np.median(bare_times))
    return {
        "skorch_epoch_s": skorch_epoch,
        "bare_torch_epoch_s": bare_epoch,
        "ratio": skorch_epoch / bare_epoch,
        "goal": 1.15,
    }


def default_fit_time(X, seed=0):
    start = time.perf_counter()
    embedder = NoisyInfoMaxEmbedder(random_state=seed).fit(X)
    return {"fit_s": time.perf_counter() - start, "epochs": embedder.n_iter_}


def mutual_info_vs_capacity(X, noise_scales=(0.5, 1.0, 2.0), seed=0):
    rows = []
    for noise in noise_scales:
        embedder = NoisyInfoMaxEmbedder(n_components=16, noise_scale=noise, random_state=seed)
        embedder.fit(X)
        rows.append(
            {
                "noise_scale": noise,
                "capacity": embedder.capacity_,
                "mutual_info": embedder.mutual_info_,
                "efficiency": embedder.mutual_info_ / embedder.capacity_,
                "log_batch": math.log(embedder.batch_size_),
            }
        )
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--output", default="benchmarks/results/core.json")
    args = parser.parse_args()
    X = StandardScaler().fit_transform(load_digits().data)
    results = {
        "torch_threads": torch.get_num_threads(),
        "default_fit_on_digits": default_fit_time(X),
        "skorch_vs_bare_torch": overhead(X, args.repeats),
        "mutual_info_vs_capacity_d16": mutual_info_vs_capacity(X),
    }
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
