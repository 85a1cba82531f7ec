"""Target priors and their noise channels: one class per prior.

The network always learns a standard Gaussian output ``g`` (the *Gaussian
space*) through a channel with Gaussian noise ``N(0, sigma^2 I)``; a prior
says how that output is mapped to the prior's own space afterwards:

- :class:`GaussianPrior`: N(0, I), ``g`` itself.
- :class:`UniformPrior`: U([0, 1]^d), ``Phi(g)`` per dimension.
- :class:`ScipyPrior`: the product of a frozen scipy.stats marginal ``F``,
  the probability integral transform ``F^{-1}(Phi(g))`` per dimension.

Everything about priors lives here: the channel's capacity and its inverse,
the noise, the maps between the prior's space and the Gaussian space (with
the one clipping constant ``GAUSSIAN_LIMIT``), the log-density and sampling.
"""

import functools
import math
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from scipy import special, stats

from ._float_bounds import finite_in, inside_support, open_unit_interval, outward

__all__ = [
    "GAUSSIAN_LIMIT",
    "Prior",
    "GaussianPrior",
    "UniformPrior",
    "ScipyPrior",
    "resolve_prior",
    "prior_from_config",
    "typicality_logp",
]

#: Largest magnitude kept in the Gaussian space, about the normal quantile of
#: the smallest normal double (``Phi(-37.5) = 4.6e-308``). Values beyond it
#: (and maps to it from outside a prior's support) saturate here, finite.
GAUSSIAN_LIMIT = 37.5

_CONTINUOUS_FROZEN = stats._distn_infrastructure.rv_continuous_frozen
_FROZEN = stats._distn_infrastructure.rv_frozen


def _rows(x, name):
    """``x`` as an array of rows ``(n_samples, n_components)``; other shapes are refused."""
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(
            f"{name} must hold rows of shape (n_samples, n_components); got shape {x.shape}. "
            f"Pass one row as {name}.reshape(1, -1), one dimension as {name}.reshape(-1, 1)."
        )
    return x


def _check_dimension(n_components):
    if isinstance(n_components, bool) or not isinstance(n_components, Integral) or n_components < 1:
        raise ValueError(f"n_components must be a positive integer; got {n_components!r}.")


def _check_non_negative(value, name):
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(
            f"{name} must be a real number (a Python or numpy float); got "
            f"{type(value).__name__} {value!r}."
        )
    if math.isnan(value) or value < 0:
        raise ValueError(f"{name} must be a non-negative number; got {value!r}.")


