"""Training: the skorch net that runs the objective's step, and passes over data.

The step itself (:func:`~sklearn_ndim._objective.contrastive_loss`) lives in
:mod:`sklearn_ndim._objective`; the rows it iterates over, in
:mod:`sklearn_ndim._training_data`.
"""

import contextlib
import copy
import math
import signal
import threading
import warnings

import numpy as np
import torch
from skorch import NeuralNet
from torch.nn import functional as F

from ._distributed import average_gradients, current_group, gather, mean_across
from ._distributed import wrap as wrap_for_ddp
from ._model import output_moments

# Nets pickled by earlier versions look InfoNCELoss up in this module.
from ._objective import InfoNCELoss, contrastive_loss
from ._progress import print_table_row
from ._training_data import (
    ChunkedBatchIterator,
    Reservoir,  # noqa: F401  (estimators pickled by earlier versions look it up here)
    TensorBatchIterator,
)
from ._validation import caller_stacklevel

__all__ = [
    "InfoMaxNet",
    "TrainingDivergedError",
    "calibrate",
    "estimate_mutual_info",
    "embed",
    "fit_decoder",
    "decode",
    "INFERENCE_BATCH",
    "fused_adam",
]

#: Rows per forward pass when embedding or calibrating (no gradients).
INFERENCE_BATCH = 4096
#: Fewest optimiser steps the decoder is trained for, whatever ``max_epochs``.
MIN_DECODER_STEPS = 1000


def fused_adam(device):
    """Whether Adam should run as one fused kernel on ``device`` (CPU and CUDA have one).

    On the CPU it takes about a third of the time of the per-tensor loop for
    the default MLP, a tenth of a training step.
    """
    return torch.device(device).type in ("cpu", "cuda")


class _InterruptRecord:
    """The KeyboardInterrupt that a SIGINT handler raised, if any."""

    raised = None


@contextlib.contextmanager
def _recording_interrupts():
    """Note the KeyboardInterrupt that the SIGINT handler raises, if it raises one.

    A handler that does not raise (an application handling Ctrl-C itself)
    interrupts nothing, so it is not recorded. Only the main thread can set
    signal handlers (a SIGINT reaches it anyway); where the handler is not a
    Python callable (ignored, or set outside Python), nothing changes.
    """
    record = _InterruptRecord()
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or not callable(previous):
        yield record
        return

    def handler(signum, frame):
        try:
            previous(signum, frame)
        except KeyboardInterrupt as interrupt:
            record.raised = interrupt
            raise

    signal.signal(signal.SIGINT, handler)
    try:
        yield record
    finally:
        signal.signal(signal.SIGINT, previous)


class TrainingDivergedError(FloatingPointError):
    """Raised when the InfoNCE loss stops being finite during ``fit``."""


def map_batches(function, rows, batch_size=INFERENCE_BATCH):
    """``function`` applied to consecutive batches of ``rows``, stacked in one tensor.

    The output is allocated once and filled in place. Keeping every batch's
    output for one ``torch.cat`` leaves glibc's heap fragmented by the freed
    activations between them: about 1 KiB per row stayed resident (1.3 GiB
    at a million rows) after the last batch.

    Parameters
    ----------
    function : callable
        Maps a batch ``(b, ...)`` to a tensor ``(b, ...)``.
    rows : torch.Tensor
    batch_size : int, default=INFERENCE_BATCH

    Returns
    -------
    out : torch.Tensor of shape (len(rows), ...)
    """
    if len(rows) == 0:
        return function(rows)
    out = None
    for start in range(0, len(rows), batch_size):
        result = function(rows[start : start + batch_size])
        if out is None:
            out = result.new_empty((len(rows),) + tuple(result.shape[1:]))
        out[start : start + len(result)] = result
    return out


