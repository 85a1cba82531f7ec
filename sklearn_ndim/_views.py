"""Random views of a batch, computed as batched torch operations.

Views are drawn on the batch's device from an explicit ``torch.Generator``
so that training is reproducible under ``random_state`` without touching the
global random state. Inputs arrive already scaled (standardised features, or
images standardised per channel), so the scales below are in those units.
"""

import warnings
from dataclasses import dataclass
from numbers import Integral

import numpy as np
import torch

__all__ = [
    "ViewSpec",
    "NeighborMix",
    "TabularViews",
    "ImageViews",
    "nearest_neighbors",
    "warn_if_too_many_neighbors",
]


@dataclass(frozen=True)
class ViewSpec:
    """The view settings of a fit, resolved once (``max_shift="auto"`` included).

    A fitted embedder keeps its spec, so :meth:`build` gives the same views
    for ``score`` and the mutual-information estimate whatever parameters
    change after ``fit``.
    """

    n_neighbors: int
    jitter_scale: float
    corruption_rate: float
    max_shift: int
    flip: bool
    intensity_jitter: float

    @classmethod
    def resolve(cls, estimator, sample_shape):
        """Read the view parameters of ``estimator``; ``sample_shape`` is (C, H, W) or None."""
        if sample_shape is None:
            _warn_if_set(
                estimator,
                _IMAGE_VIEWS,
                "the rows are a table (pass image_shape for flat images), so",
            )
        elif isinstance(estimator.encoder, str) and estimator.encoder == "mlp":
            # The MLP reads images as flat rows: it gets the tabular views.
            _warn_if_set(
                estimator,
                _IMAGE_VIEWS,
                "encoder='mlp' reads images as flat rows, so it trains on the tabular views "
                "(neighbours, jitter) and",
                "; leave encoder='auto' for the convolutional encoder and the image views",
            )
            sample_shape = None
        else:
            _warn_if_set(
                estimator,
                _TABLE_VIEWS,
                advice=" to images, whose views are shifts, flips, intensity changes and noise",
            )
        max_shift = estimator.max_shift
        if sample_shape is not None and max_shift != "auto" and max_shift >= min(sample_shape[1:]):
            raise ValueError(
                f"max_shift={max_shift} moves {sample_shape[1]}x{sample_shape[2]} images wholly "
                "out of their frame, so the two views share nothing; use a shift below "
                f"{min(sample_shape[1:])} pixels (a tenth of the side is usual), or 'auto'."
            )
        if max_shift == "auto":
            # One pixel per 12 of the smaller side: 2 for 28x28, none below 12x12
            # (a 2-pixel shift moves a quarter of an 8x8 image).
            max_shift = min(sample_shape[1:]) // 12 if sample_shape is not None else 0
        n_neighbors = estimator.n_neighbors
        if n_neighbors == "auto":
            # Pixel-space neighbours are poor neighbours, and on Fashion-MNIST
            # they cost 0.35 to 0.5 of held-out W2 ratio for 0.01 of probe:
            # images rely on their shifts and intensity changes instead. Images
            # too small to shift have no invariance to learn but jitter, which
            # teaches the encoder to tell images apart (8x8 digits at d=16:
            # probe 0.82 without neighbours, 0.97 with them): neighbours there.
            n_neighbors = 10 if sample_shape is None or max_shift == 0 else 0
        return cls(
            n_neighbors=int(n_neighbors),
            jitter_scale=float(estimator.jitter_scale),
            corruption_rate=float(estimator.corruption_rate),
            max_shift=int(max_shift),
            flip=bool(estimator.flip),
            intensity_jitter=float(estimator.intensity_jitter),
        )

    def neighbors(self, bank, queries=None, random_state=0):
        """Neighbour graph of the first ``queries`` rows of ``bank`` (None without mixing)."""
        if not self.n_neighbors:
            return None
        return nearest_neighbors(bank, self.n_neighbors, random_state, queries)

    def build(self, bank, neighbors=None):
        """View sampler over ``bank``, the standardised, shaped rows being viewed.

        ``neighbors`` (from :meth:`neighbors`) is searched when not given.
        """
        mix = None
        if self.n_neighbors:
            if neighbors is None:
                neighbors = self.neighbors(bank)
            mix = NeighborMix(bank, neighbors)
        if bank.dim() == 2:
            return TabularViews(self.jitter_scale, self.corruption_rate, bank, mix)
        return ImageViews(self.max_shift, self.flip, self.intensity_jitter, self.jitter_scale, mix)


