"""The command line (``_cli`` and ``_cli_files``), tried with the files a new user has."""

import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from sklearn_ndim import __version__, _cli, _cli_files
from sklearn_ndim.io import load

FAST = ["--max-epochs", "2", "--n-components", "2"]


@pytest.fixture
def no_training(monkeypatch):
    """Fail the test if the command line starts training."""

    def refuse(*args, **kwargs):
        raise AssertionError("training started although the input was bad")

    monkeypatch.setattr(_cli, "_fit", refuse)


def _table(path, text):
    path.write_text(text)
    return str(path)


def _good_csv(tmp_path, n=40, header=True, delimiter=","):
    rng = np.random.default_rng(0)
    rows = [delimiter.join(["id", "a", "b", "c", "label"])] if header else []
    for i in range(n):
        a, b, c = rng.normal(size=3)
        rows.append(delimiter.join([f"r{i}", f"{a:.4f}", f"{b:.4f}", f"{c:.4f}", str(i % 2)]))
    return _table(tmp_path / "good.csv", "\n".join(rows) + "\n")


def _error(capsys, argv):
    assert _cli.main(argv) == 2
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line]
    assert len(lines) == 1 and lines[0].startswith("sklearn-ndim: error:"), captured.err
    assert "Traceback" not in captured.err + captured.out
    return lines[0]


