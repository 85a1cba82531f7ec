"""The reports of sklearn_ndim.metrics (``_reports``): their verdict, text and dicts."""

import dataclasses
import json
import math

import numpy as np
import pytest
from scipy import stats

from sklearn_ndim._reports import _fmt_pvalue
from sklearn_ndim.metrics import prior_match_report


def _gaussian(seed=0, n=1000, d=4):
    return np.random.default_rng(seed).standard_normal((n, d))


def test_report_is_deterministic_and_serialisable():
    Z = _gaussian(seed=4, n=300, d=3)
    first = prior_match_report(Z, random_state=7, n_reference=10)
    assert first == prior_match_report(Z, random_state=7, n_reference=10)
    fields = first.to_dict()
    assert json.loads(json.dumps(fields)) == fields
    assert len(fields["ks_pvalue"]) == 3
    text = str(first)
    for name in ("sliced W2", "Henze-Zirkler", "energy", "KL", "correlation", "KS", "passes"):
        assert name in text


def test_passes_thresholds():
    report = prior_match_report(_gaussian(seed=6))
    assert not report.passes(max_ratio=0.5 * report.sw2_ratio)
    assert not report.passes(alpha=min(1.0, report.normality_pvalue + 1e-9))
    assert report.passes(alpha=0.0, max_ratio=np.inf)
    # Both tests count where Henze-Zirkler is available, Bonferroni-combined:
    # HZ standardises the sample, so only the energy test sees location and scale.
    assert report.normality_test == "Henze-Zirkler and energy"
    both = [report.hz_pvalue, report.energy_pvalue]
    assert report.normality_pvalue == pytest.approx(min(1.0, 2 * min(both)))
    assert not dataclasses.replace(report, energy_pvalue=0.02).passes()
    assert not dataclasses.replace(report, hz_pvalue=0.02).passes()
    assert not dataclasses.replace(report, collapsed=True).passes(alpha=0.0, max_ratio=np.inf)
    # An energy statistic that overflowed gives no verdict, so no pass.
    assert not dataclasses.replace(report, energy_pvalue=math.nan).passes(alpha=0.0)
    for bad in ({"alpha": "0.05"}, {"alpha": True}, {"max_ratio": "1.5"}, {"max_ratio": None}):
        with pytest.raises(ValueError, match="alpha is a test level|max_ratio is a W2 ratio"):
            report.passes(**bad)


def test_the_printed_report_names_the_prior_its_space_and_the_bounds_of_its_p_values():
    Z = stats.expon(loc=3, scale=2).rvs(size=(300, 2), random_state=0)
    report = prior_match_report(Z, prior=stats.expon(loc=3, scale=2), n_reference=19)
    text = str(report)
    assert report.prior == "expon(loc=3.0, scale=2.0)"
    assert "to 'expon(loc=3.0, scale=2.0)'" in text and "in the Gaussian space" in text
    far = prior_match_report(np.random.default_rng(0).uniform(-1.7, 1.7, (2000, 2)))
    assert far.sw2_pvalue == far.energy_pvalue == 1 / 51  # both at their Monte-Carlo floor
    rows = [line for line in str(far).splitlines() if line.startswith(("sliced", "energy"))]
    assert [row.split()[-1] for row in rows] == ["<=0.0196", "<=0.0196"]
    assert "Gaussian space" not in str(far)
    assert _fmt_pvalue(0.0, None) == "<1e-300" and _fmt_pvalue(1 / 51, None) == "0.0196"


def test_report_dicts_hold_python_numbers_for_numpy_arguments():
    report = prior_match_report(_gaussian(n=60), n_reference=np.int64(5), n_projections=np.int64(8))
    fields = report.to_dict()
    json.dumps(fields)
    assert type(fields["n_reference"]) is int
