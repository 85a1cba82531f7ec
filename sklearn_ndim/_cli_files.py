"""The command line's files: reading and checking the CSV input, writing the output.

Every problem with a file is an :class:`InputError`, reported by the command
line in one line before any training.
"""

import csv
import math
import os
import re
import sys
from pathlib import Path

import numpy as np

__all__ = ["InputError"]

#: Largest magnitude read from a CSV: the square of more overflows float64.
_LARGEST_VALUE = 1e154


class InputError(Exception):
    """A problem with the user's files or options, reported as one line."""


def local_file(path, option):
    if "://" in path:
        raise InputError(f"{option} must be a local file; got the URL {path!r}")
    resolved = Path(path)
    if resolved.is_dir():
        raise InputError(f"{option} {path!r} is a folder; give a file")
    if not resolved.is_file():
        raise InputError(f"{option} {path!r}: no such file")
    return resolved


def _scan(path, delimiter, has_header=True):
    """Delimiter and the line of each data row, checking that rows have as many fields as the first.

    Also refuses a header that names two columns alike (pandas would rename
    the second ``a.1`` in silence) and a file that is not UTF-8.
    """
    try:
        return _scan_rows(path, delimiter, has_header)
    except UnicodeDecodeError:
        # The decoder counts from the start of its chunk: find the byte in the file.
        content = Path(path).read_bytes()
        try:
            content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = content[: exc.start].count(b"\n") + 1
            byte = content[exc.start]
        raise InputError(
            f"{path} is not UTF-8 text (byte {byte:#04x} on line {line}); save it as UTF-8 "
            "(iconv -f latin1 -t utf-8, or your editor's 'Save as')"
        ) from None


def _scan_rows(path, delimiter, has_header):
    with open(path, newline="", encoding="utf-8-sig") as handle:
        sample = handle.read(65536)
        if not sample.strip():
            raise InputError(f"{path} is empty")
        if delimiter is None:
            try:
                delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
            except csv.Error:
                delimiter = ","
        handle.seek(0)
        expected = None
        lines = []
        record = []  # the physical lines of the record being read

        def physical_lines():
            for text in handle:
                record.append(text)
                yield text

        reader = csv.reader(physical_lines(), delimiter=delimiter, skipinitialspace=True)
        for row in reader:
            # Where the record starts (a quoted field may span lines).
            line_number = reader.line_num - len(record) + 1
            blank = not "".join(record).strip()
            record.clear()
            if blank:
                continue  # blank or whitespace-only lines, which pandas skips too
            lines.append(line_number)
            if expected is None:
                expected = len(row)
                if has_header:
                    _check_header(row, path)
            elif len(row) != expected:
                raise InputError(
                    f"{path}, line {line_number}: {len(row)} fields where the first row has "
                    f"{expected} (delimiter {delimiter!r}); fix the row or pass --delimiter"
                )
    # The line of each data row (pandas skips blank lines, so positions drift from lines).
    return delimiter, np.asarray(lines[1:] if has_header else lines)


def _check_header(names, path):
    names = [name.strip() for name in names]
    unnamed = [position + 1 for position, name in enumerate(names) if not name]
    if unnamed == [1]:
        raise InputError(
            f"{path}: the first column has no name: most often the index that pandas' to_csv "
            "writes, which would be embedded as a feature; write the file with "
            "to_csv(index=False), or name the column (and pass it to --keep-columns to copy "
            "it to the output)"
        )
    if unnamed == [len(names)]:
        raise InputError(
            f"{path}: the last column has no name: most often a delimiter at the end of every "
            "line; remove it, or name the column (pass --no-header if the first line holds data)"
        )
    if unnamed:
        listed = ", ".join(map(str, unnamed[:5])) + (", ..." if len(unnamed) > 5 else "")
        which = f"columns {listed} have" if len(unnamed) > 1 else f"column {listed} has"
        raise InputError(
            f"{path}: {which} no name in the header; name every column, or pass "
            "--no-header if the first line holds data"
        )
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise InputError(
            f"{path}: the header names {', '.join(map(repr, repeated))} more than once; "
            "give every column its own name"
        )


