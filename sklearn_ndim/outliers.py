"""Outlier detection with calibrated p-values from a matched embedding.

An embedding that follows its prior gives outlier tests for free: in the
Gaussian space every row's squared norm should be chi-square distributed.
Rows unlike the training data, though, often land near the prior's mode (an
encoder has no features for them), so the test must be two-sided: the
*typical set* of N(0, I_d) is a shell. The decoder adds what the embedding
discards: an unseen kind of row is reconstructed badly.
"""

import math
import warnings
from contextlib import contextmanager
from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin, _fit_context, clone
from sklearn.utils import check_array, check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._embedder import NoisyInfoMaxEmbedder
from ._fitting import restored_on_error
from ._inference import decoded_rows, gaussian_embedding, output_dtype
from ._priors import typicality_logp
from ._validation import caller_stacklevel, validate_fitted_input

__all__ = ["OutlierDetector"]

# Smallest residual variance of a feature, as a fraction of the mean over features.
_RELATIVE_SCALE_FLOOR = 0.01
# Rows scored at once: the decoder's float64 errors of all rows (and the
# reconstructed rows) would otherwise be held together.
_SCORE_ROWS = 4096


class OutlierDetector(OutlierMixin, BaseEstimator):
    """Outlier detector built on a :class:`~sklearn_ndim.NoisyInfoMaxEmbedder`.

    Three statistics, each turned into a p-value:

    - ``"typicality"``: the two-sided chi-square test of the embedding's
      squared norm in the Gaussian space
      (:meth:`~sklearn_ndim.NoisyInfoMaxEmbedder.prior_pvalues`). Calibrated by the prior
      itself, so it is exact only as far as the held-out embedding follows
      the prior; no rows are held out. Measured (``benchmarks/``, one class
      held out, p <= 0.05): 1.1 %, 3.4 % and 0.6 % of held-out inliers flagged
      on digits, the generated table and Fashion-MNIST: conservative where
      the embedding's squared norms spread less than the chi-square law (on
      digits their variance is about a third of its ``2 d``). It sees only
      where a row embeds, and an encoder may map a row far from all the
      training rows into the prior's bulk (a row 10 standard deviations out
      of a 2-feature table got p = 0.94 in a trial): the reconstruction
      error sees such rows. The default, ``"combined"``, adds it, and is
      calibrated on held-out rows.
    - ``"reconstruction"``: the squared error of the decoder, each feature
      scaled by its error variance on the training rows (at least 1 % of
      the mean variance over features, so that a feature the decoder
      reproduces exactly, such as a constant pixel, cannot dominate).
    - ``"combined"``: the log typicality p-value minus half that scaled
      error, as in probabilistic PCA's log-likelihood (latent term plus
      residual term). The residual term, one term per feature, outweighs
      the latent one: in the benchmarks its AUROC was within 0.002 of the
      reconstruction score's on digits, the table and Fashion-MNIST.

    The last two are calibrated conformally: a fraction of the training rows
    is held out of the embedder's fit, and a row's p-value is the fraction of
    those rows that score no higher (exact for rows exchangeable with them;
    measured, 4.6 % to 6.3 % of held-out inliers flagged at p <= 0.05).

    Parameters
    ----------
    embedder : NoisyInfoMaxEmbedder, default=None
        The embedder to fit (cloned); a default one when None. The
        reconstruction scores fit it with ``fit_inverse_transform=True``.
    statistic : {"typicality", "reconstruction", "combined"}, default="combined"
        Statistic behind the p-values (see above).
    alpha : float in (0, 1), default=0.01
        Level of the test: rows with a p-value below ``alpha`` are outliers
        (``contamination="auto"``). It bounds the share of new inliers
        flagged, not the share of outliers caught, which can be small at a
        small ``alpha`` even when ``score_samples`` ranks outliers well: rank
        by ``score_samples``, or raise ``alpha``, to catch more.
    contamination : "auto" or float in (0, 0.5], default="auto"
        ``"auto"`` flags p-values below ``alpha``. A float sets the threshold
        so that this share of the training rows is flagged, as in
        scikit-learn's detectors. For the reconstruction and combined scores
        the rows the decoder was fitted on score as more normal than new rows
        (the held-out calibration rows and new inliers score alike), so the
        flagged training rows are mostly calibration rows and new inliers are
        flagged more often than this share: prefer ``"auto"``, whose
        p-values are exact for new rows.
    calibration_fraction : float in (0, 1), default=0.2
        Share of the training rows held out to calibrate the reconstruction
        and combined scores. Their smallest p-value is ``1 / (1 + n)`` for
        ``n`` calibration rows, so flagging at ``alpha`` needs ``n >=
        floor(1 / alpha)`` (100 rows at the default); ``fit`` warns otherwise.
    random_state : int, RandomState instance or None, default=None
        Seeds the calibration split. With None every fit holds out other
        rows (the embedder's own ``random_state`` does not fix them), and
        on small data the flagged share can change a lot between fits: set
        it for reproducible results.

    Attributes
    ----------
    embedder_ : NoisyInfoMaxEmbedder
        The fitted embedder.
    calibration_scores_ : ndarray or None
        Sorted statistics of the calibration rows (None for ``"typicality"``).
    residual_scale_ : ndarray of shape (n_flat_features,) or None
        Error variance of each (flattened) feature that scales the
        reconstruction error (None for ``"typicality"``).
    offset_ : float
        ``decision_function = score_samples - offset_``; ``log(alpha)`` for
        ``contamination="auto"``.
    n_features_in_ : int
        Number of features seen in fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen in fit, when ``X`` had string column
        names (a DataFrame).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_ndim import NoisyInfoMaxEmbedder
    >>> from sklearn_ndim.outliers import OutlierDetector
    >>> X, y = load_digits(return_X_y=True)
    >>> detector = OutlierDetector(
    ...     NoisyInfoMaxEmbedder(n_components=8, max_epochs=5, random_state=0),
    ...     statistic="typicality",
    ... ).fit(X[y != 0])
    >>> detector.pvalues(X[:3]).shape
    (3,)
    """

    _parameter_constraints = {
        "embedder": [None, HasMethods(["fit", "transform", "prior_pvalues"])],
        "statistic": [StrOptions({"typicality", "reconstruction", "combined"})],
        "alpha": [Interval(Real, 0, 1, closed="neither")],
        "contamination": [StrOptions({"auto"}), Interval(Real, 0, 0.5, closed="right")],
        "calibration_fraction": [Interval(Real, 0, 1, closed="neither")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        embedder=None,
        *,
        statistic="combined",
        alpha=0.01,
        contamination="auto",
        calibration_fraction=0.2,
        random_state=None,
    ):
        self.embedder = embedder
        self.statistic = statistic
        self.alpha = alpha
        self.contamination = contamination
        self.calibration_fraction = calibration_fraction
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Fit the embedder and calibrate the p-values.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or image array
            Training rows, assumed (mostly) inliers.
        y : None
            Ignored.

        Returns
        -------
        self : OutlierDetector
            A failed fit leaves the detector as it was.
        """
        with restored_on_error(self):
            self._fit(X)
        return self

    def _fit(self, X):
        """Set the fitted attributes from ``X`` (``fit`` undoes them if this raises)."""
        embedder = clone(self.embedder) if self.embedder is not None else NoisyInfoMaxEmbedder()
        _check_input(X, minimum=2)
        X = _sliceable(X)
        if self.statistic == "typicality":
            self.embedder_ = embedder.fit(X)
            self.calibration_scores_ = None
            self.residual_scale_ = None
        else:
            embedder.set_params(fit_inverse_transform=True)
            rng = check_random_state(self.random_state)
            order = rng.permutation(len(X))
            n_calibration = max(1, int(round(self.calibration_fraction * len(X))))
            if len(X) - n_calibration < 2:
                raise ValueError(
                    f"calibration_fraction={self.calibration_fraction} holds out {n_calibration} "
                    f"of the {len(X)} rows, leaving {len(X) - n_calibration} to fit the embedder "
                    "on (at least 2 are needed); lower calibration_fraction or fit on more rows."
                )
            calibration, training = np.sort(order[:n_calibration]), np.sort(order[n_calibration:])
            try:
                self.embedder_ = embedder.fit(_rows(X, training))
            except ValueError as error:
                if type(error) is not ValueError:  # e.g. InvalidParameterError: as it is
                    raise
                # The embedder's message counts the rows it was given, not X's.
                raise ValueError(
                    f"The embedder, fitted on {len(training)} of the {len(X)} rows "
                    f"(calibration_fraction={self.calibration_fraction} holds out "
                    f"{n_calibration} to calibrate the p-values), raised: {error}"
                ) from error
            # The scale comes from the training rows, so that the calibration rows
            # stay exchangeable with new ones. A feature the decoder reproduces
            # exactly (a constant pixel) gets a floor, or one grey level there
            # would make any row an extreme outlier.
            variance = self._residual_variance(_rows(X, training))
            floor = _RELATIVE_SCALE_FLOOR * variance.mean() + np.finfo(np.float64).tiny
            self.residual_scale_ = np.maximum(variance, floor)
            self.calibration_scores_ = np.sort(self._statistic(_rows(X, calibration)))
        self.n_features_in_ = self.embedder_.n_features_in_
        # scikit-learn's convention: only a fit on named columns has the names.
        self.__dict__.pop("feature_names_in_", None)
        if hasattr(self.embedder_, "feature_names_in_"):
            self.feature_names_in_ = self.embedder_.feature_names_in_
        if self.contamination == "auto":
            self.offset_ = float(np.log(self.alpha))
            self._warn_if_alpha_is_out_of_reach()
        else:
            # As in scikit-learn's detectors: this share of the training rows scores below.
            self.offset_ = float(np.percentile(self.score_samples(X), 100.0 * self.contamination))

    def pvalues(self, X):
        """p-value of each row: small means unlike the training rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or image array

        Returns
        -------
        pvalues : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        self._check_fitted_input(X)
        with _names_checked_once():
            if self.calibration_scores_ is None:
                return self.embedder_.prior_pvalues(X)
            return self._calibrated_pvalues(X)

    def score_samples(self, X):
        """Log p-value of each row (lower is more abnormal).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or image array

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        self._check_fitted_input(X)
        with _names_checked_once():
            if self.calibration_scores_ is None:
                return self.embedder_.score_samples(X)
            return np.log(self._calibrated_pvalues(X))

    def decision_function(self, X):
        """``score_samples(X) - offset_``: negative for outliers.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or image array

        Returns
        -------
        decision : ndarray of shape (n_samples,)
        """
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """+1 for inliers, -1 for outliers (``decision_function`` below 0).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or image array

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        return np.where(self.decision_function(X) < 0, -1, 1)

    # ----------------------------------------------------------------- helpers

    def _calibrated_pvalues(self, X):
        """Conformal p-values of checked rows, from the held-out calibration scores."""
        return self._pvalues_of(self._statistic(X))

    def _check_fitted_input(self, X):
        """Refuse bad rows, and rows of other features, in this detector's own name."""
        if _check_input(X).ndim == 2:
            # Images (3-D, 4-D) are checked by the embedder, which knows their shape.
            validate_data(self, X, reset=False, skip_check_array=True)

    def _residual_and_typicality(self, X):
        """Decoder error in the flat input space, and the log typicality p-value.

        Both come from one embedding of ``X`` (what ``transform`` followed by
        ``inverse_transform`` and ``score_samples`` would compute with three).
        """
        embedder = self.embedder_
        if type(embedder) is not NoisyInfoMaxEmbedder:
            # A subclass or another embedder: through its public methods.
            reconstructed = embedder.inverse_transform(embedder.transform(X))
            return _flat_difference(X, reconstructed), embedder.score_samples(X)
        rows = validate_fitted_input(embedder, X)
        g = gaussian_embedding(embedder, rows)
        # Decoded in the precision that transform would have returned.
        reconstructed = decoded_rows(embedder, g.astype(output_dtype(rows), copy=False))
        return _flat_difference(X, reconstructed), typicality_logp(g)

    def _residual_variance(self, X):
        """Per-feature variance of the decoder's error over the rows of ``X``, by blocks.

        Blocks are merged with Chan et al.'s pairwise update, exact up to
        round-off and stable when the error's mean is large.
        """
        count, mean, squares = 0, 0.0, 0.0
        for start in range(0, len(X), _SCORE_ROWS):
            residual = self._residual_and_typicality(_rows(X, slice(start, start + _SCORE_ROWS)))[0]
            block_mean = residual.mean(axis=0)
            block_squares = ((residual - block_mean) ** 2).sum(axis=0)
            total = count + len(residual)
            delta = block_mean - mean
            mean = mean + delta * (len(residual) / total)
            squares = squares + block_squares + delta**2 * (count * len(residual) / total)
            count = total
        return squares / count

    def _statistic(self, X):
        """Higher is more normal: the statistic calibrated by the held-out rows."""
        X = _sliceable(X)
        return np.concatenate(
            [
                self._block_statistic(_rows(X, slice(start, start + _SCORE_ROWS)))
                for start in range(0, len(X), _SCORE_ROWS)
            ]
        )

    def _block_statistic(self, X):
        residual, typicality = self._residual_and_typicality(X)
        # A squared error beyond float64 (values beyond about 1e154) is
        # infinitely atypical: the row gets the smallest p-value, quietly.
        with np.errstate(over="ignore"):
            error = 0.5 * (residual**2 / self.residual_scale_).sum(axis=1)
        if self.statistic == "reconstruction":
            return -error
        return typicality - error

    def _warn_if_alpha_is_out_of_reach(self):
        """Warn when no conformal p-value can fall below ``alpha``."""
        if self.calibration_scores_ is None:
            return
        n_calibration = len(self.calibration_scores_)
        smallest = 1.0 / (1.0 + n_calibration)
        if smallest >= self.alpha:
            needed = math.floor(1.0 / self.alpha)
            warnings.warn(
                f"OutlierDetector holds out {n_calibration} calibration rows, so its smallest "
                f"p-value is 1/{n_calibration + 1} = {smallest:.3g}, not below alpha="
                f"{self.alpha}: predict will flag no row. Fit on more rows or raise "
                f"calibration_fraction (at least {needed} calibration rows are needed), raise "
                "alpha, or use statistic='typicality', which holds out no rows.",
                UserWarning,
                stacklevel=caller_stacklevel(),
            )

    def _pvalues_of(self, statistic):
        """Conformal p-values: (1 + #calibration rows scoring no higher) / (1 + n)."""
        if self.calibration_scores_ is None:
            return np.exp(statistic)
        # A row far out (values near the float range) scores -inf or NaN: it
        # scores no higher than any calibration row.
        statistic = np.where(np.isnan(statistic), -np.inf, statistic)
        # A calibration row scored again may differ from its fit-time score
        # by round-off; it must still count as scoring no higher than itself.
        finite = np.isfinite(statistic)
        tolerance = np.where(
            finite, 1e-9 * np.maximum(1.0, np.abs(np.where(finite, statistic, 0))), 0
        )
        below = np.searchsorted(self.calibration_scores_, statistic + tolerance, side="right")
        return (1.0 + below) / (1.0 + len(self.calibration_scores_))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags


@contextmanager
def _names_checked_once():
    """Silence the embedder's feature-name warnings: the detector has given its own."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="X (does not have valid|has) feature names", category=UserWarning
        )
        yield


def _check_input(X, minimum=1):
    """Refuse sparse, empty, non-numeric or non-finite input clearly (images allowed).

    Returns the rows as an array, which only the caller's checks read.
    """
    return check_array(
        X, allow_nd=True, dtype="numeric", ensure_min_samples=minimum, input_name="X"
    )


def _sliceable(X):
    """``X`` as rows that slice and index: DataFrames as they are, array-likes as arrays."""
    return X if hasattr(X, "iloc") else np.asarray(X)


def _flat_difference(X, reconstructed):
    """``X - reconstructed`` as flat rows, whichever of the two is flat and which images.

    The embedder takes flat rows and images alike; its decoder returns the
    layout it was fitted on.
    """
    n_rows = len(reconstructed)
    flat = np.asarray(X, dtype=np.float64).reshape(n_rows, -1)
    return flat - np.asarray(reconstructed, dtype=np.float64).reshape(n_rows, -1)


def _rows(X, indices):
    return X.iloc[indices] if hasattr(X, "iloc") else X[indices]
