"""Encoders ``f``: raw features or images in, ``d`` unnormalised outputs out."""

from torch import nn

__all__ = ["MLPEncoder", "ConvEncoder"]


class MLPEncoder(nn.Module):
    """Multi-layer perceptron for tabular rows.

    Each hidden layer is ``Linear -> BatchNorm1d -> LeakyReLU(0.01)``; the last
    layer is linear. The method's output normaliser comes after it.

    Parameters
    ----------
    n_features : int
        Number of input features.
    n_components : int
        Output dimension ``d``.
    hidden_layer_sizes : tuple of int, default=(256, 256)
        Width of each hidden layer.
    """

    def __init__(self, n_features, n_components, hidden_layer_sizes=(256, 256)):
        super().__init__()
        layers = []
        width = n_features
        for hidden in hidden_layer_sizes:
            layers += [nn.Linear(width, hidden), nn.BatchNorm1d(hidden), nn.LeakyReLU(0.01)]
            width = hidden
        layers.append(nn.Linear(width, n_components))
        self.network = nn.Sequential(*layers)

    def forward(self, x):
        return self.network(x)


class ConvEncoder(nn.Module):
    """Small convolutional network for images, sized for a CPU.

    Up to three blocks ``Conv3x3 -> BatchNorm2d -> LeakyReLU(0.01) -> MaxPool2``
    (a block is skipped once the image is smaller than 2 pixels), an adaptive
    average pool to at most 3x3, then ``Linear(hidden) -> LeakyReLU -> Linear(d)``.

    Parameters
    ----------
    image_shape : tuple of int
        ``(channels, height, width)`` of one image.
    n_components : int
        Output dimension ``d``.
    channels : tuple of int, default=(16, 32, 64)
        Output channels of the convolutional blocks.
    hidden_size : int, default=128
        Width of the dense layer before the output.
    """

    def __init__(self, image_shape, n_components, channels=(16, 32, 64), hidden_size=128):
        super().__init__()
        in_channels, height, width = image_shape
        layers = []
        for out_channels in channels:
            layers += [
                nn.Conv2d(in_channels, out_channels, 3, padding=1),
                nn.BatchNorm2d(out_channels),
                nn.LeakyReLU(0.01),
            ]
            if min(height, width) >= 2:
                layers.append(nn.MaxPool2d(2))
                height, width = height // 2, width // 2
            in_channels = out_channels
        pooled = (min(height, 3), min(width, 3))
        layers.append(nn.AdaptiveAvgPool2d(pooled))
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(in_channels * pooled[0] * pooled[1], hidden_size),
            nn.LeakyReLU(0.01),
            nn.Linear(hidden_size, n_components),
        )

    def forward(self, x):
        return self.head(self.features(x))