_WITHOUT_PANDAS = """
import builtins, sys
real_import = builtins.__import__
def no_pandas(name, *args, **kwargs):
    if name == "pandas" or name.startswith("pandas."):
        raise ImportError("No module named 'pandas'")
    return real_import(name, *args, **kwargs)
builtins.__import__ = no_pandas
from sklearn_ndim._cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_help_and_version_do_not_import_torch(tmp_path):
    # They took about 3 s, importing torch, skorch and scikit-learn through the package.
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from sklearn_ndim._cli import main\n"
        "for argv in (['--version'], ['--help']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = sorted({'torch', 'skorch', 'sklearn', 'scipy'} & set(sys.modules))\n"
        "print('heavy:', heavy)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "heavy: []" in done.stdout
    assert "sklearn-ndim" in done.stdout  # the version line


def test_the_default_job_runs_without_pandas(tmp_path):
    # The base install has no pandas; the digits job, with its probe, imported it.
    import os
    import subprocess
    import sys

    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", _WITHOUT_PANDAS, *FAST],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "Logistic probe accuracy: embedding" in done.stdout


def test_label_helpers_agree_with_pandas_on_numbers_and_text():
    pd = pytest.importorskip("pandas")
    labels = np.array([3.0, np.nan, 1.0, 3.0, 2.0])
    assert _cli_files.missing_labels(labels).tolist() == pd.isna(labels).tolist()
    classes, counts = _cli_files.class_counts(labels[~np.isnan(labels)])
    expected = pd.Series(labels[~np.isnan(labels)]).value_counts(sort=False)
    assert classes == list(expected.index) and counts.tolist() == expected.tolist()
    text = np.array(["b", None, "a", "b"], dtype=object)
    assert _cli_files.missing_labels(text).tolist() == [False, True, False, False]
    assert _cli_files.class_counts(text[[0, 2, 3]])[0] == ["b", "a"]
    assert _cli_files.missing_labels(np.array([2, 1, 2])).tolist() == [False] * 3


@pytest.mark.parametrize(
    "text, extra, message",
    [
        ("a,b,name\n1,2,x\n3,4,y\n", [], r"column 'name' is not numeric \(line 2 holds 'x'\)"),
        (
            "a,name,b,city\n1,2,3,x\n4,p,5,y\n",
            [],
            r"error: \S+: columns 'name', 'city' are not numeric \(line 3 of 'name' holds 'p'\); "
            "encode them, name them in --keep-columns",
        ),
        ("a;b\n1;2\n3;?\n", [], r"column 'b' is not numeric \(line 3 holds '\?'\).*--na-values"),
        (
            "a;b\n1;2\n3;?\n",
            ["--na-values", "?"],
            r"missing values \(first at line 3, column 'b'\)",
        ),
        ("a,b\n1,2\n3,\n", [], "1 rows have missing values"),
        ("a,b\n1,2,3\n4,5,6\n", [], "line 2: 3 fields where the first row has 2"),
        ("a,b\n1,2\n3\n", [], "line 3: 1 fields where the first row has 2"),
        ("", [], "is empty"),
        ("a,b\n", [], "no data rows"),
        ("a,b\n1,2\n3,4\n", ["--n-components", "3"], "more than the 2 numeric columns"),
        ("a,b\n1,2\n3,4\n", ["--n-components", "2"], "2 rows are too few"),
        ("a,b\n1,2\n", ["--label-column", "y"], "column 'y' not found"),
        ("a,b\n1,2\n3,inf\n", [], r"infinite values .*\(first at line 3, column 'b': inf"),
        ("a,b\n1,2\n1e400,4\n", [], r"infinite values .*\(first at line 3, column 'a'"),
        ("a,b\n1e400,2\nabc,4\n3,5\n", [], r"column 'a' is not numeric \(line 3 holds 'abc'\)"),
        ("a,b,a\n1,2,3\n4,5,6\n", [], "the header names 'a' more than once"),
        (
            ",a,b\n18,1.5,2\n170,3.5,4\n2,5.5,6\n",
            [],
            r"the first column has no name: most often the index.*to_csv\(index=False\)",
        ),
        ("a,,b,\n1,2,3,4\n5,6,7,8\n", [], "columns 2, 4 have no name in the header"),
        ("a,,b\n1,2,3\n5,6,7\n", [], "column 2 has no name in the header"),
        ("a,b,\n1,2,\n5,6,\n", [], "the last column has no name: most often a delimiter at"),
        ("a;b\n0,5;1\n1,25;2\n", [], "holds '0,5'.*looks like a decimal comma"),
        ("a,b\n1,2\n3,1e308\n", [], r"values beyond 1e\+154 \(first at line 3, column 'b'"),
    ],
)
def test_bad_files_give_one_line_before_training(
    tmp_path, capsys, no_training, text, extra, message
):
    path = _table(tmp_path / "data.csv", text)
    line = _error(capsys, ["--csv", path, *extra])
    assert pytest.importorskip("re").search(message, line), line


def test_urls_and_missing_files_are_refused(capsys, no_training, tmp_path):
    assert "local file" in _error(capsys, ["--csv", "https://example.com/data.csv"])
    assert "no such file" in _error(capsys, ["--csv", str(tmp_path / "absent.csv")])
    assert "is a folder; give a file" in _error(capsys, ["--csv", str(tmp_path)])


def test_output_never_overwrites_the_input_and_checks_its_folder(tmp_path, capsys, no_training):
    path = _good_csv(tmp_path)
    assert "overwrite the file given to --csv" in _error(capsys, ["--csv", path, "--output", path])
    missing = str(tmp_path / "nowhere" / "out.csv")
    assert "does not exist" in _error(capsys, ["--csv", path, "--output", missing])
    # The model files are never overwritten by the embedding either.
    model = str(tmp_path / "model.safetensors")
    argv = ["--csv", path, "--save-model", model, "--output", model]
    assert "overwrite the file given to --save-model" in _error(capsys, argv)
    assert not (tmp_path / "model.safetensors").exists()
    argv = ["--csv", path, "--model", path, "--output", path]
    assert "would overwrite the file given to" in _error(capsys, argv)
    assert "is a folder" in _error(capsys, ["--csv", path, "--output", str(tmp_path)])
    line = _error(capsys, ["--csv", path, "--save-model", missing])
    assert line.startswith("sklearn-ndim: error: --save-model"), line


def test_a_file_that_is_not_utf8_is_named_with_the_line(tmp_path, capsys, no_training):
    path = tmp_path / "latin1.csv"
    path.write_bytes("caf\xe9,b\n1,2\n3,4\n".encode("latin-1"))
    line = _error(capsys, ["--csv", str(path)])
    assert "latin1.csv is not UTF-8 text (byte 0xe9 on line 1)" in line, line
    # Far into the file (past the decoder's first chunk), the line is still the file's.
    rows = ["a,b"] + [f"{i},{i}" for i in range(20_000)] + ["caf\xe9,1"]
    path.write_bytes("\n".join(rows).encode("latin-1"))
    assert "(byte 0xe9 on line 20002)" in _error(capsys, ["--csv", str(path)])


def test_option_values_are_checked_before_reading(tmp_path, capsys, no_training):
    path = _good_csv(tmp_path)
    with pytest.raises(SystemExit):
        _cli.main(["--csv", path, "--delimiter", ";;"])
    assert "--delimiter must be one character" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        _cli.main(["--csv", path, "--keep-columns", "id,id"])
    assert "--keep-columns names id more than once" in capsys.readouterr().err
    clash = _table(
        tmp_path / "clash.csv", open(path).read().replace("id,", "noisyinfomaxembedder0,")
    )
    argv = ["--csv", clash, "--keep-columns", "noisyinfomaxembedder0", "--output", "o.csv", *FAST]
    assert "would share its name with an embedding column" in _error(capsys, argv)


def test_a_hard_link_to_the_input_is_not_overwritten(tmp_path, capsys, no_training):
    import os

    path = _good_csv(tmp_path)
    link = tmp_path / "linked.csv"
    os.link(path, link)
    assert "overwrite the file given to --csv" in _error(
        capsys, ["--csv", path, "--output", str(link)]
    )


def test_kept_columns_are_copied_as_read(tmp_path, capsys):
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    # A spaced header, quoted names holding the delimiter or a line break (each
    # after a space, which belongs to the delimiter), kept in the order given.
    lines = ["zip, bigid, a, b, c, name"]
    for i in range(40):
        big = "" if i == 3 else str(12345678901234567 + i)
        a, b, c = rng.normal(size=3)
        name = '"Smith, J{0}"' if i % 2 else '"line\nbreak {0}"'
        lines.append(f"{i:05d},{big},{a:.4f},{b:.4f},{c:.4f}, " + name.format(i))
    path = _table(tmp_path / "ids.csv", "\n".join(lines) + "\n")
    output = tmp_path / "out.csv"
    argv = ["--csv", path, "--keep-columns", "name,zip,bigid", "--output", str(output)]
    assert _cli.main([*argv, *FAST]) == 0
    frame = pd.read_csv(output, dtype=str, keep_default_na=False)
    assert list(frame.columns[:3]) == ["name", "zip", "bigid"]
    assert list(frame["zip"]) == [f"{i:05d}" for i in range(40)]
    # As numbers, the empty cell made them floats and 17-digit ids equal.
    assert list(frame["bigid"]) == ["" if i == 3 else str(12345678901234567 + i) for i in range(40)]
    assert list(frame["name"]) == [
        f"Smith, J{i}" if i % 2 else f"line\nbreak {i}" for i in range(40)
    ]


def test_output_dash_writes_the_csv_alone_to_standard_output(tmp_path, capsys):
    import io

    pd = pytest.importorskip("pandas")
    path = _good_csv(tmp_path)
    argv = ["--csv", path, "--label-column", "label", "--keep-columns", "id", "--output", "-"]
    assert _cli.main([*argv, *FAST]) == 0
    captured = capsys.readouterr()
    frame = pd.read_csv(io.StringIO(captured.out))
    assert list(frame.columns) == ["id", "noisyinfomaxembedder0", "noisyinfomaxembedder1"]
    assert list(frame["id"]) == [f"r{i}" for i in range(40)]
    assert "Fitting" in captured.err and "Logistic probe accuracy" in captured.err
    assert "Wrote the embedding of all 40 rows to standard output" in captured.err
    assert not (tmp_path / "-").exists() and not Path("-").exists()


def test_output_dash_without_a_standard_output_is_refused_before_training(
    tmp_path, capsys, monkeypatch, no_training
):
    monkeypatch.setattr("sys.stdout", None)
    message = _error(capsys, ["--csv", _good_csv(tmp_path), "--output", "-"])
    assert "--output - writes to standard output, which is closed here" in message


def test_a_semicolon_file_with_ids_and_labels_is_embedded(tmp_path, capsys):
    pd = pytest.importorskip("pandas")
    path = _good_csv(tmp_path, delimiter=";")
    output = tmp_path / "embedding.csv"
    # A space after the comma, as people write lists, is not part of a name.
    argv = ["--csv", path, "--label-column", "label", "--keep-columns", "id, label"]
    assert _cli.main([*argv, "--output", str(output), *FAST]) == 0
    out = capsys.readouterr().out
    assert "Logistic probe accuracy" in out
    frame = pd.read_csv(output)
    assert list(frame.columns) == ["id", "label", "noisyinfomaxembedder0", "noisyinfomaxembedder1"]
    assert list(frame["id"]) == [f"r{i}" for i in range(40)]


def test_kept_and_label_columns_match_header_names_with_spaces(tmp_path, capsys):
    rng = np.random.default_rng(0)
    rows = ["id , a , b , c , label "]
    rows += [
        f"r{i} , " + " , ".join(f"{v:.3f}" for v in rng.normal(size=3)) + f" , {i % 2}"
        for i in range(40)
    ]
    path = _table(tmp_path / "spaced.csv", "\n".join(rows) + "\n")
    output = tmp_path / "out.csv"
    argv = ["--csv", path, "--keep-columns", "id", "--label-column", "label"]
    assert _cli.main([*argv, "--output", str(output), *FAST]) == 0
    assert output.read_text().splitlines()[1].startswith("r0 ,")


def test_a_file_without_a_header_takes_a_named_models_columns_by_position(tmp_path, capsys):
    named = _good_csv(tmp_path)
    model = str(tmp_path / "model.safetensors")
    assert (
        _cli.main(["--csv", named, "--keep-columns", "id,label", "--save-model", model, *FAST]) == 0
    )
    bare = _table(tmp_path / "bare.csv", "\n".join(open(named).read().splitlines()[1:]) + "\n")
    out, again = tmp_path / "bare_out.csv", tmp_path / "named_out.csv"
    capsys.readouterr()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no scikit-learn feature-name warning leaks out
        argv = ["--csv", bare, "--no-header", "--keep-columns", "0,4", "--model", model]
        assert _cli.main([*argv, "--output", str(out)]) == 0
    assert "taken, by position, as the model's a, b, c" in capsys.readouterr().err
    argv = ["--csv", named, "--keep-columns", "id,label", "--model", model]
    assert _cli.main([*argv, "--output", str(again)]) == 0
    embedding = [line.split(",")[2:] for line in out.read_text().splitlines()[1:]]
    assert embedding == [line.split(",")[2:] for line in again.read_text().splitlines()[1:]]


def test_files_without_a_header_use_column_positions(tmp_path, capsys):
    path = _good_csv(tmp_path, header=False)
    output = tmp_path / "out.csv"
    argv = ["--csv", path, "--no-header", "--keep-columns", "0", "--label-column", "4"]
    assert _cli.main([*argv, "--output", str(output), *FAST]) == 0
    assert output.read_text().splitlines()[1].startswith("r0,")


def test_fit_once_then_embed_other_files_with_the_saved_model(tmp_path, capsys):
    path = _good_csv(tmp_path)
    model = tmp_path / "model.safetensors"
    argv = ["--csv", path, "--keep-columns", "id,label", "--save-model", str(model)]
    assert _cli.main([*argv, *FAST]) == 0
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    for output in (first, second):
        argv = ["--csv", path, "--keep-columns", "id,label", "--model", str(model)]
        assert _cli.main([*argv, "--output", str(output)]) == 0
    assert first.read_text() == second.read_text()
    assert load(model).n_components_ == 2
    wrong = _table(tmp_path / "wrong.csv", "a,b\n1,2\n3,4\n")
    argv = ["--csv", wrong, "--model", str(model), "--output", str(tmp_path / "out.csv")]
    assert "fitted on 3 features" in _error(capsys, argv)


def test_a_model_saved_with_dataframe_output_embeds_a_file(tmp_path, capsys):
    from sklearn_ndim.io import save

    path = _good_csv(tmp_path)
    model = tmp_path / "model.safetensors"
    argv = ["--csv", path, "--keep-columns", "id", "--label-column", "label"]
    assert _cli.main([*argv, "--save-model", str(model), *FAST]) == 0
    save(load(model).set_output(transform="pandas"), model)
    plain, framed = tmp_path / "plain.csv", tmp_path / "framed.csv"
    assert _cli.main([*argv, "--model", str(model), "--output", str(framed)]) == 0
    save(load(model).set_output(transform="default"), model)
    assert _cli.main([*argv, "--model", str(model), "--output", str(plain)]) == 0
    assert framed.read_text() == plain.read_text()


def test_dropping_missing_rows_is_explicit(tmp_path, capsys):
    text = "a,b,c\n" + "".join(f"{i},{i % 3},{i % 5}\n" for i in range(30)) + "1,,2\n"
    path = _table(tmp_path / "gaps.csv", text)
    assert _cli.main(["--csv", path, "--drop-missing", *FAST]) == 0
    assert "Dropping 1 rows with missing values" in capsys.readouterr().err


def test_rows_dropped_for_missing_values_stay_in_the_output_with_empty_cells(tmp_path, capsys):
    rows = [line.split(",") for line in open(_good_csv(tmp_path)).read().splitlines()]
    rows[1 + 5][2] = ""  # b is missing in row 5
    rows[1 + 17][4] = ""  # the label is missing in row 17
    lines = [",".join(row) for row in rows]
    path = _table(tmp_path / "gaps.csv", "\n".join(lines) + "\n")
    output = tmp_path / "out.csv"
    argv = ["--csv", path, "--keep-columns", "id", "--label-column", "label", "--drop-missing"]
    assert _cli.main([*argv, "--output", str(output), *FAST]) == 0
    captured = capsys.readouterr()
    # Row 17 lacks only its label: it is fitted and embedded, and left out of the probe.
    assert captured.err == (
        "Dropping 1 rows with missing values (neither fitted, reported nor embedded); --output "
        "keeps their rows, in input order, with empty embedding cells.\n"
    )
    assert "on 27 training rows, 12 held out for the report" in captured.out  # 39 rows
    assert "1 rows have no label: fitted and embedded, left out of the probe." in captured.out
    assert "Logistic probe accuracy" in captured.out
    assert "Wrote 40 rows to" in captured.out and "the embedding of 39, and 1 rows" in captured.out
    written = output.read_text().splitlines()
    assert len(written) == 41
    assert [line.split(",")[0] for line in written[1:]] == [f"r{i}" for i in range(40)]
    empty = [i for i, line in enumerate(written[1:]) if line.endswith(",,")]
    assert empty == [5] and written[1 + 5] == "r5,,"
    assert all(len(line.split(",")) == 3 for line in written)


@pytest.mark.parametrize(
    "labels, message",
    [
        (lambda i: f"{i * 0.37:.2f}", r"holds continuous values \(0.37, ...\)"),
        (lambda i: "7", "holds 1 class;"),
        (lambda i: "", "holds 0 classes;"),
        (lambda i: f"w{i}", "holds 30 distinct values in 30 labelled rows, each value once"),
        (lambda i: str(i), "holds 30 distinct values in 30 labelled rows"),
    ],
    ids=["continuous", "one class", "no label", "text ids", "integer ids"],
)
def test_labels_the_probe_cannot_use_are_refused_before_training(
    tmp_path, capsys, no_training, labels, message
):
    rows = ["a,b,c,y"] + [f"{i},{i % 3},{i % 5},{labels(i)}" for i in range(30)]
    path = _table(tmp_path / "labels.csv", "\n".join(rows) + "\n")
    error = _error(capsys, ["--csv", path, "--label-column", "y"])
    assert "--label-column 'y'" in error and "class labels of two classes or more" in error
    assert re.search(message, error)


def test_few_labelled_rows_of_repeated_classes_are_not_taken_for_an_identifier():
    from sklearn_ndim._cli_files import _check_labels

    labels = np.array(["x", "y", "x"] + [np.nan] * 57, dtype=object)
    _check_labels(labels, "label", "sparse.csv")  # does not raise


def test_labels_are_not_checked_where_no_probe_runs(tmp_path, capsys):
    rows = ["a,b,c,y"] + [f"{i},{i % 3},{i % 5},{i * 0.37:.2f}" for i in range(30)]
    path = _table(tmp_path / "prices.csv", "\n".join(rows) + "\n")
    model = tmp_path / "model.safetensors"
    argv = ["--csv", path, "--label-column", "y"]
    assert _cli.main([*argv, "--holdout", "0", "--save-model", str(model), *FAST]) == 0
    capsys.readouterr()
    assert _cli.main([*argv, "--model", str(model), "--output", str(tmp_path / "out.csv")]) == 0
    err = capsys.readouterr().err
    assert "error" not in err and "labels in 'y' are not used" in err


def test_true_false_labels_with_an_empty_cell_are_probed_as_classes(tmp_path, capsys):
    rows = ["a,b,c,y"] + [f"{i},{i % 3},{i % 5},{'' if i == 4 else i % 2 == 0}" for i in range(40)]
    path = _table(tmp_path / "flags.csv", "\n".join(rows) + "\n")
    assert _cli.main(["--csv", path, "--label-column", "y", *FAST]) == 0
    out = capsys.readouterr().out
    assert "1 rows have no label" in out and "Logistic probe accuracy" in out


def test_a_class_with_one_row_is_held_out_without_stratifying(tmp_path, capsys):
    rows = ["a,b,c,y"] + [f"{i},{i % 3},{i % 5},{'rare' if i == 1 else i % 2}" for i in range(40)]
    path = _table(tmp_path / "rare.csv", "\n".join(rows) + "\n")
    assert _cli.main(["--csv", path, "--label-column", "y", *FAST]) == 0
    assert "Logistic probe accuracy" in capsys.readouterr().out


def test_model_options_beside_a_saved_model_are_refused(tmp_path, capsys):
    path = _good_csv(tmp_path)
    model = tmp_path / "model.safetensors"
    save = ["--csv", path, "--keep-columns", "id,label", "--save-model", str(model), *FAST]
    assert _cli.main(save) == 0
    capsys.readouterr()
    argv = ["--csv", path, "--keep-columns", "id,label", "--model", str(model)]
    argv += ["--output", str(tmp_path / "out.csv")]
    with pytest.raises(SystemExit) as stopped:
        _cli.main(
            [*argv, "--prior", "gaussian", "--n-components", "3", "--mixed-precision", "true"]
        )
    assert stopped.value.code == 2
    assert (
        "--prior, --n-components, --mixed-precision cannot apply to it" in capsys.readouterr().err
    )
    assert _cli.main([*argv, "--device", "cpu"]) == 0


def test_a_text_cell_after_a_dropped_row_is_reported_at_its_own_line(tmp_path, capsys):
    path = _table(tmp_path / "data.csv", "a,b,name\n1,,x\n3,4,y\n")
    assert _cli.main(["--csv", path, "--drop-missing"]) == 2
    assert "column 'name' is not numeric (line 3 holds 'y')" in capsys.readouterr().err


def test_version_help_and_bad_options(capsys):
    with pytest.raises(SystemExit) as stop:
        _cli.main(["--version"])
    assert stop.value.code == 0 and __version__ in capsys.readouterr().out
    with pytest.raises(SystemExit):
        _cli.main(["--help"])
    help_text = capsys.readouterr().out
    for option in ("--csv", "--no-header", "--output", "--save-model", "--model", "--device"):
        assert option in help_text
    assert "(default: 16)" in help_text
    assert "--prior-penalty" in help_text
    for argv in (
        ["--noise-scale", "loud"],
        ["--max-epochs", "0"],
        ["--model", "m.safetensors"],
        ["--prior-penalty", "-1"],
        ["--prior-penalty", "inf"],
    ):
        with pytest.raises(SystemExit) as stop:
            _cli.main(argv)
        assert stop.value.code == 2


def test_the_digits_demo_reports_the_match_and_the_probe(capsys):
    assert _cli.main(["--max-epochs", "3", "--n-components", "4"]) == 0
    out = capsys.readouterr().out
    assert "Held-out embedding (540 rows)" in out and "PCA(whiten)" in out


def test_the_prior_penalty_and_normalizer_reach_the_estimator(capsys):
    argv = ["--max-epochs", "1", "--n-components", "2", "--prior-penalty", "5"]
    assert _cli.main([*argv, "--normalizer", "standardize", "--mixed-precision", "true"]) == 0
    out = capsys.readouterr().out
    assert "prior_penalty=5.0" in out and "normalizer='standardize'" in out
    assert "mixed_precision=True" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--noise-scale", "-1"], "--noise-scale must be 0 or in [0.001, 1000], got -1.0"),
        (["--noise-scale", "1e-5"], "--noise-scale must be 0 or in [0.001, 1000], got 1e-05"),
        (["--seed", "-1"], "--seed must be in [0, 2**32 - 1], got -1"),
        (["--verbose", "5"], "argument --verbose: invalid choice: 5"),
        (["--csv", "x.csv", "--model", "m.safetensors"], "there is none: give --output"),
        (["--holdout", "0"], "would be lost: give --save-model, or a --holdout above 0"),
        (["--csv", "x.csv", "--holdout", "0"], "give --output or --save-model, or a --holdout"),
    ],
)
def test_parameter_errors_name_the_options_before_the_fit(capsys, argv, message):
    with pytest.raises(SystemExit) as stop:
        _cli.main(argv)
    assert stop.value.code == 2
    captured = capsys.readouterr()
    assert message in captured.err and "Fitting" not in captured.out


def test_the_help_shows_no_empty_defaults():
    assert "(default: )" not in _cli._parser().format_help()


def test_a_batch_of_one_row_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit):
        _cli.main(["--batch-size", "1"])
    assert "--batch-size must be at least 2" in capsys.readouterr().err


def test_device_moves_a_saved_model(tmp_path, capsys, monkeypatch):
    path = _good_csv(tmp_path)
    model = str(tmp_path / "model.safetensors")
    assert (
        _cli.main(["--csv", path, "--keep-columns", "id,label", "--save-model", model, *FAST]) == 0
    )
    devices = []
    real = load

    def recording(file, device=None, **kwargs):
        devices.append(device)
        return real(file, device=device, **kwargs)

    monkeypatch.setattr("sklearn_ndim.io.load", recording)
    argv = ["--csv", path, "--keep-columns", "id,label", "--model", model]
    argv += ["--output", str(tmp_path / "out.csv")]
    assert _cli.main(argv) == 0
    assert _cli.main([*argv, "--device", "cpu"]) == 0
    assert devices == [None, "cpu"]  # the saved device unless --device is given


def test_line_numbers_count_blank_lines_and_quoted_fields_after_spaces(tmp_path, capsys):
    text = 'a,b,name\n1,2,"x"\n\n3,,"y, z"\n'
    line = _error(capsys, ["--csv", _table(tmp_path / "gaps.csv", text)])
    assert "first at line 4, column 'b'" in line, line
    # A record that spans lines is named by its first; whitespace-only lines are skipped.
    text = 'a,b,name\n1,2,"x"\n3,,"multi\nline"\n5,6,"z"\n'
    line = _error(capsys, ["--csv", _table(tmp_path / "multi.csv", text)])
    assert "first at line 3, column 'b'" in line, line
    line = _error(capsys, ["--csv", _table(tmp_path / "spaces.csv", "a\n1\n   \n2\nx\n")])
    assert "line 5 holds 'x'" in line, line
    spaced = 'a, b, name\n1, 2, "Smith, J"\n'
    path = _table(tmp_path / "spaced.csv", spaced)
    # Read as three fields: the quoted name is text, named as such (not a field count error).
    assert "column 'name' is not numeric" in _error(capsys, ["--csv", path])


def test_a_text_cell_only_in_a_dropped_row_leaves_a_numeric_column(tmp_path, capsys):
    rows = ["a,b,c"] + [f"{i},{i % 3},{i % 5}" for i in range(30)] + ["x,,1"]
    path = _table(tmp_path / "drop.csv", "\n".join(rows) + "\n")
    assert _cli.main(["--csv", path, "--drop-missing", *FAST]) == 0
    assert "Dropping 1 rows" in capsys.readouterr().err
    rows = ["a,b,c"] + [f"{i % 2 == 0},{i % 3},{i % 5}" for i in range(30)] + ["x,,1"]
    path = _table(tmp_path / "bools.csv", "\n".join(rows) + "\n")
    assert _cli.main(["--csv", path, "--drop-missing", *FAST]) == 0


def test_many_classes_and_a_small_holdout_split_without_stratifying(tmp_path, capsys):
    rng = np.random.default_rng(0)
    rows = ["a,b,c,label"] + [
        ",".join(f"{v:.3f}" for v in rng.normal(size=3)) + f",{i % 20}" for i in range(120)
    ]
    path = _table(tmp_path / "classes.csv", "\n".join(rows) + "\n")
    argv = ["--csv", path, "--label-column", "label", "--holdout", "0.05", *FAST]
    assert _cli.main(argv) == 0


def test_a_held_out_split_of_one_class_says_the_probe_cannot_compare(tmp_path, capsys):
    rng = np.random.default_rng(0)
    rows = ["a,b,c,label"] + [
        ",".join(f"{v:.3f}" for v in rng.normal(size=3)) + (",0" if i < 58 else ",1")
        for i in range(60)
    ]
    path = _table(tmp_path / "rare.csv", "\n".join(rows) + "\n")
    argv = ["--csv", path, "--label-column", "label", "--holdout", "0.1", *FAST]
    assert _cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "Logistic probe accuracy: embedding 1.000, PCA(whiten) 1.000" in out
    assert "every labelled held-out row is of one class ('0')" in out


def test_an_absent_cuda_device_is_reported_before_the_banner(capsys):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert _cli.main(["--device", "cuda", *FAST]) == 2
    captured = capsys.readouterr()
    assert "Fitting" not in captured.out
    assert captured.err.startswith(
        "sklearn-ndim: error: device='cuda' was requested but CUDA is not available"
    )


def test_bad_option_values_are_one_line_too(capsys):
    for argv, message in (
        (["--noise-scale", "loud"], "--noise-scale must be a number or 'auto'"),
        (["--prior", "cauchy"], "argument --prior: invalid choice"),
        (["--holdout", "1"], "--holdout must be in [0, 0.9]"),
    ):
        with pytest.raises(SystemExit) as stop:
            _cli.main(argv)
        assert stop.value.code == 2
        lines = [line for line in capsys.readouterr().err.splitlines() if line]
        assert len(lines) == 1 and message in lines[0] and "--help" in lines[0], lines


def test_a_numeric_header_line_is_reported(tmp_path, capsys):
    text = "".join(f"{i}.5,{i % 3}.25,{i % 7}.75\n" for i in range(30))
    path = _table(tmp_path / "numbers.csv", text)
    assert _cli.main(["--csv", path, *FAST]) == 0
    err = capsys.readouterr().err
    assert "header line" in err and "--no-header" in err
    assert _cli.main(["--csv", path, "--no-header", *FAST]) == 0
    assert "header line" not in capsys.readouterr().err


def test_a_saved_model_refuses_columns_in_another_order(tmp_path, capsys):
    path = _good_csv(tmp_path)
    model = tmp_path / "model.safetensors"
    argv = ["--csv", path, "--keep-columns", "id", "--label-column", "label"]
    assert _cli.main([*argv, "--save-model", str(model), *FAST]) == 0
    lines = open(path).read().splitlines()
    swapped = [",".join(line.split(",")[i] for i in (0, 2, 1, 3, 4)) for line in lines]
    other = _table(tmp_path / "swapped.csv", "\n".join(swapped) + "\n")
    output = str(tmp_path / "out.csv")
    message = _error(
        capsys, [*argv[:1], other, *argv[2:], "--model", str(model), "--output", output]
    )
    assert "feature column 1 is 'b'" in message and "'a'" in message


def test_holdout_zero_fits_on_every_row(tmp_path, capsys):
    path = _good_csv(tmp_path)
    argv = ["--csv", path, "--keep-columns", "id", "--label-column", "label", "--holdout", "0"]
    assert _cli.main([*argv, "--output", str(tmp_path / "out.csv"), *FAST]) == 0
    out = capsys.readouterr().out
    assert "on 40 training rows ..." in out and "No rows held out" in out
    assert "Held-out embedding" not in out


def test_a_closed_pipe_ends_the_run_quietly():
    import subprocess
    import sys

    command = [sys.executable, "-m", "sklearn_ndim", "--max-epochs", "1", "--n-components", "2"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()  # as `| head -0` would
    _, err = process.communicate(timeout=300)
    assert process.returncode == 1 and b"Traceback" not in err, err.decode()


def test_holdout_sizes_are_checked_before_training(tmp_path, capsys, no_training):
    path = _good_csv(tmp_path, n=40)
    argv = ["--csv", path, "--keep-columns", "id", "--label-column", "label"]
    message = _error(capsys, [*argv, "--holdout", "0.05", "--n-components", "3"])
    assert "keeps 2 of the 40 rows" in message and "--holdout 0" in message
    message = _error(capsys, [*argv, "--holdout", "0.9", "--n-components", "3"])
    assert "leaves 4 rows to fit on" in message


def test_whitening_batches_are_checked_before_training(tmp_path, capsys, no_training):
    path = _good_csv(tmp_path, n=40)
    argv = ["--csv", path, "--keep-columns", "id", "--label-column", "label"]
    message = _error(capsys, [*argv, "--batch-size", "3", "--n-components", "3"])
    assert "--batch-size 3 is not more than --n-components 3" in message
    assert "--normalizer standardize" in message


def test_a_model_without_column_names_embeds_a_file_with_a_header(tmp_path, capsys):
    import warnings

    plain = _good_csv(tmp_path, header=False)
    model = tmp_path / "model.safetensors"
    argv = ["--csv", plain, "--no-header", "--keep-columns", "0", "--label-column", "4"]
    assert _cli.main([*argv, "--save-model", str(model), *FAST]) == 0
    named = _good_csv(tmp_path / ".." / tmp_path.name, header=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        argv = ["--csv", named, "--keep-columns", "id", "--label-column", "label"]
        argv += ["--model", str(model), "--output", str(tmp_path / "out.csv")]
        assert _cli.main(argv) == 0


def test_a_boolean_column_with_a_dropped_gap_is_numeric(tmp_path, capsys):
    rows = [line.split(",") for line in open(_good_csv(tmp_path)).read().splitlines()]
    rows[0].append("flag")
    for i, row in enumerate(rows[1:]):
        row.append("" if i == 3 else ("True" if i % 3 else "False"))
    path = _table(tmp_path / "flags.csv", "\n".join(",".join(row) for row in rows) + "\n")
    argv = ["--csv", path, "--keep-columns", "id", "--label-column", "label", "--drop-missing"]
    assert _cli.main([*argv, "--output", str(tmp_path / "out.csv"), *FAST]) == 0
    assert "Dropping 1 rows" in capsys.readouterr().err
