"""What a fitted embedder keeps against its channel's capacity; the noise for a capacity.

Both are public through :mod:`sklearn_ndim.metrics`.
"""

import math
import warnings

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._auto_settings import IMAGE_MAX_AUTO_NOISE
from ._inference import check_trained_channel
from ._priors import resolve_prior
from ._reports import InformationReport
from ._stats import check_positive_int
from ._validation import MAX_NOISE, MIN_NOISE, accepted_noise_for_capacity, caller_stacklevel

__all__ = ["information_report", "suggest_noise_scale"]


def information_report(embedder):
    """Compare a fitted embedder's information estimate with its capacity.

    Parameters
    ----------
    embedder : NoisyInfoMaxEmbedder
        A fitted embedder.

    Returns
    -------
    report : InformationReport
        Capacity, estimate, efficiency, the ``ln B`` ceiling and the per-epoch
        estimates.

    Warns
    -----
    UserWarning
        When ``C > ln B``: InfoNCE cannot estimate more than ``ln B``, so the
        training objective cannot see the rest of the gap and the push towards
        the prior weakens; not at a noise of 1 with a prior penalty, which
        pulls whatever the noise: images, where ``noise_scale="auto"`` stops
        at 1, exceed ``ln B`` by design above ``d = 16`` (at ``B = 256``).
        When the estimate exceeds ``C`` or is negative: it then says nothing
        about the match, or shows no information.

    See Also
    --------
    suggest_noise_scale : Noise scale for a given capacity.
    """
    check_is_fitted(embedder)
    if not all(hasattr(embedder, name) for name in ("capacity_", "mutual_info_", "noise_scale_")):
        raise TypeError(
            "information_report reads the capacity_, mutual_info_ and noise_scale_ of a fitted "
            f"NoisyInfoMaxEmbedder; got a {type(embedder).__name__}."
        )
    check_trained_channel(embedder, "information_report")
    batch_size = int(getattr(embedder, "batch_size_", embedder.batch_size))
    capacity = float(embedder.capacity_)
    mutual_info = float(embedder.mutual_info_)
    ln_batch = math.log(batch_size)
    # The scale of capacity ln B, as noise_scale="auto" picks it (within the accepted range).
    ceiling_noise, _ = accepted_noise_for_capacity(
        embedder.prior_, embedder.n_components_, ln_batch
    )
    # "auto" noise gives C = ln B up to rounding; that is not an excess.
    capacity_visible = capacity <= ln_batch * (1 + 1e-9)
    # Images with a prior penalty exceed ln B by design where "auto" stops at a
    # noise of 1 (above d = 16 at B = 256): the penalty, not the KL term, pulls.
    capped = (
        float(getattr(embedder, "prior_penalty_", 0.0)) > 0
        and float(embedder.noise_scale_) == IMAGE_MAX_AUTO_NOISE < ceiling_noise
    )
    if not capacity_visible and not capped:
        why = (
            "noise_scale_ = 0 makes the channel capacity infinite, above"
            if math.isinf(capacity)
            else f"The channel capacity C = {capacity:.3g} nats exceeds"
        )
        warnings.warn(
            f"{why} ln(B) = {ln_batch:.3g} nats, the most InfoNCE can estimate with "
            f"batches of B = {batch_size}; the objective cannot see the rest of the gap "
            f"and the push towards the prior weakens. Use noise_scale >= "
            f"{ceiling_noise:.3g}, a larger batch_size, or a prior_penalty.",
            UserWarning,
            stacklevel=2,
        )
    if mutual_info > capacity:
        warnings.warn(
            f"The InfoNCE estimate ({mutual_info:.3g} nats) exceeds the capacity C = "
            f"{capacity:.3g}: at this noise the estimate's own error is larger than what the "
            "channel can carry, so the gap C - I says nothing about the match here.",
            UserWarning,
            stacklevel=2,
        )
    if mutual_info < 0:
        warnings.warn(
            f"The InfoNCE estimate is negative ({mutual_info:.3g} nats): the critic scores "
            "matching pairs below chance, so the estimate shows no information and the "
            "efficiency is reported as 0. The fit learned nothing usable (see its "
            "ConvergenceWarning).",
            UserWarning,
            stacklevel=2,
        )
    return InformationReport(
        n_components=int(embedder.n_components_),
        noise_scale=float(embedder.noise_scale_),
        batch_size=batch_size,
        capacity=capacity,
        mutual_info=mutual_info,
        efficiency=0.0 if math.isinf(capacity) else max(mutual_info, 0.0) / capacity,
        ln_batch=ln_batch,
        gap=capacity - mutual_info,
        capacity_visible=capacity_visible,
        noise_at_ceiling=ceiling_noise,
        mutual_info_history=[float(v) for v in embedder.history_[:, "mutual_info"]],
    )


def suggest_noise_scale(n_components, batch_size, prior="gaussian", fraction=1.0):
    """Noise scale whose channel capacity is ``fraction * ln(batch_size)``.

    With ``fraction=1`` the capacity equals the InfoNCE ceiling ``ln B``;
    this is what ``noise_scale="auto"`` uses (images trained with a prior
    penalty stop at a noise of 1). Smaller fractions give more
    noise and a lower capacity; whether that brings the held-out embedding
    closer to the prior depends on the data (on the benchmark sets the match
    worsens beyond a capacity of about ``ln B``), so measure it with
    :func:`prior_match_report`.

    Parameters
    ----------
    n_components : int
        Embedding dimension ``d``, >= 1.
    batch_size : int
        Rows per training batch ``B``, >= 2 (capped at the number of samples
        in training, so pass ``min(batch_size, n_samples)``).
    prior : {"gaussian", "uniform"} or scipy.stats frozen distribution, \
            default="gaussian"
        Target prior; every prior trains through the same Gaussian channel,
        so the result does not depend on it.
    fraction : float, default=1.0
        Target capacity as a fraction of ``ln B``, > 0.

    Returns
    -------
    noise_scale : float
        Standard deviation ``sigma`` of the channel's Gaussian noise, within
        ``[1e-3, 1e3]``, the range ``noise_scale`` accepts. A warning says
        when the capacity needs a scale outside it (at ``n_components=1``
        with batches of more than 1,000 rows, say); ``noise_scale="auto"``
        clips the same way without a warning, and ``noise_scale_`` shows
        the value used.

    Examples
    --------
    >>> from sklearn_ndim.metrics import suggest_noise_scale
    >>> round(suggest_noise_scale(16, 256), 2)
    1.0
    """
    check_positive_int(n_components, "n_components")
    check_positive_int(batch_size, "batch_size", minimum=2)
    if isinstance(fraction, (bool, np.bool_)) or not (
        isinstance(fraction, (int, float, np.number)) and 0 < fraction < math.inf
    ):
        raise ValueError(f"fraction must be a positive finite float; got {fraction!r}.")
    resolved = resolve_prior(prior)
    capacity = float(fraction) * math.log(batch_size)
    noise_scale, clipped = accepted_noise_for_capacity(resolved, n_components, capacity)
    if clipped:
        warnings.warn(
            f"A capacity of {fraction!r} * ln({batch_size}) = {capacity:.4g} nats at "
            f"n_components={n_components} needs a noise scale outside [{MIN_NOISE:g}, "
            f"{MAX_NOISE:g}], the range noise_scale accepts; returning {noise_scale:g}, whose "
            f"capacity is {resolved.capacity(n_components, noise_scale):.4g} nats.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
    return noise_scale