class Prior:
    """A product prior on ``R^d`` and the Gaussian channel that targets it.

    The channel (capacity, noise) is the same for every prior; subclasses
    implement the maps between the Gaussian space the network learns and
    the prior's own space. Instances are immutable and compare equal when
    they describe the same distribution.
    """

    #: Name shown in reports.
    name = "prior"

    @property
    def description(self):
        """The name with any parameters; reports show it."""
        return self.name

    # ----------------------------------------------------------- the channel

    def capacity(self, n_components, noise_scale):
        """Capacity ``C`` (nats) of the channel at this noise scale.

        Parameters
        ----------
        n_components : int
            Dimension ``d``.
        noise_scale : float
            ``sigma`` of the Gaussian noise; ``0`` gives an infinite capacity.

        Returns
        -------
        capacity : float
            ``d/2 ln(1 + 1/sigma^2)``.

        Raises
        ------
        ValueError
            If ``n_components`` is not a positive integer or ``noise_scale``
            is negative or NaN.
        TypeError
            If ``noise_scale`` is not a real number.
        """
        _check_dimension(n_components)
        _check_non_negative(noise_scale, "noise_scale")
        if noise_scale == 0:
            return math.inf
        return 0.5 * n_components * math.log1p(noise_scale**-2)

    def noise_for_capacity(self, n_components, capacity):
        """Noise scale whose capacity is ``capacity`` nats (inverse of :meth:`capacity`).

        In logs where ``expm1`` would overflow, so that large capacities give
        a small scale (``0.0`` only beyond float64's range), not an error.

        Parameters
        ----------
        n_components : int
            Dimension ``d``.
        capacity : float
            Target capacity in nats, >= 0.

        Returns
        -------
        noise_scale : float
            ``sigma`` with ``d/2 ln(1 + 1/sigma^2) = capacity``; ``inf`` for a
            capacity of 0.

        Raises
        ------
        ValueError
            If ``n_components`` is not a positive integer or ``capacity`` is
            negative or NaN.
        TypeError
            If ``capacity`` is not a real number.
        """
        _check_dimension(n_components)
        _check_non_negative(capacity, "capacity")
        x = 2.0 * capacity / n_components
        if x == 0.0:  # a capacity that underflows: no finite noise is that weak
            return math.inf
        if x < 700.0:
            return 1.0 / math.sqrt(math.expm1(x))
        return math.exp(-0.5 * (x + math.log1p(-math.exp(-x))))

    def add_noise(self, x, noise_scale, generator=None):
        """``x + Z`` with the channel's noise at ``noise_scale`` (tensor in, tensor out)."""
        if noise_scale == 0:
            return x
        noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        return x + noise_scale * noise

    # ------------------------------------------------- spaces (numpy arrays)

    def from_gaussian(self, g, dtype=np.float64):
        """Map Gaussian-space values to the prior's space, in ``dtype``.

        Computed in float64 whatever ``dtype``; results are finite.
        """
        return finite_in(np.asarray(g, dtype=np.float64), dtype)

    def to_gaussian(self, x):
        """Map prior-space values to the Gaussian space (float64, finite).

        Under the prior the result is exactly N(0, I). The map is monotone per
        dimension, so ranks and dependence are kept; values outside the
        prior's support saturate at ``GAUSSIAN_LIMIT``.
        """
        return np.clip(np.asarray(x, dtype=np.float64), -GAUSSIAN_LIMIT, GAUSSIAN_LIMIT)

    @property
    def marginal(self):
        """The one-dimensional marginal shared by every dimension (frozen scipy.stats)."""
        return stats.norm()

    def check_support(self, x, name="X"):
        """Refuse values of ``x`` outside the prior's support (the marginal's closed interval).

        ``to_gaussian`` saturates such values, so a caller that maps them
        back (``inverse_transform``) would return rows for embeddings the
        prior cannot produce.
        """
        outside = self.outside_support(x, name)
        if outside:
            raise ValueError(
                f"{outside}; pass embeddings in the prior's space, as transform returns them."
            )

    def outside_support(self, x, name="X"):
        """A sentence on the values of ``x`` outside the prior's support, or "" when none are.

        Bounds are rounded outwards to ``x``'s precision (0.3 in float32 is
        0.30000001), so that the model's own output is never outside.
        """
        x = _rows(x, name)
        low, high = self.marginal.support()
        if np.issubdtype(x.dtype, np.floating):
            low, high = outward(low, x.dtype, -np.inf), outward(high, x.dtype, np.inf)
        return self._values_sentence(x, (x < low) | (x > high), "outside", (low, high), name)

    def _values_sentence(self, x, mask, where, support, name):
        """The sentence "X has N values <where> the support [a, b] of the prior ...", or ""."""
        if not mask.any():
            return ""
        row, column = np.argwhere(mask)[0]
        return (
            f"{name} has {int(mask.sum())} values {where} the support [{support[0]:g}, "
            f"{support[1]:g}] of the prior {self!r} (the first, {float(x[row, column])!r}, in "
            f"row {row}, column {column})"
        )

    def on_support_edge(self, x, name="X"):
        """A sentence on the values of ``x`` exactly at a finite end of the support, or "".

        The prior gives them probability zero (the model's output lies inside
        the open support), and the Gaussian space saturates them at its limit,
        where a few of them dominate the match: most often they are rounded
        values.

        Parameters
        ----------
        x : ndarray
            Values in the prior's space.
        name : str, default="X"
            How the sentence names ``x``.

        Returns
        -------
        sentence : str
            How many values lie at an end, and the first of them; ``""`` when
            none do.
        """
        x = _rows(x, name)
        low, high = self.marginal.support()
        edge = np.zeros(x.shape, dtype=bool)
        for bound in (low, high):
            if np.isfinite(bound):
                # The bound as x's precision holds it (float32(0.3) for 0.3).
                with np.errstate(over="ignore"):
                    edge |= x == (
                        np.asarray(bound, dtype=x.dtype)
                        if np.issubdtype(x.dtype, np.floating)
                        else bound
                    )
        sentence = self._values_sentence(x, edge, "exactly at an end of", (low, high), name)
        return sentence and f"{sentence}, which the prior gives probability zero"

    def logpdf(self, x):
        """Log-density of each row under the product prior, shape ``(n,)``."""
        return self.marginal.logpdf(_rows(x, "x").astype(np.float64)).sum(axis=1)

    def pvalues(self, x):
        """Two-sided typicality p-value of each row under the prior, shape ``(n,)``.

        In the Gaussian space the prior is N(0, I_d), whose squared norm is
        chi-square with ``d`` degrees of freedom. In more than a couple of
        dimensions prior samples lie in a shell around the origin, not at the
        origin, where the density is highest: a row whose squared norm is too
        small is as atypical as one whose norm is too large. The p-value is
        ``2 min(F(q), 1 - F(q))`` with ``q = |to_gaussian(x)|^2``, uniform for
        prior samples.
        """
        return np.exp(self.log_pvalues(x))

    def log_pvalues(self, x):
        """Natural log of :meth:`pvalues`, finite for every finite embedding (no underflow to 0)."""
        return typicality_logp(self.to_gaussian(_rows(x, "x")))

    def sample(self, n_samples, n_components, random_state=None):
        """Draw ``(n_samples, n_components)`` independent values from the prior."""
        return self.marginal.rvs(size=(n_samples, n_components), random_state=random_state)

    # ------------------------------------------------------------ identity

    def get_config(self):
        """JSON-serialisable description; ``prior_from_config`` inverts it."""
        return {"kind": self.name}

    def __eq__(self, other):
        return type(other) is type(self) and other.get_config() == self.get_config()

    def __hash__(self):
        return hash(repr(self))

    def __repr__(self):
        return f"{type(self).__name__}()"


