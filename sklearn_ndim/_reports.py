"""Result objects of :mod:`sklearn_ndim.metrics`: readable tables and plain dicts."""

import math
import numbers
from dataclasses import asdict, dataclass
from typing import NamedTuple

import numpy as np

from ._stats import simulated_hz_floor

__all__ = ["MarginalTests", "PriorMatchReport", "InformationReport"]


def _is_number(value):
    """A real number, not a bool nor text ("0.05" compared with a float raised TypeError)."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _plain(value):
    """``value`` with numpy scalars and arrays made Python numbers and lists, recursively."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, (np.ndarray, np.generic)):
        return value.tolist()
    return value


def _fmt(value, digits=4):
    if value is None:
        return "-"
    return "n/a" if math.isnan(value) else f"{value:.{digits}g}"


def _fmt_pvalue(pvalue, smallest):
    """A p-value, shown as a bound where it is at a Monte-Carlo floor or underflows."""
    if pvalue is not None and pvalue == 0:
        return "<1e-300"
    if smallest is not None and pvalue is not None and math.isclose(pvalue, smallest):
        return f"<={smallest:.3g}"
    return _fmt(pvalue, 3)


class MarginalTests(NamedTuple):
    """Per-dimension Kolmogorov-Smirnov tests against the prior's marginal.

    Attributes
    ----------
    statistic : ndarray of shape (n_components,)
        KS distance of each dimension's empirical CDF to the marginal CDF.
    pvalue : ndarray of shape (n_components,)
        Two-sided p-value of each dimension.
    min_pvalue : float
        Smallest p-value after the Holm (here equal to Bonferroni) correction,
        ``min(1, d * min(pvalue))``: a single p-value for "every marginal
        matches".
    """

    statistic: np.ndarray
    pvalue: np.ndarray
    min_pvalue: float


