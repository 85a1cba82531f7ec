"""The torch modules of the objective: the output normaliser, critics, and their wiring.

Data flow of one training batch (see :func:`sklearn_ndim._objective.contrastive_loss`)::

    a random view x' and the row x -> encoder f -> OutputNormalizer (statistics of f(x))
      branch a: g(x')                                      (no noise)
      branch y: prior.add_noise(g(x)) = g(x) + Z           (noisy)
    -> critic(a, y): a (B, B) matrix of scores -> InfoNCE
    + prior_penalty * sliced W2 of [g(x'); g(x)] to N(0, I)   (optional)

The normaliser has no affine parameters on purpose: a learned scale would let
the encoder grow its output and make the noise meaningless.
"""

import itertools
import math
from numbers import Integral

import torch
from torch import nn

# The networks lived here: pickles made before they moved name them from this module.
from ._networks import ConvDecoder, ConvEncoder, MLPDecoder, MLPEncoder  # noqa: F401
from ._priors import resolve_prior

__all__ = [
    "OutputNormalizer",
    "SeparableCritic",
    "QuadraticCritic",
    "MLPCritic",
    "make_critic",
    "InfoMaxModule",
    "check_encoder_output",
]


# ---------------------------------------------------------------- normaliser


# Rows per block when calibrating on all training rows.
_CALIBRATION_BLOCK = 65_536

# The normaliser's eps as a share of the outputs' mean variance, where that is less than eps.
_RELATIVE_EPS = 1e-3


