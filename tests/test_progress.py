"""Progress output: the epoch table, stage lines, the whole-fit progress bar."""

import io
import sys

import numpy as np
import pytest
from skorch.callbacks import EarlyStopping

from sklearn_ndim import NoisyInfoMaxEmbedder
from sklearn_ndim._progress import print_table_row, stage


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("tty", [False, True])
def test_table_rows_keep_colour_codes_only_on_a_terminal(monkeypatch, tty):
    out = _Terminal() if tty else io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    print_table_row("\x1b[36m0.5\x1b[0m | 1")
    assert out.getvalue() == ("\x1b[36m0.5\x1b[0m | 1\n" if tty else "0.5 | 1\n")


class _BufferedStdout(io.StringIO):
    """stdout redirected to a file: what it is given reaches ``target`` at flush()."""

    def __init__(self, target):
        super().__init__()
        self.target = target

    def flush(self):
        self.target.write(self.getvalue())
        self.seek(0)
        self.truncate()


def test_a_table_row_never_shares_a_line_with_the_progress_bar(monkeypatch):
    from tqdm.auto import tqdm

    # The bar on stderr (unbuffered) and the rows on stdout (buffered), as in `2>&1`
    # to a log file: the row had come out after the redrawn bar, on its line.
    shared = io.StringIO()
    monkeypatch.setattr(sys, "stdout", _BufferedStdout(shared))
    monkeypatch.setattr(sys, "stderr", shared)
    with tqdm(total=3, file=sys.stderr, desc="training") as bar:
        bar.update(1)
        print_table_row("epoch row")
        before, after = shared.getvalue().split("epoch row\n")
    # The bar is cleared to the start of its line first, and drawn again after.
    assert before.endswith("\r") and "training" in after


def test_stage_prints_its_start_and_duration_only_when_verbose(capsys):
    with stage(0, "quiet"):
        pass
    assert capsys.readouterr().out == ""
    with stage(1, "search"):
        pass
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "[sklearn-ndim] search ..."
    assert lines[1].startswith("[sklearn-ndim] search: done in ") and lines[1].endswith(" s")


def test_verbosity_levels(blobs, fast, capsys):
    X = blobs[0]
    NoisyInfoMaxEmbedder(n_components=2, verbose=0, **fast).fit(X)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    NoisyInfoMaxEmbedder(n_components=2, verbose=1, **fast).fit(X)
    out = capsys.readouterr().out
    for column in ("train_loss", "mutual_info", "capacity", "dur"):
        assert column in out
    for line in ("neighbour search", "training: up to 3 epochs", "calibration", "fitted in"):
        assert f"[sklearn-ndim] {line}" in out
    assert "\x1b[" not in out, "no colour codes when stdout is not a terminal"
    stopper = EarlyStopping(monitor="train_loss", patience=1, threshold=10.0)
    params = {**fast, "max_epochs": 20}
    NoisyInfoMaxEmbedder(n_components=2, verbose=2, callbacks=[stopper], **params).fit(X)
    err = capsys.readouterr().err
    assert "training (stopped early): 100%" in err and "| 20/20" in err


def test_the_epoch_estimate_is_infonce_alone_when_the_loss_holds_a_penalty(blobs, fast):
    fitted = NoisyInfoMaxEmbedder(n_components=2, prior_penalty=5.0, **fast).fit(blobs[0])
    for epoch in fitted.history_:
        estimates = [batch["mutual_info"] for batch in epoch["batches"]]
        assert epoch["mutual_info"] == pytest.approx(np.mean(estimates), rel=1e-12)
        # The loss adds the (positive) penalty to InfoNCE's cross-entropy.
        assert epoch["train_loss"] > np.log(fitted.batch_size_) - epoch["mutual_info"]
    plain = NoisyInfoMaxEmbedder(n_components=2, **fast).fit(blobs[0])
    for epoch in plain.history_:
        assert epoch["mutual_info"] == pytest.approx(
            np.log(plain.batch_size_) - epoch["train_loss"], rel=1e-6
        )
