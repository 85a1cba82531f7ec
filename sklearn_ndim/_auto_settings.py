"""What the ``"auto"`` training settings resolve to, for tables and for images.

Images that the convolutional path shifts (``max_shift`` resolves above 0:
12 pixels a side or more under ``"auto"``) train half the epochs of a
table's budget, at a higher learning rate that decays to zero on a cosine,
with a light prior penalty. On Fashion-MNIST and a second image set that
kept or raised the probe accuracy of the longer fit at about its match, in
half the time (docs: "Faster fits"). Tables keep the longer fit at a
constant rate and no penalty: there the penalty costs accuracy.

``noise_scale="auto"`` puts the channel capacity at ``ln B``, the most InfoNCE
can measure. For images trained with a prior penalty (their default), which
pulls towards the prior whatever the noise, it stops at a noise of 1, a
signal-to-noise ratio of 1 per dimension: the rule's own value at ``d = 16``
and ``B = 256``. Above that the rule drowns each dimension (2.3 at ``d = 64``),
and on images that cost match without a gain in accuracy (docs: "Choosing
the noise").
"""

import math

from skorch.callbacks import LRScheduler

from ._validation import accepted_noise_for_capacity

__all__ = [
    "EPOCH_BUDGET_ROWS",
    "IMAGE_LEARNING_RATE",
    "IMAGE_MAX_AUTO_NOISE",
    "IMAGE_PRIOR_PENALTY",
    "TABLE_LEARNING_RATE",
    "cosine_schedule",
    "holds_schedule",
    "resolve_learning_rate",
    "resolve_max_epochs",
    "resolve_noise_scale",
    "resolve_prior_penalty",
    "trains_as_images",
]

#: Row presentations a fit on a table gets with max_epochs="auto" (epochs x
#: rows, at most 100 epochs); images get half the epochs.
EPOCH_BUDGET_ROWS = 250_000
TABLE_LEARNING_RATE = 1e-3
IMAGE_LEARNING_RATE = 3e-3
IMAGE_PRIOR_PENALTY = 30.0
IMAGE_MAX_AUTO_NOISE = 1.0


def trains_as_images(estimator, sample_shape, view_spec):
    """Whether ``"auto"`` settings are those for images: images whose views shift them.

    ``sample_shape`` is ``(C, H, W)`` or None and ``view_spec`` the fit's
    resolved :class:`~sklearn_ndim._views.ViewSpec`. ``encoder="mlp"`` reads
    images as rows, with a table's views; images too small to shift (or
    with ``max_shift=0``) get neighbour views, as tables do, and train as
    tables.
    """
    if sample_shape is None:
        return False
    if isinstance(estimator.encoder, str) and estimator.encoder == "mlp":
        return False
    return view_spec.max_shift > 0


def resolve_max_epochs(estimator, n_samples, images=False, callbacks=()):
    """Epochs to train: ``max_epochs``, or the ``"auto"`` budget for ``n_samples`` rows.

    Images get half the budget only where :func:`cosine_schedule` decays the
    rate (``learning_rate="auto"`` and no schedule among ``callbacks``), as
    the shorter fit needs; otherwise they train the full budget.
    """
    if isinstance(estimator.max_epochs, str):
        epochs = min(100, math.ceil(EPOCH_BUDGET_ROWS / n_samples))
        return math.ceil(epochs / 2) if _decays(estimator, images, callbacks) else epochs
    return int(estimator.max_epochs)


def _decays(estimator, images, callbacks):
    """Whether ``fit`` decays ``learning_rate="auto"`` on a cosine: images, no schedule of yours."""
    return images and isinstance(estimator.learning_rate, str) and not holds_schedule(callbacks)


def holds_schedule(callbacks):
    """Whether ``callbacks`` (instances or ``(name, instance)``) hold a learning-rate schedule."""
    return any(isinstance(c[1] if isinstance(c, tuple) else c, LRScheduler) for c in callbacks)


def resolve_noise_scale(estimator, prior, batch_size, images=False, prior_penalty=0.0):
    """The noise scale to train with: ``noise_scale``, or ``"auto"``'s.

    ``"auto"`` puts the capacity at ``ln(batch_size)``, within the range an
    explicit ``noise_scale`` may take (at ``d = 1`` a large batch would need a
    smaller scale), and for images trained with a (resolved) prior penalty
    at most :data:`IMAGE_MAX_AUTO_NOISE`.
    """
    if isinstance(estimator.noise_scale, str):
        capacity = math.log(batch_size)
        noise = accepted_noise_for_capacity(prior, estimator.n_components, capacity)[0]
        return min(noise, IMAGE_MAX_AUTO_NOISE) if images and prior_penalty > 0 else noise
    return float(estimator.noise_scale)


def resolve_learning_rate(estimator, images=False):
    """Adam's learning rate: ``learning_rate``, or ``"auto"``'s for this input.

    ``images`` only for a ``fit`` whose rate :func:`cosine_schedule` decays;
    streams (``partial_fit``) and the decoder have no such schedule and take
    the table's rate whatever their input.
    """
    if isinstance(estimator.learning_rate, str):
        return IMAGE_LEARNING_RATE if images else TABLE_LEARNING_RATE
    return float(estimator.learning_rate)


def resolve_prior_penalty(estimator, images=False):
    """The prior penalty's weight: ``prior_penalty``, or ``"auto"``'s for this input."""
    if isinstance(estimator.prior_penalty, str):
        return IMAGE_PRIOR_PENALTY if images else 0.0
    return float(estimator.prior_penalty)


def cosine_schedule(estimator, images, max_epochs, callbacks):
    """The cosine decay of ``learning_rate="auto"`` on images, as callbacks for ``fit``.

    Empty when the rate is set, the input is a table, or ``callbacks`` hold a
    schedule of the user's (theirs drives the rate then).
    """
    if not _decays(estimator, images, callbacks):
        return []
    return [("learning_rate_schedule", LRScheduler(policy="CosineAnnealingLR", T_max=max_epochs))]
