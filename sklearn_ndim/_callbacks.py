"""The skorch callbacks the embedder accepts, refused early when they cannot work.

The embedder trains without targets and without a validation split, so
callbacks that score predictions or monitor a validation loss would fail late
or never run; these checks say so before training starts.
"""

import warnings

from skorch.callbacks import Callback, EarlyStopping, EpochScoring, LRScheduler
from skorch.callbacks.scoring import ScoringBase

from ._auto_settings import holds_schedule, resolve_learning_rate
from ._validation import caller_stacklevel

__all__ = ["check_callbacks", "check_stream_callbacks", "release_schedulers"]


def check_callbacks(callbacks):
    """Return the callbacks as skorch expects them, refusing classes and junk."""
    if callbacks is None:
        return []
    checked = []
    for item in callbacks:
        callback = item[1] if isinstance(item, tuple) and len(item) == 2 else item
        if isinstance(callback, type):
            raise TypeError(
                f"callbacks must be instances, got the class {callback.__name__}; "
                f"pass {callback.__name__}() instead (classes break clone())."
            )
        if not isinstance(callback, Callback):
            raise TypeError(
                "callbacks must be skorch.callbacks.Callback instances or (name, instance) "
                f"tuples; got {item!r}."
            )
        _check_callback_needs(callback)
        checked.append(item)
    return checked


#: skorch's default monitors, which need a validation split.
_NEVER_RECORDED = frozenset({"valid_loss", "valid_loss_best"})

#: What the training history records each epoch, for callbacks to monitor.
_MONITORED = "'train_loss' (InfoNCE's cross-entropy) or 'mutual_info' (its estimate in nats)"


def _check_callback_needs(callback):
    """Refuse callbacks that need targets or a validation split, which training has neither of.

    skorch's scoring callbacks would fail on the batches ``(x, indices, views)``
    or, on the validation split, silently never run; a monitor of
    ``valid_loss`` would fail with a bare KeyError after the first epoch.
    """
    name = type(callback).__name__
    # EpochScoring(on_train=True, use_caching=False) runs: its scorer gets the net
    # (and the private training data), enough for a measure of the net itself.
    usable = isinstance(callback, EpochScoring) and callback.on_train and not callback.use_caching
    if isinstance(callback, ScoringBase) and not usable:
        raise ValueError(
            f"{name} scores predictions against targets, but the embedder trains without "
            "targets and without a validation split, so it would fail or never run. For a "
            "label-free measure, record it in a Callback's on_epoch_end with "
            f"net.history.record(name, value); to stop early, monitor {_MONITORED}."
        )
    monitor = getattr(callback, "monitor", None)
    if monitor in _NEVER_RECORDED:
        raise ValueError(
            f"{name} monitors {monitor!r}, which the embedder never records: it trains without "
            f"a validation split. Monitor {_MONITORED}"
            + (
                ", e.g. EarlyStopping(monitor='train_loss')."
                if isinstance(callback, EarlyStopping)
                else "."
            )
        )


def check_stream_callbacks(estimator, warn):
    """The estimator's callbacks for a partial_fit pass; ``warn`` about a schedule."""
    callbacks = check_callbacks(estimator.callbacks)
    if warn and holds_schedule(callbacks):
        warnings.warn(
            "A learning-rate schedule (skorch's LRScheduler) is rebuilt in each partial_fit "
            "call, from learning_rate="
            f"{resolve_learning_rate(estimator):g}: the call trains its one "
            "epoch at the rate the rebuilt schedule sets at epoch len(history_), which "
            "depends on the scheduler and the torch version; it does not advance across "
            "calls as in fit. Schedules are meant for fit; to lower the rate over a stream, "
            "set learning_rate between calls.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
    return callbacks


def release_schedulers(net):
    """Drop each ``LRScheduler``'s torch scheduler once ``net`` has trained.

    The torch scheduler holds the optimiser, which the net keeps out of its
    pickles on purpose (as a CPU state dict, see ``InfoMaxNet.__getstate__``);
    through the callback it would come back, on the training device, so a
    model trained on a GPU would not unpickle on a CPU-only machine. skorch
    makes a new one when training starts again; the rates it set stay in the
    history (``event_lr``).
    """
    for _, callback in getattr(net, "callbacks_", ()):
        if isinstance(callback, LRScheduler):
            callback.lr_scheduler_ = None
