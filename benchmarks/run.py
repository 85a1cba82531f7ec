"""Issue 5: the trade-off curve, the peers and the speed, in one command.

Run: ``python benchmarks/run.py [--quick] [--output benchmarks/results]``

Writes into the output folder:

- ``tradeoff.csv`` / ``tradeoff.json``: one row per data set, prior and method
  (probe and 5-NN accuracy, prior-match statistics of the test embedding,
  InfoNCE estimate, capacity, fit and transform time);
- ``speed.json``: fit time against n with log-log slopes, transform
  throughput, skorch overhead and the speed goals;
- ``results.md``: the headline table, the Pareto tables, the speed tables;
- ``tradeoff.png`` and ``scaling.png``.

The full run takes about 25 minutes on 2 CPU cores, ``--quick`` about 2.
"""

import argparse
import dataclasses
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))

import evaluation  # noqa: E402
import methods  # noqa: E402
import plots  # noqa: E402
import reporting  # noqa: E402
import speed  # noqa: E402
import suites  # noqa: E402

START = time.perf_counter()
#: Seconds spent by an earlier, interrupted invocation (``--resume``).
PREVIOUS_S = 0.0
#: Whether ``speed.json`` in the output folder is complete for these settings.
SPEED_DONE = False
#: 1-minute load averages sampled at every progress line once measuring has
#: begun (with ``--resume``, those of the interrupted invocation come first).
LOADS = []
#: Whether this invocation has fitted or timed anything yet.
MEASURING = False


def log(message):
    """Print a progress line with the elapsed time and the machine's load average."""
    load = load_average()
    if MEASURING:
        LOADS.append(load)
    print(f"[{elapsed():7.1f} s, load {load:4.1f}] {message}", flush=True)


def elapsed():
    """Seconds spent on this run, including an interrupted earlier invocation."""
    return PREVIOUS_S + time.perf_counter() - START


def code_version():
    """Last commit that changed ``sklearn_ndim``, flagged when it has uncommitted changes."""
    root = Path(__file__).resolve().parent.parent

    def git(*args):
        try:
            done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
        except OSError:
            return ""
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("log", "-1", "--format=%h", "--", "sklearn_ndim") or "unknown"
    return commit + (
        " + uncommitted changes" if git("status", "--porcelain", "sklearn_ndim") else ""
    )


#: Code this invocation imported (read once at start, as the modules are).
CURRENT_VERSION = code_version()
#: Code versions that produced the measurements (earlier invocations first).
VERSIONS = []


def note_version():
    """Record that this invocation measures: its code version and, from now on, the load."""
    global MEASURING
    MEASURING = True
    if CURRENT_VERSION not in VERSIONS:
        VERSIONS.append(CURRENT_VERSION)


def load_average():
    """1-minute load average of the machine (other processes slow every timing)."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else math.nan


def _clean(value):
    """JSON-safe value: NaN and infinities become None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _clean(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(item) for item in value]
    if isinstance(value, np.generic):
        return _clean(value.item())
    return value


def write_json(path, payload):
    """Write ``payload`` as indented, strictly valid JSON."""
    path.write_text(json.dumps(_clean(payload), indent=2, allow_nan=False))


def _load_progress(output, settings):
    """State an earlier, interrupted run with the same settings left (for ``--resume``).

    Returns the kept result rows (failed ones are refitted); sets
    :data:`PREVIOUS_S` and :data:`SPEED_DONE` and extends :data:`LOADS`.
    """
    global PREVIOUS_S, SPEED_DONE
    progress = output / "progress.json"
    if not (progress.exists() and (output / "tradeoff.csv").exists()):
        return []
    state = json.loads(progress.read_text())
    if state["settings"] != _clean(dataclasses.asdict(settings)):
        raise SystemExit(f"{output} holds results of other settings; use another --output.")
    PREVIOUS_S = float(state["elapsed_s"])
    LOADS[:0] = state.get("load_samples", [])
    VERSIONS[:0] = [v for v in state.get("code_versions", []) if v not in VERSIONS]

    rows = pd.read_csv(output / "tradeoff.csv", keep_default_na=True).to_dict("records")
    for row in rows:
        row["error"] = row["error"] if isinstance(row["error"], str) else ""
        if isinstance(row["noise_scale"], float) and math.isnan(row["noise_scale"]):
            row["noise_scale"] = None
    SPEED_DONE = bool(state.get("speed_done")) and (output / "speed.json").exists()
    return [row for row in rows if not row["error"]]


def _save_progress(output, settings, results):
    """Write the rows so far and the state ``--resume`` needs."""
    pd.DataFrame(results, columns=evaluation.COLUMNS).to_csv(output / "tradeoff.csv", index=False)
    write_json(output / "tradeoff.json", results)
    state = {
        "settings": dataclasses.asdict(settings),
        "elapsed_s": elapsed(),
        "speed_done": SPEED_DONE,
        "load_samples": LOADS,
        "code_versions": VERSIONS,
    }
    write_json(output / "progress.json", state)


