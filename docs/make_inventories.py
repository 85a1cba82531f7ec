"""Write the intersphinx inventories of the libraries the docs link to, offline.

The docs build has no network, so intersphinx cannot download each project's
``objects.inv``. This script writes one per project from the *installed*
library: every public name found, mapped to the page its project publishes for
it (each project's URL scheme for generated API pages). Run it again after
upgrading a library: ``python docs/make_inventories.py``.
"""

import builtins
import importlib
import inspect
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent / "_inventories"


def _public(module_name):
    """(full name, object) for the public names of ``module_name``."""
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return []
    names = getattr(module, "__all__", None) or [n for n in dir(module) if not n.startswith("_")]
    found = []
    for name in names:
        try:
            obj = getattr(module, name)
        except (AttributeError, ImportError):  # experimental or lazily failing names
            continue
        if inspect.ismodule(obj):
            continue
        found.append((f"{module_name}.{name}", obj))
    return found


def _role(obj):
    if inspect.isclass(obj):
        return "exception" if issubclass(obj, BaseException) else "class"
    if callable(obj):
        return "function"
    return "data"


def _entries_with_methods(full, obj, uri):
    entries = [(full, _role(obj), uri)]
    if inspect.isclass(obj):
        for member, value in vars(obj).items():
            if member.startswith("_") or not callable(value):
                continue
            entries.append((f"{full}.{member}", "method", f"{uri.split('#')[0]}#{full}.{member}"))
    return entries


def python_entries():
    entries = []
    for name in ("int", "float", "str", "bool", "dict", "list", "tuple", "object", "callable"):
        role = "function" if name == "callable" else "class"
        entries.append((name, role, f"library/functions.html#{name}"))
    for name in ("ValueError", "TypeError", "RuntimeError", "UserWarning", "OSError"):
        entries.append((name, "exception", f"library/exceptions.html#{name}"))
    entries.append(("None", "data", "library/constants.html#None"))
    for module in ("pathlib", "os", "functools", "pickle", "json", "multiprocessing"):
        entries.append((module, "module", f"library/{module}.html#module-{module}"))
        for full, obj in _public(module):
            entries.append((full, _role(obj), f"library/{module}.html#{full}"))
            if inspect.isclass(obj):  # documented as functions too (functools.partial)
                entries.append((full, "function", f"library/{module}.html#{full}"))
    assert hasattr(builtins, "int")
    return entries


def numpy_entries():
    entries = [("numpy", "module", "reference/index.html#module-numpy")]
    for full, obj in _public("numpy"):
        entries += _entries_with_methods(full, obj, f"reference/generated/{full}.html#{full}")
    entries.append(
        (
            "numpy.random.Generator",
            "class",
            "reference/random/generator.html#numpy.random.Generator",
        )
    )
    entries.append(
        (
            "numpy.random.RandomState",
            "class",
            "reference/random/legacy.html#numpy.random.RandomState",
        )
    )
    entries.append(("numpy.memmap", "class", "reference/generated/numpy.memmap.html#numpy.memmap"))
    return entries


def scipy_entries():
    entries = []
    for module in ("scipy.stats", "scipy.special", "scipy.linalg"):
        entries.append((module, "module", f"reference/{module.split('.')[1]}.html#module-{module}"))
        for full, obj in _public(module):
            entries.append((full, _role(obj), f"reference/generated/{full}.html#{full}"))
    return entries


SKLEARN_MODULES = (
    "base calibration cluster compose covariance cross_decomposition datasets decomposition "
    "discriminant_analysis dummy ensemble exceptions feature_extraction feature_selection "
    "gaussian_process impute inspection isotonic kernel_approximation kernel_ridge "
    "linear_model manifold metrics mixture model_selection multiclass multioutput "
    "naive_bayes neighbors neural_network pipeline preprocessing random_projection svm "
    "tree utils"
).split()


def sklearn_entries():
    entries = []
    for short in SKLEARN_MODULES:
        module = f"sklearn.{short}"
        entries.append((module, "module", f"api/{module}.html#module-{module}"))
        for full, obj in _public(module):
            entries += _entries_with_methods(full, obj, f"modules/generated/{full}.html#{full}")
    for term in (
        "transformer",
        "estimator",
        "cross-validation estimator",
        "scorer",
        "outlier detector",
    ):
        entries.append((term, "term", f"glossary.html#term-{term.replace(' ', '-')}"))
    return entries


def torch_entries():
    entries = [("torch", "module", "torch.html#module-torch")]
    for name in ("Tensor",):
        entries.append((f"torch.{name}", "class", f"tensors.html#torch.{name}"))
    for name in ("device", "dtype"):
        entries.append((f"torch.{name}", "class", f"tensor_attributes.html#torch.{name}"))
    entries.append(("torch.Generator", "class", "generated/torch.Generator.html#torch.Generator"))
    for module in ("torch.nn", "torch.optim", "torch.nn.parallel", "torch.utils.data"):
        for full, obj in _public(module):
            if inspect.isclass(obj):
                entries += _entries_with_methods(full, obj, f"generated/{full}.html#{full}")
    entries.append(("torch.distributed", "module", "distributed.html#module-torch.distributed"))
    for name in ("init_process_group", "all_reduce", "all_gather", "barrier"):
        entries.append(
            (f"torch.distributed.{name}", "function", f"distributed.html#torch.distributed.{name}")
        )
    return entries


def skorch_entries():
    entries = [("skorch", "module", "index.html#module-skorch")]
    for short in ("net", "callbacks", "dataset", "helper"):
        module = f"skorch.{short}"
        entries.append((module, "module", f"{short}.html#module-{module}"))
        for full, obj in _public(module):
            entries += _entries_with_methods(full, obj, f"{short}.html#{full}")
    entries.append(("skorch.NeuralNet", "class", "net.html#skorch.net.NeuralNet"))
    return entries


def write(name, version, entries):
    lines, seen = [], set()
    for full, role, uri in entries:
        domain = "std" if role == "term" else "py"
        if (full, role) in seen or " " in full and domain == "py":
            continue
        seen.add((full, role))
        lines.append(f"{full} {domain}:{role} 1 {uri} -")
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {name}\n# Version: {version}\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    body = zlib.compress("\n".join(sorted(lines)).encode() + b"\n")
    HERE.mkdir(exist_ok=True)
    (HERE / f"{name}.inv").write_bytes(header.encode() + body)
    return len(lines)


def main():
    import numpy
    import scipy
    import sklearn
    import skorch
    import torch

    projects = {
        "python": ("3", python_entries),
        "numpy": (numpy.__version__, numpy_entries),
        "scipy": (scipy.__version__, scipy_entries),
        "sklearn": (sklearn.__version__, sklearn_entries),
        "torch": (torch.__version__.split("+")[0], torch_entries),
        "skorch": (skorch.__version__, skorch_entries),
    }
    for name, (version, entries) in projects.items():
        print(f"{name}: {write(name, version, entries())} names")


if __name__ == "__main__":
    main()
