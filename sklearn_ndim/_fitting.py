"""The fit procedure of NoisyInfoMaxEmbedder, kept apart from its public interface.

:func:`fit_state` reads the estimator's parameters, trains, and returns the
fitted attributes as a dict; the estimator assigns them only when training
succeeded, so a failed fit changes nothing.
"""

import inspect
import math
import threading
import time
import warnings
from contextlib import ExitStack, contextmanager
from typing import NamedTuple

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from ._auto_settings import (
    cosine_schedule,
    resolve_learning_rate,
    resolve_max_epochs,
    resolve_noise_scale,
    resolve_prior_penalty,
    trains_as_images,
)
from ._callbacks import check_callbacks, release_schedulers
from ._data import InputScaler, input_ndim
from ._distributed import (
    average_buffers,
    broadcast_int,
    check_same_rows,
    current_group,
    data_parallel,
    initialised_group,
    seed_offset,
)
from ._model import InfoMaxModule, make_critic
from ._networks import ConvEncoder, MLPEncoder, build_decoder, build_encoder
from ._progress import FitProgressBar, MutualInfoRecorder, stage
from ._training import (
    InfoMaxNet,
    calibrate,
    estimate_mutual_info,
    fit_decoder,
    fused_adam,
)
from ._training_data import STREAM_CHUNK_ROWS, ChunkedBatchIterator, TrainingData, chunk_bounds
from ._validation import (
    caller_stacklevel,
    check_features_vary,
    check_no_booleans,
    check_prior,
    model_params,
    resolve_device,
    validate_training_input,
    warn_if_roundoff_constant,
    whitening_lacks_rows,
)
from ._views import ViewSpec, warn_if_too_many_neighbors

__all__ = [
    "fit_state",
    "update_atomically",
    "restored_on_error",
    "build_module",
    "resolve_max_epochs",
    "warn_if_widths_unused",
    "make_net",
    "column_range",
]


def update_atomically(estimator, compute, X):
    """Set on ``estimator`` the state that ``compute(estimator, X)`` returns.

    On any error, a Ctrl-C included, the estimator's ``__dict__`` is put back
    as it was, so a failed ``fit`` or ``partial_fit`` changes nothing.
    """
    with restored_on_error(estimator):
        estimator.__dict__.update(compute(estimator, X))
    return estimator


@contextmanager
def restored_on_error(estimator):
    """Put ``estimator``'s ``__dict__`` back as it was if the block raises (Ctrl-C included)."""
    before = dict(estimator.__dict__)
    try:
        yield
    except BaseException:
        estimator.__dict__.clear()
        estimator.__dict__.update(before)
        raise


def fit_state(estimator, X):
    """Train a model for ``estimator`` on ``X``; return its fitted attributes.

    ``estimator`` is only read, except by :func:`validate_data`, which sets
    ``n_features_in_`` and ``feature_names_in_``; the estimator's ``fit``
    restores those when this raises. Within an initialised torch.distributed
    group, every process passes the same ``X`` and trains data-parallel.
    """
    group = initialised_group()
    with data_parallel(group):
        return _fit_state(estimator, X, group)


