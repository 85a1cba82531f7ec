"""What a fitted embedder computes from its state: embeddings, decoded rows, scores.

The public methods of :class:`~sklearn_ndim.NoisyInfoMaxEmbedder` validate
their input and call these; each takes the fitted estimator and validated rows.
"""

import copy
import math

import numpy as np
import torch
from sklearn.exceptions import NotFittedError
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted

from ._networks import ConvEncoder, MLPEncoder
from ._stats import MIN_ENTROPY_ROWS, excess_kl, value_kinds
from ._training import decode, embed, estimate_mutual_info
from ._training_data import STREAM_CHUNK_ROWS, TrainingData

__all__ = [
    "check_codes",
    "output_dtype",
    "gaussian_embedding",
    "decoded_rows",
    "mutual_info_on",
    "label_free_score",
    "portable_state",
    "restore_devices",
]


def output_dtype(X):
    """The float dtype that ``transform`` returns for validated rows ``X``."""
    return X.dtype if X.dtype in (np.float32, np.float64) else np.dtype(np.float64)


def model_device(estimator):
    """The device that the fitted module's parameters live on."""
    return next(estimator.net_.module_.parameters()).device


def portable_state(state):
    """``state`` with the tensors held outside the skorch net moved to the CPU.

    So that a model fitted on a GPU unpickles on a machine without one
    (skorch maps the net itself). The estimator keeps its own tensors where
    they are: Python's default ``__getstate__`` returns the live ``__dict__``,
    so the state is copied before any entry is replaced.
    """
    state = dict(state)
    if state.get("_decoder") is not None:
        state["_decoder"] = copy.deepcopy(state["_decoder"]).cpu()
    if state.get("_reservoir") is not None and state["_reservoir"].rows is not None:
        reservoir = copy.copy(state["_reservoir"])
        reservoir.rows = reservoir.rows.cpu()
        state["_reservoir"] = reservoir
    return state


def restore_devices(estimator):
    """Move an unpickled estimator's decoder and reservoir to its model's device."""
    if getattr(estimator, "_decoder", None) is not None:
        estimator._decoder.to(model_device(estimator))
    reservoir = getattr(estimator, "_reservoir", None)
    if reservoir is not None and reservoir.rows is not None:
        reservoir.rows = reservoir.rows.to(model_device(estimator))


def gaussian_embedding(estimator, X):
    """Gaussian-space embedding of validated rows, chunk by chunk, as numpy.

    float64 rows are embedded in float64 by the built-in encoders, all others
    in float32; a custom encoder computes in float32, as in training (one that
    casts its input, or holds plain tensors, fails in a float64 copy), and
    its float64 rows' output is float64.
    """
    built_in = type(estimator.net_.module_.encoder) in (MLPEncoder, ConvEncoder)  # subclasses: own
    in_float64 = X.dtype == np.float64
    dtype = torch.float64 if in_float64 and built_in else torch.float32
    device = model_device(estimator)
    out = np.empty(
        (X.shape[0], estimator.n_components_), dtype=np.float64 if in_float64 else np.float32
    )
    for start in range(0, X.shape[0], STREAM_CHUNK_ROWS):
        rows = estimator._scaler.to_tensor(X[start : start + STREAM_CHUNK_ROWS], device, dtype)
        out[start : start + len(rows)] = embed(estimator.net_.module_, rows)
    return out


def check_decoder(estimator):
    """Raise unless ``estimator`` is fitted with a decoder."""
    check_is_fitted(estimator)
    if estimator._decoder is None:
        raise NotFittedError(
            "This embedder has no decoder: fit it with fit_inverse_transform=True to use "
            "inverse_transform and sample."
        )


def check_codes(estimator, X):
    """Embeddings given to ``inverse_transform``, validated: a float array in the prior's support.

    A DataFrame with the model's own column names in another order is
    refused: its columns would be read by position.
    """
    columns = getattr(X, "columns", None)
    if columns is not None:
        names = [str(name) for name in columns]
        expected = list(estimator.get_feature_names_out())
        if sorted(names) == sorted(expected) and names != expected:
            raise ValueError(
                "X holds this model's embedding columns in another order; columns are read by "
                f"position: select them as X[{expected!r}]."
            )
    kinds = value_kinds(X)
    if kinds & {"U", "S"}:
        raise ValueError(
            "X holds text; embeddings are numbers, as transform returns them (convert text read "
            "from a file with astype(float))."
        )
    if "b" in kinds:
        # True would read as 1, the uniform prior's edge.
        raise ValueError("X holds booleans; embeddings are numbers, as transform returns them.")
    Z = check_array(X, dtype=[np.float64, np.float32], input_name="X")
    if Z.shape[1] != estimator.n_components_:
        raise ValueError(
            f"X has {Z.shape[1]} columns; embeddings of this model have {estimator.n_components_}."
        )
    estimator.prior_.check_support(Z)
    return Z


