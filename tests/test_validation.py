import pytest
import torch
from skorch.callbacks import EarlyStopping

from sklearn_ndim._validation import check_callbacks, check_not_bool, resolve_device


def test_devices():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type in ("cpu", "cuda")
    with pytest.raises(ValueError, match="not a torch device"):
        resolve_device("gpu0")
    for unusable in ("meta", "cpu:0" if False else "xla"):
        with pytest.raises(ValueError, match="cannot train|not a torch device"):
            resolve_device(unusable)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_device("cuda")


def test_callbacks_must_be_instances():
    stopper = EarlyStopping(monitor="train_loss")
    assert check_callbacks([stopper, ("named", stopper)]) == [stopper, ("named", stopper)]
    with pytest.raises(TypeError, match="pass EarlyStopping"):
        check_callbacks([EarlyStopping])
    with pytest.raises(TypeError, match="Callback instances"):
        check_callbacks(["print"])


def test_booleans_are_not_integers():
    check_not_bool(3, "n_components")
    with pytest.raises(TypeError, match="not the boolean True"):
        check_not_bool(True, "n_components")
