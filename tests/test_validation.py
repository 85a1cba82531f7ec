import numpy as np
import pytest
import torch
from skorch.callbacks import EarlyStopping

from sklearn_ndim._validation import (
    check_callbacks,
    check_image_shape,
    resolve_device,
    split_image_shape,
)


def test_image_arrays_are_flattened_with_their_shape():
    flat, shape = split_image_shape(np.zeros((5, 3, 4, 6)), None)
    assert flat.shape == (5, 72) and shape == (3, 4, 6)
    flat, shape = split_image_shape(np.zeros((5, 4, 6)), None)
    assert flat.shape == (5, 24) and shape == (1, 4, 6)
    assert split_image_shape(np.zeros((5, 24)), (4, 6))[1] == (1, 4, 6)
    assert split_image_shape(np.zeros((5, 24)), None)[1] is None


@pytest.mark.parametrize(
    "X, image_shape, message",
    [
        (np.zeros((5, 24)), (5, 5), "holds 25 values"),
        (np.zeros((5, 4, 6)), (1, 6, 4), "image_shape"),
        (np.zeros((2, 2, 2, 2, 2)), None, "5 dimensions"),
    ],
)
def test_image_shape_mismatches(X, image_shape, message):
    with pytest.raises(ValueError, match=message):
        split_image_shape(X, image_shape)


def test_bad_image_shape():
    with pytest.raises(ValueError, match="positive integers"):
        check_image_shape((0, 4))


def test_devices():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type in ("cpu", "cuda")
    with pytest.raises(ValueError, match="not a torch device"):
        resolve_device("gpu0")
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
