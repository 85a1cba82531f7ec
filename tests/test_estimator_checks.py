"""The scikit-learn estimator contract, with no expected failures."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_ndim import NoisyInfoMaxEmbedder
from sklearn_ndim.outliers import OutlierDetector


def _small():
    return NoisyInfoMaxEmbedder(
        n_components=2, max_epochs=2, hidden_layer_sizes=(16,), random_state=0
    )


@parametrize_with_checks(
    [_small(), OutlierDetector(_small(), statistic="combined", contamination=0.1, random_state=0)],
    expected_failed_checks=lambda estimator: {},
)
def test_sklearn_contract(estimator, check):
    check(estimator)