def run_tradeoff(settings, output, only=None, previous=()):
    """Fit every method on every data set and prior; save the rows as they come.

    Parameters
    ----------
    settings : suites.Settings
        Sizes of the run.
    output : pathlib.Path
        Results folder.
    only : list of str or None
        Restrict to these data sets.
    previous : list of dict, default=()
        Rows kept from an interrupted run (``--resume``); only the missing
        ones are fitted.

    Returns
    -------
    results : list of dict
        Rows with the columns of :data:`evaluation.COLUMNS`.
    splits : list of suites.Split
        The data sets used.
    """
    grids = {"gaussian": settings.gaussian_noise, "uniform": settings.uniform_noise}
    splits = suites.load_splits(settings, only)
    results = list(previous)
    done = {(row["dataset"], row["prior"], row["method"]) for row in results}
    for split in splits:
        log(
            f"{split.name}: {split.description}; {len(split.X_train)} train / "
            f"{len(split.X_test)} test, {split.max_epochs} epochs"
        )
        for prior, grid in grids.items():
            for method in methods.embedder_grid(grid) + methods.peers():
                if (split.name, prior, method.name) in done:
                    continue
                note_version()
                row = evaluation.evaluate(method, split, prior, settings.n_reference)
                results.append(row)
                log(
                    f"  {split.name:<8} {prior:<8} {method.name:<18} acc {row['probe_acc']:.3f}"
                    f"  5nn {row['knn_acc']:.3f}  sw2 {row['sw2_ratio']:7.2f}"
                    f"  fit {row['fit_s']:6.1f} s {row['error']}"
                )
                _save_progress(output, settings, results)
    order = {
        (s.name, p, m.name): k
        for k, (s, p, m) in enumerate(
            (s, p, m)
            for s in splits
            for p, g in grids.items()
            for m in methods.embedder_grid(g) + methods.peers()
        )
    }
    results.sort(key=lambda row: order.get((row["dataset"], row["prior"], row["method"]), 0))
    _save_progress(output, settings, results)
    return results, splits


def run_speed(settings, output):
    """Fit-time scaling, transform throughput and skorch overhead; save ``speed.json``.

    Parameters
    ----------
    settings : suites.Settings
        Sizes of the run.
    output : pathlib.Path
        Results folder.

    Returns
    -------
    speed_results : dict
        ``scaling``, ``slopes``, ``throughput``, ``overhead`` and ``summary``.
    """
    note_version()
    X_fit, X_new = suites.scaling_data(settings)
    log(
        f"speed: fit on n = {settings.scaling_sizes}, {settings.scaling_epochs} epochs; "
        f"transform {len(X_new)} new rows"
    )
    scaling, fitted = speed.fit_scaling(
        methods.speed_methods(),
        X_fit,
        settings.scaling_sizes,
        settings.scaling_epochs,
        progress=log,
    )
    slopes = speed.loglog_slopes(scaling)
    throughput = speed.transform_throughput(fitted, X_new)
    for name, rate in throughput.items():
        log(f"    transform {name:<16} {rate:12,.0f} rows/s   fit slope {slopes[name]:.2f}")
    log("speed: skorch overhead against a bare torch loop (bench_core.overhead, digits)")
    digits_rows = StandardScaler().fit_transform(load_digits().data)
    overhead = speed.skorch_overhead(
        digits_rows, settings.overhead_repeats, settings.overhead_epochs
    )
    log(f"    skorch / bare torch per epoch: {overhead['ratio']:.3f}")
    summary = speed.speed_summary(slopes, throughput, overhead, methods.speed_methods()[0].name)
    results = {
        "scaling": scaling,
        "slopes": slopes,
        "throughput_rows_per_s": throughput,
        "overhead": overhead,
        "summary": summary,
        "load_average_during_run": {"mean": float(np.mean(LOADS)), "max": float(np.max(LOADS))},
    }
    write_json(output / "speed.json", results)
    return results


def _saved_speed(output):
    """The speed results a finished earlier invocation saved (``--resume``)."""
    log("speed: kept from the interrupted run (speed.json)")
    return json.loads((output / "speed.json").read_text())


