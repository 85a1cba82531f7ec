"""Input, device and callback checks with errors that say how to fix them."""

import numbers

import numpy as np
import torch
from skorch.callbacks import Callback

__all__ = ["split_image_shape", "resolve_device", "check_callbacks", "check_image_shape"]


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
    return tuple(int(s) for s in shape)


def split_image_shape(X, image_shape):
    """Flatten image arrays and find the shape of one sample.

    Parameters
    ----------
    X : array-like
        ``(n, features)``, ``(n, H, W)`` or ``(n, C, H, W)``.
    image_shape : tuple or None
        The estimator's ``image_shape`` parameter.

    Returns
    -------
    X_flat : array-like
        ``X`` with images flattened to rows (other inputs unchanged).
    sample_shape : tuple of int or None
        ``(C, H, W)`` for images, None for tabular rows.
    """
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
    shape = tuple(X.shape[1:]) if ndim == 4 else (1,) + tuple(X.shape[1:])
    if image_shape is not None and check_image_shape(image_shape) != shape:
        raise ValueError(
            f"X holds images of shape {shape} but image_shape={image_shape!r}; make them agree "
            "or leave image_shape=None."
        )
    return np.asarray(X).reshape(X.shape[0], -1), shape


def resolve_device(device):
    """Turn the ``device`` parameter into a usable ``torch.device``.

    ``"auto"`` picks CUDA when available, else the CPU.
    """
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device={device!r} is not a torch device; "
            "use 'cpu', 'cuda', 'cuda:1', 'mps' or 'auto'."
        ) from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was requested but CUDA is not available in this torch build "
            f"({torch.__version__}); use device='cpu' or 'auto'."
        )
    if resolved.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device={device!r} was requested but MPS is not available; use 'cpu'.")
    return resolved


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
        checked.append(item)
    return checked
