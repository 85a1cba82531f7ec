"""Every Python block in docs/*.md runs, page by page, in a fresh namespace."""

import re
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

DOCS = Path(__file__).resolve().parent.parent / "docs"
PAGES = sorted(path for path in DOCS.glob("*.md") if "```python" in path.read_text())


def _python_blocks(text):
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


def test_the_docs_have_examples():
    assert {page.name for page in PAGES} >= {"tuning.md", "diagnostics.md", "images.md"}


@pytest.mark.slow
@pytest.mark.filterwarnings("error::sklearn.exceptions.FitFailedWarning")
@pytest.mark.filterwarnings("error:One or more of the test scores are non-finite")
@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_examples_run(page):
    namespace = {"__name__": f"docs_{page.stem}"}
    for block in _python_blocks(page.read_text()):
        exec(compile(block, str(page), "exec"), namespace)
