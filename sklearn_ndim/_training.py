"""Training: the InfoNCE step, the skorch net that runs it, and passes over data.

The one step of the method is :func:`contrastive_scores` (two views ->
encoder -> normaliser -> noisy channel -> critic scores) followed by
:func:`info_nce`. Training, the mutual-information estimate, calibration and
the benchmarks all call these two functions.
"""

import copy
import math
import re
import sys
import time
from contextlib import contextmanager

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback
from skorch.dataset import unpack_data
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm

__all__ = [
    "info_nce",
    "contrastive_scores",
    "InfoNCELoss",
    "TensorBatchIterator",
    "MutualInfoRecorder",
    "FitProgressBar",
    "print_table_row",
    "stage",
    "InfoMaxNet",
    "TrainingDivergedError",
    "calibrate",
    "estimate_mutual_info",
    "embed",
    "fit_decoder",
    "decode",
    "INFERENCE_BATCH",
]

#: Rows per forward pass when embedding or calibrating (no gradients).
INFERENCE_BATCH = 4096
#: Fewest optimiser steps the decoder is trained for, whatever ``max_epochs``.
MIN_DECODER_STEPS = 1000


def info_nce(scores):
    """InfoNCE estimate of the mutual information between paired rows.

    Parameters
    ----------
    scores : torch.Tensor of shape (B, B)
        Critic values ``T(a_i, y_j)``; the diagonal holds the positive pairs.

    Returns
    -------
    loss : torch.Tensor
        Scalar to minimise: the mean cross-entropy of finding the positive
        pair, averaged over both directions (rows and columns).
    mutual_info : torch.Tensor
        Scalar lower bound ``ln B - loss`` in nats; it can never exceed ``ln B``.
    """
    batch_size = scores.shape[0]
    targets = torch.arange(batch_size, device=scores.device)
    loss = 0.5 * (F.cross_entropy(scores, targets) + F.cross_entropy(scores.T, targets))
    return loss, math.log(batch_size) - loss.detach()


def contrastive_scores(module, x, indices, views, generator):
    """The method's step: critic scores of two random views of the batch ``x``.

    Parameters
    ----------
    module : InfoMaxModule
    x : torch.Tensor of shape (B, *input_shape)
        Standardised, shaped rows.
    indices : torch.Tensor of shape (B,)
        Their row numbers in the training data (neighbour views use them).
    views : callable
        ``views(x, indices, generator)`` draws one random view.
    generator : torch.Generator or None
        Source of the views and of the channel noise.

    Returns
    -------
    scores : torch.Tensor of shape (B, B)
    """
    view_a = views(x, indices, generator)
    view_b = views(x, indices, generator)
    return module.pair_scores(view_a, view_b, generator)


class InfoNCELoss(nn.Module):
    """Criterion wrapper of :func:`info_nce` for skorch: ``forward(scores)`` is the loss."""

    def forward(self, scores, target=None):
        return info_nce(scores)[0]


class TrainingDivergedError(FloatingPointError):
    """Raised when the InfoNCE loss stops being finite during ``fit``."""


class TensorBatchIterator:
    """Mini-batches sliced from one in-memory tensor.

    skorch's default ``DataLoader`` collates rows one at a time, which for
    small models costs more than the model itself; slicing a tensor with a
    permutation gives the same batches at a fraction of the overhead.

    Parameters
    ----------
    data : torch.Tensor
        All rows.
    batch_size : int
        Rows per batch.
    shuffle : bool, default=False
        Draw a new permutation each epoch from ``generator``.
    drop_last : bool, default=False
        Skip the last partial batch (it would change InfoNCE's ``ln B`` scale).
    generator : torch.Generator or None
        Source of the permutations.
    """

    def __init__(self, data, batch_size, shuffle=False, drop_last=False, generator=None):
        self.data = data
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.generator = generator

    def __len__(self):
        n_rows = self.data.shape[0]
        if self.drop_last:
            return n_rows // self.batch_size
        return math.ceil(n_rows / self.batch_size)

    def __iter__(self):
        """Yield ``(rows, row_indices)``; the indices let views find neighbours."""
        n_rows = self.data.shape[0]
        device = self.data.device
        if self.shuffle:
            order = torch.randperm(n_rows, generator=self.generator, device=self.generator.device)
            order = order.to(device)
        else:
            order = torch.arange(n_rows, device=device)
        for batch_index in range(len(self)):
            start = batch_index * self.batch_size
            indices = order[start : start + self.batch_size]
            rows = self.data[indices] if self.shuffle else self.data[start : start + len(indices)]
            yield rows, indices


