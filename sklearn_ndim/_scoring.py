"""Label-free scoring for model selection: scorers and a refit rule for GridSearchCV.

Public through :mod:`sklearn_ndim.metrics`.
"""

import warnings
from collections.abc import Mapping
from numbers import Real

import numpy as np

__all__ = ["prior_match_scorer", "mutual_info_scorer", "refit_most_informative"]


def _split_pipeline(estimator, X):
    """The embedder inside ``estimator`` and ``X`` transformed up to it.

    ``estimator`` is an embedder, or a Pipeline holding one at any step
    (e.g. scaler, embedder, classifier); the last embedder step is used.
    """
    from ._embedder import NoisyInfoMaxEmbedder

    if isinstance(estimator, NoisyInfoMaxEmbedder):
        return estimator, X
    steps = getattr(estimator, "steps", None)
    if steps is None:
        raise ValueError(
            f"{type(estimator).__name__} is neither a NoisyInfoMaxEmbedder nor a Pipeline "
            "holding one; there is no embedding to score."
        )
    positions = [i for i, (_, step) in enumerate(steps) if _holds_embedder(step)]
    if not positions:
        raise ValueError("The pipeline holds no NoisyInfoMaxEmbedder step to score.")
    position = positions[-1]
    Xt = estimator[:position].transform(X) if position > 0 else X
    # A nested Pipeline: look inside it in turn.
    return _split_pipeline(estimator[position], Xt)


def _holds_embedder(step):
    from ._embedder import NoisyInfoMaxEmbedder

    if isinstance(step, NoisyInfoMaxEmbedder):
        return True
    return any(_holds_embedder(inner) for _, inner in getattr(step, "steps", ()))


def prior_match_scorer(estimator, X, y=None):
    """Label-free scorer: minus the sliced-W2 ratio of ``transform(X)`` to the prior.

    Higher is better; ``-1`` means as close to the prior as sampling allows.
    Usable as ``scoring=`` in GridSearchCV, on an embedder or on a Pipeline
    holding one (such as scaler, embedder, classifier: the embedding is
    scored, whatever comes after it).

    Parameters
    ----------
    estimator : NoisyInfoMaxEmbedder or Pipeline
        Fitted embedder, or a Pipeline with an embedder step; the prior it was
        fitted with (``prior_``) is the target.
    X : array-like
        Rows to embed, ideally held out.
    y : None
        Ignored.

    Returns
    -------
    score : float
        ``-sw2_ratio`` of :func:`prior_match_report`, with a fixed seed so
        that candidates are compared on the same directions.
    """
    embedder, Xt = _split_pipeline(estimator, X)
    Z = embedder.transform(Xt)
    from .metrics import prior_match_report  # metrics re-exports this module's names

    report = prior_match_report(Z, embedder.prior_, random_state=0, n_reference=10)
    return -report.sw2_ratio


def mutual_info_scorer(estimator, X, y=None):
    """Label-free scorer: InfoNCE estimate (nats) of the information kept on ``X``.

    Higher is better. On its own it always prefers the least noise; pair it
    with :func:`prior_match_scorer` (see :func:`refit_most_informative`).

    Parameters
    ----------
    estimator : NoisyInfoMaxEmbedder or Pipeline
        Fitted embedder, or a Pipeline with an embedder step.
    X : array-like
        Rows to score, at least 2.
    y : None
        Ignored.

    Returns
    -------
    score : float
        ``estimator.estimate_mutual_info(X)`` in nats.
    """
    embedder, Xt = _split_pipeline(estimator, X)
    return float(embedder.estimate_mutual_info(Xt))


def refit_most_informative(max_ratio=1.5, match="prior_match", information="mutual_info"):
    """Refit rule for GridSearchCV: the most information among matching candidates.

    Use with ``scoring={"prior_match": prior_match_scorer, "mutual_info":
    mutual_info_scorer}``. Among candidates whose mean ``sw2_ratio`` is at
    most ``max_ratio`` it picks the one with the highest mean information;
    if none qualifies it picks the best match and warns.

    Parameters
    ----------
    max_ratio : float, default=1.5
        Largest accepted mean sliced-W2 ratio.
    match : str, default="prior_match"
        Scoring key of :func:`prior_match_scorer`.
    information : str, default="mutual_info"
        Scoring key of :func:`mutual_info_scorer`.

    Returns
    -------
    refit : callable
        ``refit(cv_results) -> int``, the index of the chosen candidate.
    """

    if isinstance(max_ratio, Mapping):
        raise TypeError(
            "refit_most_informative makes the refit rule: pass refit=refit_most_informative() "
            "(with parentheses), not the function itself."
        )
    if isinstance(max_ratio, bool) or not isinstance(max_ratio, Real) or not max_ratio > 0:
        raise ValueError(
            f"max_ratio is the largest accepted sliced-W2 ratio, a number > 0 (1 is the floor; "
            f"np.inf accepts every candidate); got {max_ratio!r}."
        )

    def refit(cv_results):
        for key in (match, information):
            if f"mean_test_{key}" not in cv_results:
                prefix = "mean_test_"
                scorings = sorted(k[len(prefix) :] for k in cv_results if k.startswith(prefix))
                raise ValueError(
                    f"refit_most_informative looks for the scoring key {key!r}, and the search "
                    f"scored {scorings}; pass match= and information= with the keys given to "
                    "scoring= for prior_match_scorer and mutual_info_scorer."
                )
        ratio = -np.asarray(cv_results[f"mean_test_{match}"], dtype=float)
        info = np.asarray(cv_results[f"mean_test_{information}"], dtype=float)
        # A candidate whose information score failed (nan) cannot be ranked by it.
        matching = (ratio <= max_ratio) & np.isfinite(info)
        if np.isnan(ratio).all():
            raise ValueError(
                f"Every candidate's {match!r} score failed (nan), so no candidate can be chosen; "
                "the scorers need a NoisyInfoMaxEmbedder, or a Pipeline holding one as a step. "
                "Run the search with error_score='raise' to see why they failed."
            )
        if not matching.any():
            warnings.warn(
                f"No candidate reached sw2_ratio <= {max_ratio} with a finite "
                f"{information!r} score; choosing the best match "
                f"(ratio {np.nanmin(ratio):.4f}).",
                UserWarning,
                stacklevel=2,
            )
            return int(np.nanargmin(ratio))
        return int(np.argmax(np.where(matching, info, -np.inf)))

    return refit