class OutputNormalizer(nn.Module):
    """Standardise or whiten the encoder's output, without affine parameters.

    In training mode the statistics are those of the batch (as in
    ``BatchNorm1d(affine=False)``); in evaluation mode the frozen buffers
    ``mean`` and ``whitening`` are used, so an output never depends on which
    other rows share its batch. :meth:`calibrate` sets the buffers from clean
    rows after training; evaluation before it (or before loading a state
    dict that holds them) raises, as the buffers would leave the encoder's
    output as it is.

    Parameters
    ----------
    n_components : int
        Dimension ``d`` of the embedding.
    whiten : bool, default=False
        Decorrelate the dimensions as well (batch whitening by the inverse
        Cholesky factor of the covariance), so the output has identity
        covariance, not only unit variances. The capacity-achieving input
        under that stronger constraint is still N(0, I).
    eps : float, default=1e-5
        Added to the variance (the covariance's diagonal) for stability; at
        most 0.1 % of the mean variance, so that outputs of any common scale
        get unit variance (a fixed ``1e-5`` would whiten outputs of standard
        deviation 0.01 to a variance of 0.9). An output far smaller than the
        others (standard deviation below about 0.1 beside outputs of 1) still
        comes out below unit variance.
    """

    #: Whether the frozen statistics are set. Modules pickled before the
    #: attribute existed were calibrated, hence the class default.
    calibrated = True

    def __init__(self, n_components, whiten=False, eps=1e-5):
        super().__init__()
        self.whiten = whiten
        self.eps = eps
        self.register_buffer("mean", torch.zeros(n_components))
        self.register_buffer("whitening", torch.eye(n_components))
        self.calibrated = False

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        # Calibrated unless the buffers still hold their initial values (a
        # state dict saved before calibration, by a mid-training checkpoint).
        identity = torch.eye(self.whitening.shape[0], dtype=self.whitening.dtype)
        self.calibrated = bool(self.mean.any() or not torch.equal(self.whitening.cpu(), identity))

    def forward(self, h, reference=None):
        """Normalise ``h``; in training with the statistics of ``reference`` (default ``h``)."""
        if h.ndim != 2 or h.shape[1] != self.mean.shape[0]:
            raise ValueError(
                f"The OutputNormalizer is for {self.mean.shape[0]} dimensions; got outputs of "
                f"shape {tuple(h.shape)}."
            )
        if self.training:
            reference = h if reference is None else reference
            if self.whiten and reference.shape[0] <= reference.shape[1]:
                raise ValueError(
                    f"Whitening estimates a {reference.shape[1]}x{reference.shape[1]} covariance "
                    f"from the batch's {reference.shape[0]} reference rows, which makes it "
                    "singular; use batches of more rows than dimensions, or whiten=False."
                )
            mean = reference.mean(0)
            cov = torch.cov(reference.T, correction=0).reshape(h.shape[1], -1)
            whitening = self._whitening(cov, rows=reference.shape[0])
        else:
            if not self.calibrated:
                raise RuntimeError(
                    "The OutputNormalizer is in evaluation mode but was never calibrated, so it "
                    "would return the encoder's output unnormalised. Call "
                    "normalizer.calibrate(h) with the encoder's outputs of clean training rows "
                    "(or load a state dict that holds them), or use train() mode for batch "
                    "statistics."
                )
            mean, whitening = self.mean.to(h.dtype), self.whitening.to(h.dtype)
        return (h - mean) @ whitening.T

    def _whitening(self, cov, strict=False, rows=None):
        """Matrix ``W`` with ``W cov W^T = I`` (diagonal when not whitening).

        ``rows`` is the number of rows ``cov`` comes from (its round-off grows
        with them; default ``d``). ``strict`` raises where no factor exists;
        training leaves that check to the step's own test for non-finite
        losses, as it would read a device value on the host at every step.
        """
        variances = torch.diagonal(cov)
        # eps and the jitter are constants to the gradient, as eps always was.
        mean_variance = variances.detach().mean()
        # eps itself from a mean variance of 0.01 up; a constant output keeps eps.
        eps = torch.where(
            mean_variance > 0,
            torch.clamp(_RELATIVE_EPS * mean_variance, max=self.eps),
            torch.full_like(mean_variance, self.eps),
        )
        if not self.whiten:
            return torch.diag(torch.rsqrt(variances + eps))
        identity = torch.eye(cov.shape[0], dtype=cov.dtype, device=cov.device)
        regularised = cov + eps * identity
        # Round-off can leave the covariance of linearly dependent outputs (a
        # copied output of large scale, a bottleneck) indefinite; a jitter at
        # the round-off level of a covariance of that many rows, relative to
        # each output's own variance, makes it definite without shrinking the
        # others. Applied on the device by a 0/1 factor, without
        # a host sync, and the gradient flows through the factor used only
        # (a failed factor's backward is NaN).
        with torch.no_grad():
            failed = torch.linalg.cholesky_ex(regularised.detach()).info > 0
        rounding = torch.finfo(cov.dtype).eps * (
            cov.shape[0] + (cov.shape[0] if rows is None else rows)
        )
        jittered = failed.to(cov.dtype)
        jitter = rounding * torch.diag(variances.detach().clamp(min=0))
        # cholesky_ex does not raise: a non-finite covariance (a diverged
        # encoder) yields NaNs that the training step reports with its cause.
        cholesky, info = torch.linalg.cholesky_ex(regularised + jitter * jittered)
        if strict and bool((info > 0).any()) and torch.isfinite(cov).all():
            raise ValueError(
                f"Whitening failed on a covariance of the encoder's {cov.shape[0]} outputs "
                f"(largest variance {float(variances.max()):.3g}) that is not positive "
                "definite even after a round-off jitter. Give the encoder independent "
                "outputs, fewer n_components, or normalizer='standardize'."
            )
        whitening = torch.linalg.solve_triangular(cholesky, identity, upper=False)
        # The jitter adds the share ``rounding`` to every variance; scaling back
        # keeps independent outputs at unit variance (a factor of 1.0 without it).
        return whitening * torch.sqrt(1.0 + rounding * jittered)

    @torch.no_grad()
    def calibrate(self, h):
        """Freeze the statistics to those of ``h``, the raw outputs of clean rows.

        Parameters
        ----------
        h : torch.Tensor of shape (n, d)
            Encoder outputs of the clean training rows.

        Raises
        ------
        ValueError
            As :meth:`set_moments`: outputs that are not finite, too few rows,
            or a covariance that cannot be whitened. The statistics are then
            left as they were.
        """
        self.set_moments(*output_moments(h), n_rows=h.shape[0])

    @torch.no_grad()
    def set_moments(self, mean, cov, n_rows=None):
        """Freeze the statistics to a given mean and covariance of the raw outputs.

        Parameters
        ----------
        mean : torch.Tensor of shape (d,)
        cov : torch.Tensor of shape (d, d)
            Of the raw outputs of the clean training rows, in float64, as
            ``calibrate`` computes them.
        n_rows : int, default=None
            Rows the moments come from; sets the size of the round-off jitter
            that lets linearly dependent outputs be whitened (``d`` if None).

        Raises
        ------
        ValueError
            If ``n_rows`` is not a positive integer, or too few rows for the
            statistics (``n_rows <= d`` when whitening, 1 otherwise), if
            ``mean`` or ``cov`` is not finite, or if ``cov`` cannot be
            whitened even with the jitter. The buffers are then left as they
            were.
        """
        if n_rows is not None and (
            isinstance(n_rows, bool) or not isinstance(n_rows, Integral) or n_rows < 1
        ):
            raise ValueError(f"n_rows must be a positive integer or None; got {n_rows!r}.")
        d = self.mean.shape[0]
        if n_rows is not None and n_rows <= (d if self.whiten else 1):
            needed = f"more than {d}, the dimension," if self.whiten else "at least 2"
            raise ValueError(
                f"Calibration needs {needed} rows to estimate the output's "
                f"{'covariance' if self.whiten else 'variances'}; got {n_rows}. Calibrate on "
                "more clean rows" + (", or use whiten=False." if self.whiten else ".")
            )
        if not (torch.isfinite(mean).all() and torch.isfinite(cov).all()):
            raise ValueError(
                "Calibration got outputs whose mean or covariance is not finite (NaN or inf): "
                "the encoder diverged, or its input holds NaN or inf. Check the outputs with "
                "torch.isfinite(h).all(dim=1) before calibrating."
            )
        whitening = self._whitening(cov, strict=True, rows=n_rows)
        self.mean.copy_(mean)
        self.whitening.copy_(whitening)
        self.calibrated = True


