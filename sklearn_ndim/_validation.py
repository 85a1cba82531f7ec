"""Parameter, input and device checks with errors that say how to fix them."""

import math
import os
import sys
import warnings
from numbers import Integral, Real

import numpy as np
import sklearn
import skorch
import torch
from scipy import sparse
from sklearn.utils import assert_all_finite
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    Options,
    StrOptions,
)
from sklearn.utils.validation import validate_data

from ._data import equal_columns, input_ndim, split_image_shape, warn_if_maybe_channels_last
from ._priors import resolve_prior

__all__ = [
    "EMBEDDER_PARAMETER_CONSTRAINTS",
    "warn_again",
    "resolve_device",
    "check_not_bool",
    "accepted_noise_for_capacity",
    "check_no_booleans",
    "check_features_vary",
    "warn_if_roundoff_constant",
    "check_prior",
    "warn_if_embedding_cannot_fill_its_space",
    "caller_stacklevel",
    "whitening_lacks_rows",
    "validate_numeric",
    "check_embedder",
]

_DEVICE_TYPES = ("cpu", "cuda", "mps")
# Frames in these folders are not the user's code (see caller_stacklevel).
_INTERNAL_FOLDERS = tuple(
    os.path.dirname(os.path.abspath(module.__file__)) + os.sep
    for module in (sys.modules[__package__], sklearn, skorch, torch)
)

# noise_scale outside [MIN_NOISE, MAX_NOISE] (other than 0) gives a capacity
# of hundreds of nats or of nearly nothing: a typo, not a setting.
MIN_NOISE, MAX_NOISE = 1e-3, 1e3
# A prior_penalty above this swamps InfoNCE entirely: the embedding keeps no
# information (a typo, not a setting).
_MAX_PENALTY = 1e6

#: The estimator's parameters and what each accepts (scikit-learn's
#: ``_parameter_constraints``, checked at ``fit``).
EMBEDDER_PARAMETER_CONSTRAINTS = {
    "n_components": [Interval(Integral, 1, None, closed="left")],
    # resolve_prior checks it, with a message that names the public classes
    # and the distributions it refuses (discrete, vector parameters).
    "prior": "no_validation",
    "noise_scale": [
        Interval(Real, MIN_NOISE, MAX_NOISE, closed="both"),
        Options(Real, {0}),
        StrOptions({"auto"}),
    ],
    "prior_penalty": [Interval(Real, 0, _MAX_PENALTY, closed="both"), StrOptions({"auto"})],
    "encoder": [StrOptions({"auto", "mlp", "conv"}), callable, torch.nn.Module],
    "hidden_layer_sizes": ["array-like"],
    "image_shape": [None, "array-like"],
    "critic": [StrOptions({"separable", "quadratic", "mlp"})],
    "normalizer": [StrOptions({"standardize", "whiten"})],
    "n_neighbors": [Interval(Integral, 0, None, closed="left"), StrOptions({"auto"})],
    "jitter_scale": [Interval(Real, 0, None, closed="left")],
    "corruption_rate": [Interval(Real, 0, 1, closed="left")],
    "max_shift": [Interval(Integral, 0, None, closed="left"), StrOptions({"auto"})],
    "flip": ["boolean"],
    "intensity_jitter": [Interval(Real, 0, 1, closed="left")],
    "fit_inverse_transform": ["boolean"],
    "standardize": ["boolean"],
    "batch_size": [Interval(Integral, 2, None, closed="left")],
    "max_epochs": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
    "learning_rate": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
    "weight_decay": [Interval(Real, 0, None, closed="left")],
    "device": [str, torch.device],
    "mixed_precision": ["boolean", StrOptions({"auto"})],
    "callbacks": [None, list],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
}


_ENCODE_FIRST = (
    "Encode text and categories first, e.g. with OneHotEncoder or OrdinalEncoder in a "
    "ColumnTransformer placed before the embedder."
)


