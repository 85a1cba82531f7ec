"""Parameter, device and callback checks with errors that say how to fix them."""

import torch
from skorch.callbacks import Callback

__all__ = ["resolve_device", "check_callbacks", "check_not_bool"]

_DEVICE_TYPES = ("cpu", "cuda", "mps")


def check_not_bool(value, name):
    """Refuse ``True``/``False`` where an integer is meant (bool is an int in Python)."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an integer, not the boolean {value!r}.")


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
            f"device={device!r} cannot train or embed data; use 'cpu', 'cuda', 'cuda:1', "
            "'mps' or 'auto'."
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