def _fit_state(estimator, X, group):
    start = time.perf_counter()
    processes, rank = (1, 0) if group is None else (group.size, group.rank)
    verbose = estimator.verbose if rank == 0 else 0
    ndim = input_ndim(X)
    # A memmap is read chunk by chunk, never loaded whole.
    chunk_rows = STREAM_CHUNK_ROWS if isinstance(X, np.memmap) else None
    X, sample_shape, scaler, prior = _checked_in_every_process(estimator, X, group)
    device = resolve_device(estimator.device)
    callbacks = check_callbacks(estimator.callbacks)
    view_spec = ViewSpec.resolve(estimator, sample_shape)
    images = trains_as_images(estimator, sample_shape, view_spec)
    max_epochs = resolve_max_epochs(estimator, X.shape[0], images, callbacks)
    penalty = resolve_prior_penalty(estimator, images)
    # Rows per process and batch; the critic scores each row against all
    # processes' batches, so InfoNCE's ceiling is ln(processes * batch_size).
    rows = X if group is None else group.shard(X)
    batch_size = min(estimator.batch_size, rows.shape[0])
    _check_chunks_hold_a_batch(rows.shape[0], chunk_rows, batch_size)
    scored = processes * batch_size
    noise_scale = resolve_noise_scale(estimator, prior, scored, images, penalty)
    capacity = prior.capacity(estimator.n_components, noise_scale)
    seed = int(check_random_state(estimator.random_state).randint(np.iinfo(np.int32).max))
    if group is not None:
        # With random_state=None each process drew its own seed; the model's
        # initial weights (and the decoder's) must be the same everywhere.
        seed = broadcast_int(seed)
    local_seed = seed + seed_offset(group)
    # A process's views draw neighbours from all rows, as one process's do, not
    # from its share alone (whose nearest rows lie farther: stronger views).
    # A memmap's chunks draw from themselves, as in one process.
    share_only = group is None or chunk_rows is not None or not view_spec.n_neighbors
    warn_if_too_many_neighbors(estimator, rows.shape[0] if share_only else X.shape[0])

    seeded = ExitStack()
    with seeded:
        seeded.enter_context(_seeded(seed, device))
        module = build_module(
            estimator, sample_shape, X.shape[1], prior, noise_scale, device, penalty
        )
        if rank == 0:
            warn_if_widths_unused(estimator, module.encoder, sample_shape)
        if not callable(estimator.encoder):
            # The built-in encoders draw only their initial weights from torch's
            # global generator, and training draws from the net's own: release
            # it, so that fits in threads overlap. A custom encoder may draw from
            # it while training (dropout), so its fit stays seeded throughout.
            seeded.close()
        data = TrainingData(
            rows,
            scaler,
            device,
            view_spec,
            module.input_shape,
            local_seed,
            chunk_rows=chunk_rows,
            neighbor_pool=None if share_only else scaler.to_tensor(group.others(X), device),
        )
        if chunk_rows is None:
            searching = f"neighbour search ({len(rows)} rows, {view_spec.n_neighbors} neighbours)"
            with stage(verbose if view_spec.n_neighbors else 0, searching):
                data.views(0, data.rows(0))
        net = make_net(
            estimator,
            module,
            device,
            batch_size,
            max_epochs=max_epochs,
            callbacks=training_callbacks(estimator, data, batch_size, capacity, max_epochs)
            + cosine_schedule(estimator, images, max_epochs, callbacks)
            + callbacks,
            learning_rate=resolve_learning_rate(estimator, images),
            verbose=verbose,
            generator=torch.Generator(device=device).manual_seed(local_seed),
        )
        steps = len(ChunkedBatchIterator(data, batch_size, None))
        where = "" if group is None else f" on each of {processes} processes"
        with stage(verbose, f"training: up to {max_epochs} epochs of {steps} batches{where}"):
            net.fit(data)
    if net.interrupted_:
        raise KeyboardInterrupt(
            f"fit was interrupted after {len(net.history)} of {max_epochs} epochs; "
            "the estimator was left as it was before fit."
        )
    if group is not None:
        average_buffers(net.module_)
    with stage(verbose, "calibration on clean rows, mutual-information estimate"):
        calibrate(net.module_, data)
        mutual_info = estimate_mutual_info(net.module_, data, batch_size, local_seed)
    _warn_if_nothing_learned(mutual_info)
    decoder = None
    if estimator.fit_inverse_transform:
        with stage(verbose, "decoder"):
            # As many epochs as the encoder ran (a callback may have stopped it early).
            decoder = train_decoder(
                estimator, net.module_, data, sample_shape, batch_size, seed, len(net.history)
            )
    # Training-only state must not live on in the fitted model.
    net.generator = None
    release_schedulers(net)
    net.__dict__.pop("distributed_channel_", None)
    if verbose >= 1:
        print(
            f"[sklearn-ndim] fitted in {time.perf_counter() - start:.1f} s, {len(net.history)} "
            f"epochs: mutual information {mutual_info:.3f} nats of capacity {capacity:.3f} "
            f"(ln B = {math.log(scored):.3f}, noise_scale={noise_scale:.4g})",
            flush=True,
        )
    return {
        "prior_": prior,
        "noise_scale_": noise_scale,
        "capacity_": capacity,
        "batch_size_": scored,
        "n_components_": int(estimator.n_components),
        "net_": net,
        "n_iter_": len(net.history),
        "history_": net.history,
        "mutual_info_": mutual_info,
        "_seed": seed,
        "_sample_shape": sample_shape,
        "_scaler": scaler,
        "_view_spec": view_spec,
        "_input_ndim": ndim,
        "_decoder": decoder,
        "_input_range": column_range(X) if decoder is not None else None,
        "_n_features_out": int(estimator.n_components),
        "_reservoir": None,
        "_model_params": model_params(estimator),
    }