class MutualInfoRecorder(Callback):
    """Record the epoch's InfoNCE estimate and the channel capacity.

    Every training batch has exactly ``batch_size`` rows, so the epoch's mean
    loss gives the mean estimate ``ln B - loss`` at no extra cost per batch.

    Parameters
    ----------
    batch_size : int
        Rows per training batch ``B``.
    capacity : float
        Channel capacity ``C`` in nats (``inf`` without noise).
    """

    def __init__(self, batch_size, capacity):
        self.batch_size = batch_size
        self.capacity = capacity

    def on_epoch_end(self, net, **kwargs):
        loss = net.history[-1, "train_loss"]
        net.history.record("mutual_info", math.log(self.batch_size) - loss)
        net.history.record("capacity", self.capacity)


_ANSI_CODE = re.compile(r"\x1b\[[0-9;]*m")


def print_table_row(text):
    """Print a row of skorch's epoch table; colour codes only on a terminal."""
    if not sys.stdout.isatty():
        text = _ANSI_CODE.sub("", text)
    print(text, flush=True)


@contextmanager
def stage(verbose, message):
    """Report one stage of a fit on a line of its own, with its duration, at verbose >= 1."""
    start = time.perf_counter()
    if verbose >= 1:
        print(f"[sklearn-ndim] {message} ...", flush=True)
    yield
    if verbose >= 1:
        print(f"[sklearn-ndim] {message}: done in {time.perf_counter() - start:.1f} s", flush=True)


class FitProgressBar(Callback):
    """One progress bar over all training steps of a fit, with its ETA.

    Unlike skorch's per-epoch ``ProgressBar`` it spans the whole training and
    reaches 100 % also when a callback stops training early.

    Parameters
    ----------
    total_steps : int
        ``max_epochs`` times the batches per epoch.
    """

    def __init__(self, total_steps):
        self.total_steps = total_steps

    def on_train_begin(self, net, **kwargs):
        self.bar_ = tqdm(total=self.total_steps, desc="training", unit="step", mininterval=0.5)

    def on_batch_end(self, net, **kwargs):
        self.bar_.update()

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        self.bar_.set_postfix(
            epoch=row["epoch"], mutual_info=f"{row.get('mutual_info', float('nan')):.3f}"
        )

    def on_train_end(self, net, **kwargs):
        if self.bar_.n < self.total_steps:
            self.bar_.set_description("training (stopped early)")
            self.bar_.update(self.total_steps - self.bar_.n)
        self.bar_.close()

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("bar_", None)
        return state


class InfoMaxNet(NeuralNet):
    """skorch net whose training step maximises InfoNCE between two noisy views.

    Parameters
    ----------
    module : InfoMaxModule
        The initialised module.
    views : callable or None
        ``views(x, indices, generator)`` draws one random view of a batch.
    generator : torch.Generator or None
        Source of all training randomness (batches, views, channel noise).
    **kwargs
        Passed to :class:`skorch.NeuralNet`.

    Attributes
    ----------
    interrupted_ : bool
        True when ``fit`` ended through a KeyboardInterrupt that no callback
        raised (a Ctrl-C), which skorch itself would swallow.
    """

    def __init__(self, module, *args, views=None, generator=None, **kwargs):
        if kwargs.get("verbose", 1):
            # skorch calls a sink other than print whatever the verbosity.
            kwargs.setdefault("callbacks__print_log__sink", print_table_row)
        super().__init__(module, *args, criterion=InfoNCELoss, train_split=None, **kwargs)
        self.views = views
        self.generator = generator

    def get_dataset(self, X, y=None):
        return X

    def get_iterator(self, dataset, training=False):
        batch_size = min(self.batch_size, dataset.shape[0])
        if training:
            return TensorBatchIterator(
                dataset, batch_size, shuffle=True, drop_last=True, generator=self.generator
            )
        return TensorBatchIterator(dataset, batch_size)

    def check_data(self, X, y=None):
        # Data arrives validated and standardised by the embedder as one tensor.
        pass

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        x, indices = unpack_data(batch)
        x = self.module_.shape_input(x)
        scores = contrastive_scores(self.module_, x, indices, self.views, self.generator)
        loss = self.criterion_(scores)
        if not torch.isfinite(loss):
            raise TrainingDivergedError(
                f"The InfoNCE loss became {loss.item()} in epoch {len(self.history)}. Likely "
                f"causes: a learning rate too high for this data (learning_rate={self.lr}), or "
                "an encoder whose output explodes. Lower learning_rate, or keep "
                "standardize=True."
            )
        loss.backward()
        return {"loss": loss, "y_pred": scores}

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        self.interrupted_ = False
        try:
            return super().fit_loop(X, y, epochs=epochs, **fit_params)
        except KeyboardInterrupt:
            # skorch's partial_fit swallows KeyboardInterrupt because callbacks
            # such as EarlyStopping raise it to stop; only those come from
            # ``notify('on_epoch_end')``. Anything else is a real Ctrl-C.
            self.interrupted_ = not self._stopping_by_callback
            raise

    def notify(self, method_name, **cb_kwargs):
        self._stopping_by_callback = False
        try:
            super().notify(method_name, **cb_kwargs)
        except KeyboardInterrupt:
            self._stopping_by_callback = method_name == "on_epoch_end"
            raise

    def __getstate__(self):
        # A fitted model is for inference: the optimiser's state (Adam's
        # moments, as large as the weights twice over) and the training-only
        # views and generator are not pickled.
        dropped = {
            name: self.__dict__.pop(name)
            for name in ("optimizer_", "views", "generator")
            if name in self.__dict__
        }
        try:
            return super().__getstate__()
        finally:
            self.__dict__.update(dropped)

    def __setstate__(self, state):
        state.setdefault("views", None)
        state.setdefault("generator", None)
        super().__setstate__(state)


