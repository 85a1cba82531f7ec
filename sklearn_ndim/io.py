"""Save and load fitted embedders as files that run no code when loaded.

A model file is one `safetensors <https://huggingface.co/docs/safetensors>`_
file: the weights and the input scaling as tensors, and everything else
(parameters, fitted attributes, the prior, training history, the versions
that wrote it, a SHA-256 checksum of all of it) as JSON in its header. The
checksum detects accidental damage and edits; it is not a signature. Loading parses
JSON and reads tensors; nothing is unpickled or evaluated.

Pickle and joblib files, by contrast, run arbitrary code when loaded: load
them only from sources you trust.

Examples
--------
>>> import tempfile, pathlib
>>> from sklearn.datasets import load_digits
>>> from sklearn_ndim import NoisyInfoMaxEmbedder
>>> from sklearn_ndim.io import load, save
>>> X = load_digits().data
>>> embedder = NoisyInfoMaxEmbedder(n_components=4, max_epochs=2, random_state=0).fit(X)
>>> path = pathlib.Path(tempfile.mkdtemp()) / "digits.safetensors"
>>> save(embedder, path)
>>> restored = load(path)
>>> bool((restored.transform(X) == embedder.transform(X)).all())
True
"""

import functools
import hashlib
import inspect
import json
import platform
import re
import warnings
from pathlib import Path

import numpy as np
import scipy
import sklearn
import torch
from sklearn.utils.validation import check_is_fitted
from skorch.history import History

from . import __version__
from ._auto_settings import resolve_prior_penalty, trains_as_images
from ._data import InputScaler
from ._fitting import build_module, forked_global_generators, make_net
from ._networks import build_decoder
from ._priors import prior_from_config, resolve_prior
from ._validation import changed_model_params, check_embedder, model_params, resolve_device
from ._views import ViewSpec

__all__ = ["save", "load", "FORMAT", "FORMAT_VERSION"]

#: Marker of sklearn-ndim model files in the safetensors header.
FORMAT = "sklearn-ndim"
#: Version of the file layout; files of a newer layout are refused. Layout 2
#: added the mask of constant features (an older reader would ignore it and
#: transform differently) and the ``set_output`` configuration.
FORMAT_VERSION = 2

_BUILTIN_ENCODERS = ("auto", "mlp", "conv")


def _parameters(embedder):
    # numpy scalars (a grid from np.arange, say) are written as JSON numbers.
    params = {
        name: value.item() if isinstance(value, np.generic) else value
        for name, value in embedder.get_params(deep=False).items()
    }
    encoder = params["encoder"]
    if isinstance(encoder, str):
        encoder_entry = encoder
    else:
        encoder_entry = {"custom": _callable_name(encoder)}
    random_state = params["random_state"]
    return {
        **params,
        "prior": resolve_prior(params["prior"]).get_config(),
        "encoder": encoder_entry,
        "hidden_layer_sizes": [int(s) for s in params["hidden_layer_sizes"]],
        "image_shape": None
        if params["image_shape"] is None
        else [int(s) for s in params["image_shape"]],
        "noise_scale": params["noise_scale"]
        if isinstance(params["noise_scale"], str)
        else float(params["noise_scale"]),
        "device": str(params["device"]),
        # Training-only settings that cannot be written as data.
        "callbacks": None,
        # A RandomState instance is not data: it is written as None.
        "random_state": random_state if isinstance(random_state, int) else None,
    }


def _output_config(embedder):
    """The ``set_output`` configuration as data, e.g. ``{"transform": "pandas"}``."""
    transform = getattr(embedder, "_sklearn_output_config", {}).get("transform")
    if transform is None:
        return {}
    if not isinstance(transform, str):
        raise ValueError(
            f"the embedder's set_output(transform={transform!r}) is not one of 'default', "
            "'pandas' or 'polars' and cannot be saved; call set_output with one of them."
        )
    return {"transform": transform}


def _checksum(header, tensors):
    digest = hashlib.sha256(json.dumps(header, sort_keys=True).encode())
    for name in sorted(tensors):
        tensor = tensors[name].contiguous()
        digest.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)}".encode())
        digest.update(tensor.numpy().tobytes())
    return digest.hexdigest()


def _callable_name(encoder):
    """``module.name`` of a custom encoder: a class, a function, a partial or a module instance."""
    if isinstance(encoder, functools.partial):
        return f"functools.partial({_callable_name(encoder.func)}, ...)"
    kind = encoder if isinstance(encoder, type) or inspect.isroutine(encoder) else type(encoder)
    return f"{kind.__module__}.{kind.__qualname__}"


