"""Property-based tests of NoisyInfoMaxEmbedder over shapes, dtypes, scales and priors."""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from scipy import stats

from sklearn_ndim import NoisyInfoMaxEmbedder

# One epoch on a few rows often learns nothing; that warning is not under test.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

PRIORS = {
    "gaussian": "gaussian",
    "uniform": "uniform",
    "laplace": stats.laplace(),
    "t": stats.t(df=3),
    "beta": stats.beta(2.0, 5.0),
}

data_sets = st.fixed_dictionaries(
    {
        "n_samples": st.integers(8, 60),
        "n_features": st.integers(1, 6),
        "n_components": st.integers(1, 3),
        "log_scale": st.floats(-6, 6),
        "offset": st.sampled_from([0.0, 1.0, -1e6, 1e8]),
        "dtype": st.sampled_from([np.float32, np.float64]),
        "prior": st.sampled_from(sorted(PRIORS)),
        "seed": st.integers(0, 2**16),
    }
)


def _fit(case):
    # Spreads within float64 round-off of the offset count as none (scikit-learn's
    # test): below 1e-12 of it they are at float64's resolution, not data.
    assume(10.0 ** case["log_scale"] > 1e-12 * abs(case["offset"]))
    rng = np.random.default_rng(case["seed"])
    X = rng.standard_normal((case["n_samples"], case["n_features"]))
    X = (X * 10.0 ** case["log_scale"] + case["offset"]).astype(case["dtype"])
    embedder = NoisyInfoMaxEmbedder(
        n_components=case["n_components"],
        prior=PRIORS[case["prior"]],
        noise_scale=0.3,
        hidden_layer_sizes=(8,),
        batch_size=16,
        max_epochs=1,
        n_neighbors=3,
        random_state=case["seed"],
    )
    if np.all(X == X[0]):
        # Rows that are all equal (once cast to float32, say) are refused.
        with pytest.raises(ValueError, match="Every feature of X is constant"):
            embedder.fit(X)
        return None, X
    return embedder.fit(X), X


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data_sets)
# Rows a few float32 steps apart: the whitening gain is at its largest.
@example(
    {
        "n_samples": 8,
        "n_features": 1,
        "n_components": 3,
        "log_scale": 1.0,
        "offset": 1e8,
        "dtype": np.float32,
        "prior": "gaussian",
        "seed": 1,
    }
)
# All rows equal once cast to float32: refused, as nothing varies to embed.
@example(
    {
        "n_samples": 8,
        "n_features": 1,
        "n_components": 3,
        "log_scale": 0.0,
        "offset": 1e8,
        "dtype": np.float32,
        "prior": "gaussian",
        "seed": 1,
    }
)
def test_transform_is_finite_shaped_typed_and_inside_the_support(case):
    embedder, X = _fit(case)
    if embedder is None:
        return
    Z = embedder.transform(X)
    assert Z.shape == (case["n_samples"], case["n_components"])
    assert Z.dtype == case["dtype"]
    assert np.all(np.isfinite(Z))
    low, high = (
        PRIORS[case["prior"]].support()
        if case["prior"] not in ("gaussian", "uniform")
        else ((-np.inf, np.inf) if case["prior"] == "gaussian" else (0.0, 1.0))
    )
    if case["prior"] == "uniform":
        assert Z.min() > 0 and Z.max() < 1
    else:
        assert Z.min() >= low and Z.max() <= high
    # Deterministic, and independent of the rows batched alongside (float32
    # matrix products may round differently for other batch shapes). The
    # whitening scales that round-off up: by 1/sqrt(eps), about 316, in a
    # direction the training rows do not vary in (e.g. all rows equal).
    np.testing.assert_array_equal(embedder.transform(X), Z)
    gain = max(1.0, float(embedder.net_.module_.normalizer.whitening.abs().max()))
    tolerance = (1e-12 if case["dtype"] == np.float64 else 1e-5) * gain
    np.testing.assert_allclose(embedder.transform(X[:1]), Z[:1], rtol=tolerance, atol=tolerance)
    far = embedder.transform((X.astype(np.float64) * 1e3).astype(case["dtype"]))
    assert np.all(np.isfinite(far))


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data_sets)
def test_score_samples_is_the_log_typicality_pvalue_of_the_mapped_embedding(case):
    embedder, X = _fit(case)
    if embedder is None:
        return
    X = X.astype(np.float64)
    expected = np.log(embedder.prior_.pvalues(embedder.transform(X)))
    np.testing.assert_allclose(embedder.score_samples(X), expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(embedder.prior_pvalues(X), np.exp(expected), rtol=1e-6)