class GaussianPrior(Prior):
    """The standard Gaussian N(0, I) with Gaussian channel noise N(0, sigma^2 I)."""

    name = "gaussian"


class UniformPrior(Prior):
    """The uniform distribution on the unit cube, ``Phi(g)`` per dimension.

    It trains through the Gaussian channel, like every prior. The paper's
    uniform variant, ``Phi(g)`` into a channel with uniform noise
    ``U[-eps, eps]``, left two bumps in each marginal at every ``eps`` tried
    (0.05 to 1.2; Kolmogorov-Smirnov p from 1e-31 to 1e-25 on the training
    rows of digits at ``d = 16``), where the Gaussian channel gives flat
    marginals; see the docs.
    """

    name = "uniform"

    def from_gaussian(self, g, dtype=np.float64):
        """Gaussian CDF, clipped into the open unit cube of ``dtype``."""
        return open_unit_interval(special.ndtr(np.asarray(g, dtype=np.float64)), dtype)

    def to_gaussian(self, x):
        # Values outside the cube saturate; the upper half goes through 1 - u,
        # which is exact near 1.
        x = np.clip(np.asarray(x, dtype=np.float64), 0.0, 1.0)
        with np.errstate(divide="ignore"):
            g = np.where(x < 0.5, special.ndtri(x), -special.ndtri(1.0 - x))
        return np.clip(g, -GAUSSIAN_LIMIT, GAUSSIAN_LIMIT)

    @property
    def marginal(self):
        return stats.uniform()


