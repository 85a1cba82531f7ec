"""The benchmarks' decision logic: dominance, the Pareto front, the goal verdicts, the measures."""

import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
measures = pytest.importorskip("measures")
report = pytest.importorskip("report")


def _row(method, probe, w2, noise=""):
    return {"method": method, "probe": probe, "w2_ratio": w2, "noise": noise}


def test_dominance_needs_both_at_least_as_good_and_one_better():
    a, b = _row("a", 0.9, 1.2), _row("b", 0.9, 1.3)
    assert measures.dominates(a, b) and not measures.dominates(b, a)
    assert not measures.dominates(a, dict(a))
    assert not measures.dominates(_row("c", 0.95, 1.5), a) and not measures.dominates(
        a, _row("c", 0.95, 1.5)
    )
    assert not measures.dominates(_row("nan", float("nan"), 1.0), b)


points = st.lists(
    st.tuples(st.floats(0, 1), st.floats(0.5, 10)).map(lambda p: _row("m", *p)),
    min_size=1,
    max_size=12,
)


@given(points)
def test_the_front_is_exactly_the_undominated_rows(rows):
    front = measures.pareto_front(rows)
    assert front, "a non-empty set always has an undominated row"
    for row in rows:
        dominated = any(measures.dominates(other, row) for other in rows if other is not row)
        assert (row in front) is (not dominated)
    for row in front:
        assert not any(measures.dominates(other, row) for other in front if other is not row)


def test_verdicts_state_each_goal_with_its_numbers():
    group = [
        _row("InfoMax (noise 0)", 0.90, 1.30),
        _row("NI-DIM", 0.93, 1.20, noise="auto"),
        _row("PCA(whiten)", 0.94, 6.4),
        _row("VAE", 0.92, 5.6),
        _row("WAE-MMD", 0.95, 1.1),
    ]
    for row in group:
        row["hz_pvalue"] = 0.0
    lines = report.verdicts("digits", group)
    assert (
        lines[0]
        == "goal W2 <= 1.25 with probe >= PCA(whiten): missed (W2 1.20, probe 0.930 vs 0.940)"
    )
    assert lines[1] == "W2 does not increase from noise 0 to the default: met (1.30 -> 1.20)"
    assert "default dominates InfoMax (noise 0): yes" in lines[2]
    assert "default dominates VAE: yes" in lines[3]
    assert "default dominates WAE-MMD: no" in lines[4]
    assert lines[5] == "Henze-Zirkler p > 0.05 at PCA-level probe: none"


def test_two_sample_auroc_is_chance_for_one_distribution_and_one_for_disjoint_ones():
    rng = np.random.default_rng(0)
    same = measures.two_sample_auroc(rng.normal(size=(300, 2)), rng.normal(size=(300, 2)))
    apart = measures.two_sample_auroc(rng.normal(size=(300, 2)), rng.normal(size=(300, 2)) + 10)
    assert abs(same - 0.5) < 0.1 and apart > 0.99


def test_distance_correlation_is_zero_for_independent_and_one_for_copied_columns():
    rng = np.random.default_rng(0)
    independent = measures.mean_distance_correlation(rng.normal(size=(1000, 3)))
    x = rng.normal(size=(1000, 1))
    copied = measures.mean_distance_correlation(np.hstack([x, 2 * x + 1]))
    assert independent < 0.1 and copied == pytest.approx(1.0)


def test_stream_means_average_each_mode_over_the_seeds():
    rows = [
        {"dataset": "digits", "mode": mode, "seed": seed, "probe": probe, "w2_ratio": w2}
        for mode, seed, probe, w2 in [
            ("fit", 0, 0.90, 1.20),
            ("fit", 1, 0.94, 1.40),
            ("partial_fit x4 chunks", 0, 0.91, 1.40),
            ("partial_fit x4 chunks", 1, 0.91, 1.50),
        ]
    ]
    (line,) = report._stream_means(rows)
    assert line == (
        "- stream digits, mean of 2 seeds: fit 0.920 / 1.30, partial_fit 0.910 / 1.45 "
        "(probe -0.010, W2 ratio +0.15)"
    )


def _versus(method, fit_s, probe, w2):
    return {
        "part": "versus UMAP",
        "dataset": "digits",
        "method": method,
        "first_fit_s": 2 * fit_s,
        "fit_s": fit_s,
        "fit_s_min": fit_s,
        "fit_s_max": fit_s,
        "probe": probe,
        "w2_ratio": w2,
    }