#: View parameters that only images use, with the values that leave them off.
_IMAGE_VIEWS = (("max_shift", ("auto", 0)), ("flip", (False,)), ("intensity_jitter", (0.2, 0)))
#: View parameters that only tables use (SCARF corruption), likewise.
_TABLE_VIEWS = (("corruption_rate", (0,)),)


def _warn_if_set(estimator, settings, why="", advice=""):
    """Warn that the ``settings`` set on ``estimator`` do not apply, saying ``why``."""
    set_ = [
        f"{name}={getattr(estimator, name)!r}"
        for name, unset in settings
        if getattr(estimator, name) not in unset
    ]
    if set_:
        from ._validation import caller_stacklevel

        warnings.warn(
            f"{why}{' ' if why else ''}{', '.join(set_)} "
            f"{'does' if len(set_) == 1 else 'do'} not apply{advice}.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )


def warn_if_too_many_neighbors(estimator, n_rows):
    """Warn when an explicit ``n_neighbors`` is not below the rows: the search keeps fewer."""
    if isinstance(estimator.n_neighbors, str) or estimator.n_neighbors < n_rows:
        return
    from ._validation import caller_stacklevel

    warnings.warn(
        f"n_neighbors={estimator.n_neighbors} is not below the {n_rows} rows: each view mixes "
        f"towards any of the {n_rows - 1} other rows, which is no longer a neighbourhood. "
        "Use fewer neighbours (10 is the default) or n_neighbors=0.",
        UserWarning,
        stacklevel=caller_stacklevel(),
    )


class NeighborMix:
    """Move each sample a random fraction of the way towards a near neighbour.

    The two views of a sample then are two nearby points of the data rather
    than two noisy copies of one point, so InfoNCE keeps neighbourhoods
    instead of learning to tell individual samples apart.

    Parameters
    ----------
    bank : torch.Tensor of shape (n_samples, ...)
        The (scaled) samples being trained on; a batch's ``indices`` point
        into it.
    neighbors : torch.Tensor of shape (n_samples, k)
        Indices into ``bank`` of each sample's nearest neighbours.
    """

    def __init__(self, bank, neighbors):
        self.bank = bank
        self.neighbors = neighbors

    def __call__(self, x, indices, generator):
        n_rows, k = indices.shape[0], self.neighbors.shape[1]
        pick = torch.randint(k, (n_rows,), generator=generator, device=x.device)
        partner = self.bank[self.neighbors[indices, pick]]
        shape = (n_rows,) + (1,) * (x.dim() - 1)
        weight = torch.rand(shape, generator=generator, device=x.device, dtype=x.dtype)
        return x + weight * (partner - x)


class TabularViews:
    """Neighbour mixing, feature corruption and jitter for table rows.

    Parameters
    ----------
    jitter_scale : float
        Standard deviation of the Gaussian noise added to every feature.
    corruption_rate : float
        Probability that a feature is replaced by the same feature of a random
        row of ``bank`` (a draw from its empirical marginal, as in SCARF).
    bank : torch.Tensor of shape (n_samples, n_features)
        The (scaled) rows being trained on.
    neighbor_mix : NeighborMix or None
        Applied first when given.
    """

    def __init__(self, jitter_scale, corruption_rate, bank, neighbor_mix=None):
        self.jitter_scale = jitter_scale
        self.corruption_rate = corruption_rate
        self.bank = bank
        self.neighbor_mix = neighbor_mix

    def __call__(self, x, indices, generator):
        device = x.device
        if self.neighbor_mix is not None:
            x = self.neighbor_mix(x, indices, generator)
        if self.corruption_rate > 0:
            n_features = x.shape[1]
            mask = torch.rand(x.shape, generator=generator, device=device) < self.corruption_rate
            donors = torch.randint(self.bank.shape[0], x.shape, generator=generator, device=device)
            replacement = self.bank[donors, torch.arange(n_features, device=device)]
            x = torch.where(mask, replacement, x)
        if self.jitter_scale > 0:
            x = x + self.jitter_scale * torch.randn(
                x.shape, generator=generator, device=device, dtype=x.dtype
            )
        return x


#: Largest number of rows searched exactly (a chunked matrix product on the
#: data's device, quadratic in the rows); above it pynndescent's approximate
#: search is used when installed (its one-off compilation takes tens of seconds).
EXACT_SEARCH_MAX_ROWS = 100_000
# Most distances held at once by the exact search (float32: 64 MiB), so that
# its memory stays far below the data's own for large tables.
_DISTANCE_BLOCK = 2**24


# Rows of pynndescent's graph cleaned at once (bounds the temporaries).
_POSTPROCESS_ROWS = 65_536
# NN-descent's candidates per row and iteration (pynndescent's default is k + 1
# = 11 here). Its two candidate arrays are its largest: 8 lowers the search's
# peak at 10^6 rows x 50 features from 0.38 to 0.34 GiB and its time by a
# seventh, while the neighbours found stay as close (mean distance 1.034 against
# 1.028 times the exact neighbours' there; 1.0015 against 1.0011 on
# Fashion-MNIST's 70,000 images, with the same label agreement).
_NN_DESCENT_CANDIDATES = 8
#: Rows of a float64 bank centred at a time before its float32 search.
_CENTRING_ROWS = 8192


def nearest_neighbors(bank, n_neighbors, random_state=0, queries=None):
    """Indices ``(m, k)`` of the ``k`` nearest other rows of ``bank`` (Euclidean).

    Distances are computed in float32 on rows centred by their mean, so an
    offset common to all rows costs no precision.

    Parameters
    ----------
    bank : torch.Tensor of shape (n_samples, ...)
        Samples on comparable scales, such as standardised features (images
        are compared as flat vectors).
    n_neighbors : int
        ``k >= 1``; capped at ``n_samples - 1``.
    random_state : int, default=0
        Seeds the approximate search.
    queries : int, default=None
        Search neighbours for the first ``queries`` rows only (from 1 to
        ``n_samples``; all when None); they are found among all rows of ``bank``.

    Returns
    -------
    neighbors : torch.Tensor of shape (queries, k), on ``bank``'s device
        Never a row itself nor a copy of it at distance zero (a view towards
        either would be no view), unless a row has fewer than ``k`` others.
    """
    if not isinstance(bank, torch.Tensor):
        raise TypeError(
            f"bank must be a torch.Tensor; got {type(bank).__name__}. Convert it with "
            "torch.as_tensor(bank)."
        )
    if isinstance(n_neighbors, bool) or not isinstance(n_neighbors, Integral) or n_neighbors < 1:
        raise ValueError(f"n_neighbors must be an integer of at least 1; got {n_neighbors!r}.")
    n_rows = bank.shape[0] if bank.ndim else 0
    if n_rows < 2:
        raise ValueError(f"bank needs at least 2 rows to have neighbours; got {n_rows}.")
    if queries is None:
        queries = n_rows
    elif isinstance(queries, bool) or not (
        isinstance(queries, Integral) and 1 <= queries <= n_rows
    ):
        raise ValueError(
            f"queries must be an integer from 1 to the {n_rows} rows of bank, or None for all; "
            f"got {queries!r}."
        )
    k = min(n_neighbors, n_rows - 1)
    points = bank.detach().reshape(n_rows, -1)
    if points.dtype == torch.float64:
        # Centred before the float32 search, so that an offset costs no precision;
        # by blocks, so that no float64 copy of the whole bank is made.
        mean, centred = points.mean(0), torch.empty_like(points, dtype=torch.float32)
        for start in range(0, n_rows, _CENTRING_ROWS):
            block = slice(start, start + _CENTRING_ROWS)
            centred[block] = points[block] - mean
        points = centred
    if n_rows > EXACT_SEARCH_MAX_ROWS:
        try:
            return _approximate_neighbors(points, k, random_state, queries)
        except ImportError as error:
            # The import's own message: an old pynndescent can fail on its own imports.
            warnings.warn(
                f"Exact neighbour search over {n_rows} rows costs time quadratic in the rows; "
                f"pynndescent, for an approximate search that grows linearly, did not import "
                f"({error}): install or upgrade it (pip install -U 'sklearn-ndim[scale]'), or "
                "set n_neighbors=0.",
                UserWarning,
                stacklevel=3,
            )
    return _exact_neighbors(points, k, queries)


def _exact_neighbors(points, k, queries):
    """Exact k nearest neighbours by blocks of squared distances on the data's device.

    The distance block, its mask and the output are allocated once and reused:
    a new block per step left the allocator's heap fragmented between them.
    """
    # |q|^2 + |p|^2 - 2 q.p cancels badly far from the origin: 1,000 rows
    # offset by 1,000 found neighbours 2.9 times as far as the nearest.
    points = points.to(torch.float32)
    points = points - points.mean(0, dtype=torch.float64).to(torch.float32)
    norms = (points * points).sum(1)
    n_rows = points.shape[0]
    rows_per_block = max(1, min(queries, _DISTANCE_BLOCK // n_rows))
    device = points.device
    buffer = torch.empty((rows_per_block, n_rows), device=device)
    copies = torch.empty((rows_per_block, n_rows), dtype=torch.bool, device=device)
    values = torch.empty((rows_per_block, k), device=device)
    found = torch.empty((queries, k), dtype=torch.int64, device=device)
    # |q|^2 + |p|^2 - 2 q.p leaves round-off of order eps * |q|^2 for a copy
    # of a row, so "distance zero" is below that.
    tolerance = 100 * torch.finfo(points.dtype).eps
    for start in range(0, queries, rows_per_block):
        stop = min(start + rows_per_block, queries)
        size = stop - start
        distances, mask = buffer[:size], copies[:size]
        torch.mm(points[start:stop], points.T, out=distances)
        distances.mul_(-2.0).add_(norms[None, :]).add_(norms[start:stop, None])
        # Never a row itself, nor a copy of it (a stream's reservoir holds rows
        # seen before): a neighbour at distance zero makes no view.
        rows = torch.arange(size, device=device)
        distances[rows, start + rows] = torch.inf
        torch.le(distances, tolerance * (1.0 + norms[start:stop, None]), out=mask)
        distances.masked_fill_(mask, torch.inf)
        torch.topk(distances, k, dim=1, largest=False, out=(values[:size], found[start:stop]))
    return found


def _approximate_neighbors(points, k, random_state, queries):
    """Approximate neighbours with pynndescent (NN-descent, as in UMAP)."""
    import numba
    from pynndescent import NNDescent

    data = points.cpu().numpy()
    # numba's OpenMP layer sets OpenMP's thread count, which torch reads, to all
    # cores when it starts: the caller's OMP_NUM_THREADS must hold, here and after.
    torch_threads, numba_threads = torch.get_num_threads(), numba.get_num_threads()
    numba.set_num_threads(min(torch_threads, numba.config.NUMBA_NUM_THREADS))
    try:
        index = NNDescent(
            data,
            n_neighbors=k + 1,
            max_candidates=min(_NN_DESCENT_CANDIDATES, k + 1),
            random_state=random_state,
            low_memory=True,
        )
        graph, distances = index.neighbor_graph
        del index  # its search trees, before the temporaries below
    finally:
        numba.set_num_threads(numba_threads)
        torch.set_num_threads(torch_threads)
    neighbors = np.empty((queries, k), dtype=graph.dtype)
    for start in range(0, queries, _POSTPROCESS_ROWS):
        rows = slice(start, min(start + _POSTPROCESS_ROWS, queries))
        # Drop each row itself (usually, but not always, in column 0) and its copies.
        keep = (graph[rows] != np.arange(rows.start, rows.stop)[:, None]) & (distances[rows] > 0)
        # Usable candidates first. A row with copies can have fewer than k of its
        # k + 1: its usable ones repeat rather than fill up with itself or a copy
        # (a view towards either is no view); a row with none keeps them all.
        order = np.argsort(~keep, axis=1, kind="stable")
        usable = keep.sum(axis=1, keepdims=True)
        slots = np.arange(k)[None, :]
        order = np.take_along_axis(
            order, np.where(usable > 0, slots % np.maximum(usable, 1), slots), axis=1
        )
        neighbors[rows] = np.take_along_axis(graph[rows], order, axis=1)
    return torch.as_tensor(neighbors, device=points.device)


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
    neighbor_mix : NeighborMix or None
        Applied first when given (neighbours in pixel space).
    """

    def __init__(self, max_shift, flip, intensity_jitter, jitter_scale, neighbor_mix=None):
        self.neighbor_mix = neighbor_mix
        self.max_shift = max_shift
        self.flip = flip
        self.intensity_jitter = intensity_jitter
        self.jitter_scale = jitter_scale

    def __call__(self, x, indices, generator):
        if x.ndim != 4:
            raise ValueError(
                "ImageViews takes images of shape (batch, channels, height, width); got "
                f"{tuple(x.shape)}. Add the channel axis, e.g. x[:, None]."
            )
        n_images = x.shape[0]
        device = x.device
        if self.neighbor_mix is not None:
            x = self.neighbor_mix(x, indices, generator)
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
        offsets = torch.randint(
            0, 2 * shift + 1, (2, n_images), generator=generator, device=x.device
        )
        rows = torch.arange(height, device=x.device) + offsets[0][:, None]  # (n, H)
        cols = torch.arange(width, device=x.device) + offsets[1][:, None]  # (n, W)
        batch = torch.arange(n_images, device=x.device)[:, None, None]
        # Advanced indexing gathers each image's window: result is (n, H, W, C).
        windows = padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]]
        return windows.permute(0, 3, 1, 2)
