"""partial_fit: training on a stream of chunks, one epoch per call.

The first call sets the model up as :func:`~sklearn_ndim._fitting.fit_state`
does; later calls continue it. A reservoir sample of the rows seen so far
gives each chunk neighbours beyond itself and recalibrates the output.
"""

import copy
import math
import warnings

import numpy as np
import torch
from sklearn.utils import check_random_state

from ._auto_settings import (
    resolve_learning_rate,
    resolve_noise_scale,
    resolve_prior_penalty,
    trains_as_images,
)
from ._callbacks import check_stream_callbacks, release_schedulers
from ._data import InputScaler, input_ndim
from ._distributed import initialised_group
from ._fitting import (
    _check_whitening,
    _seeded,
    _warn_if_nothing_learned,
    build_module,
    make_net,
    set_mixed_precision,
    warn_if_widths_unused,
)
from ._inference import check_trained_channel
from ._progress import MutualInfoRecorder
from ._training import calibrate, estimate_mutual_info
from ._training_data import Reservoir, TrainingData, first_occurrences
from ._validation import (
    caller_stacklevel,
    check_features_vary,
    check_model_params_unchanged,
    check_no_booleans,
    check_prior,
    model_params,
    resolve_device,
    validate_fitted_input,
    validate_training_input,
    warn_again,
)
from ._views import ViewSpec

__all__ = ["partial_fit_state"]

#: Rows a stream keeps for neighbour views and calibration (partial_fit).
RESERVOIR_ROWS = 8192