def _converts_to_numbers(column):
    try:
        np.asarray(column, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return True


def _not_numbers(dtype):
    """Categories, dates, durations, periods and intervals: never numbers to a model."""
    if getattr(dtype, "kind", None) in ("M", "m"):
        return True
    return str(dtype).split("[")[0] in {"category", "period", "interval", "datetime64"}


def validate_numeric(estimator, X, **kwargs):
    """scikit-learn's ``validate_data`` for numeric input, naming the fix when X holds text."""
    if sparse.issparse(X):
        raise TypeError(
            "X is a sparse matrix, and the embedder needs dense rows. In a pipeline, make the "
            "step before it dense: OneHotEncoder(sparse_output=False), or "
            "ColumnTransformer(..., sparse_threshold=0); otherwise pass X.toarray()."
        )
    dtypes = getattr(X, "dtypes", None)
    if dtypes is not None and hasattr(dtypes, "items"):
        # A DataFrame: name every column of categories or dates, which numpy's
        # error would not. Text columns (object or string dtypes) may hold
        # numbers: numpy converts those, and its error names the first that fails;
        # beside categories, the text columns that do not convert are named too.
        other = [f"{name!r} ({dtype})" for name, dtype in dtypes.items() if _not_numbers(dtype)]
        if other:
            other += [
                f"{name!r} ({dtype})"
                for name, dtype in dtypes.items()
                if not _not_numbers(dtype) and not _converts_to_numbers(X[name])
            ]
            raise ValueError(
                f"X must be numeric, but has columns {', '.join(other)}. {_ENCODE_FIRST}"
            )
    try:
        X = validate_data(estimator, X, dtype="numeric", **kwargs)
        if getattr(getattr(X, "dtype", None), "kind", None) == "O":
            # scikit-learn before 1.9 leaves a DataFrame of numbers in text columns
            # beside nullable integers as objects, whose own check passes 'nan'.
            X = X.astype(np.float64)
            assert_all_finite(X, input_name="X", estimator_name=type(estimator).__name__)
        return X
    except TypeError as exc:
        if "float() argument" in str(exc) and "NAType" not in str(exc):
            # A TypeError still, as scikit-learn's contract expects for such cells.
            raise TypeError(f"X must be numeric, but {exc}. {_ENCODE_FIRST}") from exc
        if "NAType" not in str(exc) and "NA is ambiguous" not in str(exc):
            raise
        raise ValueError(
            "X has missing values (pandas' NA), which the embedder cannot use; fill them (e.g. "
            "SimpleImputer before the embedder) or drop those rows."
        ) from exc
    except ValueError as exc:
        if "could not convert" not in str(exc):
            raise
        raise ValueError(f"X must be numeric, but {exc}. {_ENCODE_FIRST}") from exc


def validate_training_input(estimator, X, whole_data=True):
    """Validate training rows or images: flat rows and the shape of one sample.

    Any numeric dtype is kept (uint8 images, a memmap): rows are converted
    chunk by chunk when standardised, never as one float64 copy.
    ``whole_data=False`` marks a stream's first chunk, which is not all its
    rows (so the warning about too few rows does not apply).
    """
    four_d = input_ndim(X) == 4
    X, sample_shape = split_image_shape(X, estimator.image_shape)
    if four_d and estimator.image_shape is None:  # an image_shape states the layout
        warn_if_maybe_channels_last(sample_shape)
    X = validate_numeric(estimator, X, reset=True, ensure_min_samples=2)
    n_rows = X.shape[0] if whole_data else math.inf
    warn_if_embedding_cannot_fill_its_space(estimator.n_components, n_rows, X.shape[1])
    return X, sample_shape


def validate_fitted_input(estimator, X):
    """Validate ``X`` for a fitted model: same layout and features as in fit."""
    fitted = estimator._sample_shape
    given = np.shape(X) if isinstance(X, list | tuple) else tuple(getattr(X, "shape", ()))
    # Read as a batch, one image would be rows or images of the wrong shape.
    if fitted is not None and (
        (given == fitted and fitted[0] != 1)
        or (fitted[0] == 1 and given == fitted[1:] and fitted[1] != 1)
    ):
        raise ValueError(
            f"X has the shape of one image, {given}; the embedder takes a batch of images, "
            f"(n, {', '.join(map(str, fitted))})"
            + (f" or (n, {fitted[1]}, {fitted[2]})" if fitted[0] == 1 else "")
            + ", or flat rows. For one image pass X[None] (an array with a batch axis)."
        )
    X, sample_shape = split_image_shape(X, None)
    if sample_shape is not None and estimator._sample_shape is None:
        raise ValueError(
            f"X holds images of shape {sample_shape}; the embedder was fitted on rows of "
            f"{estimator.n_features_in_} features. Pass rows, e.g. X.reshape(len(X), -1)."
        )
    if sample_shape is not None and sample_shape != estimator._sample_shape:
        raise ValueError(
            f"X holds images of shape {sample_shape}; the embedder was fitted on "
            f"{estimator._sample_shape}."
        )
    return validate_numeric(estimator, X, reset=False)


#: Parameters a later ``partial_fit`` call may change: they steer training, not the model.
#: ``random_state`` is read once, by the first call.
TRAINING_CONTROLS = frozenset(
    {
        "learning_rate",
        "weight_decay",
        "callbacks",
        "verbose",
        "max_epochs",
        "mixed_precision",
        "fit_inverse_transform",
        "random_state",
    }
)


def model_params(estimator):
    """The parameters that define a fitted model (all but the training controls)."""
    params = estimator.get_params(deep=False)
    return {name: value for name, value in params.items() if name not in TRAINING_CONTROLS}


def _same_param(name, fixed, current):
    if fixed is current:
        return True
    try:
        if name == "prior":
            return resolve_prior(fixed) == resolve_prior(current)
        if name == "device":
            return fixed == current or _device_key(fixed) == _device_key(current)
    except (TypeError, ValueError, RuntimeError):
        return False
    sequence = (tuple, list, np.ndarray)
    if isinstance(fixed, sequence) and isinstance(current, sequence):
        return np.array_equal(np.asarray(fixed, dtype=object), np.asarray(current, dtype=object))
    for kind in ((Real,), (str,), (type(None),)):
        if isinstance(fixed, kind) and isinstance(current, kind):
            return bool(fixed == current)
    return False  # objects (encoders) count as the same only if identical


def _shown(name, value):
    """A parameter's value for a message: priors by their readable repr, not an address."""
    if name == "prior":
        try:
            return repr(resolve_prior(value))
        except (TypeError, ValueError):
            pass
    return repr(value)


def _device_key(device):
    """The device ``device`` names, with a CUDA index filled in ("cuda" is "cuda:0")."""
    resolved = resolve_device(device)
    if resolved.type == "cuda" and resolved.index is None:
        return torch.device("cuda", torch.cuda.current_device())
    if resolved.type == "cpu":  # one CPU device, whatever the index ("cpu:0")
        return torch.device("cpu")
    return resolved


def changed_model_params(estimator, ignore=()):
    """``"name (fitted -> current)"`` for each model parameter set otherwise since the fit.

    Empty for a model with no record of its parameters (a model pickled by an
    older version).
    """
    fixed = getattr(estimator, "_model_params", None)
    if fixed is None:
        return []
    current = model_params(estimator)
    return [
        f"{name} ({_shown(name, fixed[name])} -> {_shown(name, current[name])})"
        for name in fixed
        if name in current
        and name not in ignore
        and not _same_param(name, fixed[name], current[name])
    ]


def check_model_params_unchanged(estimator):
    """Refuse a ``partial_fit`` whose model parameters differ from the model's.

    The first call (or ``fit``) fixed the model: a changed ``n_components``
    or ``prior`` cannot apply to it, and ignoring the change would be silent.
    """
    changed = changed_model_params(estimator)
    if changed:
        raise ValueError(
            "partial_fit goes on with the model of the first call (or of fit), but these "
            f"parameters changed since: {', '.join(changed)}. Set them back, or start a new "
            "stream on a fresh estimator (sklearn.base.clone) or with fit. Only "
            "learning_rate, weight_decay, mixed_precision, callbacks and verbose apply to "
            "later calls."
        )


def caller_stacklevel():
    """``stacklevel`` for ``warnings.warn`` that names the user's line.

    Counts the frames from the function that calls this one up to the first
    frame outside this package, scikit-learn, skorch and torch (whose wrappers,
    ``torch.no_grad`` say, sit between a user's ``fit`` call and the code
    that warns).
    """
    frame, level = sys._getframe(1), 1
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_INTERNAL_FOLDERS):
        frame, level = frame.f_back, level + 1
    return level


