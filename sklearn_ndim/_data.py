"""Input layout and scaling: images to rows, and standardisation in float64.

Standardising happens in float64 *before* the cast to the network's float32,
so features with a large offset (say ``1e8 + x``) keep their signal. Large
arrays (and numpy memmaps) are processed in chunks of rows, never copied
whole in float64.
"""

import numbers
import warnings

import numpy as np
import torch

__all__ = ["check_image_shape", "split_image_shape", "InputScaler", "CHUNK_ROWS"]

#: Rows handled at once when computing statistics or converting arrays.
CHUNK_ROWS = 8192
# A trailing axis of 1 to 4 after two axes longer than 4 looks like
# channels-last (n, H, W, C): images with more than 4 channels of such a
# narrow width are far rarer than a transposed RGB or greyscale array.
_CHANNEL_COUNTS = (1, 2, 3, 4)


def check_image_shape(image_shape):
    """Validate ``image_shape`` and return it as ``(channels, height, width)``."""
    shape = tuple(image_shape)
    if len(shape) == 2:
        shape = (1,) + shape
    if len(shape) != 3 or not all(
        isinstance(s, numbers.Integral) and not isinstance(s, bool) and s >= 1 for s in shape
    ):
        raise ValueError(
            "image_shape must be (height, width) or (channels, height, width) with positive "
            f"integers; got {image_shape!r}."
        )
    if len(tuple(image_shape)) == 3 and _looks_channels_last(shape):
        height, width, channels = shape
        raise ValueError(
            f"image_shape={tuple(image_shape)!r} looks channels-last (height, width, "
            "channels); the embedder reads rows as channels first: pass "
            f"image_shape={(channels, height, width)!r}, with each row's values in that order "
            "(np.moveaxis(images, -1, 1).reshape(len(images), -1))."
        )
    return tuple(int(s) for s in shape)


def _looks_channels_last(shape):
    """Whether ``(a, b, c)`` looks like ``(H, W, C)``: a channel count last, after two long axes.

    Many channels over a small patch, ``(30, 3, 3)``, are channels first.
    """
    long = max(_CHANNEL_COUNTS)
    return shape[2] in _CHANNEL_COUNTS and shape[0] > long and shape[1] > long


def input_ndim(X):
    """Dimensions of ``X`` as given (nested lists of images count as 3-D or 4-D)."""
    if hasattr(X, "ndim"):
        return X.ndim
    if isinstance(X, (list, tuple)):
        return np.ndim(X)
    return 2  # a DataFrame, or anything else scikit-learn reads as a table


def warn_if_maybe_channels_last(sample_shape):
    """Warn when 4-D images read channels first have their shortest axis last.

    ``(n, 16, 16, 8)`` (8 bands of 16 x 16 images) is read as 16 channels of
    16 x 8 images; shapes that are surely channels-last are refused by
    :func:`split_image_shape`.
    """
    channels, height, width = sample_shape
    if width < channels and width < height:
        from ._validation import caller_stacklevel  # _validation imports this module

        warnings.warn(
            f"X's images are read channels first, (n, C, H, W): {channels} channels of "
            f"{height} x {width} pixels. Their last axis is the shortest, as channels are; if "
            "it holds the channels (n, H, W, C), pass np.moveaxis(X, -1, 1).",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )


def split_image_shape(X, image_shape):
    """Flatten image arrays and find the shape of one sample.

    Parameters
    ----------
    X : array-like
        ``(n, features)``, ``(n, H, W)`` or ``(n, C, H, W)`` (channels first).
    image_shape : tuple or None
        The estimator's ``image_shape`` parameter.

    Returns
    -------
    X_flat : array-like
        ``X`` with images flattened to rows (other inputs unchanged).
    sample_shape : tuple of int or None
        ``(C, H, W)`` for images, None for tabular rows.
    """
    if isinstance(X, list | tuple):
        X = np.asarray(X)  # nested lists of images have dimensions too
    ndim = getattr(X, "ndim", None)
    if ndim is None or ndim <= 2:
        if image_shape is None:
            return X, None
        shape = check_image_shape(image_shape)
        n_features = X.shape[1] if ndim == 2 else None
        if n_features is not None and n_features != int(np.prod(shape)):
            raise ValueError(
                f"image_shape={image_shape!r} holds {int(np.prod(shape))} values per image but X "
                f"has {n_features} features per row; pass the shape of one image."
            )
        return X, shape
    if ndim not in (3, 4):
        raise ValueError(
            f"X has {ndim} dimensions; expected (n_samples, n_features), (n_samples, H, W) "
            "or (n_samples, C, H, W)."
        )
    if ndim == 4 and _looks_channels_last(X.shape[1:]):
        raise ValueError(
            f"X has shape {tuple(X.shape)}, which looks channels-last (n, H, W, C); the "
            "embedder expects channels first (n, C, H, W). Pass np.moveaxis(X, -1, 1)."
        )
    shape = tuple(X.shape[1:]) if ndim == 4 else (1,) + tuple(X.shape[1:])
    given = tuple(image_shape) if image_shape is not None else ()
    if ndim == 3 and len(given) == 3 and _looks_channels_last(given):
        raise ValueError(
            f"X holds {shape[1]}x{shape[2]} images, (n, H, W), and image_shape="
            f"{given!r} looks channels-last; 3-D and 4-D X need no image_shape "
            "(it is for flat rows): leave image_shape=None."
        )
    if image_shape is not None and check_image_shape(image_shape) != shape:
        raise ValueError(
            f"X holds images of shape {shape} but image_shape={image_shape!r}; make them agree "
            "or leave image_shape=None."
        )
    # Explicit width: a batch of no images stays (0, pixels) for scikit-learn's check.
    return np.asarray(X).reshape(X.shape[0], int(np.prod(shape))), shape


def _chunks(n_rows, chunk_rows=CHUNK_ROWS):
    for start in range(0, n_rows, chunk_rows):
        yield slice(start, min(start + chunk_rows, n_rows))


def equal_columns(X):
    """Mask of the columns of ``X`` whose every value equals the first row's (chunk by chunk)."""
    equal = np.ones(X.shape[1], dtype=bool)
    first = np.asarray(X[:1])
    for rows in _chunks(X.shape[0]):
        equal &= (X[rows] == first).all(axis=0)
    return equal


def _row_major(chunk):
    """``chunk`` itself when row-major (the usual case), else a row-major copy."""
    return chunk if chunk.flags.c_contiguous else np.ascontiguousarray(chunk)


#: Ranges below this (2**-500, about 3e-151) are rescaled before squaring, which
#: would underflow.
_TINY_RANGE = 2.0**-500