def test_speed_ratios_name_each_setting_against_umap():
    rows = [
        _versus("NI-DIM", 2.0, 0.93, 1.3),
        _versus("NI-DIM fast", 1.0, 0.94, 1.4),
        _versus("NI-DIM bf16", 1.6, 0.93, 1.3),
        _versus("UMAP", 4.0, 0.95, 2.1),
    ]
    text = report._speed(rows)
    assert (
        "- digits: fit time ratio NI-DIM / UMAP = 0.50 (median steady-state fits; first fits "
        "0.50); probe 0.930 against 0.950, W2 ratio 1.30 against 2.10"
    ) in text
    assert "- digits: fit time ratio NI-DIM fast / UMAP = 0.25" in text
    assert "- digits: fit time ratio NI-DIM bf16 / UMAP = 0.40" in text
    assert "ratio UMAP" not in text
    # Results from before the faster setting was measured still render.
    assert "NI-DIM fast" not in report._speed([rows[0], rows[3]])


@pytest.mark.parametrize("bf16", [False, True])
def test_the_speed_settings_are_the_documented_ones(bf16):
    speed_suites = pytest.importorskip("speed_suites")
    suffix = " bf16" if bf16 else ""
    fast = speed_suites._speed_method("NI-DIM fast" + suffix, table_epochs=25)
    (schedule,) = fast.callbacks
    assert fast.max_epochs == 13 == schedule.kwargs["T_max"]
    assert schedule.policy == "CosineAnnealingLR" and fast.learning_rate == 3e-3
    assert fast.prior_penalty == 0.0 and fast.mixed_precision is bf16
    before = speed_suites._speed_method("NI-DIM table settings" + suffix, table_epochs=25)
    assert (before.max_epochs, before.learning_rate, before.prior_penalty) == (25, 1e-3, 0.0)
    default = speed_suites._speed_method("NI-DIM" + suffix, table_epochs=25)
    assert default.max_epochs == default.learning_rate == default.prior_penalty == "auto"
    methods = speed_suites._SPEED_METHODS
    assert methods["fashion"][-1] == methods["digits"][-1] == "UMAP"


def test_epoch_optima_name_where_each_measure_is_best():
    rows = [
        {"epochs": epochs, "score_held_out": score, "probe": probe, "w2_ratio": w2}
        for epochs, score, probe, w2 in [
            (1, 0.5, 0.80, 2.0),
            (8, 1.5, 0.85, 1.6),
            (25, 1.2, 0.83, 1.4),
        ]
    ]
    assert report._epoch_optima(rows) == (
        "- best at: held-out score 8 epochs, probe 8 epochs, W2 ratio 25 epochs"
    )


identity_terms = pytest.importorskip("identity_terms")


def test_a_constant_embedding_carries_no_information_through_the_channel():
    lower, upper = identity_terms.channel_information_bounds(np.ones((50, 3)), 0.7)
    assert lower == pytest.approx(0.0, abs=1e-12) and upper == pytest.approx(0.0, abs=1e-12)


def test_rows_far_apart_under_small_noise_reach_the_ln_n_ceiling():
    Z = 100.0 * np.arange(40, dtype=float)[:, None] * np.ones((1, 2))
    lower, upper = identity_terms.channel_information_bounds(Z, 0.1)
    assert lower == pytest.approx(np.log(40), abs=1e-9) and upper > 100


def test_the_bounds_meet_at_the_capacity_of_a_gaussian_input():
    # I(Z; Z + N(0, s^2 I)) = d/2 ln(1 + 1/s^2) for Z ~ N(0, I_d).
    Z = np.random.default_rng(0).standard_normal((3000, 2))
    lower, upper = identity_terms.channel_information_bounds(Z, 1.0)
    # Bounds in expectation; the noise draws leave a Monte Carlo error of about 0.01.
    assert lower <= upper and abs(lower - np.log(2)) < 0.03 and abs(upper - np.log(2)) < 0.03


def test_terms_tables_show_each_bound_pair_as_a_span():
    assert report._span(4.231, 4.379) == "4.23 to 4.38"
    assert report._span(1.374, 1.371) == "1.37"


def test_a_quick_run_leaves_the_committed_results_alone():
    run = pytest.importorskip("run")
    results = Path(run.__file__).resolve().parent / "results"
    assert run.output_folder(quick=False) == results
    assert run.output_folder(quick=True) == results / "tmp"  # ignored by git
    assert run.output_folder(quick=True, output="elsewhere") == Path("elsewhere")


def test_the_runner_without_suites_runs_the_default_ones(monkeypatch):
    run = pytest.importorskip("run")
    ran = []
    monkeypatch.setitem(run.SUITES, "match", lambda settings, log: ran.append("match") or [])
    for name in ("speed", "scaling", "uses"):
        monkeypatch.setitem(
            run.SUITES, name, lambda settings, log, name=name: ran.append(name) or []
        )
    monkeypatch.setattr(run, "output_folder", lambda quick, output=None: Path(output or "."))
    monkeypatch.setattr(run.report, "markdown", lambda payload: "")
    monkeypatch.setattr(run.report, "figures", lambda payload, folder: None)
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        run.main(["--quick", "--output", folder])
        assert ran == ["match", "speed", "scaling", "uses"]
        with pytest.raises(SystemExit):
            run.main(["nonsense", "--output", folder])