@dataclass(frozen=True)
class PriorMatchReport:
    """How closely an embedding follows its prior; made by :func:`prior_match_report`.

    Base-space statistics come with a floor, their mean over exact N(0, I)
    samples of the same shape.

    Attributes
    ----------
    prior : str
        Name of the prior, with a scipy.stats distribution's parameters
        (``'t(5.0)'``).
    n_samples, n_components : int
        Shape of the embedding.
    ks_statistic, ks_pvalue : list of float
        Per-dimension Kolmogorov-Smirnov tests against the prior's marginal.
    ks_min_pvalue : float
        Holm-corrected smallest KS p-value.
    sw2, sw2_floor : float
        Sliced Wasserstein-2 distance to the prior (base space) and its floor.
    sw2_ratio : float
        ``sw2 / sw2_floor``: about 1 when indistinguishable from the prior.
    sw2_pvalue : float
        Fraction of the references at least as far as ``Z`` (+1 smoothing).
    kl, kl_floor : float
        KL divergence from N(0, I) of the Gaussian fitted in base space (sees
        mean, scales and linear correlations), and its floor.
    hz_statistic, hz_pvalue : float
        Henze-Zirkler normality test in base space (normality with any mean
        and covariance: read it beside ``sw2`` and ``kl``). ``hz_pvalue`` is
        ``nan`` at high dimension (about ``d >= 32``), where the test is
        degenerate: its null distribution collapses onto a point. Below
        ``10 d`` rows it comes from a simulated null and is at least 1/2001.
    hz_n_samples : int
        Rows the HZ test used; fewer than ``n_samples`` means a subsample.
    energy_statistic, energy_floor : float
        Energy distance to the exact N(0, I) in base space (sees location,
        scale, correlation and shape), and its floor.
    energy_pvalue : float
        Monte-Carlo p-value of the energy test: fraction of the references at
        least as far as ``Z`` (+1 smoothing).
    energy_n_samples : int
        Rows the energy test used; fewer than ``n_samples`` means a subsample.
    max_correlation, max_correlation_floor : float
        Largest absolute correlation between two dimensions (base space), and
        its floor; ``nan`` for one dimension.
    n_projections, n_reference : int
        Directions of the sliced distance and exact reference samples drawn.
    collapsed : bool
        Whether the sample covariance (base space) is numerically singular:
        a constant dimension, one that copies a combination of others, or
        fewer rows than dimensions. Such an embedding never passes.
    """

    prior: str
    n_samples: int
    n_components: int
    ks_statistic: list
    ks_pvalue: list
    ks_min_pvalue: float
    sw2: float
    sw2_floor: float
    sw2_ratio: float
    sw2_pvalue: float
    kl: float
    kl_floor: float
    hz_statistic: float
    hz_pvalue: float
    hz_n_samples: int
    energy_statistic: float
    energy_floor: float
    energy_pvalue: float
    energy_n_samples: int
    max_correlation: float
    max_correlation_floor: float
    n_projections: int
    n_reference: int
    collapsed: bool

    @property
    def normality_test(self):
        """Names of the tests :meth:`passes` uses.

        ``"Henze-Zirkler and energy"`` when ``hz_pvalue`` is a number, else
        ``"energy"`` (HZ is degenerate at high dimension). Henze-Zirkler sees
        the shape under any mean and covariance; the energy test also sees
        location and scale.
        """
        return "energy" if math.isnan(self.hz_pvalue) else "Henze-Zirkler and energy"

    @property
    def normality_pvalue(self):
        """Bonferroni-combined p-value of the tests :attr:`normality_test` names.

        ``min(1, k * min(p))`` over the ``k`` tests used: ``energy_pvalue``
        alone at high dimension, else it and ``hz_pvalue``. ``nan`` when
        ``energy_pvalue`` is (an energy statistic that overflowed), which
        fails :meth:`passes`.
        """
        if math.isnan(self.energy_pvalue):
            return math.nan  # the energy statistic overflowed: no verdict, so no pass
        pvalues = [self.energy_pvalue]
        if not math.isnan(self.hz_pvalue):
            pvalues.append(self.hz_pvalue)
        return min(1.0, len(pvalues) * min(pvalues))

    def passes(self, alpha=0.05, max_ratio=1.5):
        """Whether the embedding passes as a sample of the prior.

        Parameters
        ----------
        alpha : float, default=0.05
            Level of the normality tests together (:attr:`normality_pvalue`,
            Bonferroni over Henze-Zirkler and the energy test where both are
            available). The energy p-value is at least ``1 / (1 + n_reference)``,
            so the energy test alone can reject only when
            ``n_reference >= 2 / alpha - 1`` (39 at the default level);
            Henze-Zirkler can reject at any ``n_reference``.
        max_ratio : float, default=1.5
            Largest accepted ``sw2_ratio``.

        Returns
        -------
        passed : bool
            ``sw2_ratio <= max_ratio and normality_pvalue > alpha``, and no
            dimension collapsed (``collapsed``).
        """
        if not (_is_number(alpha) and 0 <= alpha <= 1):
            raise ValueError(f"alpha is a test level in [0, 1]; got {alpha!r}.")
        if not (_is_number(max_ratio) and max_ratio > 0):
            raise ValueError(f"max_ratio is a W2 ratio, > 0; got {max_ratio!r}.")
        return bool(
            not self.collapsed and self.sw2_ratio <= max_ratio and self.normality_pvalue > alpha
        )

    def to_dict(self):
        """Return the fields as a dict of plain Python numbers and lists.

        Returns
        -------
        fields : dict
        """
        return _plain(asdict(self))

    def __str__(self):
        def on_rows(rows):
            return "" if rows == self.n_samples else f" (on {rows} rows)"

        worst = int(np.argmax(self.ks_statistic))
        # (name, value, floor, p-value, the smallest p-value a Monte-Carlo test can
        # give, 1 / (1 + draws), or None for an analytic one).
        smallest = 1 / (1 + self.n_reference)
        rows = [
            (
                f"sliced W2 (ratio {self.sw2_ratio:.2f})",
                self.sw2,
                self.sw2_floor,
                self.sw2_pvalue,
                smallest,
            ),
            ("Gaussian-fit KL (nats)", self.kl, self.kl_floor, None, None),
            (
                "Henze-Zirkler normality" + on_rows(self.hz_n_samples),
                self.hz_statistic,
                None,
                self.hz_pvalue,
                simulated_hz_floor(self.hz_n_samples, self.n_components),
            ),
            (
                "energy distance to N(0, I)" + on_rows(self.energy_n_samples),
                self.energy_statistic,
                self.energy_floor,
                self.energy_pvalue,
                smallest,
            ),
            ("max |correlation|", self.max_correlation, self.max_correlation_floor, None, None),
            (
                f"KS, worst dim {worst} (Holm p)",
                self.ks_statistic[worst],
                None,
                self.ks_min_pvalue,
                None,
            ),
        ]
        lines = [
            f"Prior match of a {self.n_samples} x {self.n_components} embedding to "
            f"{self.prior!r} (floors: mean of {self.n_reference} exact samples)",
            f"{'statistic':<40}{'value':>11}{'floor':>11}{'p-value':>11}",
        ]
        if self.prior != "gaussian":
            lines.insert(
                1,
                "All but KS in the Gaussian space (each dimension mapped by Phi^-1(F)), where "
                "the prior is N(0, I)",
            )
        lines += [
            f"{name:<40}{_fmt(value):>11}{_fmt(floor):>11}{_fmt_pvalue(pvalue, lowest):>11}"
            for name, value, floor, pvalue, lowest in rows
        ]
        if self.collapsed:
            lines.append(
                "collapsed: the sample covariance is singular (a constant dimension, or one "
                "that copies others); this embedding cannot follow the prior"
            )
        if math.isnan(self.hz_pvalue) and self.hz_n_samples < self.n_components + 2:
            lines.append(
                f"Henze-Zirkler: n/a on {self.hz_n_samples} rows (it needs n_components + 2 = "
                f"{self.n_components + 2})"
            )
        elif math.isnan(self.hz_pvalue):
            lines.append(
                f"Henze-Zirkler p-value: n/a at d={self.n_components} (its null distribution "
                "collapses onto a point; the test has no power)"
            )
        lines.append(
            f"passes(alpha=0.05, max_ratio=1.5): {self.passes()} "
            f"(normality p-value from the {self.normality_test} test"
            f"{'s' if ' and ' in self.normality_test else ''})"
        )
        return "\n".join(lines)