def make_net(
    estimator,
    module,
    device,
    batch_size,
    max_epochs=1,
    callbacks=(),
    verbose=None,
    generator=None,
    learning_rate=None,
):
    """The skorch net that trains ``module`` with ``estimator``'s optimiser settings.

    ``learning_rate`` is the resolved rate (default: ``"auto"``'s for a table
    or a stream).
    """
    if learning_rate is None:
        learning_rate = resolve_learning_rate(estimator)
    return InfoMaxNet(
        module,
        optimizer=torch.optim.Adam,
        optimizer__weight_decay=estimator.weight_decay,
        optimizer__fused=fused_adam(device),
        lr=learning_rate,
        max_epochs=max_epochs,
        batch_size=batch_size,
        callbacks=list(callbacks),
        device=device,
        verbose=estimator.verbose if verbose is None else verbose,
        generator=generator,
    )


#: Held while torch's global generators are forked: fork_rng saves and restores
#: them, so two threads inside it at once would swap each other's states.
_GLOBAL_GENERATOR_LOCK = threading.RLock()


@contextmanager
def forked_global_generators(cuda_index=None):
    """Fork torch's CPU generator (and one GPU's), one thread at a time; keep the block short."""
    with (
        _GLOBAL_GENERATOR_LOCK,
        torch.random.fork_rng(devices=[] if cuda_index is None else [cuda_index]),
    ):
        yield


@contextmanager
def _seeded(seed, device):
    """Seed torch's generators for ``device`` inside, restoring them after.

    Only the generators that are restored are seeded: ``torch.manual_seed``
    would also reseed every GPU's generator, which the caller would then find
    changed by a fit on the CPU.
    """
    cuda_index = None
    if device.type == "cuda":
        cuda_index = device.index if device.index is not None else torch.cuda.current_device()
    with forked_global_generators(cuda_index):
        torch.random.default_generator.manual_seed(seed)
        if cuda_index is not None:
            with torch.cuda.device(cuda_index):
                torch.cuda.manual_seed(seed)
        yield


def _checked_in_every_process(estimator, X, group):
    """:func:`check_fit_arguments`, then, in a group, the same rows in every process.

    A process whose checks fail tells the others before raising, so that none
    waits for it in a later collective.
    """
    if group is None:
        return check_fit_arguments(estimator, X)
    try:
        checked = check_fit_arguments(estimator, X, group.size)
    except Exception:
        check_same_rows(None, None)
        raise
    check_same_rows(checked.X, checked.scaler)
    return checked


class FitArguments(NamedTuple):
    """What :func:`check_fit_arguments` validated, for the fit to use as it is."""

    X: object
    sample_shape: object
    scaler: InputScaler
    prior: object


def check_fit_arguments(estimator, X, n_processes=1):
    """What a fit checks before training: parameters, device and its precision, callbacks, rows.

    ``fit_distributed`` calls it before it starts any process, so that bad
    input fails once, here, and not in every process. Returns the validated
    rows, the shape of one sample, the input scaler (its statistics show
    whether any feature varies) and the resolved prior, as a
    :class:`FitArguments`.
    """
    # Parameters first: a bad one fails before any warning about the data.
    check_no_booleans(estimator)
    prior = check_prior(estimator)
    uses_bfloat16(resolve_device(estimator.device), estimator.mixed_precision)
    check_callbacks(estimator.callbacks)
    X, sample_shape = validate_training_input(estimator, X)
    rows_per_process = X.shape[0] // n_processes
    if rows_per_process < 2:
        raise ValueError(
            f"A data-parallel fit shares {X.shape[0]} rows among {n_processes} processes, "
            f"{rows_per_process} each; every process needs at least 2. Use fewer processes or "
            "more rows."
        )
    _check_whitening(estimator, min(estimator.batch_size, rows_per_process))
    scaler = InputScaler.fit(X, sample_shape, estimator.standardize)
    check_features_vary(X, scaler, estimator.standardize, estimator.n_components)
    warn_if_roundoff_constant(scaler, sample_shape)
    return FitArguments(X, sample_shape, scaler, prior)