def decoded_rows(estimator, g):
    """Rows or images for the Gaussian-space codes ``g``, in the dtype of ``g``.

    Values are clipped to each feature's training range and shaped as the
    images given to ``fit`` were.
    """
    dtype = torch.float64 if g.dtype == np.float64 else torch.float32
    device = model_device(estimator)
    codes = torch.as_tensor(np.ascontiguousarray(g), dtype=dtype, device=device)
    flat = decode(estimator._decoder, codes).astype(np.float64)
    X = flat * estimator._scaler.scale + estimator._scaler.mean
    X = np.clip(X, *estimator._input_range).astype(g.dtype, copy=False)
    if estimator._input_ndim == 3:
        return X.reshape((len(X),) + estimator._sample_shape[1:])
    if estimator._input_ndim == 4:
        return X.reshape((len(X),) + estimator._sample_shape)
    return X


def check_trained_channel(estimator, action):
    """Refuse ``action`` on a model whose capacity is not the Gaussian channel's.

    Models with ``prior="uniform"`` from before 0.2 trained through a
    uniform-noise channel, whose ``noise_scale_`` is a half-width: read as the
    Gaussian sigma it would change the objective (or the estimate) without a
    word. Such models still embed as before.
    """
    expected = estimator.prior_.capacity(estimator.n_components_, estimator.noise_scale_)
    if not math.isclose(estimator.capacity_, expected, rel_tol=1e-9):
        raise ValueError(
            f"This {estimator.prior_.name} model was trained through the former uniform-noise "
            f"channel (capacity {estimator.capacity_:.4g} nats at noise_scale_="
            f"{estimator.noise_scale_:.4g}); {action} uses the Gaussian channel now and cannot "
            "apply to it. It still embeds as before; refit it for the rest."
        )


def mutual_info_on(estimator, X):
    """InfoNCE estimate (nats) on validated rows, with the fitted views and noise."""
    check_trained_channel(estimator, "the mutual-information estimate")
    if X.shape[0] < 2:
        raise ValueError("The mutual-information estimate needs at least 2 rows.")
    module = estimator.net_.module_
    data = TrainingData(
        X,
        estimator._scaler,
        model_device(estimator),
        estimator._view_spec,
        module.input_shape,
        estimator._seed,
    )
    batch_size = min(estimator.batch_size_, X.shape[0])
    estimate = estimate_mutual_info(module, data, batch_size, estimator._seed)
    if not math.isfinite(estimate):
        raise ValueError(_far_rows(estimator, X, "the critic's float32 scores overflow"))
    return estimate


def _far_rows(estimator, X, what):
    """Why a measure failed on ``X``: rows far outside the training rows, if they are.

    The largest standardised value is found chunk by chunk (no float64 copy of
    ``X``); within a million standard deviations the rows are not to blame.
    """
    farthest = 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        for start in range(0, X.shape[0], STREAM_CHUNK_ROWS):
            chunk = estimator._scaler.transform(X[start : start + STREAM_CHUNK_ROWS], np.float64)
            farthest = max(farthest, float(np.nanmax(np.abs(chunk), initial=0.0)))
    if farthest <= 1e6:
        return (
            f"The measure is not finite on X, whose values lie within {farthest:.3g} standard "
            "deviations of their training means: the encoder's output on these rows is not "
            "finite (a custom encoder's, say)."
        )
    return (
        f"X holds rows far outside the training rows (a value {farthest:.3g} standard "
        f"deviations from its training mean), so far that {what}: check them for unscaled or "
        "corrupted values, or leave them out of the measure."
    )


def label_free_score(estimator, X):
    """``I_hat - KL_hat`` (nats) on validated rows: what ``score`` returns."""
    # The Gaussian fit needs n_components + 2 rows, the marginal entropies 5.
    needed = max(estimator.n_components_ + 2, MIN_ENTROPY_ROWS)
    if X.shape[0] < needed:
        raise ValueError(
            f"score needs at least max(n_components + 2, {MIN_ENTROPY_ROWS}) = {needed} rows "
            f"to estimate the divergence from the prior; got {X.shape[0]}."
        )
    embedding = gaussian_embedding(estimator, X)
    finite = np.isfinite(embedding).all(axis=1)
    if not finite.all():
        raise ValueError(
            f"The embedding of X is not finite (NaN or inf) in {int((~finite).sum())} of its "
            f"{len(embedding)} rows: the encoder's output on them; score() cannot rank models "
            "on it."
        )
    with np.errstate(over="ignore"):
        overflows = not np.isfinite(np.einsum("ij,ij->i", embedding, embedding)).all()
    if overflows:
        raise ValueError(_far_rows(estimator, X, "their embedding's squares overflow"))
    kl = excess_kl(embedding)
    if not math.isfinite(kl):
        raise ValueError(
            "The embedding of X has repeated values (X looks discrete: "
            f"{len(np.unique(X, axis=0))} distinct rows among {X.shape[0]}), so its "
            "divergence from the continuous prior is infinite and score() cannot rank "
            "models on it. Use scoring=sklearn_ndim.metrics.mutual_info_scorer instead."
        )
    return mutual_info_on(estimator, X) - kl
