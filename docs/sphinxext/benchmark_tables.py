"""Sphinx extension: the benchmark results as reStructuredText, written at build time.

The result tables are not copied by hand: ``benchmarks/results/<suite>.md``
(written by ``benchmarks/run.py``) becomes ``docs/_generated/bench_<suite>.rst``,
and the tables of the user guide are read from ``benchmarks/results/match.json``
(the prose quotes figures from them, which the docs review checks).
"""

import json
import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results"
GENERATED = ROOT / "docs" / "_generated"
SUITES = (
    "match",
    "images",
    "speed",
    "scaling",
    "uses",
    "tune",
    "penalty",
    "epochs",
    "terms",
    "splits",
)
_UNDERLINES = {1: "=", 2: "-", 3: "~"}


def _inline(text):
    """Markdown inline code and links to reST."""
    text = re.sub(r"`([^`]+)`", r"``\1``", text)
    return re.sub(r"\[([^\]]+)\]\(([^)]+)\)", r"`\1 <\2>`__", text)


def _cells(line):
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _list_table(lines):
    header, *body = [_cells(line) for line in lines if not re.match(r"^\|(-+\|)+$", line)]
    out = [".. list-table::", "   :header-rows: 1", ""]
    for row in [header, *body]:
        out.append(f"   * - {_inline(row[0]) or ' '}")
        out += [f"     - {_inline(cell) or ' '}" for cell in row[1:]]
    return out + [""]


def markdown_to_rst(text, top_level=2):
    """The subset of Markdown the benchmark reports use: headings, tables, lists, images."""
    out, table = [], []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            table.append(line)
            continue
        if table:
            out += _list_table(table)
            table = []
        heading = re.match(r"^(#+) (.*)$", line)
        image = re.match(r"^!\[([^\]]*)\]\(([^)]+)\)$", line)
        if heading:
            level = len(heading.group(1)) + top_level - 1
            title = _inline(heading.group(2))
            out += [title, _UNDERLINES[min(level, 3)] * len(title), ""]
        elif image:
            target = os.path.relpath(RESULTS / image.group(2), ROOT / "docs")
            out += [f".. image:: /{target}", f"   :alt: {image.group(1)}", ""]
        else:
            out.append(_inline(line))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out).rstrip("\n") + "\n")


def _rows(suite):
    path = RESULTS / f"{suite}.json"
    return json.loads(path.read_text())["rows"] if path.exists() else []


def _pair(row):
    return f"{row['probe']:.3f} / {row['w2_ratio']:.2f}" if row else "-"


def comparison_table(rows):
    """Probe / W2 ratio of the default against the usual alternatives, per data set at d=16."""
    sets = [
        name for name in ("digits", "table", "fashion") if any(r["dataset"] == name for r in rows)
    ]
    methods = [
        ("this library (default)", "NI-DIM", "auto"),
        ("PCA(whiten)", "PCA(whiten)", ""),
        ("PCA + quantile map", "PCA+quantile", ""),
        ("UMAP + whitening", "UMAP (whitened)", ""),
        ("VAE (posterior means)", "VAE", ""),
        ("WAE-MMD", "WAE-MMD", ""),
    ]
    lines = [
        ".. list-table:: probe accuracy / W2 ratio (held-out rows, d = 16)",
        "   :header-rows: 1",
        "",
        "   * - method",
    ]
    lines += [f"     - {name}" for name in sets]
    for title, method, noise in methods:
        lines.append(f"   * - {title}")
        for name in sets:
            row = next(
                (
                    r
                    for r in rows
                    if r["dataset"] == name
                    and int(r["d"]) == 16
                    and r["method"] == method
                    and str(r.get("noise", "")) == noise
                ),
                None,
            )
            lines.append(f"     - {_pair(row)}")
    return "\n".join(lines) + "\n"


def noise_table(rows):
    """Held-out probe and W2 ratio over the noise grid, per data set at d=16."""
    sweep = [
        r for r in rows if int(r["d"]) == 16 and r["method"] in ("InfoMax (noise 0)", "NI-DIM")
    ]
    grid = sorted({r["noise"] for r in sweep if r["method"] == "NI-DIM"}, key=_noise_order)
    lines = [
        ".. list-table:: probe accuracy / W2 ratio on test rows (W2 ratio on training rows)",
        "   :header-rows: 1",
        "",
        "   * - data set",
        "     - noise 0",
        *[f"     - noise {'auto (1.0 at d = 16)' if n == 'auto' else n}" for n in grid],
    ]
    for name in dict.fromkeys(r["dataset"] for r in sweep):
        group = [r for r in sweep if r["dataset"] == name]
        cells = [next((r for r in group if r["method"] == "InfoMax (noise 0)"), None)]
        cells += [
            next((r for r in group if r["noise"] == n and r["method"] == "NI-DIM"), None)
            for n in grid
        ]
        lines.append(f"   * - {name}")
        lines += [
            f"     - {_pair(r)} ({r['w2_ratio_train']:.2f})" if r else "     - -" for r in cells
        ]
    return "\n".join(lines) + "\n"


def penalty_table(rows):
    """Held-out probe / W2 ratio per prior penalty weight and noise, per data set."""
    noises = sorted({r["noise"] for r in rows}, key=_noise_order)
    lines = [
        ".. list-table:: probe accuracy / W2 ratio on test rows (W2 ratio on training rows)",
        "   :header-rows: 1",
        "",
        "   * - data set",
        "     - prior penalty",
        *[f"     - noise {'auto' if n == 'auto' else n}" for n in noises],
    ]
    keys = dict.fromkeys((r["dataset"], int(r["d"]), r["penalty"]) for r in rows)
    for name, d, weight in keys:
        group = [r for r in rows if (r["dataset"], int(r["d"]), r["penalty"]) == (name, d, weight)]
        lines.append(f"   * - {name}, d = {d}")
        lines.append(f"     - {weight:g}")
        for noise in noises:
            row = next((r for r in group if r["noise"] == noise), None)
            lines.append(
                f"     - {_pair(row)} ({row['w2_ratio_train']:.2f})" if row else "     - -"
            )
    return "\n".join(lines) + "\n"


def _noise_order(noise):
    return float("inf") if noise == "auto" else float(noise)


def write_all(app=None):
    GENERATED.mkdir(exist_ok=True)
    for suite in SUITES:
        source = RESULTS / f"{suite}.md"
        text = (
            markdown_to_rst(source.read_text())
            if source.exists()
            else (
                f"No results for the ``{suite}`` suite yet: "
                f"run ``python benchmarks/run.py {suite}``.\n"
            )
        )
        (GENERATED / f"bench_{suite}.rst").write_text(text)
    match = _rows("match")
    missing = "No results of the ``match`` suite yet: run ``python benchmarks/run.py match``.\n"
    for name, make in (("when_to_use_table", comparison_table), ("noise_sweep_table", noise_table)):
        (GENERATED / f"{name}.rst").write_text(make(match) if match else missing)
    penalty = _rows("penalty")
    (GENERATED / "penalty_table.rst").write_text(
        penalty_table(penalty)
        if penalty
        else "No results of the ``penalty`` suite yet: run ``python benchmarks/run.py penalty``.\n"
    )


def setup(app):
    app.connect("builder-inited", write_all)
    return {"parallel_read_safe": True, "version": "1"}