def warn_again(caught):
    """Warn again, at the user's line and under the user's filters, each of ``caught``.

    For warnings recorded with ``warnings.catch_warnings(record=True)`` while
    deciding whether they still apply.
    """
    for warning in caught:
        warnings.warn(warning.message, stacklevel=caller_stacklevel())


def warn_if_embedding_cannot_fill_its_space(n_components, n_samples, n_features):
    """Warn when the data cannot fill a ``d``-dimensional embedding.

    A smooth map of ``p`` features covers at most a ``p``-dimensional surface
    of the ``d``-dimensional space, and ``n`` rows span at most ``n - 1``
    dimensions around their mean: either way the embedding cannot follow a
    ``d``-dimensional prior. The fit still runs (the user may want the extra
    dimensions).
    """
    if n_components > n_features:
        warnings.warn(
            f"n_components={n_components} exceeds the {n_features} features of X: the "
            f"embedding lies on a surface of dimension at most {n_features} and cannot "
            f"follow a {n_components}-dimensional prior. Choose n_components <= {n_features}.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
    if n_components >= n_samples:
        warnings.warn(
            f"n_components={n_components} is not below the {n_samples} rows of X: they span "
            f"at most {n_samples - 1} dimensions of the embedding, so some of its dimensions "
            "are degenerate. Fit on more rows or choose fewer components.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )


def check_prior(estimator):
    """The estimator's prior as a :class:`Prior`; a bad one is an ``InvalidParameterError``."""
    try:
        return resolve_prior(estimator.prior)
    except ValueError as error:
        raise InvalidParameterError(
            f"The 'prior' parameter of {type(estimator).__name__} is invalid: {error}"
        ) from error


def check_features_vary(X, scaler, standardize, n_components, where="X"):
    """Refuse rows whose features are all constant; warn when too few vary for ``d``.

    An all-constant ``X`` would train on nothing and embed every row alike.
    ``scaler`` is the fit's :class:`~sklearn_ndim._data.InputScaler`; when it
    standardises, its constant features (ignored in training and transform)
    count as constant, otherwise the columns whose values are all equal.
    """
    constant = scaler.constant if standardize else equal_columns(X)
    n_features = constant.size
    n_varying = n_features - int(constant.sum())
    if n_varying == 0:
        hint = (
            "start the stream with a representative chunk"
            if where != "X"
            else "check that X holds the intended columns and rows"
        )
        if standardize and scaler.roundoff_constant.any():
            raise ValueError(
                f"Every feature of {where} is constant, or varies by less than the round-off "
                "of its float64 statistics (scikit-learn's test, as in StandardScaler), so "
                f"there is nothing to embed: {hint}. If the differences are data (small "
                "changes on a large offset), subtract each feature's offset first."
            )
        raise ValueError(
            f"Every feature of {where} is constant (the same value in every row), so there is "
            f"nothing to embed: {hint}."
        )
    if n_varying < n_components <= n_features:
        warnings.warn(
            f"n_components={n_components} exceeds the {n_varying} features of {where} that "
            f"vary (the other {n_features - n_varying} are constant and ignored): the "
            f"embedding cannot follow a {n_components}-dimensional prior. Choose "
            f"n_components <= {n_varying}.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )


def warn_if_roundoff_constant(scaler, sample_shape=None, where="X"):
    """Name the features that count as constant although their values differ (by round-off).

    scikit-learn's test calls a feature constant when its variance is within
    the round-off of computing it: differences in the last digits of large
    values (a feature on an offset of 1e12 that varies by 1, say).
    """
    roundoff = np.flatnonzero(scaler.roundoff_constant)
    if not len(roundoff):
        return
    if sample_shape is None:
        what = "feature(s)"
    else:
        roundoff = np.unique(roundoff // (scaler.roundoff_constant.size // sample_shape[0]))
        what = "image channel(s)"
    shown = ", ".join(map(str, roundoff[:10])) + (", ..." if len(roundoff) > 10 else "")
    warnings.warn(
        f"{len(roundoff)} {what} of {where} ({shown}) vary by less than the round-off of their "
        "float64 statistics, so they are treated as constant and ignored, as scikit-learn's "
        "StandardScaler does. If their differences are data, subtract their offset (their "
        "first value) before fitting.",
        UserWarning,
        stacklevel=caller_stacklevel(),
    )


def accepted_noise_for_capacity(prior, n_components, capacity):
    """The noise scale of ``capacity`` nats, clipped into the range ``noise_scale`` accepts.

    Returns the scale and whether it was clipped (``noise_scale="auto"`` at
    ``d = 1`` and ``B > 1,000``, say, would need less than ``MIN_NOISE``).
    """
    exact = prior.noise_for_capacity(n_components, capacity)
    clipped = min(max(exact, MIN_NOISE), MAX_NOISE)
    return clipped, clipped != exact


def check_not_bool(value, name):
    """Refuse ``True``/``False`` where an integer is meant (bool is an int in Python)."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an integer, not the boolean {value!r}.")


def _numeric_kind(constraints):
    """What a numeric parameter takes, in words; None for other parameters."""
    if "random_state" in constraints:
        return "an integer, a numpy RandomState or None"
    interval = next((c for c in constraints if isinstance(c, Interval)), None)
    if interval is None:
        return None
    kind = "an integer" if interval.type is Integral else "a number"
    words = [repr(option) for c in constraints if isinstance(c, StrOptions) for option in c.options]
    return " or ".join([kind, *sorted(words)])


#: Numeric parameters and what they take: scikit-learn's constraints accept
#: True and False for them, because bool is an int in Python.
_NUMERIC_PARAMETERS = {
    name: kind
    for name, constraints in EMBEDDER_PARAMETER_CONSTRAINTS.items()
    if isinstance(constraints, list) and (kind := _numeric_kind(constraints)) is not None
}


def check_no_booleans(estimator):
    """Refuse ``True``/``False`` for every numeric parameter of ``estimator``.

    ``noise_scale=False`` would otherwise train plain InfoMax (noise 0) and
    ``learning_rate=True`` at a rate of 1, without a word.
    """
    for name, kind in _NUMERIC_PARAMETERS.items():
        value = getattr(estimator, name)
        if isinstance(value, (bool, np.bool_)):
            raise InvalidParameterError(
                f"The {name!r} parameter of {type(estimator).__name__} must be {kind}, not the "
                f"boolean {value!r}."
            )


def resolve_device(device):
    """Turn the ``device`` parameter into a usable ``torch.device``.

    ``"auto"`` picks CUDA when available, else the CPU. Only CPU, CUDA and
    MPS devices that exist in this torch build are accepted.
    """
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device={device!r} is not a torch device; "
            "use 'cpu', 'cuda', 'cuda:1', 'mps' or 'auto'."
        ) from exc
    if resolved.type not in _DEVICE_TYPES:
        raise ValueError(
            f"device={device!r} is a torch device type that sklearn-ndim does not support; "
            "use 'cpu', 'cuda', 'cuda:1', 'mps' or 'auto'."
        )
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} was requested but CUDA is not available in this torch build "
                f"({torch.__version__}); use device='cpu' or 'auto'."
            )
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r} does not exist: this machine has "
                f"{torch.cuda.device_count()} CUDA device(s)."
            )
    if resolved.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device={device!r} was requested but MPS is not available; use 'cpu'.")
    return resolved


def whitening_lacks_rows(normalizer, batch_size, n_components):
    """Whether whitening would see batches of no more rows than dimensions.

    The covariance comes from the batch's clean rows alone: with B <= d of
    them it is singular, and whitening magnifies the views' missing
    directions about 300-fold (1 / sqrt(eps)).
    """
    return normalizer == "whiten" and batch_size <= n_components


def check_embedder(estimator, action, hint=""):
    """Raise a TypeError naming ``estimator``'s type unless it is a NoisyInfoMaxEmbedder.

    ``action`` starts the message (``"save writes"``); ``hint`` ends it.
    """
    from ._embedder import NoisyInfoMaxEmbedder

    if not isinstance(estimator, NoisyInfoMaxEmbedder):
        raise TypeError(f"{action} a NoisyInfoMaxEmbedder; got {type(estimator).__name__}.{hint}")