def _freeze_hint(prior):
    """Advice for an unfrozen scipy distribution (``stats.t`` for ``stats.t(df=5)``) or a class."""
    if isinstance(prior, stats.rv_continuous):
        return " (freeze it by calling it with its parameters: distribution(...))"
    if isinstance(prior, type) and issubclass(prior, Prior):
        return f" (the class {prior.__name__}; pass an instance: {prior.__name__}())"
    return ""


class ScipyPrior(Prior):
    """Product of a frozen univariate continuous scipy.stats distribution.

    Trained through the Gaussian channel; ``F^{-1}(Phi(g))`` per dimension maps
    the Gaussian output to the prior. scipy's quantile functions lose
    precision or fail far in the tails (``t.isf`` returns ``-inf``, some
    ``ppf`` NaN), so the Gaussian range ``[-limit_, limit_]`` on which this
    distribution's map is finite and monotone is probed once, and values
    beyond it saturate there.

    Parameters
    ----------
    marginal : scipy.stats frozen continuous distribution
        For example ``scipy.stats.t(df=5)``, or a frozen distribution of
        one's own (an ``rv_histogram``, say), which compares equal only to
        priors made from the same frozen object.
    """

    channel = "gaussian"

    def __init__(self, marginal):
        if not isinstance(marginal, _FROZEN):
            raise ValueError(
                "ScipyPrior takes a frozen univariate continuous scipy.stats distribution, "
                f"such as scipy.stats.t(df=5); got {type(marginal).__name__}"
                f"{_freeze_hint(marginal)}."
            )
        _check_frozen(marginal)
        self._marginal = marginal
        # scipy names the distributions of users' own classes "Distribution".
        registered = _registered_name(marginal.dist)
        self.name = registered or type(marginal.dist).__name__
        self.limit_ = self._reliable_limit()

    @property
    def marginal(self):
        return self._marginal

    def _raw_from_gaussian(self, g):
        # Both tails through their own small probabilities, so that Phi(g)
        # never rounds to exactly 1.
        # scipy's root finders warn where they lose accuracy far in a tail;
        # the range probed by _reliable_limit already excludes those values.
        upper = g > 0
        tail = special.ndtr(-np.abs(g))
        out = np.empty_like(tail)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            out[upper] = self._marginal.isf(tail[upper])
            out[~upper] = self._marginal.ppf(tail[~upper])
        return out

    def _reliable_limit(self):
        grid = np.linspace(0.0, GAUSSIAN_LIMIT, 1501)
        limits = []
        for sign in (1.0, -1.0):
            try:
                values = sign * self._raw_from_gaussian(sign * grid)
            except (ValueError, ArithmeticError, RuntimeError) as error:
                # scipy's generic ppf solves cdf(x) = q numerically; it fails
                # for distributions that define only a density, say.
                raise ValueError(
                    f"The prior {self.description} has quantile "
                    f"functions that fail ({type(error).__name__}: {error}); give the "
                    "distribution a _ppf (and _cdf), or use another distribution."
                ) from error
            with np.errstate(invalid="ignore"):
                # Strictly increasing: where the quantile rounds to one float
                # (beta(0.5, 0.5) reaches 1.0 at 5.7), the map has no inverse.
                good = np.isfinite(values) & (np.diff(values, prepend=-np.inf) > 0)
            bad = np.flatnonzero(~good)
            limits.append(grid[bad[0] - 1] if bad.size else GAUSSIAN_LIMIT)
        limit = float(min(limits))
        if limit < 5.0:
            raise ValueError(
                f"The prior {self.description} has quantile "
                f"functions that fail, or round distinct values to one float, already at "
                f"{limit:.3g} standard deviations of the Gaussian space; use another "
                "parametrisation or distribution."
            )
        return limit

    def from_gaussian(self, g, dtype=np.float64):
        g = np.clip(np.asarray(g, dtype=np.float64), -self.limit_, self.limit_)
        if _coarse_in(self, np.dtype(dtype)):
            from ._validation import caller_stacklevel

            warnings.warn(
                f"The prior {self.description} is coarse in {np.dtype(dtype).name}: within 3 "
                "standard deviations of the Gaussian space, values a fortieth of one apart "
                "round to one number there, so the embedding loses detail. Pass float64 rows "
                "(transform returns the input's float dtype).",
                UserWarning,
                stacklevel=caller_stacklevel(),
            )
        values = finite_in(self._raw_from_gaussian(g), dtype)
        # Inside the open support, as the uniform prior's output: a quantile near
        # a finite end can round onto it (beta(0.5, 0.5) in float32 beyond 3.7).
        return inside_support(values, *self._marginal.support())

    def to_gaussian(self, x):
        x = np.asarray(x, dtype=np.float64)
        with np.errstate(all="ignore"):
            upper = x > self._marginal.median()
            g = np.where(
                upper,
                -special.ndtri(self._marginal.sf(x)),
                special.ndtri(self._marginal.cdf(x)),
            )
            # NaN from scipy far outside the bulk: saturate on the side it lies
            # (a NaN given stays NaN, as in the other priors).
            g = np.where(np.isnan(g) & ~np.isnan(x), np.where(upper, np.inf, -np.inf), g)
        return np.clip(g, -self.limit_, self.limit_)

    def get_config(self):
        return {
            "kind": "scipy",
            "distribution": self._marginal.dist.name,
            "args": [float(a) for a in self._marginal.args],
            "kwds": {key: float(value) for key, value in self._marginal.kwds.items()},
        }

    def _named_parameters(self):
        """The distribution and every parameter by name (``t(5)`` is ``t(df=5, loc=0)``)."""
        dist = self._marginal.dist
        names = [name.strip() for name in (dist.shapes or "").split(",") if name.strip()]
        values = {"loc": 0.0, "scale": 1.0}
        # Positional arguments fill the shapes, then loc and scale, as scipy reads them.
        positional = self._marginal.args
        values.update(zip(names + ["loc", "scale"], map(float, positional), strict=False))
        values.update({key: float(value) for key, value in self._marginal.kwds.items()})
        # A distribution that scipy.stats does not name (a histogram) is its own identity.
        return _registered_name(dist) or dist, tuple(sorted(values.items()))

    def __eq__(self, other):
        return type(other) is type(self) and other._named_parameters() == self._named_parameters()

    def __hash__(self):
        return hash(self._named_parameters())

    @property
    def description(self):
        """The distribution with its parameters, e.g. ``'t(5.0)'``; reports show it."""
        config = self.get_config()
        arguments = [repr(a) for a in config["args"]]
        arguments += [f"{k}={v!r}" for k, v in config["kwds"].items()]
        return f"{self.name}({', '.join(arguments)})"

    def __repr__(self):
        return f"ScipyPrior(scipy.stats.{self.description})"


