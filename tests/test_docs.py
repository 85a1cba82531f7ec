"""The documentation cannot rot: its code runs, its API page covers every public name."""

import importlib
import re
import sys
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

DOCS = Path(__file__).resolve().parent.parent / "docs"
PAGES = sorted(path for path in DOCS.glob("*.rst") if ".. code-block:: python" in path.read_text())
PUBLIC_MODULES = ("sklearn_ndim", "metrics", "plotting", "outliers", "io", "distributed", "nn")


def python_blocks(text):
    """The bodies of the ``.. code-block:: python`` directives of a reST page, dedented."""
    blocks = []
    for match in re.finditer(r"^\.\. code-block:: python\n\n((?:(?:   .*)?\n)+)", text, re.M):
        lines = match.group(1).rstrip().splitlines()
        blocks.append("\n".join(line[3:] for line in lines) + "\n")
    return blocks


def test_python_blocks_are_extracted_exactly():
    text = "x\n\n.. code-block:: python\n\n   a = 1\n\n   b = a\nafter\n"
    assert python_blocks(text) == ["a = 1\n\nb = a\n"]


def test_the_guide_has_code():
    assert {page.name for page in PAGES} >= {"index.rst", "getting_started.rst", "scaling.rst"}


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_code_blocks_run(page, monkeypatch, tmp_path):
    """Each page's blocks run in order in one namespace, with fits cut to two epochs."""
    import sklearn_ndim._fitting as fitting

    monkeypatch.setattr(fitting, "resolve_max_epochs", lambda *args, **kwargs: 2)
    monkeypatch.chdir(tmp_path)
    # As a script's main module: blocks that start processes are guarded by
    # ``if __name__ == "__main__":``, as they must be in a script.
    namespace = {"__name__": "__main__"}
    for block in python_blocks(page.read_text()):
        exec(compile(block, str(page), "exec"), namespace)


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_blocks_that_start_processes_are_guarded_for_scripts(page):
    # Spawned processes import the script again: unguarded, a pasted block hangs or fails.
    for block in python_blocks(page.read_text()):
        if "fit_distributed(" in block or "LocalCluster(" in block:
            assert 'if __name__ == "__main__":' in block, block


def _documented_names():
    text = (DOCS / "api.rst").read_text()
    documented = set()
    for section in re.split(r"^\.\. currentmodule:: ", text, flags=re.M)[1:]:
        module = section.split("\n", 1)[0].strip()
        entries = re.findall(r"^   ([A-Za-z_]\w*)$", section, flags=re.M)
        entries += re.findall(r"^\.\. autodata:: (\w+)$", section, flags=re.M)
        documented |= {f"{module}.{name}" for name in entries}
    return documented


@pytest.mark.parametrize("short", PUBLIC_MODULES)
def test_the_api_page_lists_every_public_name(short):
    name = short if short == "sklearn_ndim" else f"sklearn_ndim.{short}"
    module = importlib.import_module(name)
    public = {f"{name}.{member}" for member in module.__all__ if member != "__version__"}
    assert public <= _documented_names(), sorted(public - _documented_names())


def test_benchmark_markdown_becomes_rst_tables():
    sys.path.insert(0, str(DOCS / "sphinxext"))
    try:
        from benchmark_tables import markdown_to_rst
    finally:
        sys.path.pop(0)
    text = "# Suite `match`\n\n| a | b |\n|---|---|\n| 1 | `x` |\n\n- met (1.2)\n"
    assert markdown_to_rst(text) == (
        "Suite ``match``\n---------------\n\n"
        ".. list-table::\n   :header-rows: 1\n\n"
        "   * - a\n     - b\n   * - 1\n     - ``x``\n\n"
        "- met (1.2)\n"
    )
