"""What a user sees while a fit runs: the epoch table, stage lines, the progress bar."""

import re
import sys
import time
from contextlib import contextmanager

from skorch.callbacks import Callback
from tqdm.auto import tqdm

from ._distributed import current_group, mean_across

__all__ = ["MutualInfoRecorder", "FitProgressBar", "print_table_row", "stage"]


class MutualInfoRecorder(Callback):
    """Record the epoch's InfoNCE estimate and the channel capacity.

    The estimate is the mean of the batches' ``mutual_info`` (``ln B`` minus
    InfoNCE's cross-entropy), which the training step records; the loss
    itself also holds the prior penalty.

    Parameters
    ----------
    capacity : float
        Channel capacity ``C`` in nats (``inf`` without noise).
    """

    def __init__(self, capacity):
        self.capacity = capacity

    def on_epoch_end(self, net, **kwargs):
        loss = net.history[-1, "train_loss"]
        if current_group() is not None:
            # The same loss on every process, so that callbacks such as
            # EarlyStopping take the same decision everywhere.
            loss = mean_across(loss)
            net.history.record("train_loss", loss)
        estimates = net.history[-1, "batches", :, "mutual_info"]
        mutual_info = sum(estimates) / len(estimates)
        if current_group() is not None:
            mutual_info = mean_across(mutual_info)
        net.history.record("mutual_info", mutual_info)
        net.history.record("capacity", self.capacity)


_ANSI_CODE = re.compile(r"\x1b\[[0-9;]*m")


def print_table_row(text):
    """Print a row of skorch's epoch table; colour codes only on a terminal.

    As ``tqdm.write``: a running progress bar is cleared first and redrawn
    after, so that the row and the bar never share a line. The row is flushed
    before the bar comes back: when stdout is a file it is buffered, while
    the bar (on stderr) is not, and in a shared log (``2>&1``) the row would
    otherwise land after the redrawn bar.
    """
    if not sys.stdout.isatty():
        text = _ANSI_CODE.sub("", text)
    with tqdm.external_write_mode(file=sys.stdout):
        sys.stdout.write(text + "\n")
        sys.stdout.flush()


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
