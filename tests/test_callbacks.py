import io
import pickle

import numpy as np
import pytest
import torch
from skorch.callbacks import (
    BatchScoring,
    Callback,
    Checkpoint,
    EarlyStopping,
    EpochScoring,
    LRScheduler,
    PassthroughScoring,
)

from sklearn_ndim import NoisyInfoMaxEmbedder
from sklearn_ndim._callbacks import check_callbacks


def test_callbacks_must_be_instances():
    stopper = EarlyStopping(monitor="train_loss")
    assert check_callbacks([stopper, ("named", stopper)]) == [stopper, ("named", stopper)]
    with pytest.raises(TypeError, match="pass EarlyStopping"):
        check_callbacks([EarlyStopping])
    with pytest.raises(TypeError, match="Callback instances"):
        check_callbacks(["print"])


@pytest.mark.parametrize(
    "callback, message",
    [
        (EpochScoring(lambda net, X, y: 0.0, name="s"), "trains without targets"),
        (EpochScoring(lambda net, X, y: 0.0, name="s", on_train=True), "net.history.record"),
        (BatchScoring(lambda net, X, y: 0.0, name="s"), "trains without targets"),
        (BatchScoring(lambda net, X, y: 0.0, name="s", on_train=True), "trains without"),
        (EarlyStopping(), "EarlyStopping monitors 'valid_loss'.*monitor='train_loss'"),
        (Checkpoint(dirname="unused"), "Checkpoint monitors 'valid_loss_best'"),
    ],
)
def test_callbacks_that_need_targets_or_a_validation_split_are_refused(callback, message):
    with pytest.raises(ValueError, match=message):
        check_callbacks([callback])
    with pytest.raises(ValueError, match=message):
        check_callbacks([("named", callback)])


def test_callbacks_that_monitor_what_training_records_are_accepted():
    callbacks = [
        EarlyStopping(monitor="train_loss"),
        Checkpoint(monitor="train_loss_best", dirname="unused"),
        LRScheduler(monitor="train_loss"),
        PassthroughScoring(name="train_loss", on_train=True),
        # A label-free scorer of the training data, and a monitor of what a callback records.
        EpochScoring(lambda net, X, y: 0.0, name="s", on_train=True, use_caching=False),
        EarlyStopping(monitor="valid_alignment"),
    ]
    assert check_callbacks(callbacks) == callbacks


class _RecordsAlignment(Callback):
    def on_epoch_end(self, net, **kwargs):
        net.history.record("valid_alignment", float(len(net.history)))  # worsens


def test_a_label_free_epoch_score_and_a_user_recorded_monitor_work_in_a_fit():
    X = np.random.default_rng(0).normal(size=(80, 4))
    scorer = EpochScoring(
        lambda net, X, y: float(len(X)), name="rows", on_train=True, use_caching=False
    )
    stopper = EarlyStopping(monitor="valid_alignment", patience=1, threshold=10.0)
    embedder = NoisyInfoMaxEmbedder(
        2, max_epochs=6, random_state=0, callbacks=[_RecordsAlignment(), scorer, stopper]
    ).fit(X)
    assert embedder.history_[0]["rows"] == 80
    assert embedder.n_iter_ < 6


class _FindsOptimizers(pickle.Pickler):
    """A pickler that records the optimisers among the objects it writes."""

    def __init__(self, file):
        super().__init__(file)
        self.optimizers = []

    def reducer_override(self, obj):
        if isinstance(obj, torch.optim.Optimizer):
            self.optimizers.append(obj)
        return NotImplemented


@pytest.mark.parametrize(
    "params",
    [{}, {"callbacks": [LRScheduler(policy="StepLR", step_size=1)]}],
    ids=["image schedule", "user schedule"],
)
def test_a_fitted_model_pickles_without_its_optimizer_and_schedules_again(params):
    images = np.random.default_rng(0).random((64, 16, 16)).astype(np.float32)
    fitted = NoisyInfoMaxEmbedder(n_components=2, max_epochs=2, random_state=0, **params)
    fitted.fit(images)
    schedulers = [c for _, c in fitted.net_.callbacks_ if isinstance(c, LRScheduler)]
    assert len(schedulers) == 1 and schedulers[0].lr_scheduler_ is None
    pickler = _FindsOptimizers(io.BytesIO())
    pickler.dump(fitted)
    assert pickler.optimizers == []
    # The next training run makes a new torch scheduler from the kept optimiser state.
    fitted.partial_fit(images)
    assert schedulers[0].lr_scheduler_ is None
    assert len(fitted.history_) == 3
