"""Training: the skorch net that runs the objective's step, and passes over data.

The step itself (:func:`~sklearn_ndim._objective.contrastive_loss`) lives in
:mod:`sklearn_ndim._objective`.
"""

import copy
import math

import numpy as np
import torch
from skorch import NeuralNet
from torch.nn import functional as F

from ._distributed import average_gradients, current_group, gather, mean_across
from ._distributed import wrap as wrap_for_ddp

# Nets pickled by earlier versions look InfoNCELoss up in this module.
from ._objective import InfoNCELoss, contrastive_loss
from ._progress import print_table_row

__all__ = [
    "TensorBatchIterator",
    "TrainingData",
    "ChunkedBatchIterator",
    "InfoMaxNet",
    "TrainingDivergedError",
    "calibrate",
    "Reservoir",
    "estimate_mutual_info",
    "embed",
    "fit_decoder",
    "STREAM_CHUNK_ROWS",
    "decode",
    "INFERENCE_BATCH",
    "fused_adam",
]

#: Rows per forward pass when embedding or calibrating (no gradients).
INFERENCE_BATCH = 4096
#: Fewest optimiser steps the decoder is trained for, whatever ``max_epochs``.
MIN_DECODER_STEPS = 1000
#: Rows per chunk when training streams from a numpy memmap.
STREAM_CHUNK_ROWS = 65_536


def fused_adam(device):
    """Whether Adam should run as one fused kernel on ``device`` (CPU and CUDA have one).

    On the CPU it takes about a third of the time of the per-tensor loop for
    the default MLP, a tenth of a training step.
    """
    return torch.device(device).type in ("cpu", "cuda")


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


class TrainingData:
    """Rows as the contrastive step sees them: standardised chunks, each with its views.

    In memory (the usual case) all rows form one chunk, held as one tensor on
    the device. With ``chunk_rows`` the rows (a numpy memmap, say) are read and
    standardised one chunk at a time, so memory holds one chunk, never the
    whole array; each chunk's neighbour graph is searched once and kept.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Validated rows (any numeric dtype; a memmap is only read).
    scaler : InputScaler
        Standardisation, applied in float64 before the cast to float32.
    device : torch.device
        Where chunks, views and the neighbour search live.
    view_spec : ViewSpec
        The fit's views.
    input_shape : tuple of int
        Shape of one sample as the encoder receives it.
    seed : int
        Seeds the approximate neighbour search.
    chunk_rows : int or None, default=None
        Rows per chunk; None keeps all rows as one resident chunk.
    extra_bank : torch.Tensor or None, default=None
        Standardised flat rows (rows seen earlier in a stream) that every
        chunk may draw neighbours from; copies of a row count once.
    other_rows : torch.Tensor or None, default=None
        Standardised flat rows of the other processes' shares in a
        data-parallel fit: neighbours are drawn from them too, as one process
        draws them from all rows.
    """

    def __init__(
        self,
        X,
        scaler,
        device,
        view_spec,
        input_shape,
        seed,
        chunk_rows=None,
        extra_bank=None,
        other_rows=None,
    ):
        self.X = X
        self.scaler = scaler
        self.device = device
        self.view_spec = view_spec
        self.input_shape = tuple(input_shape)
        self.seed = seed
        self.extra_bank = extra_bank
        self.other_rows = other_rows
        n_rows = X.shape[0]
        step = n_rows if chunk_rows is None else chunk_rows
        self.bounds = [(start, min(start + step, n_rows)) for start in range(0, n_rows, step)]
        self._resident = None
        self._neighbors = {}

    @property
    def shape(self):
        return self.X.shape

    def __len__(self):
        return self.X.shape[0]

    def rows(self, chunk):
        """Standardised flat rows of one chunk, as a float32 tensor on the device."""
        if len(self.bounds) == 1 and self._resident is not None:
            return self._resident
        start, stop = self.bounds[chunk]
        rows = self.scaler.to_tensor(self.X[start:stop], self.device)
        if len(self.bounds) == 1:
            self._resident = rows
        return rows

    def views(self, chunk, rows):
        """View sampler for the rows of one chunk (indices are positions in the chunk)."""
        if chunk not in self._neighbors:
            extra = self.other_rows
            if self.extra_bank is not None:
                # A stream passed over more than once leaves copies of a row in
                # the reservoir, and of the chunk's own rows: a copy drawn as a
                # neighbour is no view, and copies crowd out real neighbours.
                seen = self.extra_bank[first_occurrences(self.extra_bank)]
                extra = seen[~row_copies(seen, rows)]
            bank = self._bank(rows, extra)
            neighbors = self.view_spec.neighbors(bank, len(rows), self.seed)
            if len(self.bounds) == 1:
                # One resident chunk: keep its bank, and hold the rows as a view
                # of it, so that a bank with other rows is not a second copy.
                self._resident = bank.reshape(bank.shape[0], -1)[: len(rows)]
                self.other_rows = None
                self._neighbors[chunk] = (bank, neighbors)
            else:
                self._neighbors[chunk] = (extra, neighbors)
        kept, neighbors = self._neighbors[chunk]
        bank = kept if len(self.bounds) == 1 else self._bank(rows, kept)
        return self.view_spec.build(bank, neighbors)

    def _bank(self, rows, extra):
        bank = rows if extra is None else torch.cat([rows, extra])
        return bank.reshape((bank.shape[0],) + self.input_shape)

    def chunks(self, order=None):
        """Yield ``(rows, views)`` for each chunk, in ``order`` (all in turn by default)."""
        for chunk in range(len(self.bounds)) if order is None else order:
            rows = self.rows(int(chunk))
            yield rows, self.views(int(chunk), rows)