class InputScaler:
    """Per-feature (or per-image-channel) standardisation, computed in float64.

    Parameters
    ----------
    mean, scale : ndarray of shape (n_features,)
        Offsets and scales of the flat rows; constant features have scale 1.
    constant : ndarray of bool of shape (n_features,), default=None
        Features constant in training, up to round-off (none when None): they
        are set to zero in every standardised row, so that a value they take
        later, which the model never saw vary, cannot move the embedding.

    Attributes
    ----------
    roundoff_constant : ndarray of bool of shape (n_features,)
        The constant features whose values did differ, by less than the
        round-off of their statistics (set by :meth:`fit`, for a warning).
    """

    def __init__(self, mean, scale, constant=None):
        self.mean = np.asarray(mean, dtype=np.float64)
        self.scale = np.asarray(scale, dtype=np.float64)
        self.constant = (
            np.zeros(self.mean.shape, dtype=bool)
            if constant is None
            else np.asarray(constant, dtype=bool)
        )
        self.roundoff_constant = np.zeros(self.mean.shape, dtype=bool)

    def __setstate__(self, state):
        self.__dict__.update(state)
        if "constant" not in state:  # pickled before the mask: none marked
            self.constant = np.zeros(self.mean.shape, dtype=bool)
        if "roundoff_constant" not in state:
            self.roundoff_constant = np.zeros(self.mean.shape, dtype=bool)

    @classmethod
    def fit(cls, X, sample_shape=None, standardize=True):
        """Statistics of the flat rows ``X`` in two exact float64 passes over chunks.

        A feature (an image channel) is constant when its variance is within
        the round-off of computing it, scikit-learn's test. A range too small
        to square in float64 (below about 3e-151) is scaled by a power of
        two, which is exact, so such features keep their scale.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Validated rows (a memmap is read chunk by chunk).
        sample_shape : tuple of int or None
            ``(C, H, W)`` for images: one mean and scale per channel.
        standardize : bool
            False gives the identity scaling.
        """
        n_samples, n_features = X.shape
        if not standardize:
            return cls(np.zeros(n_features), np.ones(n_features))
        groups = (
            np.arange(n_features)
            if sample_shape is None
            else np.repeat(np.arange(sample_shape[0]), n_features // sample_shape[0])
        )
        n_groups = groups.max() + 1
        counts = np.bincount(groups) * n_samples
        total = np.zeros(n_groups)
        low, high = np.full(n_features, np.inf), np.full(n_features, -np.inf)
        # Row-major chunks: the sums' rounding then does not depend on the layout
        # (a DataFrame's values are column-major), so processes of a
        # data-parallel fit get bitwise equal statistics from equal data.
        for rows in _chunks(n_samples):
            chunk = _row_major(X[rows])
            with np.errstate(over="ignore"):  # an overflow is refused below, with its cause
                total += np.bincount(groups, chunk.sum(axis=0, dtype=np.float64))
            np.minimum(low, chunk.min(axis=0), out=low)
            np.maximum(high, chunk.max(axis=0), out=high)
        group_low, group_high = np.full(n_groups, np.inf), np.full(n_groups, -np.inf)
        np.minimum.at(group_low, groups, low)
        np.maximum.at(group_high, groups, high)
        with np.errstate(over="ignore"):
            value_range = group_high - group_low
        # A feature with one value has it as its mean (a sum of 1e308s overflows).
        mean = np.where(value_range == 0, group_low, total / counts)[groups]
        # Powers of two rescale exactly; 1 (no change) unless squares would underflow.
        tiny = (value_range > 0) & (value_range < _TINY_RANGE)
        factor = np.where(tiny, np.ldexp(1.0, np.minimum(-np.frexp(value_range)[1], 1000)), 1.0)
        squares = np.zeros_like(total)
        for rows in _chunks(n_samples):
            centred = _row_major(X[rows]).astype(np.float64) - mean
            if tiny.any():
                centred *= factor[groups]
            with np.errstate(over="ignore"):  # an overflow is refused below, with its cause
                squares += np.bincount(groups, np.einsum("ij,ij->j", centred, centred))
        # A feature with one value has none, however large the value (its
        # centred squares can overflow, from the mean's rounding).
        variance = np.where(value_range == 0, 0.0, squares / counts)
        if not np.all(np.isfinite(variance)):
            raise ValueError(
                "X has features whose spread overflows float64 when squared (values beyond "
                "about 1e154); rescale them before fitting."
            )
        # scikit-learn's test for a constant feature: a variance within the
        # round-off of the two-pass computation is zero, and gets scale 1.
        eps = np.finfo(np.float64).eps
        with np.errstate(over="ignore"):
            roundoff = (counts * (total / counts) * factor * eps) ** 2
        constant = variance <= counts * eps * variance + roundoff
        scale = np.where(constant, 1.0, np.sqrt(variance) / factor)
        scaler = cls(mean, scale[groups], constant[groups])
        scaler.roundoff_constant = (constant & (value_range > 0))[groups]
        return scaler

    def transform(self, X, dtype=np.float32):
        """Standardised ``X`` computed in float64, returned in ``dtype``."""
        out = np.empty(X.shape, dtype=dtype)
        constant = np.flatnonzero(self.constant)
        for rows in _chunks(X.shape[0]):
            out[rows] = (X[rows].astype(np.float64) - self.mean) / self.scale
            if constant.size:
                out[rows, constant] = 0
        return out

    def to_tensor(self, X, device, dtype=torch.float32):
        """Standardised ``X`` as a tensor on ``device``; refuse values ``dtype`` cannot hold."""
        numpy_dtype = np.float64 if dtype == torch.float64 else np.float32
        with np.errstate(over="ignore"):
            scaled = self.transform(X, numpy_dtype)
        if not np.isfinite(scaled).all():
            raise ValueError(
                f"X has values that overflow {np.dtype(numpy_dtype).name} once standardised with "
                "the training statistics (beyond 3.4e38 in float32), far outside the training "
                "data: pass X as float64 (embedded in float64), or rescale the features "
                "(with standardize=False, standardise them first)."
            )
        tensor = torch.from_numpy(scaled)
        if torch.device(device).type == "cuda":
            # Page-locked memory lets the copy overlap with computation.
            return tensor.pin_memory().to(device, non_blocking=True)
        return tensor.to(device)