def output_moments(h):
    """Mean and biased covariance of the rows of ``h``, in float64.

    Two passes in float64 over row blocks: a float64 copy of all rows and its
    centred copy would cost 16 bytes per value (0.25 GiB at 10^6 x 16).
    """
    blocks = h.split(_CALIBRATION_BLOCK)
    mean = sum(block.to(torch.float64).sum(0) for block in blocks) / h.shape[0]
    cov = torch.zeros((h.shape[1], h.shape[1]), dtype=torch.float64, device=h.device)
    for block in blocks:
        centred = block.to(torch.float64) - mean
        cov += centred.T @ centred
    return mean, cov / h.shape[0]


# ------------------------------------------------------------------- critics


class SeparableCritic(nn.Module):
    """Scaled dot product ``T(a, y) = <a, y> / tau`` with a learned temperature.

    The temperature starts at ``sqrt(d (1 + sigma^2))``, the standard
    deviation of ``<a, y>`` for independent unit-variance ``a`` and noisy
    ``y``, so that initial scores have unit scale whatever ``d`` and the
    noise.

    Parameters
    ----------
    n_components : int
        Embedding dimension ``d``.
    noise_scale : float, default=0.0
        Noise scale ``sigma`` of the channel.
    """

    def __init__(self, n_components, noise_scale=0.0):
        super().__init__()
        initial = -0.5 * math.log(n_components * (1.0 + noise_scale**2))
        self.log_inverse_temperature = nn.Parameter(torch.tensor(initial))

    def forward(self, a, y):
        return (a @ y.T) * self.log_inverse_temperature.exp()