def _check_same_encoder(path, saved_name, encoder):
    """Refuse an encoder other than the saved one; a module that moved is allowed.

    Another class with the same parameters would load the weights and embed
    differently, in silence.
    """
    given_name = _callable_name(encoder)

    def unqualified(name):
        # "functools.partial(pkg.mod.Net, ...)" -> "partial(Net, ...)"
        return re.sub(r"[\w.]*\.(\w+)", r"\1", name)

    if unqualified(given_name) != unqualified(saved_name):
        raise ValueError(
            f"{path} was saved with the custom encoder {saved_name}; got {given_name}. Pass the "
            "same class, factory or module: another one would load these weights and embed "
            "differently."
        )


def save(embedder, path):
    """Write a fitted :class:`~sklearn_ndim.NoisyInfoMaxEmbedder` to ``path``.

    Parameters
    ----------
    embedder : NoisyInfoMaxEmbedder
        A fitted embedder. Callbacks and a ``random_state`` that is a
        RandomState instance are training-only and not saved (they load as
        None). A custom encoder is saved by its weights; :func:`load` then
        needs the encoder passed again. The ``set_output`` configuration
        is saved and restored.
    path : str or path-like
        Destination; by convention with the suffix ``.safetensors``.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If ``embedder`` is not fitted.
    TypeError
        If ``embedder`` is not a :class:`~sklearn_ndim.NoisyInfoMaxEmbedder`
        (a Pipeline holding one, say: save the step).
    ValueError
        If ``set_output`` was given a ``transform`` that is not a string, or
        if a parameter that shapes the model (all but the training controls
        and ``device``) was changed after the fit, or if the prior is a
        scipy distribution that a file cannot name (one of the user's own,
        such as ``rv_histogram``: pickle such models instead).
    """
    from safetensors.torch import save as safetensors_bytes

    check_embedder(
        embedder,
        "save writes",
        " For a Pipeline, save its embedder step (pipe[0], say) and pickle or joblib the rest.",
    )
    check_is_fitted(embedder)
    # The file rebuilds the model from the parameters: they must be the fitted
    # ones. The device only says where to load, so it may differ.
    changed = changed_model_params(embedder, ignore={"device"})
    if changed:
        raise ValueError(
            "These parameters were changed after the model was fitted: "
            f"{', '.join(changed)}. A saved file records the parameters the model was fitted "
            "with, and load rebuilds it from them: set them back with set_params before saving, "
            "or fit again with the new ones."
        )
    _check_prior_round_trips(embedder.prior_)
    module = embedder.net_.module_
    tensors = {
        f"module.{k}": v.detach().cpu().contiguous().clone() for k, v in module.state_dict().items()
    }
    if embedder._decoder is not None:
        for key, value in embedder._decoder.state_dict().items():
            tensors[f"decoder.{key}"] = value.detach().cpu().clone()
        tensors["range.low"] = torch.from_numpy(np.asarray(embedder._input_range[0]).copy())
        tensors["range.high"] = torch.from_numpy(np.asarray(embedder._input_range[1]).copy())
    tensors["scaler.mean"] = torch.from_numpy(embedder._scaler.mean.copy())
    tensors["scaler.scale"] = torch.from_numpy(embedder._scaler.scale.copy())
    tensors["scaler.constant"] = torch.from_numpy(embedder._scaler.constant.astype(np.uint8))
    feature_names = getattr(embedder, "feature_names_in_", None)
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "versions": {
            "sklearn_ndim": __version__,
            "torch": torch.__version__,
            "scikit-learn": sklearn.__version__,
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "python": platform.python_version(),
        },
        "parameters": _parameters(embedder),
        "output_config": _output_config(embedder),
        "fitted": {
            "prior": embedder.prior_.get_config(),
            "noise_scale": float(embedder.noise_scale_),
            "prior_penalty": float(embedder.prior_penalty_),
            "capacity": float(embedder.capacity_),
            "batch_size": int(embedder.batch_size_),
            "n_components": int(embedder.n_components_),
            "n_iter": int(embedder.n_iter_),
            "mutual_info": float(embedder.mutual_info_),
            "seed": int(embedder._seed),
            "sample_shape": None
            if embedder._sample_shape is None
            else list(embedder._sample_shape),
            "input_shape": list(module.input_shape),
            "input_ndim": int(embedder._input_ndim),
            "decoder": embedder._decoder is not None,
            "n_features_in": int(embedder.n_features_in_),
            "feature_names_in": None if feature_names is None else [str(n) for n in feature_names],
            "view_spec": vars(embedder._view_spec),
            "history": json.loads(json.dumps(list(embedder.history_))),
        },
    }
    header["checksum"] = _checksum(header, tensors)
    # Written by Python, not by save_file, so that the file's permissions follow
    # the umask like any other file the user writes (save_file makes it 0600).
    contents = safetensors_bytes(tensors, metadata={"sklearn_ndim": json.dumps(header)})
    Path(path).write_bytes(contents)


