"""The private skorch net: the training step of Noise-Injected InfoMax."""

import math

import torch
from skorch import NeuralNet
from skorch.dataset import unpack_data

from ._objectives import InfoNCELoss

__all__ = ["InfoMaxNet", "TensorBatchIterator", "TrainingDivergedError"]


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
    shuffle : bool
        Draw a new permutation each epoch from ``generator``.
    drop_last : bool
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


class InfoMaxNet(NeuralNet):
    """skorch net whose training step maximises InfoNCE between two noisy views.

    Parameters
    ----------
    module : InfoMaxModule
        The initialised module (its ``pair_scores`` gives the critic matrix).
    views : callable or None
        ``views(x, generator)`` draws one random view of a scaled batch.
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
        # Data arrives validated by the embedder as one float32 tensor.
        pass

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        x, indices = unpack_data(batch)
        x = self.module_.preprocess(x)
        scores = self.module_.pair_scores(
            self.views(x, indices, self.generator),
            self.views(x, indices, self.generator),
            self.generator,
        )
        loss = self.criterion_(scores)
        if not torch.isfinite(loss):
            epoch = len(self.history)
            raise TrainingDivergedError(
                f"The InfoNCE loss became {loss.item()} in epoch {epoch}. Likely causes: a "
                f"learning rate too high for this data (learning_rate={self.lr}), or input "
                "features with very large values (standardise them, e.g. with StandardScaler, "
                "or keep standardize=True). Lower learning_rate or rescale the inputs."
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