def _check_chunks_hold_a_batch(n_rows, chunk_rows, batch_size):
    """Every chunk of a memmap must give a batch: the rows of one that cannot are never seen."""
    if chunk_rows is None:
        return
    smallest = min(stop - start for start, stop in chunk_bounds(n_rows, chunk_rows))
    if smallest < batch_size:
        raise ValueError(
            f"batch_size={batch_size} exceeds the {smallest:,} rows of the smallest chunk "
            "that a fit from a memmap reads at a time, so its rows would never be trained "
            f"on; lower batch_size to at most {smallest:,}, or load X into memory "
            "(np.asarray(X))."
        )


def _check_whitening(estimator, batch_size):
    d = estimator.n_components
    if whitening_lacks_rows(estimator.normalizer, batch_size, d):
        raise ValueError(
            f"normalizer='whiten' estimates a {d}x{d} covariance from the clean rows of each "
            f"batch, and batches here hold only {batch_size} rows (batch_size="
            f"{estimator.batch_size}, capped by the rows given, or by each process's share in "
            "a data-parallel fit); it needs batch_size > n_components: use more rows, fewer "
            "n_components, or normalizer='standardize'."
        )
    if estimator.normalizer == "whiten" and batch_size < 2 * d:
        # The views are whitened with the clean rows' covariance, whose
        # estimate from barely more rows than dimensions inflates them.
        warnings.warn(
            f"normalizer='whiten' estimates a {d}x{d} covariance from each batch of "
            f"{batch_size} rows, fewer than 2 * n_components = {2 * d}: so noisy an estimate "
            "inflates the views and worsens the match (one-off, digits, d = 16: W2 ratio 2.35 at "
            "batch_size=24 against 1.66 at 32 and 1.47 at 48). Use batch_size >= "
            f"{2 * d}, fewer n_components, or normalizer='standardize'.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )


def _warn_if_nothing_learned(mutual_info, stream=False):
    """Warn when the final InfoNCE estimate shows no information; ``stream`` for partial_fit."""
    if not mutual_info > 0:
        scale = (
            " Or this chunk's values lie on another scale than the rows that fixed the input "
            "scaling, the stream's first chunk or fit's rows (pixels in [0, 255] after [0, 1], "
            "say)."
            if stream
            else ""
        )
        warnings.warn(
            f"The final InfoNCE estimate is {mutual_info:.3g} nats, no information. Either the "
            "encoder learned nothing usable: the views may be too strong (max_shift, "
            "intensity_jitter, corruption_rate, n_neighbors), the noise too large for the "
            "training length, or max_epochs too small. Or a few extreme rows dominate the "
            "estimate: a row far from the others embeds far out (look for the smallest "
            "prior_pvalues of the training rows), and one far out in a feature inflates that "
            f"feature's scale for all rows.{scale}",
            ConvergenceWarning,
            stacklevel=caller_stacklevel(),
        )


def warn_if_widths_unused(estimator, encoder, sample_shape):
    """Warn when ``hidden_layer_sizes`` is set but sizes neither the encoder nor a decoder."""
    sized_decoder = sample_shape is None and estimator.fit_inverse_transform
    if isinstance(encoder, MLPEncoder) or sized_decoder:
        return
    default = inspect.signature(type(estimator)).parameters["hidden_layer_sizes"].default
    if tuple(estimator.hidden_layer_sizes) == tuple(default):
        return
    conv = isinstance(encoder, ConvEncoder)
    advice = (
        " Size it with encoder=functools.partial(sklearn_ndim.nn.ConvEncoder, channels=..., "
        "hidden_size=...)."
        if conv
        else ""
    )
    warnings.warn(
        f"hidden_layer_sizes={estimator.hidden_layer_sizes!r} does not apply: it sizes the MLP "
        "encoder (and the MLP decoder of tables), and this fit uses "
        f"{'the convolutional encoder' if conv else 'a custom encoder'}.{advice}",
        UserWarning,
        stacklevel=caller_stacklevel(),
    )


def build_module(estimator, sample_shape, n_features, prior, noise_scale, device, prior_penalty):
    """The untrained module for ``estimator``'s parameters, on ``device``.

    ``prior_penalty`` is the resolved weight (:func:`resolve_prior_penalty`).
    """
    encoder, input_shape = build_encoder(
        estimator.encoder,
        sample_shape,
        n_features,
        estimator.n_components,
        estimator.hidden_layer_sizes,
    )
    # On the device first: the module checks its encoder's output when made, and
    # a custom encoder may run only there.
    module = InfoMaxModule(
        encoder.to(device),
        estimator.n_components,
        prior,
        noise_scale,
        make_critic(estimator.critic, estimator.n_components, noise_scale),
        input_shape,
        whiten=estimator.normalizer == "whiten",
        prior_penalty=prior_penalty,
    ).to(device)
    set_mixed_precision(module, device, estimator.mixed_precision)
    return module


def set_mixed_precision(module, device, mixed_precision="auto"):
    """Set whether ``module``'s encoder trains under bfloat16 autocast on ``device``."""
    module.autocast_dtype = torch.bfloat16 if uses_bfloat16(device, mixed_precision) else None


def uses_bfloat16(device, mixed_precision):
    """Whether training on ``device`` runs the encoder under bfloat16 autocast.

    bfloat16 keeps float32's range: no loss scaling, no overflow. ``"auto"``
    uses it on CUDA devices with bfloat16 in hardware; ``True`` (or numpy's)
    on those and on any CPU, and raises for other devices; ``False`` never.
    """
    native = _native_bfloat16(device)
    if isinstance(mixed_precision, str):  # "auto"
        return native
    if mixed_precision and device.type != "cpu" and not native:
        raise ValueError(
            f"mixed_precision=True trains in bfloat16, which the device {device} does not "
            "run in hardware (a CUDA device needs compute capability 8.0 or more; on older "
            "ones torch emulates it, slower than float32); use mixed_precision='auto' or "
            "False there, or a CPU."
        )
    return bool(mixed_precision)


def _native_bfloat16(device):
    """CUDA devices with bfloat16 arithmetic in hardware (compute capability 8.0+, or ROCm)."""
    if device.type != "cuda":
        return False
    if torch.version.hip is not None:
        return torch.cuda.is_bf16_supported()
    return torch.cuda.get_device_capability(device)[0] >= 8


def training_callbacks(estimator, data, batch_size, capacity, max_epochs):
    """The callbacks every fit uses: the MI record, and a progress bar at verbose >= 2."""
    callbacks = [("mutual_info", MutualInfoRecorder(capacity))]
    if estimator.verbose >= 2 and (current_group() is None or current_group().rank == 0):
        steps = len(ChunkedBatchIterator(data, batch_size, None))
        callbacks.append(("progress_bar", FitProgressBar(max_epochs * steps)))
    return callbacks


def train_decoder(estimator, module, data, sample_shape, batch_size, seed, max_epochs):
    """Decoder from the calibrated Gaussian embedding to the standardised rows."""
    device = data.device
    with _seeded(seed + 1, device):
        decoder = build_decoder(
            sample_shape, data.shape[1], estimator.n_components, estimator.hidden_layer_sizes
        ).to(device)
    generator = torch.Generator(device=device).manual_seed(seed + 1 + seed_offset(current_group()))
    # The decoder's regression keeps the table's rate under "auto" (no schedule there).
    learning_rate = resolve_learning_rate(estimator)
    fit_decoder(decoder, module, data, max_epochs, batch_size, learning_rate, generator)
    return decoder


def column_range(X, chunk_rows=8192):
    """Per-column minimum and maximum of ``X``, read in chunks of rows."""
    low = np.full(X.shape[1], np.inf)
    high = np.full(X.shape[1], -np.inf)
    for start in range(0, X.shape[0], chunk_rows):
        rows = X[start : start + chunk_rows]
        low = np.minimum(low, rows.min(axis=0))
        high = np.maximum(high, rows.max(axis=0))
    return low, high