def _read(path):
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt", device="cpu") as handle:
            metadata = handle.metadata() or {}
            tensors = {name: handle.get_tensor(name) for name in handle.keys()}
    except (SafetensorError, OSError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise ValueError(f"{path} is not a safetensors file ({exc}).") from exc
    if not isinstance(metadata, dict) or "sklearn_ndim" not in metadata:
        raise ValueError(
            f"{path} is a safetensors file but not an sklearn-ndim model (no '{FORMAT}' header)."
        )
    try:
        header = json.loads(metadata["sklearn_ndim"])
        ok = header.get("format") == FORMAT
    except (TypeError, ValueError, AttributeError):
        ok = False
    if not ok:
        raise ValueError(
            f"{path} has an sklearn-ndim header that cannot be read: the file was modified or "
            "damaged after it was saved."
        )
    if (
        not isinstance(header.get("format_version"), int)
        or header["format_version"] > FORMAT_VERSION
    ):
        raise ValueError(
            f"{path} uses file layout {header.get('format_version')!r}; this sklearn-ndim "
            f"({__version__}) reads layouts up to {FORMAT_VERSION}. Upgrade sklearn-ndim."
        )
    stored = header.pop("checksum", None)
    if stored != _checksum(header, tensors):
        raise ValueError(
            f"{path} fails its checksum: the file was modified or damaged after it was saved."
        )
    return header, tensors


def load(path, *, encoder=None, device=None):
    """Read an embedder written by :func:`save`.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save`.
    encoder : callable or torch.nn.Module, default=None
        Needed only when the embedder was fitted with a custom encoder: the
        same class, factory or module, whose weights are then loaded.
    device : str or torch.device, default=None
        Where to place the model. None uses the saved ``device`` parameter
        when that device exists here, else the CPU (with a warning), so a
        model trained on a GPU loads on a CPU-only machine.

    Returns
    -------
    embedder : NoisyInfoMaxEmbedder
        A fitted embedder whose ``transform`` equals the saved one's, with
        the saved ``set_output`` configuration (DataFrame output, say).

    Raises
    ------
    ValueError
        If the file is not an sklearn-ndim model, was modified after it was
        saved, was written by a newer file layout, or needs ``encoder``.
    """
    from ._embedder import NoisyInfoMaxEmbedder

    header, tensors = _read(path)
    params = dict(header["parameters"])
    # Files from before the parameter existed trained without the penalty.
    params.setdefault("prior_penalty", 0.0)
    fitted = header["fitted"]
    saved_encoder = params["encoder"]
    if isinstance(saved_encoder, dict):
        if encoder is None:
            raise ValueError(
                f"{path} holds a model with the custom encoder {saved_encoder['custom']}; pass "
                "it again: load(path, encoder=...)."
            )
        _check_same_encoder(path, saved_encoder["custom"], encoder)
        params["encoder"] = encoder
    elif saved_encoder not in _BUILTIN_ENCODERS:
        raise ValueError(f"{path} names an unknown encoder {saved_encoder!r}.")
    prior = prior_from_config(fitted["prior"])
    params["prior"] = _parameter_prior(params["prior"])
    params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
    if params["image_shape"] is not None:
        params["image_shape"] = tuple(params["image_shape"])
    params["device"] = _load_device(params["device"] if device is None else device, device)
    embedder = NoisyInfoMaxEmbedder(**params)

    sample_shape = None if fitted["sample_shape"] is None else tuple(fitted["sample_shape"])
    noise_scale = float(fitted["noise_scale"])
    torch_device = resolve_device(params["device"])
    # The initial weights are overwritten: building them must not use up the
    # caller's random numbers.
    # The weight trained with, as saved; files from before it was saved resolve
    # their parameter as that fit did.
    prior_penalty = fitted.get("prior_penalty")
    if prior_penalty is None:
        views = ViewSpec(**fitted["view_spec"])
        prior_penalty = resolve_prior_penalty(
            embedder, trains_as_images(embedder, sample_shape, views)
        )
    with forked_global_generators():
        module = build_module(
            embedder,
            sample_shape,
            fitted["n_features_in"],
            prior,
            noise_scale,
            torch.device("cpu"),
            prior_penalty=float(prior_penalty),
        )
    if list(module.input_shape) != fitted["input_shape"]:
        raise ValueError(f"{path} does not match the encoder it names; it cannot be loaded.")
    weights = {k[len("module.") :]: v for k, v in tensors.items() if k.startswith("module.")}
    try:
        module.load_state_dict(weights, strict=True)
    except RuntimeError as exc:
        raise ValueError(f"{path} holds weights that do not fit the encoder: {exc}") from exc
    # Training precision is set by the next partial_fit, for its device.
    module.to(torch_device).eval()
    decoder = input_range = None
    if fitted["decoder"]:
        with forked_global_generators():
            decoder = build_decoder(
                sample_shape,
                fitted["n_features_in"],
                fitted["n_components"],
                params["hidden_layer_sizes"],
            )
        state = {k[len("decoder.") :]: v for k, v in tensors.items() if k.startswith("decoder.")}
        try:
            decoder.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise ValueError(f"{path} holds decoder weights that do not fit: {exc}") from exc
        decoder.to(torch_device).eval()
        input_range = (tensors["range.low"].numpy(), tensors["range.high"].numpy())
    # With the estimator's optimiser, so that partial_fit goes on with Adam.
    net = make_net(embedder, module, torch_device, fitted["batch_size"])
    net.initialize()
    net.history = History(fitted["history"])
    state = {
        "prior_": prior,
        "noise_scale_": noise_scale,
        "capacity_": float(fitted["capacity"]),
        "batch_size_": fitted["batch_size"],
        "n_components_": fitted["n_components"],
        "net_": net,
        "n_iter_": fitted["n_iter"],
        "history_": net.history,
        "mutual_info_": float(fitted["mutual_info"]),
        "n_features_in_": fitted["n_features_in"],
        "_seed": fitted["seed"],
        "_sample_shape": sample_shape,
        "_scaler": InputScaler(
            tensors["scaler.mean"].numpy(),
            tensors["scaler.scale"].numpy(),
            # Files written before the mask mark no feature constant.
            tensors["scaler.constant"].numpy() if "scaler.constant" in tensors else None,
        ),
        "_view_spec": ViewSpec(**fitted["view_spec"]),
        "_input_ndim": fitted["input_ndim"],
        "_decoder": decoder,
        "_input_range": input_range,
        "_n_features_out": fitted["n_components"],
    }
    if fitted["feature_names_in"] is not None:
        state["feature_names_in_"] = np.asarray(fitted["feature_names_in"], dtype=object)
    embedder.__dict__.update(state)
    # A later partial_fit refuses model parameters changed after loading.
    embedder._model_params = model_params(embedder)
    # Files written before the output configuration was saved have none.
    output_config = header.get("output_config", {})
    if output_config:
        embedder.set_output(**output_config)
    return embedder


def _check_prior_round_trips(prior):
    """Refuse a prior that ``load`` would not rebuild as it is.

    A file names a scipy prior by its ``scipy.stats`` name: a distribution of
    the user's own (``rv_histogram``, a subclass) would come back as another
    one, or not at all.
    """
    marginal = getattr(prior, "marginal", None)
    if marginal is None:
        return
    try:
        rebuilt = prior_from_config(prior.get_config())
    except ValueError:
        rebuilt = None
    if rebuilt != prior or type(rebuilt.marginal.dist) is not type(marginal.dist):
        raise ValueError(
            f"The prior {type(marginal.dist).__name__} (named {marginal.dist.name!r}) is not a "
            "scipy.stats distribution that a model file can name, so load could not rebuild "
            "it: save with pickle or joblib instead, which keep the distribution object."
        )


def _parameter_prior(config):
    prior = prior_from_config(config)
    if config.get("kind") == "scipy":
        return prior.marginal
    return prior.name


def _load_device(requested, explicit):
    try:
        resolve_device(requested)
    except ValueError:
        if explicit is not None:
            raise
        warnings.warn(
            f"The model was saved with device={requested!r}, which is not available here; "
            "it is loaded on the CPU.",
            UserWarning,
            stacklevel=3,
        )
        return "cpu"
    return requested
