#!/usr/bin/env python3
"""Set-up-and-run entry point for a fresh machine: ``python3 tasks.py demo|test|docs``.

Creates ``.venv`` next to this file on first use, installs the package with
the extras the task needs into it, then runs the demo (the command-line job
on scikit-learn's digits), the test suite, or builds the documentation site
(``docs/_build/html``: warnings are errors, every internal link is checked,
and headless Chromium opens three pages; ``--no-browser`` skips that last
step). Only Python and pip are needed (and Debian's ``chromium`` for the
browser check).

Torch: a torch already present in the environment is kept. Otherwise the
version named by ``SKLEARN_NDIM_TORCH`` is installed first (default
``torch==2.13.0``, a CPU build where one is on disk; the package itself only
requires ``torch>=2.4``). To use an environment you already have (a GPU build
of torch, say), set ``SKLEARN_NDIM_PYTHON`` to its interpreter: nothing is
then created, only the package is installed into it.
"""

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
DEFAULT_TORCH = "torch==2.13.0"


def _python():
    chosen = os.environ.get("SKLEARN_NDIM_PYTHON")
    if chosen:
        return chosen
    python = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    if not python.exists():
        print(f"Creating virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    return str(python)


def _run(*command):
    print("+", " ".join(command), flush=True)
    subprocess.run(command, check=True, cwd=ROOT)


def _has(python, module):
    probe = subprocess.run([python, "-c", f"import {module}"], capture_output=True, cwd="/")
    return probe.returncode == 0


def _install(python, task):
    pip = [python, "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    if not _has(python, "torch"):
        _run(*pip, os.environ.get("SKLEARN_NDIM_TORCH", DEFAULT_TORCH))
    if task == "demo":
        # The demo needs the package and pandas (CSV files) only, not the test tools.
        if not (_has(python, "sklearn_ndim") and _has(python, "pandas")):
            _run(*pip, "-e", ".[cli]")
    elif not (_has(python, "sklearn_ndim") and _has(python, "pytest")):
        _run(*pip, "-e", ".[test]")
    if task == "docs" and not (_has(python, "sphinx_gallery") and _has(python, "playwright")):
        _run(*pip, "-e", ".[docs]")


def _docs(python, options):
    html = ROOT / "docs" / "_build" / "html"
    build = [python, "-m", "sphinx", "-W", "--keep-going", "-n", "-b", "html", "docs", str(html)]
    steps = [build, [python, "docs/check_links.py", str(html)]]
    if "--no-browser" not in options:
        steps.append([python, "docs/check_browser.py", str(html)])
    for step in steps:
        print("+", " ".join(step), flush=True)
        status = subprocess.run(step, cwd=ROOT).returncode
        if status:
            return status
    print(f"The site is in {html}; open {html / 'index.html'}")
    return 0


def main(argv):
    usage = "usage: python3 tasks.py {demo|test|docs} [extra arguments passed on]"
    if not argv or argv[0] not in ("demo", "test", "docs"):
        print(usage, file=sys.stderr)
        return 2
    python = _python()
    _install(python, argv[0])
    if argv[0] == "docs":
        return _docs(python, argv[1:])
    if argv[0] == "demo":
        command = [python, "-m", "sklearn_ndim", *argv[1:]]
    else:
        command = [python, "-m", "pytest", *argv[1:]]
    return subprocess.run(command, cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
