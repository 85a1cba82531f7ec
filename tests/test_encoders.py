import pytest
import torch

from sklearn_ndim._encoders import ConvEncoder, MLPEncoder


def test_mlp_shapes():
    encoder = MLPEncoder(7, 3, (16, 8))
    assert encoder(torch.randn(5, 7)).shape == (5, 3)


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32), (1, 8, 8), (1, 3, 5)])
def test_conv_encoder_handles_small_and_large_images(shape):
    encoder = ConvEncoder(shape, 4)
    assert encoder(torch.randn(2, *shape)).shape == (2, 4)