def _column(frame, name):
    """A column by name, or by 0-based position for files without a header.

    Names match without their surrounding spaces, which a header written as
    ``id , x`` leaves in them and the options drop.
    """
    if name in frame.columns:
        return name
    if name.isdigit() and int(name) in frame.columns:
        return int(name)
    spaced = [column for column in frame.columns if str(column).strip() == name.strip()]
    if len(spaced) == 1:
        return spaced[0]
    raise InputError(f"column {name!r} not found; the columns are {list(frame.columns)}")


def _numbers(column):
    """``column`` as numbers, NaN where a cell is not one (1e400 is infinite)."""
    import pandas as pd

    converted = pd.to_numeric(column, errors="coerce")
    failed = converted.isna() & column.notna()
    if failed.any():  # before pandas 3, to_numeric gives NaN for 1e400
        converted[failed] = column[failed].map(_overflowing_number)
    return converted


def _overflowing_number(text):
    """``text`` as +-inf when it spells a number beyond float64, else NaN."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        return math.nan
    return value if math.isinf(value) else math.nan


def load_csv(args):
    """Features, labels and kept columns of the CSV file, all checked.

    The features and labels hold the complete rows only; the kept columns hold
    every row, and ``complete`` marks which of them the features are.
    """
    try:
        import pandas as pd
    except ImportError:
        raise InputError(
            "reading CSV files needs pandas: pip install 'sklearn-ndim[cli]'"
        ) from None
    path = local_file(args.csv, "--csv")
    delimiter, lines = _scan(path, args.delimiter, has_header=not args.no_header)
    options = dict(
        sep=delimiter,
        header=None if args.no_header else 0,
        index_col=False,
        skipinitialspace=True,
        encoding="utf-8-sig",
    )
    frame = pd.read_csv(path, na_values=args.na_values, **options)
    if not args.no_header and all(_is_number(name) for name in frame.columns):
        print(
            f"Warning: the header line of {path} holds only numbers "
            f"({', '.join(map(str, frame.columns[:3]))}, ...); if it is a data row, pass "
            "--no-header, or that row is not embedded.",
            file=sys.stderr,
        )
    if frame.empty:
        raise InputError(f"{path} has no data rows, too few to learn an embedding")
    label = _column(frame, args.label_column) if args.label_column else None
    kept = [_column(frame, c) for c in args.keep_columns]
    features = frame.drop(columns=list({*kept, *([label] if label is not None else [])}))
    # A missing label only keeps a row out of the probe: its features are embedded.
    missing = features.isna().any(axis=1)
    complete = ~missing.to_numpy()
    if missing.any():
        if not args.drop_missing:
            row = int(np.flatnonzero(missing.to_numpy())[0])
            columns = [c for c in features.columns if features[c].isna().iloc[row]]
            raise InputError(
                f"{path}: {int(missing.sum())} rows have missing values (first at line "
                f"{lines[row]}, column {columns[0]!r}); fill them, or pass --drop-missing"
            )
        kept_in_output = (
            "; --output keeps their rows, in input order, with empty embedding cells"
            if args.output
            else ""
        )
        print(
            f"Dropping {int(missing.sum())} rows with missing values (neither fitted, reported "
            f"nor embedded){kept_in_output}.",
            file=sys.stderr,
        )
        features = features[complete].infer_objects()
    # A column of True/False with an empty cell was read as objects, and a column
    # whose only text cell sat in a dropped row is text still; so is a number
    # beyond float64 (1e400) before pandas 3: numbers now.
    is_numeric_dtype = pd.api.types.is_numeric_dtype
    for name in features.columns:
        column = features[name]
        if not (is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)):
            spelled = column.astype(str).str.lower()
            if spelled.isin(["true", "false"]).all():  # pandas' own bool spellings
                features[name] = spelled == "true"
                continue
            converted = _numbers(column)
            if not converted.isna().any():
                features[name] = converted
    text = [
        name
        for name in features.columns
        if not (
            pd.api.types.is_bool_dtype(features[name])
            or pd.api.types.is_numeric_dtype(features[name])
        )
    ]
    if text:
        # Every text column is named, so that one run finds them all; the first
        # offending cell of the first one shows what was read.
        values = features[text[0]]
        row = int(np.flatnonzero(_numbers(values).isna().to_numpy())[0])
        # The index, not the position: dropped rows must not shift the line.
        where = f"line {lines[values.index[row]]}"
        if len(text) == 1:
            problem, them = f"column {text[0]!r} is not numeric ({where}", "it"
        else:
            listed = ", ".join(map(repr, text))
            problem, them = f"columns {listed} are not numeric ({where} of {text[0]!r}", "them"
        cell = values.iloc[row]
        decimal_comma = isinstance(cell, str) and re.fullmatch(r"[-+]?\d*,\d+", cell.strip())
        hint = (
            "; it looks like a decimal comma or a thousands separator: write plain numbers "
            "with decimal points (0.5, not 0,5; 1000, not 1,000)"
            if decimal_comma
            else ""
        )
        raise InputError(
            f"{path}: {problem} holds {cell!r}); encode {them}, name {them} in "
            "--keep-columns or --label-column, or pass --na-values if such cells mean missing"
            f"{hint}"
        )
    X = features.to_numpy(dtype=np.float64)
    if X.shape[1] == 0:
        raise InputError(f"{path} has no numeric feature columns")
    # Beyond 1e154 a feature's variance overflows float64 (the estimator refuses
    # it in training, but a held-out row would be embedded as garbage).
    huge = ~(np.abs(X) <= _LARGEST_VALUE)
    if huge.any():
        row, column = np.argwhere(huge)[0]
        raise InputError(
            f"{path}: {int(huge.any(axis=1).sum())} rows hold infinite values or values beyond "
            f"{_LARGEST_VALUE:g} (first at line {lines[features.index[row]]}, column "
            f"{features.columns[column]!r}: {X[row, column]}); fix or rescale them, or pass "
            "--na-values with that text and --drop-missing"
        )
    labels = None
    if label is not None:
        labels = frame[label].to_numpy()[complete]
        if labels.dtype == object:
            # True/False with an empty cell, say, are read as objects: as text
            # they are classes to the probe.
            labels = np.array([v if pd.isna(v) else str(v) for v in labels], dtype=object)
        if not args.model and args.holdout > 0:  # only the report's probe uses them
            _check_labels(labels, args.label_column, path)
    # The kept columns hold every row, so that --output keeps one row per input row,
    # and their text as read: as numbers, ids lose leading zeros and digits. The
    # same options split the fields as above (spaces after a delimiter belong to
    # it, so that `a, "b, c"` reads as two fields).
    if kept:
        frame = pd.read_csv(path, usecols=kept, dtype=str, keep_default_na=False, **options)
        if len(frame) != len(complete):
            raise InputError(
                f"{path}: the kept columns read as {len(frame)} rows and the features as "
                f"{len(complete)}; check the file's quoting"
            )
    return X, labels, frame[kept], list(features.columns), complete


def missing_labels(y):
    """Which labels are missing (NaN, None, pandas' NA).

    Numeric labels (the digits demo's) need no pandas, which only the CSV
    path installs; labels of other types come from a CSV file.
    """
    y = np.asarray(y)
    if y.dtype.kind in "biu":
        return np.zeros(len(y), dtype=bool)
    if y.dtype.kind == "f":
        return np.isnan(y)
    import pandas as pd

    return np.asarray(pd.isna(y), dtype=bool)


def class_counts(y):
    """The classes, in order of first appearance, and their row counts.

    Numeric labels need no pandas; labels of other types come from a CSV file.
    """
    y = np.asarray(y)
    if y.dtype.kind in "biuf":
        classes, first, counts = np.unique(y, return_index=True, return_counts=True)
        order = np.argsort(first)
        return list(classes[order]), counts[order]
    import pandas as pd

    counts = pd.Series(y).value_counts(sort=False)
    return list(counts.index), counts.to_numpy()


def _check_labels(labels, name, path):
    """Refuse labels the logistic probe cannot use: continuous values, ids, or one class."""
    from sklearn.utils.multiclass import type_of_target

    known = labels[~missing_labels(labels)]
    # A CSV column is read as all numbers or all text, never a mix of both.
    kind = type_of_target(known) if len(known) else "unknown"
    classes = len(class_counts(known)[0])
    # Every value once is an identifier, not classes: no held-out row's class was seen.
    identifier = classes == len(known)
    if kind == "continuous":
        fractional = known[np.asarray(known, dtype=float) % 1 != 0]
        problem = f"holds continuous values ({fractional[0]}, ...)"
    elif identifier and classes >= 2:
        problem = (
            f"holds {classes} distinct values in {len(known)} labelled rows, each value once: "
            "an identifier rather than classes"
        )
    elif kind in ("binary", "multiclass") and classes >= 2:
        return
    else:
        problem = f"holds {classes} class{'es' if classes != 1 else ''}"
    raise InputError(
        f"{path}: --label-column {name!r} {problem}; the probe is a classifier and needs class "
        "labels of two classes or more. Leave --label-column out (--keep-columns copies the "
        "column to --output)"
    )


def _is_number(text):
    try:
        float(text)
    except (TypeError, ValueError):
        return False
    return True


def check_size(X, n_components, holdout=0.0, batch_size=256, normalizer="whiten"):
    """Refuse, in the command's own terms, sizes that the fit would refuse later."""
    n_rows, n_columns = X.shape
    if n_columns < n_components:
        raise InputError(
            f"--n-components {n_components} is more than the {n_columns} numeric columns; "
            f"choose at most {n_columns}"
        )
    if n_rows < max(10, 2 * n_components):
        raise InputError(
            f"{n_rows} rows are too few to learn a {n_components}-dimensional embedding; "
            f"give at least {max(10, 2 * n_components)}"
        )
    held_out = math.ceil(holdout * n_rows)
    if holdout and held_out < n_components + 2:
        raise InputError(
            f"--holdout {holdout} keeps {held_out} of the {n_rows} rows for the report, which "
            f"needs at least n_components + 2 = {n_components + 2}; raise --holdout, or pass "
            "--holdout 0 to fit on every row without a report"
        )
    if n_rows - held_out < max(10, 2 * n_components):
        raise InputError(
            f"--holdout {holdout} leaves {n_rows - held_out} rows to fit on; give at least "
            f"{max(10, 2 * n_components)}, or lower --holdout"
        )
    # The training rows are at least 2 n_components here, so only the batch size
    # can leave whitening too few rows per batch (the fit would refuse them).
    from ._validation import whitening_lacks_rows

    if whitening_lacks_rows(normalizer, batch_size, n_components):
        raise InputError(
            f"--batch-size {batch_size} is not more than --n-components {n_components}: the "
            f"whitening normaliser estimates a {n_components}x{n_components} covariance from "
            "each batch; raise --batch-size, lower --n-components, or pass --normalizer "
            "standardize"
        )


def check_output(path, option, protected):
    """Check that ``path`` can be written and overwrites none of the ``protected`` files.

    ``protected`` maps options (``"--csv"``) to the paths given to them (or None).
    """
    output = Path(path)
    for other, other_path in protected.items():
        if other_path and _same_file(output, Path(other_path)):
            raise InputError(f"{option} {path!r} would overwrite the file given to {other}")
    if output.is_dir():
        raise InputError(f"{option} {path!r} is a folder; give a file name in it")
    folder = output.parent if str(output.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"{option} {path!r}: the folder {str(folder)!r} does not exist")
    if not _writable(folder):
        raise InputError(f"{option} {path!r}: the folder {str(folder)!r} is not writable")
    return output


def _same_file(first, second):
    """Whether two paths name one file: the same path, a link to it, or a hard link."""
    if first.resolve() == second.resolve():
        return True
    try:
        return os.path.samefile(first, second)
    except OSError:  # one of them does not exist yet
        return False


def _writable(folder):
    return os.access(folder, os.W_OK)


def check_column_names(embedder, X, path):
    """Refuse a file whose feature columns differ from the training file's, in name or order."""
    expected = getattr(embedder, "feature_names_in_", None)
    given = list(X.columns) if hasattr(X, "columns") else None
    if expected is None or given is None:
        return  # a file without a header, or a model fitted on one: positions only
    for position, (want, have) in enumerate(zip(expected, given, strict=True)):
        if want != have:
            raise InputError(
                f"{path}: feature column {position + 1} is {have!r}, but the model was fitted "
                f"with {want!r} there; give the columns the names and order of the training file"
            )


def write_output(path, Z, embedder, kept, complete):
    """One row per input row, in input order; rows dropped for missing values are left empty."""
    import pandas as pd

    Z = np.asarray(Z)  # a DataFrame from a --model saved after set_output(transform="pandas")
    full = np.full((len(complete), Z.shape[1]), np.nan, dtype=Z.dtype)
    full[complete] = Z
    frame = pd.DataFrame(full, columns=embedder.get_feature_names_out())
    if kept is not None and len(kept.columns):
        frame = pd.concat([kept.reset_index(drop=True), frame], axis=1)
    frame.to_csv(path, index=False)
