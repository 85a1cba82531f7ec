"""The one benchmark runner: ``python benchmarks/run.py [suite ...] [--quick]``.

Suites (see ``suites.py`` and ``speed_suites.py``): ``match``, ``images``, ``speed``, ``scaling``,
``uses``, ``tune``, ``penalty``, ``epochs``, ``terms``, ``splits``; the default runs
``match``, ``speed``, ``scaling`` and ``uses``. Each writes
``results/<suite>.json`` (rows and provenance: the commit of the package
code that ran, versions, machine, load) and ``results/<suite>.md``.
``--quick`` shrinks epochs, seeds and sizes to check that everything runs,
and writes to ``results/tmp/`` so that the committed results stay as they are.
"""

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import report  # noqa: E402
import sklearn  # noqa: E402
import torch  # noqa: E402
from suites import SUITES  # noqa: E402

import sklearn_ndim  # noqa: E402

FULL = {
    "seeds": [0, 1],
    "epochs": None,
    "fashion_train": 10_000,
    "fashion_test": 2_000,
    "scaling_sizes": [1_000, 10_000, 100_000, 1_000_000],
    "scaling_images": [6_000, 60_000],
    "speed_repeats": 3,
    "stream_seeds": [0, 1, 2],
    "split_seeds": [0, 1, 2, 3, 4],
}
QUICK = {
    "seeds": [0],
    "epochs": 3,
    "fashion_train": 2_000,
    "fashion_test": 500,
    "scaling_sizes": [1_000, 4_000],
    "scaling_images": [1_000, 2_000],
    "speed_repeats": 1,
    "stream_seeds": [0],
    "split_seeds": [0, 1],
}


def code_version():
    """The commits of the package and benchmark code, read when a suite starts."""

    def git(*args):
        done = subprocess.run(["git", *args], cwd=HERE, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else "unknown"

    # Results written by earlier runs are not code.
    changed = git("status", "--porcelain", "--", "../sklearn_ndim", ".", ":(exclude)results")
    return {
        "package_commit": git("log", "-1", "--format=%H", "--", "../sklearn_ndim"),
        "benchmark_commit": git("log", "-1", "--format=%H", "--", "."),
        "uncommitted_changes": bool(changed),
    }


def provenance(started, code):
    """Who measured: the code (read at the start), the versions, the machine and its load."""
    return {
        **code,
        "versions": {
            "sklearn_ndim": sklearn_ndim.__version__,
            "torch": torch.__version__,
            "scikit-learn": sklearn.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
        "machine": {
            "cpus": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "platform": platform.platform(),
            **cpu_model(),
        },
        "started": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started)),
        "minutes": round((time.time() - started) / 60, 1),
        "load_average_end": os.getloadavg()[0] if hasattr(os, "getloadavg") else math.nan,
    }


def cpu_model(cpuinfo="/proc/cpuinfo"):
    """The CPU's model name and whether it has bfloat16 instructions, where Linux says.

    ``mixed_precision=True`` pays on the CPU only with those instructions.
    """
    try:
        with open(cpuinfo, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return {}
    fields = {}
    for line in lines:
        key, colon, value = line.partition(":")
        if colon:
            fields.setdefault(key.strip(), value.strip())
    flags = fields.get("flags", "").split()
    return {
        "cpu_model": fields.get("model name") or "unknown",
        "bfloat16_instructions": any(flag in flags for flag in ("avx512_bf16", "amx_bf16")),
    }


def output_folder(quick, output=None):
    """Where results go: ``output`` if given, else ``results/`` (``results/tmp/`` when quick).

    A smoke run must not overwrite the committed results that the docs show.
    """
    if output is not None:
        return Path(output)
    return HERE / "results" / "tmp" if quick else HERE / "results"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = ["match", "speed", "scaling", "uses"]
    # Checked below, not with choices=: argparse (Python 3.10 to 3.13) checks an
    # empty or default list of a nargs="*" argument against the choices, and refuses it.
    parser.add_argument(
        "suites",
        nargs="*",
        metavar="suite",
        help=f"one of {', '.join(sorted(SUITES))} (default: {' '.join(default)})",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run in minutes, written to results/tmp/ unless --output is given",
    )
    parser.add_argument(
        "--output", type=Path, default=None, help="folder for the results (default: results/)"
    )
    args = parser.parse_args(argv)
    unknown = [name for name in args.suites if name not in SUITES]
    if unknown:
        parser.error(f"unknown suite {unknown[0]!r}; choose from {', '.join(sorted(SUITES))}")
    args.suites = args.suites or default
    args.output = output_folder(args.quick, args.output)
    settings = dict(QUICK if args.quick else FULL)
    settings["output"] = args.output
    args.output.mkdir(parents=True, exist_ok=True)

    def log(message):
        print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)

    for name in args.suites:
        started, code = time.time(), code_version()
        rows = SUITES[name](settings, log)
        payload = {
            "suite": name,
            "quick": args.quick,
            "provenance": provenance(started, code),
            "settings": {k: v for k, v in settings.items() if k != "output"},
            "rows": rows,
        }
        path = args.output / f"{name}.json"
        path.write_text(json.dumps(payload, indent=1, default=float))
        (args.output / f"{name}.md").write_text(report.markdown(payload))
        report.figures(payload, args.output)
        log(f"{name}: {len(rows)} rows in {payload['provenance']['minutes']} min -> {path}")


if __name__ == "__main__":
    main()