class QuadraticCritic(nn.Module):
    """Negative scaled squared distance ``T(a, y) = -|y - a|^2 / (2 s^2)``.

    The optimal critic of the Gaussian channel when the encoder is invariant
    to the views (then ``s = sigma``); ``s`` is learned, starting from
    ``sqrt(sigma^2 + 1)`` so that ``sigma = 0`` is well defined.

    Parameters
    ----------
    noise_scale : float
        Noise scale of the channel; sets the initial width.
    """

    def __init__(self, noise_scale):
        super().__init__()
        initial_width_sq = noise_scale**2 + 1.0
        self.log_inverse_width_sq = nn.Parameter(torch.tensor(-math.log(2.0 * initial_width_sq)))

    def forward(self, a, y):
        # |a|^2 + |y|^2 - 2 <a, y>, without materialising a (B, B, d) tensor.
        squared_distance = (a * a).sum(1, keepdim=True) + (y * y).sum(1) - 2.0 * (a @ y.T)
        return -squared_distance * self.log_inverse_width_sq.exp()


class MLPCritic(nn.Module):
    """Joint critic: an MLP on the concatenated pair ``[a, y]``.

    Parameters
    ----------
    n_components : int
        Embedding dimension ``d``.
    hidden_size : int, default=256
        Width of the two hidden layers (2d -> h -> h -> 1, LeakyReLU(0.01)).
    """

    def __init__(self, n_components, hidden_size=256):
        super().__init__()
        self.network = nn.Sequential(
            nn.Linear(2 * n_components, hidden_size),
            nn.LeakyReLU(0.01),
            nn.Linear(hidden_size, hidden_size),
            nn.LeakyReLU(0.01),
            nn.Linear(hidden_size, 1),
        )

    def forward(self, a, y):
        rows, columns = a.shape[0], y.shape[0]
        pairs = torch.cat(
            [a.unsqueeze(1).expand(-1, columns, -1), y.unsqueeze(0).expand(rows, -1, -1)], dim=2
        )
        return self.network(pairs).squeeze(-1)


def make_critic(name, n_components, noise_scale):
    """Build the critic named by the estimator's ``critic`` parameter."""
    if name == "separable":
        return SeparableCritic(n_components, noise_scale)
    if name == "quadratic":
        return QuadraticCritic(noise_scale)
    if name == "mlp":
        return MLPCritic(n_components)
    raise ValueError(f"critic must be 'separable', 'quadratic' or 'mlp'; got {name!r}.")


# -------------------------------------------------------------------- wiring


