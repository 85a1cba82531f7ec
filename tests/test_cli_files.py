"""The command line's files (``_cli_files``): reading CSV input, labels, writing output."""

import re
import warnings

import numpy as np
import pytest
from cli_support import FAST, good_csv, one_line_error, write_table

from sklearn_ndim import _cli, _cli_files


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
    path = write_table(tmp_path / "data.csv", text)
    line = one_line_error(capsys, ["--csv", path, *extra])
    assert pytest.importorskip("re").search(message, line), line


def test_urls_and_missing_files_are_refused(capsys, no_training, tmp_path):
    assert "local file" in one_line_error(capsys, ["--csv", "https://example.com/data.csv"])
    assert "no such file" in one_line_error(capsys, ["--csv", str(tmp_path / "absent.csv")])
    assert "is a folder; give a file" in one_line_error(capsys, ["--csv", str(tmp_path)])


def test_output_never_overwrites_the_input_and_checks_its_folder(tmp_path, capsys, no_training):
    path = good_csv(tmp_path)
    assert "overwrite the file given to --csv" in one_line_error(
        capsys, ["--csv", path, "--output", path]
    )
    missing = str(tmp_path / "nowhere" / "out.csv")
    assert "does not exist" in one_line_error(capsys, ["--csv", path, "--output", missing])
    # The model files are never overwritten by the embedding either.
    model = str(tmp_path / "model.safetensors")
    argv = ["--csv", path, "--save-model", model, "--output", model]
    assert "overwrite the file given to --save-model" in one_line_error(capsys, argv)
    assert not (tmp_path / "model.safetensors").exists()
    argv = ["--csv", path, "--model", path, "--output", path]
    assert "would overwrite the file given to" in one_line_error(capsys, argv)
    assert "is a folder" in one_line_error(capsys, ["--csv", path, "--output", str(tmp_path)])
    line = one_line_error(capsys, ["--csv", path, "--save-model", missing])
    assert line.startswith("sklearn-ndim: error: --save-model"), line


def test_a_file_that_is_not_utf8_is_named_with_the_line(tmp_path, capsys, no_training):
    path = tmp_path / "latin1.csv"
    path.write_bytes("caf\xe9,b\n1,2\n3,4\n".encode("latin-1"))
    line = one_line_error(capsys, ["--csv", str(path)])
    assert "latin1.csv is not UTF-8 text (byte 0xe9 on line 1)" in line, line
    # Far into the file (past the decoder's first chunk), the line is still the file's.
    rows = ["a,b"] + [f"{i},{i}" for i in range(20_000)] + ["caf\xe9,1"]
    path.write_bytes("\n".join(rows).encode("latin-1"))
    assert "(byte 0xe9 on line 20002)" in one_line_error(capsys, ["--csv", str(path)])


