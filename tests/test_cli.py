"""The command line (``_cli``): its options, jobs and messages."""

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from cli_support import FAST, good_csv, one_line_error, write_table

from sklearn_ndim import __version__, _cli
from sklearn_ndim.io import load

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


def test_option_values_are_checked_before_reading(tmp_path, capsys, no_training):
    path = good_csv(tmp_path)
    with pytest.raises(SystemExit):
        _cli.main(["--csv", path, "--delimiter", ";;"])
    assert "--delimiter must be one character" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        _cli.main(["--csv", path, "--keep-columns", "id,id"])
    assert "--keep-columns names id more than once" in capsys.readouterr().err
    clash = write_table(
        tmp_path / "clash.csv", open(path).read().replace("id,", "noisyinfomaxembedder0,")
    )
    argv = ["--csv", clash, "--keep-columns", "noisyinfomaxembedder0", "--output", "o.csv", *FAST]
    assert "would share its name with an embedding column" in one_line_error(capsys, argv)


def test_output_dash_writes_the_csv_alone_to_standard_output(tmp_path, capsys):
    import io

    pd = pytest.importorskip("pandas")
    path = good_csv(tmp_path)
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
    message = one_line_error(capsys, ["--csv", good_csv(tmp_path), "--output", "-"])
    assert "--output - writes to standard output, which is closed here" in message


def test_a_file_without_a_header_takes_a_named_models_columns_by_position(tmp_path, capsys):
    named = good_csv(tmp_path)
    model = str(tmp_path / "model.safetensors")
    assert (
        _cli.main(["--csv", named, "--keep-columns", "id,label", "--save-model", model, *FAST]) == 0
    )
    bare = write_table(tmp_path / "bare.csv", "\n".join(open(named).read().splitlines()[1:]) + "\n")
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


def test_fit_once_then_embed_other_files_with_the_saved_model(tmp_path, capsys):
    path = good_csv(tmp_path)
    model = tmp_path / "model.safetensors"
    argv = ["--csv", path, "--keep-columns", "id,label", "--save-model", str(model)]
    assert _cli.main([*argv, *FAST]) == 0
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    for output in (first, second):
        argv = ["--csv", path, "--keep-columns", "id,label", "--model", str(model)]
        assert _cli.main([*argv, "--output", str(output)]) == 0
    assert first.read_text() == second.read_text()
    assert load(model).n_components_ == 2
    wrong = write_table(tmp_path / "wrong.csv", "a,b\n1,2\n3,4\n")
    argv = ["--csv", wrong, "--model", str(model), "--output", str(tmp_path / "out.csv")]
    assert "fitted on 3 features" in one_line_error(capsys, argv)


def test_a_model_saved_with_dataframe_output_embeds_a_file(tmp_path, capsys):
    from sklearn_ndim.io import save

    path = good_csv(tmp_path)
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
    path = write_table(tmp_path / "gaps.csv", text)
    assert _cli.main(["--csv", path, "--drop-missing", *FAST]) == 0
    assert "Dropping 1 rows with missing values" in capsys.readouterr().err


def test_labels_are_not_checked_where_no_probe_runs(tmp_path, capsys):
    rows = ["a,b,c,y"] + [f"{i},{i % 3},{i % 5},{i * 0.37:.2f}" for i in range(30)]
    path = write_table(tmp_path / "prices.csv", "\n".join(rows) + "\n")
    model = tmp_path / "model.safetensors"
    argv = ["--csv", path, "--label-column", "y"]
    assert _cli.main([*argv, "--holdout", "0", "--save-model", str(model), *FAST]) == 0
    capsys.readouterr()
    assert _cli.main([*argv, "--model", str(model), "--output", str(tmp_path / "out.csv")]) == 0
    err = capsys.readouterr().err
    assert "error" not in err and "labels in 'y' are not used" in err


def test_a_class_with_one_row_is_held_out_without_stratifying(tmp_path, capsys):
    rows = ["a,b,c,y"] + [f"{i},{i % 3},{i % 5},{'rare' if i == 1 else i % 2}" for i in range(40)]
    path = write_table(tmp_path / "rare.csv", "\n".join(rows) + "\n")
    assert _cli.main(["--csv", path, "--label-column", "y", *FAST]) == 0
    assert "Logistic probe accuracy" in capsys.readouterr().out


def test_model_options_beside_a_saved_model_are_refused(tmp_path, capsys):
    path = good_csv(tmp_path)
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
    path = good_csv(tmp_path)
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


def test_many_classes_and_a_small_holdout_split_without_stratifying(tmp_path, capsys):
    rng = np.random.default_rng(0)
    rows = ["a,b,c,label"] + [
        ",".join(f"{v:.3f}" for v in rng.normal(size=3)) + f",{i % 20}" for i in range(120)
    ]
    path = write_table(tmp_path / "classes.csv", "\n".join(rows) + "\n")
    argv = ["--csv", path, "--label-column", "label", "--holdout", "0.05", *FAST]
    assert _cli.main(argv) == 0


def test_a_held_out_split_of_one_class_says_the_probe_cannot_compare(tmp_path, capsys):
    rng = np.random.default_rng(0)
    rows = ["a,b,c,label"] + [
        ",".join(f"{v:.3f}" for v in rng.normal(size=3)) + (",0" if i < 58 else ",1")
        for i in range(60)
    ]
    path = write_table(tmp_path / "rare.csv", "\n".join(rows) + "\n")
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


def test_holdout_zero_fits_on_every_row(tmp_path, capsys):
    path = good_csv(tmp_path)
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