@torch.no_grad()
def calibrate(module, data, views, seed):
    """Fix the output statistics to those of the clean rows ``data``.

    Training views are noisier than clean rows, so statistics gathered in
    training would leave the clean embedding with less than unit variance.
    One pass of views, seeded by ``seed``, regularises the estimate (see
    :meth:`OutputNormalizer.calibrate`).
    """
    module.eval()
    generator = torch.Generator(device=data.device).manual_seed(seed)
    clean, viewed = [], []
    for rows, indices in TensorBatchIterator(data, INFERENCE_BATCH):
        x = module.shape_input(rows)
        clean.append(module.encoder(x))
        viewed.append(module.encoder(views(x, indices, generator)))
    module.normalizer.calibrate(torch.cat(clean), torch.cat(viewed))


@torch.no_grad()
def estimate_mutual_info(module, data, views, batch_size, seed):
    """Mean InfoNCE estimate (nats) over shuffled full batches, in eval mode.

    Views and channel noise come from a generator seeded with ``seed``, so
    the estimate is deterministic.
    """
    module.eval()
    generator = torch.Generator(device=data.device).manual_seed(seed)
    batches = TensorBatchIterator(data, batch_size, True, True, generator)
    estimates = [
        info_nce(contrastive_scores(module, module.shape_input(rows), indices, views, generator))[
            1
        ].item()
        for rows, indices in batches
    ]
    return float(np.mean(estimates))


@torch.no_grad()
def embed(module, data):
    """Gaussian-space embedding of the standardised tensor ``data``, as numpy.

    float64 input runs through a float64 copy of the module, so results do
    not depend on how rows are batched beyond float64 rounding.
    """
    if data.dtype == torch.float64:
        module = copy.deepcopy(module).double()
    module.eval()
    out = [module(rows) for rows, _ in TensorBatchIterator(data, INFERENCE_BATCH)]
    return torch.cat(out).cpu().numpy()


def fit_decoder(decoder, codes, targets, max_epochs, batch_size, learning_rate, generator):
    """Train ``decoder`` to map ``codes`` to flat ``targets`` by least squares (Adam).

    Parameters
    ----------
    decoder : torch.nn.Module
        Maps ``(B, d)`` codes to ``(B, ...)`` outputs, flattened for the loss.
    codes, targets : torch.Tensor
        Gaussian-space embeddings of the clean training rows, and those rows
        standardised and flat.
    max_epochs, batch_size : int
        Passes and rows per step; the passes are raised to give at least
        ``MIN_DECODER_STEPS`` steps.
    learning_rate : float
    generator : torch.Generator
        Source of the batch order.

    Returns
    -------
    loss : float
        Mean squared error per value over the last epoch.
    """
    optimizer = torch.optim.Adam(decoder.parameters(), lr=learning_rate)
    decoder.train()
    batches = TensorBatchIterator(codes, batch_size, shuffle=True, generator=generator)
    # A regression needs more steps than a few batches per epoch give on
    # small data; each step is cheap next to a contrastive one.
    epochs = max(max_epochs, math.ceil(MIN_DECODER_STEPS / len(batches)))
    for _ in range(epochs):
        total = 0.0
        for rows, indices in batches:
            optimizer.zero_grad(set_to_none=True)
            loss = F.mse_loss(decoder(rows).reshape(len(rows), -1), targets[indices])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(rows)
    decoder.eval()
    return total / len(codes)


@torch.no_grad()
def decode(decoder, codes):
    """Flat outputs of ``decoder`` for the Gaussian-space ``codes`` tensor, as numpy."""
    if codes.dtype == torch.float64:
        decoder = copy.deepcopy(decoder).double()
    decoder.eval()
    out = [
        decoder(rows).reshape(len(rows), -1)
        for rows, _ in TensorBatchIterator(codes, INFERENCE_BATCH)
    ]
    return torch.cat(out).cpu().numpy()