class InfoMaxModule(nn.Module):
    """Encoder, output normaliser, the prior's noise channel and the critic.

    Parameters
    ----------
    encoder : torch.nn.Module
        Maps inputs of shape ``(n, *input_shape)`` to ``(n, n_components)``.
    n_components : int
        Embedding dimension ``d``.
    prior : Prior or str
        The target prior (``"gaussian"``, ``"uniform"``, a :class:`~sklearn_ndim.Prior`, or
        a frozen scipy.stats distribution, as the estimator's ``prior``); it
        owns the channel (squash, noise, critic scaling).
    noise_scale : float
        Scale of the channel noise used in training.
    critic : torch.nn.Module
        Scores all pairs of a batch, ``critic(a, y) -> (B, B)``.
    input_shape : tuple of int or int
        Shape of one sample as the encoder expects it, ``(n_features,)`` (or
        ``n_features``) or ``(channels, height, width)``. Calling the module takes flat,
        standardised rows and shapes them; :meth:`pair_channel` and
        :func:`~sklearn_ndim.nn.contrastive_loss` take shaped ones.
    whiten : bool, default=False
        Whiten the output instead of standardising each dimension.
    prior_penalty : float, default=0.0
        Weight of :func:`~sklearn_ndim.nn.sliced_wasserstein_to_normal` of the
        batch's Gaussian-space embeddings in the training loss (0: the
        paper's objective alone).

    Notes
    -----
    The encoder's output shape is checked on two zero samples when the module
    is made, on the device of the encoder's parameters (move the encoder
    first if it runs only there). In evaluation mode the normaliser uses
    frozen statistics: call ``module.normalizer.calibrate(module.encode(x))``
    on clean training rows after training, as the estimator does.
    """

    def __init__(
        self,
        encoder,
        n_components,
        prior,
        noise_scale,
        critic,
        input_shape,
        whiten=False,
        prior_penalty=0.0,
    ):
        super().__init__()
        #: dtype of automatic mixed precision for the encoder in training
        #: (bfloat16, see the estimator's ``mixed_precision``), or None.
        self.autocast_dtype = None
        if isinstance(input_shape, Integral):
            input_shape = (input_shape,)  # the number of features of flat rows
        self.input_shape = tuple(input_shape)
        self.prior = resolve_prior(prior)
        self.noise_scale = float(noise_scale)
        self.prior_penalty = float(prior_penalty)
        self.encoder = encoder
        self.normalizer = OutputNormalizer(n_components, whiten=whiten)
        self.critic = critic
        check_encoder_output(self, n_components)

    def shape_input(self, x):
        """Reshape flat rows to ``(n, *input_shape)``."""
        return x.reshape((x.shape[0],) + self.input_shape)

    def encode(self, x_shaped):
        """Raw encoder output; in mixed precision in training when ``autocast_dtype`` is set.

        The normaliser (covariance, Cholesky factor), the noise and the critic
        stay in float32, and so does inference.
        """
        if self.training and self.autocast_dtype is not None:
            with torch.autocast(x_shaped.device.type, dtype=self.autocast_dtype):
                h = self.encoder(x_shaped)
            return h.float()
        return self.encoder(x_shaped)

    def embed(self, x_shaped):
        """Gaussian-space embedding of shaped inputs (no noise)."""
        return self.normalizer(self.encode(x_shaped))

    def forward(self, x):
        return self.embed(self.shape_input(x))

    def pair_channel(self, view, clean, generator=None):
        """Critic inputs ``a = f(view)`` and ``y = f(clean) + Z``, and the penalty's rows.

        The third output holds the Gaussian-space embeddings of the views and
        of the clean rows, ``(2B, d)``, which the prior penalty compares with
        N(0, I).

        Both go through the encoder in one batch. The normaliser's batch
        statistics are those of the clean rows, and the noise is added to the
        clean rows' embedding, after the normaliser: the channel's input is
        then the embedding ``transform`` returns, so the objective's KL term
        is that embedding's divergence from the prior, and the power
        constraint that gives ``noise_scale`` its meaning holds.
        """
        h_view, h_clean = self.encode(torch.cat([view, clean])).chunk(2)
        g_view = self.normalizer(h_view, reference=h_clean)
        g_clean = self.normalizer(h_clean)
        target = self.prior.add_noise(g_clean, self.noise_scale, generator)
        return g_view, target, torch.cat([g_view, g_clean])

    def pair_scores(self, view, clean, generator=None):
        """Critic scores ``(B, B)`` of every view against every noisy clean row."""
        anchor, target, _ = self.pair_channel(view, clean, generator)
        return self.critic(anchor, target)


@torch.no_grad()
def check_encoder_output(module, n_components):
    """Raise a clear error unless the encoder maps a batch to ``(batch, n_components)``."""
    encoder = module.encoder
    training = encoder.training
    probe = next(itertools.chain(encoder.parameters(), encoder.buffers()), None)
    device = probe.device if probe is not None else torch.device("cpu")
    encoder.eval()
    try:
        out = encoder(torch.zeros((2,) + module.input_shape, device=device))
    except Exception as error:  # whatever a user's encoder raises, with its cause
        raise ValueError(
            f"The encoder failed on a batch of 2 samples of shape {module.input_shape}, the "
            f"shape it receives for this X: {error}. An encoder for images gets "
            "(batch, channels, height, width), one for tables (batch, n_features)."
        ) from error
    finally:
        encoder.train(training)
    if not isinstance(out, torch.Tensor):
        raise ValueError(
            f"The encoder returned a {type(out).__name__}; it must return one tensor of shape "
            f"(batch, n_components={n_components})."
        )
    if tuple(out.shape) != (2, n_components):
        raise ValueError(
            f"The encoder maps a batch of 2 samples of shape {module.input_shape} to "
            f"{tuple(out.shape)}; it must return (batch, n_components={n_components})."
        )