@dataclass(frozen=True)
class InformationReport:
    """Information kept by a fitted embedder; made by :func:`information_report`.

    Attributes
    ----------
    n_components : int
        Embedding dimension ``d``.
    noise_scale : float
        Noise scale used in training.
    batch_size : int
        Rows per training batch ``B``.
    capacity : float
        Channel capacity ``C`` in nats (``inf`` without noise).
    mutual_info : float
        InfoNCE estimate of the mutual information on the training rows.
    efficiency : float
        ``mutual_info / capacity``; 1 only for an embedding that follows the
        prior exactly and is invariant to the views (0 when ``C`` is infinite
        or the estimate is negative, which shows no information).
    ln_batch : float
        ``ln B``, the largest value InfoNCE can estimate.
    gap : float
        ``capacity - mutual_info``. For the Gaussian channel this bounds, up
        to the estimator's bias, ``KL(P_Y || N(0, (1 + sigma^2) I))`` of the
        noisy output ``Y``: a certificate of the match, meaningful only when
        ``capacity_visible``.
    capacity_visible : bool
        ``C <= ln B``: the estimator can see the whole gap.
    noise_at_ceiling : float
        Noise scale whose capacity equals ``ln B``.
    mutual_info_history : list of float
        Epoch-mean InfoNCE estimate during training.
    """

    n_components: int
    noise_scale: float
    batch_size: int
    capacity: float
    mutual_info: float
    efficiency: float
    ln_batch: float
    gap: float
    capacity_visible: bool
    noise_at_ceiling: float
    mutual_info_history: list

    def to_dict(self):
        """Return the fields as a dict of plain Python numbers and lists.

        Returns
        -------
        fields : dict
        """
        return _plain(asdict(self))

    def __str__(self):
        rows = [
            ("noise scale", self.noise_scale),
            ("capacity C (nats)", self.capacity),
            ("mutual information estimate (nats)", self.mutual_info),
            ("efficiency MI / C", self.efficiency),
            (f"InfoNCE ceiling ln B (B = {self.batch_size})", self.ln_batch),
            ("gap C - MI (nats)", self.gap),
            ("noise scale with C = ln B", self.noise_at_ceiling),
        ]
        lines = [f"Information kept by a {self.n_components}-dimensional embedding"]
        lines += [f"{name:<40}{_fmt(value):>11}" for name, value in rows]
        if not self.capacity_visible:
            lines.append("note: C > ln B, the estimator cannot see the whole gap")
        return "\n".join(lines)
