"""Sphinx configuration: pydata theme, numpydoc, autosummary, an executed gallery."""

import os
import sys
from pathlib import Path

import sklearn_ndim

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(DOCS / "sphinxext"))

project = "sklearn-ndim"
author = "sklearn-ndim developers"
copyright = "2026, sklearn-ndim developers"
release = sklearn_ndim.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "sphinx-mathjax-offline",
    "benchmark_tables",
]

templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "Thumbs.db",
    ".DS_Store",
    "**.ipynb_checkpoints",
    "auto_examples/*.md5",
]
nitpicky = True
# Plain-language type descriptions in docstrings ("array-like of shape ..."),
# not cross-reference targets.
nitpick_ignore_regex = [("py:class", r"array-like.*|.*of shape.*|default.*|optional")]

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"
# torch.nn.Module.forward's docstring is about torch, not about these modules.
autodoc_inherit_docstrings = False
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
numpydoc_validation_checks = set()

# Inventories built offline from the installed libraries (docs/make_inventories.py):
# the build needs no network, the links point at each project's published docs.
INVENTORIES = DOCS / "_inventories"
intersphinx_mapping = {
    name: (url, str(INVENTORIES / f"{name}.inv"))
    for name, url in {
        "python": "https://docs.python.org/3/",
        "numpy": "https://numpy.org/doc/stable/",
        "scipy": "https://docs.scipy.org/doc/scipy/",
        "sklearn": "https://scikit-learn.org/stable/",
        "torch": "https://docs.pytorch.org/docs/stable/",
        "skorch": "https://skorch.readthedocs.io/en/stable/",
    }.items()
}

# Quick gallery: SKLEARN_NDIM_DOCS_QUICK=1 shortens every fit to two epochs
# (a smoke build; the published site is built without it).
QUICK = os.environ.get("SKLEARN_NDIM_DOCS_QUICK") == "1"
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "reset_modules": ("matplotlib", "gallery_settings.quick_fits") if QUICK else ("matplotlib",),
    "doc_module": ("sklearn_ndim",),
    "reference_url": {"sklearn_ndim": None},
    "backreferences_dir": "generated/backreferences",
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "abort_on_example_error": True,
    # The timing page loads scripts from CDNs; the build must work offline.
    "write_computation_times": False,
}


html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-ndim {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_context = {"default_mode": "light"}
html_show_sourcelink = False