@functools.lru_cache(maxsize=64)
def _coarse_in(prior, dtype):
    """Whether ``dtype`` rounds ``prior``'s bulk (3 standard deviations) to coarse steps."""
    with np.errstate(over="ignore"):
        values = prior._raw_from_gaussian(np.linspace(-3.0, 3.0, 241)).astype(dtype)
    return not np.all(np.diff(values) > 0)


def typicality_logp(g):
    """Log two-sided chi-square p-value of the squared norm of each row of ``g``.

    ``g`` is in the Gaussian space, where every prior is N(0, I_d).
    """
    from ._stats import chi2_two_sided_logp  # _stats imports this module (through _validation)

    g = np.asarray(g, dtype=np.float64)
    return chi2_two_sided_logp(np.einsum("ij,ij->i", g, g), g.shape[1])


def _registered_name(dist):
    """``dist``'s scipy.stats name when that name gives this distribution, else None."""
    named = getattr(stats, str(dist.name), None)
    same = isinstance(named, stats.rv_continuous) and type(named) is type(dist)
    return dist.name if same else None


def _check_frozen(prior):
    """Raise a clear ValueError unless ``prior`` is a usable univariate continuous law."""
    if isinstance(prior, _FROZEN) and not isinstance(prior, _CONTINUOUS_FROZEN):
        raise ValueError(
            f"prior must be continuous; got the discrete distribution {prior.dist.name}."
        )
    parameters = list(prior.args) + list(prior.kwds.values())
    for value in parameters:
        # A float or an int, or a 0-d array of one (np.array(1.0)); never a bool,
        # nor a Fraction or a Decimal, which scipy's functions refuse.
        number = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
            value, (bool, np.bool_)
        )
        zero_d = isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf"
        if not ((number or zero_d) and np.ndim(value) == 0 and math.isfinite(value)):
            raise ValueError(
                f"prior {prior.dist.name} must have finite scalar parameters (a univariate "
                f"distribution); got {parameters!r}."
            )
    with np.errstate(all="ignore"):
        low, high = prior.support()
        median = prior.median()
    if not (np.isfinite(median) and low < high):
        raise ValueError(
            f"prior {prior.dist.name} with parameters {parameters!r} is not a valid "
            "distribution (scipy reports an empty support or no median)."
        )


