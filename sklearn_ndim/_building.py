"""Construction of the torch module from the estimator's parameters."""

import copy
from numbers import Integral

import torch

from ._encoders import ConvEncoder, MLPEncoder

__all__ = ["build_encoder", "input_statistics", "check_encoder_output"]


def build_encoder(encoder, image_shape, n_features, n_components, hidden_layer_sizes):
    """Instantiate the encoder named or given by the ``encoder`` parameter.

    Parameters
    ----------
    encoder : {"auto", "mlp", "conv"}, callable or torch.nn.Module
        The estimator's ``encoder`` parameter.
    image_shape : tuple of int or None
        ``(C, H, W)`` for image input, None for tabular rows.
    n_features : int
        Values per row (pixels for images).
    n_components : int
        Output dimension.
    hidden_layer_sizes : tuple of int
        Hidden widths of the MLP encoder.

    Returns
    -------
    encoder : torch.nn.Module
    input_shape : tuple of int
        Shape of one sample as the encoder receives it.
    """
    kind = encoder
    if encoder == "auto":
        kind = "conv" if image_shape is not None else "mlp"
    if kind == "mlp":
        sizes = tuple(hidden_layer_sizes)
        if not all(isinstance(s, Integral) and not isinstance(s, bool) and s >= 1 for s in sizes):
            raise ValueError(
                f"hidden_layer_sizes must hold positive integers; got {hidden_layer_sizes!r}."
            )
        return MLPEncoder(n_features, n_components, sizes), (n_features,)
    input_shape = image_shape or (n_features,)
    if kind == "conv":
        if image_shape is None:
            raise ValueError(
                "encoder='conv' needs images: pass X as (n, H, W) or (n, C, H, W), or set "
                "image_shape for flattened rows."
            )
        return ConvEncoder(image_shape, n_components), input_shape
    if isinstance(encoder, torch.nn.Module):
        # A copy, so that every fit starts from the same weights (idempotent)
        # and the user's instance is never trained in place.
        return copy.deepcopy(encoder), input_shape
    built = encoder(input_shape=input_shape, n_components=n_components)
    if not isinstance(built, torch.nn.Module):
        raise TypeError(f"encoder callable returned {type(built).__name__}, not a torch.nn.Module.")
    return built, input_shape


def input_statistics(data, input_shape, standardize):
    """Mean and scale that standardise inputs: per feature, or per image channel.

    Constant features get scale 1 (they carry nothing and stay finite).
    """
    shape = (input_shape[0],) + (1,) * (len(input_shape) - 1)
    if not standardize:
        ones = torch.ones(shape, device=data.device)
        return torch.zeros_like(ones), ones
    shaped = data.reshape((data.shape[0],) + tuple(input_shape))
    dims = (0,) if len(input_shape) == 1 else (0, 2, 3)
    mean = shaped.mean(dim=dims).reshape(shape)
    scale = shaped.std(dim=dims, unbiased=False).reshape(shape)
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))
    return mean, scale


@torch.no_grad()
def check_encoder_output(module, data, n_components):
    """Raise a clear error when the encoder does not return ``(batch, n_components)``."""
    rows = data[:2]
    module.eval()
    out = module.encoder(module.preprocess(rows))
    module.train()
    if tuple(out.shape) != (rows.shape[0], n_components):
        raise ValueError(
            f"The encoder maps a batch of {rows.shape[0]} samples of shape {module.input_shape} "
            f"to {tuple(out.shape)}; it must return (batch, n_components={n_components})."
        )