def test_the_cpu_model_and_its_bfloat16_instructions_are_recorded(tmp_path):
    run = pytest.importorskip("run")
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(
        "processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: fpu avx512f avx512_bf16\n\n"
        "processor\t: 1\nmodel name\t: Some CPU\nflags\t\t: fpu avx512f avx512_bf16\n"
    )
    assert run.cpu_model(cpuinfo) == {"cpu_model": "Some CPU", "bfloat16_instructions": True}
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu avx2\n")
    assert run.cpu_model(cpuinfo) == {"cpu_model": "unknown", "bfloat16_instructions": False}
    assert run.cpu_model(tmp_path / "absent") == {}


def _payload(machine):
    provenance = {
        "package_commit": "0123456789abcdef",
        "uncommitted_changes": False,
        "versions": {"torch": "2.13.0", "scikit-learn": "1.9.1"},
        "machine": {"cpus": 2, **machine},
        "started": "2026-12-01 10:00:00",
        "minutes": 1.0,
        "load_average_end": 2.0,
    }
    return {"suite": "speed", "quick": False, "provenance": provenance}


def test_the_header_names_the_cpu_where_recorded():
    header = report._header(
        _payload({"cpu_model": "AMD EPYC", "bfloat16_instructions": True, "torch_threads": 2})
    )
    assert "2 CPUs (AMD EPYC, bfloat16 instructions; 2 torch threads), started" in header
    assert "2 CPUs (1 torch thread), started" in report._header(_payload({"torch_threads": 1}))
    assert "2 CPUs, started" in report._header(_payload({}))


def _split_row(split, method, probe, w2):
    return {
        "dataset": "table",
        "d": 16,
        "split": split,
        "method": method,
        "probe": probe,
        "w2_ratio": w2,
        "w2_ratio_train": w2,
    }


def test_the_splits_summary_counts_the_goal_split_by_split():
    rows = [
        _split_row(0, "NI-DIM", 0.70, 1.20),  # met
        _split_row(0, "PCA(whiten)", 0.65, 1.10),
        _split_row(1, "NI-DIM", 0.60, 1.25),  # met: at the bound, probe above
        _split_row(1, "PCA(whiten)", 0.60, 1.00),
        _split_row(2, "NI-DIM", 0.70, 1.30),  # W2 above the bound
        _split_row(2, "PCA(whiten)", 0.60, 1.00),
        _split_row(3, "NI-DIM", 0.59, 1.10),  # probe below PCA's
        _split_row(3, "PCA(whiten)", 0.60, 1.00),
    ]
    text = report.markdown(
        {"suite": "splits", "quick": False, "provenance": _payload({})["provenance"], "rows": rows}
    )
    assert "- NI-DIM, mean of 4 splits: probe 0.647 (sd 0.053), W2 ratio 1.21 (sd 0.07)" in text
    assert "- goal W2 <= 1.25 with probe >= PCA(whiten)'s: met on 2 of 4 splits (0, 1)" in text
    assert "met on 0 of 1 splits (none)" in report._splits(rows[4:6])


def test_the_second_image_set_draws_held_out_digits_only_in_the_test_images():
    datasets = pytest.importorskip("datasets")
    X_train, X_test, y_train, y_test = datasets.digits28(seed=0, train_copies=2, test_copies=1)
    assert X_train.shape == (2 * 1257, 28, 28) and X_test.shape == (540, 28, 28)
    assert X_train.dtype == np.float32 and 0.0 <= X_train.min() and X_train.max() <= 1.0
    # Each original is drawn train_copies times in a row, with its label.
    assert np.array_equal(y_train, np.repeat(datasets.digits(0)[2], 2))
    assert not np.array_equal(X_train[0], X_train[1])  # two distortions of one digit
    again = datasets.digits28(seed=0, train_copies=2, test_copies=1)
    assert np.array_equal(again[0], X_train) and np.array_equal(again[1], X_test)
    images = datasets.load("digits28")[0]
    assert images.shape == (10_056, 1, 28, 28)


def test_a_benchmark_child_measures_the_same_package_as_its_parent(monkeypatch):
    speed_suites = pytest.importorskip("speed_suites")
    import sklearn_ndim

    # An inherited path that points elsewhere must not win over the measured package.
    monkeypatch.setenv("PYTHONPATH", "/nonexistent")
    code = "import json, sklearn_ndim; print(json.dumps(sklearn_ndim.__file__))"
    child_file = speed_suites._child(code, threads=1)
    assert Path(child_file).resolve() == Path(sklearn_ndim.__file__).resolve()
    assert speed_suites.child_python_path().endswith("/nonexistent")