def write_report(settings, results, splits, speed_results, output, seconds):
    """Write ``results.md``: headline, verdicts, per-data-set tables, speed.

    Parameters
    ----------
    settings : suites.Settings
        Sizes of the run.
    results : list of dict
        Trade-off rows.
    splits : list of suites.Split
        Data sets.
    speed_results : dict or None
        Output of :func:`run_speed`, None when skipped.
    output : pathlib.Path
        Results folder.
    seconds : float
        Seconds the run took (all invocations, with ``--resume``).
    """
    mode = "quick" if settings.quick else "full"
    text = [
        f"# Benchmark results ({mode} mode)",
        "",
        f"`python benchmarks/run.py{' --quick' if settings.quick else ''}`: {seconds / 60:.1f} "
        f"min on {torch.get_num_threads()} torch threads ({platform.processor() or 'CPU'}), "
        f"torch {torch.__version__}, sklearn_ndim at {' then '.join(VERSIONS)}. "
        f"d = {suites.N_COMPONENTS} everywhere, seed "
        f"{suites.SEED}. Noise grids: Gaussian sigma {list(settings.gaussian_noise)}, uniform "
        f"eps {list(settings.uniform_noise)}. Machine load average during the run: mean "
        f"{np.mean(LOADS):.1f}, max {np.max(LOADS):.1f} on {os.cpu_count()} cores (a load above "
        "the core count means other processes competed for the CPU and timings are inflated)."
        + (" The run was interrupted and resumed (`--resume`)." if PREVIOUS_S else ""),
        "",
        "Data sets: "
        + "; ".join(
            f"**{s.name}**: {s.description} ({len(s.X_train)} / "
            f"{len(s.X_test)} rows, {s.max_epochs} epochs)"
            for s in splits
        ),
        "",
        "## Headline: best noise scale against each peer",
        "",
        "Cells: logistic-probe accuracy / sw2_ratio on the test split (sw2_ratio = sliced W2 "
        "distance to the prior divided by that of an exact prior sample; 1 is as close as "
        "sampling allows). The NI-DIM column shows the noise scale that dominates the most "
        "peers (ties: higher accuracy). **Bold** peer cells are dominated by it (higher "
        "accuracy and lower sw2_ratio).",
        "",
        reporting.headline_table(results),
        "",
        "Does some noise scale dominate every peer (the issue's goal)?",
        "",
        *reporting.verdict_lines(results),
        "",
        "## All methods, per data set and prior",
        "",
        "`ahead` marks the Pareto front on (probe accuracy up, sw2_ratio down). HZ p: "
        "Henze-Zirkler normality p-value (base space); KL: Gaussian-fit KL to N(0, I) in the "
        "base space with its sampling floor; max corr: largest |correlation| between two "
        "dimensions with its floor; MI test: InfoNCE estimate on the test rows (nats, noisy "
        "embedder only); capacity: channel capacity C (nats).",
        "",
    ]
    for (dataset, prior), rows in reporting.groups(results).items():
        text += [f"### {dataset}, {prior} prior", "", reporting.detail_table(rows), ""]
    if speed_results is not None:
        text += [
            "## Speed",
            "",
            "Fit time on the first n rows of a generated 30-feature table (NI-DIM and "
            f"adversarial DIM: {settings.scaling_epochs} epochs, batch 256); transform "
            "throughput on new rows, best of up to 5 runs after a warm-up call; skorch overhead "
            "from `bench_core.overhead` on digits.",
            "",
            reporting.speed_tables(
                speed_results["scaling"],
                speed_results["slopes"],
                speed_results["throughput_rows_per_s"],
                speed_results["summary"],
            ),
            "",
        ]
    text += ["## Figures", "", "![trade-off](tradeoff.png)", ""]
    if speed_results is not None:
        text += ["![fit-time scaling](scaling.png)", ""]
    (output / "results.md").write_text("\n".join(text))


def main():
    """Parse the command line, run the studies, write the results folder."""
    global SPEED_DONE
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small data, few epochs (~2 min)")
    parser.add_argument("--output", default="benchmarks/results", help="results folder")
    parser.add_argument("--datasets", nargs="*", help="only these data sets (digits table fashion)")
    parser.add_argument("--skip-speed", action="store_true", help="skip the speed study")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="keep the rows an interrupted run left in --output and fit only the missing ones",
    )
    args = parser.parse_args()
    settings = suites.QUICK if args.quick else suites.FULL
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    log(
        f"{'quick' if args.quick else 'full'} mode, {torch.get_num_threads()} torch threads, "
        f"code {CURRENT_VERSION}, results in {output}"
    )
    previous = _load_progress(output, settings) if args.resume else []
    if args.resume:
        log(f"resuming: {len(previous)} rows kept, {PREVIOUS_S / 60:.1f} min spent before")
    results, splits = run_tradeoff(settings, output, args.datasets, previous)
    speed_results = None
    if not args.skip_speed:
        speed_results = _saved_speed(output) if SPEED_DONE else run_speed(settings, output)
        SPEED_DONE = True
        _save_progress(output, settings, results)
    plots.tradeoff_plot(results, output / "tradeoff.png")
    if speed_results is not None:
        plots.scaling_plot(
            speed_results["scaling"],
            speed_results["slopes"],
            speed_results["throughput_rows_per_s"],
            output / "scaling.png",
        )
    seconds = elapsed()
    write_report(settings, results, splits, speed_results, output, seconds)
    log(f"done in {seconds / 60:.1f} min; see {output / 'results.md'}")
    print("\n" + reporting.headline_table(results))
    print("\n".join(reporting.verdict_lines(results)))


if __name__ == "__main__":
    main()