def resolve_prior(prior):
    """Turn the estimator's ``prior`` parameter into a :class:`Prior`.

    Parameters
    ----------
    prior : {"gaussian", "uniform"}, Prior or scipy.stats frozen distribution
        ``"gaussian"`` for N(0, I), ``"uniform"`` for U([0, 1]^d), or a frozen
        univariate continuous distribution such as ``scipy.stats.laplace()``.

    Returns
    -------
    prior : Prior

    Raises
    ------
    ValueError
        If ``prior`` is none of these, or a distribution with non-finite,
        vector or invalid parameters.
    """
    if isinstance(prior, Prior):
        return prior
    if isinstance(prior, str):
        if prior == "gaussian":
            return GaussianPrior()
        if prior == "uniform":
            return UniformPrior()
        raise ValueError(
            f"prior={prior!r} is not supported; use 'gaussian', 'uniform', a Prior "
            "(sklearn_ndim.GaussianPrior(), UniformPrior(), ScipyPrior(...)) or a frozen "
            "scipy.stats continuous distribution such as scipy.stats.laplace()."
        )
    if isinstance(prior, _FROZEN):
        return ScipyPrior(prior)
    raise ValueError(
        "prior must be 'gaussian', 'uniform', a Prior (sklearn_ndim.GaussianPrior(), "
        "UniformPrior(), ScipyPrior(...)) or a frozen univariate scipy.stats continuous "
        f"distribution (e.g. scipy.stats.t(df=5)); got {type(prior).__name__}{_freeze_hint(prior)}."
    )


def prior_from_config(config):
    """Rebuild a :class:`Prior` from :meth:`Prior.get_config` output.

    Only names of scipy.stats continuous distributions are looked up; nothing
    else from the config is evaluated.
    """
    kind = config.get("kind") if isinstance(config, dict) else None
    if kind in ("gaussian", "uniform"):
        return resolve_prior(kind)
    if kind == "scipy":
        distribution = getattr(stats, str(config.get("distribution")), None)
        if not isinstance(distribution, stats.rv_continuous):
            raise ValueError(
                f"unknown scipy.stats continuous distribution {config.get('distribution')!r}."
            )
        return resolve_prior(distribution(*config.get("args", []), **config.get("kwds", {})))
    raise ValueError(f"not a prior configuration: {config!r}.")
