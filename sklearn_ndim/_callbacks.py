"""skorch callbacks used by the embedder's private net."""

import math

from skorch.callbacks import Callback

__all__ = ["MutualInfoRecorder"]


class MutualInfoRecorder(Callback):
    """Record the epoch's InfoNCE estimate and the channel capacity.

    Every training batch has exactly ``batch_size`` rows (the last partial
    batch is dropped), so the epoch's mean loss gives the mean estimate
    ``ln B - loss`` directly, at no extra cost per batch.

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