def test_a_hard_link_to_the_input_is_not_overwritten(tmp_path, capsys, no_training):
    import os

    path = good_csv(tmp_path)
    link = tmp_path / "linked.csv"
    os.link(path, link)
    assert "overwrite the file given to --csv" in one_line_error(
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
    path = write_table(tmp_path / "ids.csv", "\n".join(lines) + "\n")
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


def test_a_semicolon_file_with_ids_and_labels_is_embedded(tmp_path, capsys):
    pd = pytest.importorskip("pandas")
    path = good_csv(tmp_path, delimiter=";")
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
    path = write_table(tmp_path / "spaced.csv", "\n".join(rows) + "\n")
    output = tmp_path / "out.csv"
    argv = ["--csv", path, "--keep-columns", "id", "--label-column", "label"]
    assert _cli.main([*argv, "--output", str(output), *FAST]) == 0
    assert output.read_text().splitlines()[1].startswith("r0 ,")


def test_files_without_a_header_use_column_positions(tmp_path, capsys):
    path = good_csv(tmp_path, header=False)
    output = tmp_path / "out.csv"
    argv = ["--csv", path, "--no-header", "--keep-columns", "0", "--label-column", "4"]
    assert _cli.main([*argv, "--output", str(output), *FAST]) == 0
    assert output.read_text().splitlines()[1].startswith("r0,")


def test_rows_dropped_for_missing_values_stay_in_the_output_with_empty_cells(tmp_path, capsys):
    rows = [line.split(",") for line in open(good_csv(tmp_path)).read().splitlines()]
    rows[1 + 5][2] = ""  # b is missing in row 5
    rows[1 + 17][4] = ""  # the label is missing in row 17
    lines = [",".join(row) for row in rows]
    path = write_table(tmp_path / "gaps.csv", "\n".join(lines) + "\n")
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
    path = write_table(tmp_path / "labels.csv", "\n".join(rows) + "\n")
    error = one_line_error(capsys, ["--csv", path, "--label-column", "y"])
    assert "--label-column 'y'" in error and "class labels of two classes or more" in error
    assert re.search(message, error)


def test_few_labelled_rows_of_repeated_classes_are_not_taken_for_an_identifier():
    from sklearn_ndim._cli_files import _check_labels

    labels = np.array(["x", "y", "x"] + [np.nan] * 57, dtype=object)
    _check_labels(labels, "label", "sparse.csv")  # does not raise


def test_true_false_labels_with_an_empty_cell_are_probed_as_classes(tmp_path, capsys):
    rows = ["a,b,c,y"] + [f"{i},{i % 3},{i % 5},{'' if i == 4 else i % 2 == 0}" for i in range(40)]
    path = write_table(tmp_path / "flags.csv", "\n".join(rows) + "\n")
    assert _cli.main(["--csv", path, "--label-column", "y", *FAST]) == 0
    out = capsys.readouterr().out
    assert "1 rows have no label" in out and "Logistic probe accuracy" in out


def test_a_text_cell_after_a_dropped_row_is_reported_at_its_own_line(tmp_path, capsys):
    path = write_table(tmp_path / "data.csv", "a,b,name\n1,,x\n3,4,y\n")
    assert _cli.main(["--csv", path, "--drop-missing"]) == 2
    assert "column 'name' is not numeric (line 3 holds 'y')" in capsys.readouterr().err


def test_line_numbers_count_blank_lines_and_quoted_fields_after_spaces(tmp_path, capsys):
    text = 'a,b,name\n1,2,"x"\n\n3,,"y, z"\n'
    line = one_line_error(capsys, ["--csv", write_table(tmp_path / "gaps.csv", text)])
    assert "first at line 4, column 'b'" in line, line
    # A record that spans lines is named by its first; whitespace-only lines are skipped.
    text = 'a,b,name\n1,2,"x"\n3,,"multi\nline"\n5,6,"z"\n'
    line = one_line_error(capsys, ["--csv", write_table(tmp_path / "multi.csv", text)])
    assert "first at line 3, column 'b'" in line, line
    line = one_line_error(
        capsys, ["--csv", write_table(tmp_path / "spaces.csv", "a\n1\n   \n2\nx\n")]
    )
    assert "line 5 holds 'x'" in line, line
    spaced = 'a, b, name\n1, 2, "Smith, J"\n'
    path = write_table(tmp_path / "spaced.csv", spaced)
    # Read as three fields: the quoted name is text, named as such (not a field count error).
    assert "column 'name' is not numeric" in one_line_error(capsys, ["--csv", path])


def test_a_text_cell_only_in_a_dropped_row_leaves_a_numeric_column(tmp_path, capsys):
    rows = ["a,b,c"] + [f"{i},{i % 3},{i % 5}" for i in range(30)] + ["x,,1"]
    path = write_table(tmp_path / "drop.csv", "\n".join(rows) + "\n")
    assert _cli.main(["--csv", path, "--drop-missing", *FAST]) == 0
    assert "Dropping 1 rows" in capsys.readouterr().err
    rows = ["a,b,c"] + [f"{i % 2 == 0},{i % 3},{i % 5}" for i in range(30)] + ["x,,1"]
    path = write_table(tmp_path / "bools.csv", "\n".join(rows) + "\n")
    assert _cli.main(["--csv", path, "--drop-missing", *FAST]) == 0


def test_a_numeric_header_line_is_reported(tmp_path, capsys):
    text = "".join(f"{i}.5,{i % 3}.25,{i % 7}.75\n" for i in range(30))
    path = write_table(tmp_path / "numbers.csv", text)
    assert _cli.main(["--csv", path, *FAST]) == 0
    err = capsys.readouterr().err
    assert "header line" in err and "--no-header" in err
    assert _cli.main(["--csv", path, "--no-header", *FAST]) == 0
    assert "header line" not in capsys.readouterr().err


def test_a_saved_model_refuses_columns_in_another_order(tmp_path, capsys):
    path = good_csv(tmp_path)
    model = tmp_path / "model.safetensors"
    argv = ["--csv", path, "--keep-columns", "id", "--label-column", "label"]
    assert _cli.main([*argv, "--save-model", str(model), *FAST]) == 0
    lines = open(path).read().splitlines()
    swapped = [",".join(line.split(",")[i] for i in (0, 2, 1, 3, 4)) for line in lines]
    other = write_table(tmp_path / "swapped.csv", "\n".join(swapped) + "\n")
    output = str(tmp_path / "out.csv")
    message = one_line_error(
        capsys, [*argv[:1], other, *argv[2:], "--model", str(model), "--output", output]
    )
    assert "feature column 1 is 'b'" in message and "'a'" in message


def test_holdout_sizes_are_checked_before_training(tmp_path, capsys, no_training):
    path = good_csv(tmp_path, n=40)
    argv = ["--csv", path, "--keep-columns", "id", "--label-column", "label"]
    message = one_line_error(capsys, [*argv, "--holdout", "0.05", "--n-components", "3"])
    assert "keeps 2 of the 40 rows" in message and "--holdout 0" in message
    message = one_line_error(capsys, [*argv, "--holdout", "0.9", "--n-components", "3"])
    assert "leaves 4 rows to fit on" in message


def test_whitening_batches_are_checked_before_training(tmp_path, capsys, no_training):
    path = good_csv(tmp_path, n=40)
    argv = ["--csv", path, "--keep-columns", "id", "--label-column", "label"]
    message = one_line_error(capsys, [*argv, "--batch-size", "3", "--n-components", "3"])
    assert "--batch-size 3 is not more than --n-components 3" in message
    assert "--normalizer standardize" in message


def test_a_model_without_column_names_embeds_a_file_with_a_header(tmp_path, capsys):

    plain = good_csv(tmp_path, header=False)
    model = tmp_path / "model.safetensors"
    argv = ["--csv", plain, "--no-header", "--keep-columns", "0", "--label-column", "4"]
    assert _cli.main([*argv, "--save-model", str(model), *FAST]) == 0
    named = good_csv(tmp_path / ".." / tmp_path.name, header=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        argv = ["--csv", named, "--keep-columns", "id", "--label-column", "label"]
        argv += ["--model", str(model), "--output", str(tmp_path / "out.csv")]
        assert _cli.main(argv) == 0


def test_a_boolean_column_with_a_dropped_gap_is_numeric(tmp_path, capsys):
    rows = [line.split(",") for line in open(good_csv(tmp_path)).read().splitlines()]
    rows[0].append("flag")
    for i, row in enumerate(rows[1:]):
        row.append("" if i == 3 else ("True" if i % 3 else "False"))
    path = write_table(tmp_path / "flags.csv", "\n".join(",".join(row) for row in rows) + "\n")
    argv = ["--csv", path, "--keep-columns", "id", "--label-column", "label", "--drop-missing"]
    assert _cli.main([*argv, "--output", str(tmp_path / "out.csv"), *FAST]) == 0
    assert "Dropping 1 rows" in capsys.readouterr().err
