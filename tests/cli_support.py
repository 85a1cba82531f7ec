"""Helpers shared by the command line's tests (test_cli.py and test_cli_files.py)."""

import numpy as np

from sklearn_ndim import _cli

FAST = ["--max-epochs", "2", "--n-components", "2"]


def write_table(path, text):
    """Write ``text`` to ``path`` and return the path as a string."""
    path.write_text(text)
    return str(path)


def good_csv(tmp_path, n=40, header=True, delimiter=","):
    """A valid CSV of ``n`` rows: an id, three numbers and a 0/1 label."""
    rng = np.random.default_rng(0)
    rows = [delimiter.join(["id", "a", "b", "c", "label"])] if header else []
    for i in range(n):
        a, b, c = rng.normal(size=3)
        rows.append(delimiter.join([f"r{i}", f"{a:.4f}", f"{b:.4f}", f"{c:.4f}", str(i % 2)]))
    return write_table(tmp_path / "good.csv", "\n".join(rows) + "\n")


def one_line_error(capsys, argv):
    """Run the command line on ``argv``; assert it failed with one line and return it."""
    assert _cli.main(argv) == 2
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line]
    assert len(lines) == 1 and lines[0].startswith("sklearn-ndim: error:"), captured.err
    assert "Traceback" not in captured.err + captured.out
    return lines[0]