def partial_fit_state(estimator, X):
    """One training pass over the chunk ``X``, continuing the estimator's model.

    The first call sets up the model as
    :func:`~sklearn_ndim._fitting.fit_state` would (its input
    standardisation comes from this first chunk). Neighbour views of a chunk
    are drawn from the chunk and from a reservoir sample of the rows seen so
    far; after each pass the normaliser is recalibrated on that reservoir, so
    ``transform`` is usable after every call. Returns the fitted attributes;
    the estimator's own model is never changed in place.
    """
    if not hasattr(estimator, "net_"):
        return _first_partial_fit(estimator, X)
    check_no_booleans(estimator)
    check_model_params_unchanged(estimator)
    X = validate_fitted_input(estimator, X)
    if getattr(estimator, "_reservoir", None) is None:
        _warn_if_in_a_process_group()  # a stream starts here, after fit or io.load
    # The copy carries a CPU copy of Adam's moments and step count instead of
    # an optimiser (as a pickle does): Adam goes on from them, and a failed
    # pass changes nothing. Models from io.load start with a fresh Adam.
    state = {"net_": copy.deepcopy(estimator.net_)}
    net = state["net_"]
    optimizer_state = net.__dict__.pop("_optimizer_state", None)
    net.initialize_optimizer()
    if optimizer_state is not None:
        net.optimizer_.load_state_dict(optimizer_state)
    # The loaded state carries the old settings: the current parameters apply.
    learning_rate = resolve_learning_rate(estimator)
    net.lr = learning_rate
    for group in net.optimizer_.param_groups:
        group["lr"] = learning_rate
        # What torch's schedulers read when they resume (a loaded model's fresh
        # Adam has none, and skorch resumes at the epochs in history_).
        group["initial_lr"] = learning_rate
        group["weight_decay"] = estimator.weight_decay
    # A decoder from fit was trained for the encoder before this pass.
    state.update(_decoder=None, _input_range=None)
    # Training controls follow the current parameters; the model does not.
    recorder = MutualInfoRecorder(estimator.capacity_)
    # Warned once per stream: at its first chunk, or the first after fit or io.load.
    first_pass = getattr(estimator, "_reservoir", None) is None
    net.callbacks = [("mutual_info", recorder)] + check_stream_callbacks(estimator, first_pass)
    net.verbose = estimator.verbose
    net.initialize_callbacks()
    set_mixed_precision(
        net.module_, next(net.module_.parameters()).device, estimator.mixed_precision
    )
    check_trained_channel(estimator, "partial_fit")
    _check_chunk_size(X, estimator.batch_size_)
    reservoir = copy.deepcopy(getattr(estimator, "_reservoir", None))
    if reservoir is None:
        warnings.warn(
            "This model keeps no sample of the rows it was trained on (a model from fit or "
            "io.load keeps none): partial_fit recalibrates its output and draws neighbours "
            "from the rows streamed from now on, starting with this chunk, so a chunk unlike "
            "the training rows shifts the embedding of all rows. To stream from the start, "
            "train with partial_fit only and keep the model by pickling it.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
        reservoir = Reservoir(RESERVOIR_ROWS, estimator._seed)
    return _stream_pass(
        estimator, X, net, reservoir, estimator._scaler, estimator._view_spec, state
    )


def _check_chunk_size(X, batch_size):
    if X.shape[0] < batch_size:
        raise ValueError(
            f"partial_fit needs chunks of at least batch_size_ = {batch_size} rows (the batch "
            f"size fixed when the model was set up, by fit or the first partial_fit chunk); got "
            f"{X.shape[0]}."
        )


def _first_partial_fit(estimator, X):
    check_no_booleans(estimator)
    prior = check_prior(estimator)
    device = resolve_device(estimator.device)
    ndim = input_ndim(X)
    X, sample_shape = validate_training_input(estimator, X, whole_data=False)
    _warn_if_in_a_process_group()
    batch_size = min(estimator.batch_size, X.shape[0])
    if batch_size < estimator.batch_size:
        warnings.warn(
            f"The first partial_fit chunk has {X.shape[0]} rows, fewer than "
            f"batch_size={estimator.batch_size}: the whole stream trains on batches of "
            f"{batch_size} rows (InfoNCE's ceiling ln {batch_size} = {math.log(batch_size):.2f} "
            "nats) and later chunks need as many. Start the stream with a chunk of at least "
            "batch_size rows, or lower batch_size.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
    _check_whitening(estimator, batch_size)
    view_spec = ViewSpec.resolve(estimator, sample_shape)
    images = trains_as_images(estimator, sample_shape, view_spec)
    penalty = resolve_prior_penalty(estimator, images)
    noise_scale = resolve_noise_scale(estimator, prior, batch_size, images, penalty)
    capacity = prior.capacity(estimator.n_components, noise_scale)
    seed = int(check_random_state(estimator.random_state).randint(np.iinfo(np.int32).max))
    scaler = InputScaler.fit(X, sample_shape, estimator.standardize)
    check_features_vary(
        X, scaler, estimator.standardize, estimator.n_components, "the first partial_fit chunk"
    )
    _warn_if_constant_in_first_chunk(scaler)
    with _seeded(seed, device):
        module = build_module(
            estimator, sample_shape, X.shape[1], prior, noise_scale, device, penalty
        )
        warn_if_widths_unused(estimator, module.encoder, sample_shape)
        net = make_net(
            estimator,
            module,
            device,
            batch_size,
            callbacks=[("mutual_info", MutualInfoRecorder(capacity))]
            + check_stream_callbacks(estimator, warn=True),
        )
        net.initialize()
    state = {
        "prior_": prior,
        "noise_scale_": noise_scale,
        "capacity_": capacity,
        "batch_size_": batch_size,
        "n_components_": int(estimator.n_components),
        "net_": net,
        "_seed": seed,
        "_sample_shape": sample_shape,
        "_scaler": scaler,
        "_view_spec": view_spec,
        "_input_ndim": ndim,
        "_decoder": None,
        "_input_range": None,
        "_n_features_out": int(estimator.n_components),
        "_model_params": model_params(estimator),
    }
    reservoir = Reservoir(RESERVOIR_ROWS, seed)
    return _stream_pass(estimator, X, net, reservoir, scaler, view_spec, state, batch_size, seed)


def _warn_if_in_a_process_group():
    """A stream trains in each process alone: say so where fit would be data-parallel."""
    group = initialised_group()
    if group is not None:
        warnings.warn(
            f"partial_fit is not data-parallel: in this torch.distributed group of {group.size} "
            "processes each process trains its own model on the chunks it is given. For one "
            "model trained by all processes, call fit with the same X in each.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )


def _warn_if_constant_in_first_chunk(scaler):
    """A stream's first chunk fixes the scaling: features constant there are ignored for good.

    Given scale 1 instead, a rare feature that is constant in the first chunk
    would enter later chunks unscaled, far larger than the standardised ones.
    """
    n_constant = int(scaler.constant.sum())
    if n_constant:
        n_roundoff = int(scaler.roundoff_constant.sum())
        roundoff = (
            f" ({n_roundoff} of them vary, but by less than the round-off of their statistics)"
            if n_roundoff
            else ""
        )
        warnings.warn(
            f"{n_constant} feature(s) constant in the first partial_fit chunk{roundoff}: the "
            "stream ignores them from now on, in training and transform. If they vary in later "
            "chunks, start the stream with a chunk where they vary (a representative one).",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )


#: An InfoNCE estimate above this many nats is a model that had learned something.
_LEARNED_NATS = 0.1
#: Distinct rows of the stream's sample embedded for the check (at least the
#: first, at most the second), and the share of them, and of the embedding's
#: spread along some direction, that mark a collapse: in N(0, I) the 1 % of
#: rows farthest out hold under a tenth of the spread along any direction;
#: above 90 % the other rows' spread there is under a third of the prior's.
#: (One row at 100 standard deviations of generated blobs held about 85 %,
#: a heavy tail, not a collapse.)
_COLLAPSE_CHECK_ROWS = (100, 4096)
_COLLAPSE_FEW_ROWS, _COLLAPSE_SPREAD_SHARE = 0.01, 0.9


def _check_not_collapsed(before, module, reservoir, data):
    """Refuse a pass that took a model that had learned to one with a collapsed direction.

    A few extreme rows do it: kept in the stream's sample, they dominate the
    output calibration, which squeezes every other row along their direction
    (towards one point, when they dominate every direction), and the stream
    cannot recover. So the check asks whether the 1 % of distinct rows of the
    sample (a random one of the whole stream, in its own order) farthest out
    hold most of the embedding's spread along some direction. The caller's
    model is untouched.
    """
    if before is None or not before > _LEARNED_NATS:
        return
    rows = reservoir.rows[first_occurrences(reservoir.rows)][: _COLLAPSE_CHECK_ROWS[1]]
    if len(rows) < _COLLAPSE_CHECK_ROWS[0]:
        return
    training = module.training
    module.eval()
    with torch.no_grad():
        g = module(rows).to(torch.float64)
    module.train(training)
    few = max(1, int(_COLLAPSE_FEW_ROWS * len(rows)))
    far = g[g.square().sum(dim=1).topk(few).indices]
    share = _largest_spread_share(g, far)
    if not share > _COLLAPSE_SPREAD_SHARE:
        return
    largest = max(float(data.rows(chunk).abs().max()) for chunk in range(len(data.bounds)))
    raise ValueError(
        f"This partial_fit chunk made the model collapse: {few} of {len(rows)} distinct rows "
        f"of the stream's sample hold {share:.0%} of the embedding's spread along one "
        "direction, where the others embed near one point (its InfoNCE estimate was "
        f"{before:.3g} nats before). The pass was undone, and the model is as it was. The "
        f"chunk's largest value is {largest:.3g} after the input scaling (standard deviations, "
        "with standardize=True); check it for corrupt or extreme rows, or lower learning_rate."
    )


def _largest_spread_share(g, part):
    """Largest share of the spread of the rows ``g`` along one direction held by ``part``.

    The largest eigenvalue of ``S^-1/2 P S^-1/2``, with ``S`` and ``P`` the
    second moments of ``g`` and of ``part``; 1 when ``g`` spans no direction.
    """
    cholesky, info = torch.linalg.cholesky_ex(g.T @ g)
    if int(info):
        return 1.0
    left = torch.linalg.solve_triangular(cholesky, part.T @ part, upper=False)
    whitened = torch.linalg.solve_triangular(cholesky, left.T, upper=False)
    return float(torch.linalg.eigvalsh((whitened + whitened.T) / 2)[-1].clamp(max=1.0))


def _stream_pass(
    estimator, X, net, reservoir, scaler, view_spec, state, batch_size=None, seed=None
):
    """Train ``net`` for one pass over ``X``; update the reservoir and recalibrate."""
    batch_size = estimator.batch_size_ if batch_size is None else batch_size
    seed = estimator._seed if seed is None else seed
    module = net.module_
    device = next(module.parameters()).device
    n_passes = len(net.history)
    data = TrainingData(
        X, scaler, device, view_spec, module.input_shape, seed, neighbor_pool=reservoir.rows
    )
    net.generator = torch.Generator(device=device).manual_seed(seed + n_passes)
    net.partial_fit(data, epochs=1)
    if net.interrupted_:
        raise KeyboardInterrupt("partial_fit was interrupted; the estimator was left as it was.")
    net.generator = None
    release_schedulers(net)
    reservoir.add(data.rows(0))
    with warnings.catch_warnings(record=True) as calibration_warnings:
        warnings.simplefilter("always")
        calibrate(module, data, clean_rows=reservoir.rows)
    # A collapse explains itself; calibration's warnings hold for a pass that stays.
    _check_not_collapsed(getattr(estimator, "mutual_info_", None), module, reservoir, data)
    warn_again(calibration_warnings)
    mutual_info = estimate_mutual_info(module, data, batch_size, seed)
    # The scaling was fixed by earlier rows only after a first pass (or a fit).
    _warn_if_nothing_learned(mutual_info, stream=n_passes > 0)
    return {
        **state,
        "n_iter_": len(net.history),
        "history_": net.history,
        "mutual_info_": mutual_info,
        "_reservoir": reservoir,
    }