class InfoMaxNet(NeuralNet):
    """skorch net whose training step maximises InfoNCE between two noisy views.

    Parameters
    ----------
    module : InfoMaxModule
        The initialised module.
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

    def __init__(self, module, *args, generator=None, **kwargs):
        if kwargs.get("verbose", 1):
            # skorch calls a sink other than print whatever the verbosity.
            kwargs.setdefault("callbacks__print_log__sink", print_table_row)
        super().__init__(module, *args, criterion=InfoNCELoss, train_split=None, **kwargs)
        self.generator = generator

    def get_dataset(self, X, y=None):
        return X

    def get_iterator(self, dataset, training=False):
        batch_size = min(self.batch_size, len(dataset))
        return ChunkedBatchIterator(dataset, batch_size, self.generator)

    def check_data(self, X, y=None):
        # Data arrives validated as a TrainingData, standardised chunk by chunk.
        pass

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        x, indices, views = batch
        x = self.module_.shape_input(x)
        loss, mutual_info = contrastive_loss(
            self.module_, x, indices, views, self.generator, self._pair_channel()
        )
        self.history.record_batch("mutual_info", mutual_info.item())
        if not torch.isfinite(loss):
            raise TrainingDivergedError(
                f"The InfoNCE loss became {loss.item()} in epoch {len(self.history)}. Likely "
                f"causes: a learning rate too high for this data (learning_rate={self.lr}), or "
                "an encoder whose output explodes. Lower learning_rate, or keep "
                "standardize=True."
            )
        loss.backward()
        return {"loss": loss, "y_pred": loss.detach()}

    def _pair_channel(self):
        """The step's encoder part: DDP-wrapped within a process group, else the module's."""
        if current_group() is None:
            return self.module_.pair_channel
        if self.__dict__.get("distributed_channel_") is None:
            # Outside skorch's registry of modules: a training-only wrapper.
            self.__dict__["distributed_channel_"] = wrap_for_ddp(self.module_)
        return self.__dict__["distributed_channel_"]

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        self.interrupted_ = False
        with _recording_interrupts() as interrupts:
            try:
                return super().fit_loop(X, y, epochs=epochs, **fit_params)
            except KeyboardInterrupt as interrupt:
                # skorch's partial_fit swallows KeyboardInterrupt because callbacks
                # such as EarlyStopping raise it to stop; only those come from
                # ``notify('on_epoch_end')``. Anything else, and the interrupt of
                # a Ctrl-C while the callbacks run, is a real Ctrl-C.
                self.interrupted_ = interrupt is interrupts.raised or not self._stopping_by_callback
                raise

    def notify(self, method_name, **cb_kwargs):
        self._stopping_by_callback = False
        try:
            super().notify(method_name, **cb_kwargs)
        except KeyboardInterrupt:
            self._stopping_by_callback = method_name == "on_epoch_end"
            raise

    def __getstate__(self):
        # Adam's state goes into the pickle as a CPU state dict (the optimiser
        # object refers to the live parameters), so that a pickled or copied
        # model goes on with partial_fit exactly as the original would, as
        # scikit-learn's MLP keeps its optimiser. Its name avoids skorch's
        # "optimizer_" prefix, which would map it back to the GPU on loading.
        # The generator is seeded afresh at every pass and is not kept.
        dropped = {
            name: self.__dict__.pop(name)
            for name in ("optimizer_", "generator", "distributed_channel_")
            if name in self.__dict__
        }
        try:
            state = super().__getstate__()
        finally:
            self.__dict__.update(dropped)
        if "optimizer_" in dropped:
            state["_optimizer_state"] = _on_cpu(dropped["optimizer_"].state_dict())
        return state

    def __setstate__(self, state):
        state.setdefault("generator", None)
        super().__setstate__(state)


def _on_cpu(value):
    """A copy of a (nested) optimiser state dict with every tensor on the CPU."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().clone()
    if isinstance(value, dict):
        return {key: _on_cpu(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_on_cpu(item) for item in value]
    return copy.deepcopy(value)


@torch.no_grad()
def calibrate(module, data, clean_rows=None):
    """Fix the output statistics to those of the clean rows of ``data``.

    Parameters
    ----------
    module : InfoMaxModule
    data : TrainingData
        Rows whose clean statistics are used, unless ``clean_rows`` is given.
    clean_rows : torch.Tensor, default=None
        Standardised flat rows to use instead (a stream's reservoir).
    """
    module.eval()
    # One chunk at a time: a memmap's chunks are never all in memory at once.
    chunks = (rows for rows, _ in data.chunks()) if clean_rows is None else [clean_rows]
    outputs = [
        map_batches(lambda x: module.encoder(module.shape_input(x)), rows) for rows in chunks
    ]
    h = outputs[0] if len(outputs) == 1 else torch.cat(outputs)
    if current_group() is not None:
        h = gather(h)
    finite = torch.isfinite(h).all(dim=1)
    if not finite.all():
        raise TrainingDivergedError(
            f"The encoder's output is not finite (NaN or inf) on {int((~finite).sum())} of the "
            f"{len(h)} clean training rows, in evaluation mode: check the encoder (a custom "
            "one's eval branch, its normalisation layers), or lower learning_rate."
        )
    mean, cov = output_moments(h)  # once, for the normaliser and the rank check
    module.normalizer.set_moments(mean, cov, n_rows=len(h))
    _warn_if_rank_deficient(cov)


#: Covariance eigenvalues below this share of the largest are rounding noise
#: (float32 outputs carry about 1e-14), which whitening would scale up to 1.
_DEAD_DIMENSION_RATIO = 1e-9


def _warn_if_rank_deficient(cov):
    """Warn when the encoder's outputs span fewer dimensions than the embedding has."""
    eigenvalues = torch.linalg.eigvalsh(cov)
    dead = int((eigenvalues <= eigenvalues[-1] * _DEAD_DIMENSION_RATIO).sum())
    if dead:
        warnings.warn(
            f"The encoder's outputs on the clean training rows span {len(eigenvalues) - dead} "
            f"of the embedding's {len(eigenvalues)} dimensions: the other {dead} carry nothing "
            "(nearly constant, or copies of the others). Check a custom encoder's last layers "
            "(a bottleneck, repeated outputs), the rows (fewer distinct ones than "
            "n_components), or lower n_components.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )


@torch.no_grad()
def estimate_mutual_info(module, data, batch_size, seed):
    """Mean InfoNCE estimate (nats) over shuffled full batches of ``data``, in eval mode.

    Views and channel noise come from a generator seeded with ``seed``, so
    the estimate is deterministic.
    """
    module.eval()
    generator = torch.Generator(device=data.device).manual_seed(seed)
    estimates = [
        contrastive_loss(module, module.shape_input(rows), indices, views, generator)[1].item()
        for rows, indices, views in ChunkedBatchIterator(data, batch_size, generator)
    ]
    estimate = float(np.mean(estimates))
    return estimate if current_group() is None else mean_across(estimate)


@torch.no_grad()
def embed(module, data):
    """Gaussian-space embedding of the standardised tensor ``data``, as numpy.

    float64 input runs through a float64 copy of the module, so results do
    not depend on how rows are batched beyond float64 rounding.
    """
    if data.dtype == torch.float64:
        module = copy.deepcopy(module).double()
    module.eval()
    return map_batches(module, data).cpu().numpy()


def fit_decoder(decoder, module, data, max_epochs, batch_size, learning_rate, generator):
    """Train ``decoder`` to map the embedding of ``data`` back to its rows (least squares).

    Parameters
    ----------
    decoder : torch.nn.Module
        Maps ``(B, d)`` codes to ``(B, ...)`` outputs, flattened for the loss.
    module : InfoMaxModule
        The trained, calibrated encoder; its Gaussian-space embedding is the code.
    data : TrainingData
        The training rows, standardised; they are the targets.
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
    module.eval()
    device = next(decoder.parameters()).device
    optimizer = torch.optim.Adam(decoder.parameters(), lr=learning_rate, fused=fused_adam(device))
    decoder.train()
    steps = sum(math.ceil((stop - start) / batch_size) for start, stop in data.bounds)
    # A regression needs more steps than a few batches per epoch give on
    # small data (on images a step costs about as much as a contrastive one).
    epochs = max(max_epochs, math.ceil(MIN_DECODER_STEPS / steps))
    # The encoder is frozen: each chunk's codes (d values a row) are computed
    # once, and kept on the CPU when the rows come in chunks (a memmap), whose
    # rows are never all on the device at once.
    codes_of, chunked = {}, len(data.bounds) > 1
    for _ in range(epochs):
        total = 0.0
        order = torch.randperm(len(data.bounds), generator=generator, device=generator.device)
        for chunk in order.tolist():
            targets = data.rows(chunk)
            if chunk not in codes_of:
                with torch.no_grad():
                    codes = map_batches(module, targets)
                codes_of[chunk] = codes.cpu() if chunked else codes
            codes = codes_of[chunk].to(targets.device)
            for rows, indices in TensorBatchIterator(codes, batch_size, True, False, generator):
                optimizer.zero_grad(set_to_none=True)
                loss = F.mse_loss(decoder(rows).reshape(len(rows), -1), targets[indices])
                loss.backward()
                if current_group() is not None:
                    average_gradients(decoder.parameters())
                optimizer.step()
                total += loss.item() * len(rows)
    decoder.eval()
    return total / len(data)


@torch.no_grad()
def decode(decoder, codes):
    """Flat outputs of ``decoder`` for the Gaussian-space ``codes`` tensor, as numpy."""
    if codes.dtype == torch.float64:
        decoder = copy.deepcopy(decoder).double()
    decoder.eval()
    return map_batches(lambda rows: decoder(rows).reshape(len(rows), -1), codes).cpu().numpy()
