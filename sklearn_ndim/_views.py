"""Random views of a batch, computed as batched torch operations.

Views are drawn on the batch's device from an explicit ``torch.Generator``
so that training is reproducible under ``random_state`` without touching the
global random state. Inputs arrive already scaled (standardised features, or
images standardised per channel), so the scales below are in those units.
"""

import torch

__all__ = ["TabularViews", "ImageViews"]


class TabularViews:
    """Gaussian jitter and SCARF-style feature corruption for table rows.

    Parameters
    ----------
    jitter_scale : float
        Standard deviation of the Gaussian noise added to every feature.
    corruption_rate : float
        Probability that a feature is replaced by the same feature of a random
        row of ``bank`` (a draw from its empirical marginal, as in SCARF).
    bank : torch.Tensor of shape (n_samples, n_features)
        Rows to draw replacement values from (the training rows).
    """

    def __init__(self, jitter_scale, corruption_rate, bank):
        self.jitter_scale = jitter_scale
        self.corruption_rate = corruption_rate
        self.bank = bank

    def __call__(self, x, generator):
        if self.corruption_rate > 0:
            n_rows, n_features = x.shape
            mask = torch.rand(x.shape, generator=generator, device=x.device) < self.corruption_rate
            donor_rows = torch.randint(
                self.bank.shape[0], x.shape, generator=generator, device=x.device
            )
            replacement = self.bank[donor_rows, torch.arange(n_features, device=x.device)]
            x = torch.where(mask, replacement, x)
        if self.jitter_scale > 0:
            x = x + self.jitter_scale * torch.randn(
                x.shape, generator=generator, device=x.device, dtype=x.dtype
            )
        return x


class ImageViews:
    """Translations, flips, brightness/contrast and pixel noise for images.

    Parameters
    ----------
    max_shift : int
        Largest translation in pixels along each axis (zero padded), drawn
        independently per image; equivalent to random crops of a padded image.
    flip : bool
        Mirror each image left-right with probability 1/2. Leave off where a
        flip changes meaning (digits, text).
    intensity_jitter : float
        Contrast factor drawn from ``U[1 - s, 1 + s]`` and brightness offset
        from ``U[-s, s]`` per image.
    jitter_scale : float
        Standard deviation of Gaussian noise added to every pixel.
    """

    def __init__(self, max_shift, flip, intensity_jitter, jitter_scale):
        self.max_shift = max_shift
        self.flip = flip
        self.intensity_jitter = intensity_jitter
        self.jitter_scale = jitter_scale

    def __call__(self, x, generator):
        n_images, _, height, width = x.shape
        device = x.device
        if self.max_shift > 0:
            x = self._translate(x, generator)
        if self.flip:
            flipped = torch.rand(n_images, generator=generator, device=device) < 0.5
            x = torch.where(flipped[:, None, None, None], x.flip(-1), x)
        if self.intensity_jitter > 0:
            s = self.intensity_jitter
            shape = (n_images, 1, 1, 1)
            contrast = 1.0 + s * (2.0 * torch.rand(shape, generator=generator, device=device) - 1.0)
            brightness = s * (2.0 * torch.rand(shape, generator=generator, device=device) - 1.0)
            mean = x.mean(dim=(1, 2, 3), keepdim=True)
            x = (x - mean) * contrast + mean + brightness
        if self.jitter_scale > 0:
            x = x + self.jitter_scale * torch.randn(
                x.shape, generator=generator, device=device, dtype=x.dtype
            )
        return x

    def _translate(self, x, generator):
        n_images, channels, height, width = x.shape
        shift = self.max_shift
        padded = torch.nn.functional.pad(x, (shift, shift, shift, shift))
        offsets = torch.randint(0, 2 * shift + 1, (2, n_images), generator=generator, device=x.device)
        rows = torch.arange(height, device=x.device) + offsets[0][:, None]  # (n, H)
        cols = torch.arange(width, device=x.device) + offsets[1][:, None]  # (n, W)
        batch = torch.arange(n_images, device=x.device)[:, None, None]
        # Advanced indexing gathers each image's window: result is (n, H, W, C).
        windows = padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]]
        return windows.permute(0, 3, 1, 2)