class ChunkedBatchIterator:
    """Batches ``(rows, indices, views)`` over the chunks of a :class:`TrainingData`.

    Chunks come in a random order; within a chunk, batches are shuffled full
    batches (the last partial one of each chunk is dropped, so that every
    batch has the same ``ln B`` ceiling).

    Parameters
    ----------
    data : TrainingData
    batch_size : int
    generator : torch.Generator
        Source of the chunk order and the permutations.
    """

    def __init__(self, data, batch_size, generator):
        self.data = data
        self.batch_size = batch_size
        self.generator = generator

    def __len__(self):
        return sum((stop - start) // self.batch_size for start, stop in self.data.bounds)

    def __iter__(self):
        n_chunks = len(self.data.bounds)
        order = torch.randperm(n_chunks, generator=self.generator, device=self.generator.device)
        for rows, views in self.data.chunks(order.tolist()):
            batches = TensorBatchIterator(rows, self.batch_size, True, True, self.generator)
            for batch, indices in batches:
                yield batch, indices, views


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
    module.normalizer.calibrate(h)


def _rows_by_hash(rows):
    """``{hash of a row's bytes: [row indices]}`` (hashes, not the bytes, are kept)."""
    table = {}
    for index, row in enumerate(rows):
        table.setdefault(hash(row.tobytes()), []).append(index)
    return table


def row_copies(rows, reference):
    """Mask of the ``rows`` that are exact (bytewise) copies of some row of ``reference``.

    Parameters
    ----------
    rows, reference : torch.Tensor of shape (n, p) and (m, p)
        Flat rows of the same dtype, on any device.

    Returns
    -------
    torch.Tensor of shape (n,), bool, on ``rows``' device
    """
    reference = reference.detach().cpu().numpy()
    table = _rows_by_hash(reference)
    found = []
    for row in rows.detach().cpu().numpy():
        matches = table.get(hash(row.tobytes()), ())
        # Equal hashes are confirmed bytewise: the mask is exact.
        found.append(any(reference[index].tobytes() == row.tobytes() for index in matches))
    return torch.as_tensor(found, dtype=torch.bool, device=rows.device)


def first_occurrences(rows):
    """Mask keeping the first of each group of bytewise identical ``rows``."""
    flat = rows.detach().cpu().numpy()
    keep = np.ones(len(flat), dtype=bool)
    for indices in _rows_by_hash(flat).values():
        kept = []
        for index in indices:
            if any(flat[other].tobytes() == flat[index].tobytes() for other in kept):
                keep[index] = False
            else:
                kept.append(index)
    return torch.as_tensor(keep, device=rows.device)


class Reservoir:
    """A uniform random sample of at most ``capacity`` rows of a stream (algorithm R).

    A stream passed over several times (epochs of ``partial_fit``) leaves
    copies of a row in the sample, as often as the stream showed it, so the
    sample keeps the data's weights for calibration; the neighbour bank
    leaves the copies out (:meth:`TrainingData.views`).

    Parameters
    ----------
    capacity : int
        Most rows kept.
    seed : int
        Seeds which rows are kept.
    """

    def __init__(self, capacity, seed):
        self.capacity = capacity
        self.seed = seed
        self.rows = None
        self.seen = 0

    def add(self, rows):
        """Offer the standardised flat rows of one chunk to the sample."""
        rows = rows.detach()
        room = self.capacity if self.rows is None else self.capacity - len(self.rows)
        head, rest = rows[:room], rows[room:]
        self.rows = head.clone() if self.rows is None else torch.cat([self.rows, head])
        self.seen += len(head)
        if len(rest):
            # Row number t (1-based) replaces a uniform slot of [0, t) when that
            # slot is a kept one; of several rows drawing one slot the last wins.
            rng = np.random.default_rng([self.seed, self.seen])
            draws = rng.integers(0, self.seen + np.arange(1, len(rest) + 1))
            self.seen += len(rest)
            kept = np.flatnonzero(draws < self.capacity)
            slots, last = np.unique(draws[kept][::-1], return_index=True)
            chosen = kept[::-1][last]
            index = torch.as_tensor(slots, device=rows.device)
            self.rows[index] = rest[torch.as_tensor(chosen, device=rows.device)]


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
    # small data; each step is cheap next to a contrastive one.
    epochs = max(max_epochs, math.ceil(MIN_DECODER_STEPS / steps))
    for _ in range(epochs):
        total = 0.0
        order = torch.randperm(len(data.bounds), generator=generator, device=generator.device)
        for chunk in order.tolist():
            targets = data.rows(chunk)
            with torch.no_grad():
                codes = map_batches(module, targets)
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
