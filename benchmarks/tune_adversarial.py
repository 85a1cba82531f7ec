"""Choose the adversarial weight of the adversarial-DIM peer, once.

Run: ``python benchmarks/tune_adversarial.py [--output benchmarks/results]``

The weight is tuned on an inner 70/30 split of the digits *training* rows
(the benchmark's test rows are never seen), Gaussian prior, full-mode epochs.
Rule, fixed before looking at the numbers: among the weights whose validation
probe accuracy is within ``ACCURACY_SLACK`` of the best weight's, take the
one with the lowest validation sw2_ratio. The winner is written into
``adversarial_dim.DEFAULT_ADVERSARIAL_WEIGHT`` by hand; the table goes to
``adversarial_tuning.csv``.
"""

import argparse
import sys
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

sys.path.insert(0, str(Path(__file__).resolve().parent))

import evaluation  # noqa: E402
import methods  # noqa: E402
import suites  # noqa: E402
from adversarial_dim import AdversarialInfoMaxEmbedder  # noqa: E402

WEIGHTS = (0.1, 0.3, 1.0, 3.0, 10.0)
ACCURACY_SLACK = 0.02


def inner_split(settings):
    """The digits training rows, split again 70/30 (stratified, seed 0)."""
    digits = suites.load_splits(settings, ["digits"])[0]
    X_fit, X_val, y_fit, y_val = train_test_split(
        digits.X_train,
        digits.y_train,
        test_size=0.3,
        random_state=suites.SEED,
        stratify=digits.y_train,
    )
    return suites.Split(
        "digits-inner",
        X_fit,
        X_val,
        X_fit,
        X_val,
        y_fit,
        y_val,
        settings.table_epochs,
        "inner split of the digits training rows",
    )


def main():
    """Fit adversarial DIM for each weight on the inner split; write the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="benchmarks/results")
    args = parser.parse_args()
    settings = suites.FULL
    split = inner_split(settings)
    rows = []
    for weight in WEIGHTS:

        def make(prior, max_epochs, weight=weight):
            return AdversarialInfoMaxEmbedder(
                suites.N_COMPONENTS,
                prior=prior,
                adversarial_weight=weight,
                max_epochs=max_epochs,
                random_state=suites.SEED,
            )

        method = methods.Method(f"weight {weight:g}", methods.ADVERSARIAL, None, True, make)
        row = evaluation.evaluate(method, split, "gaussian", settings.n_reference)
        row["adversarial_weight"] = weight
        rows.append(row)
        print(
            f"weight {weight:<5g} acc {row['probe_acc']:.3f}  sw2 {row['sw2_ratio']:.2f}  "
            f"fit {row['fit_s']:.1f} s {row['error']}",
            flush=True,
        )
    table = pd.DataFrame(rows)
    eligible = table[table["probe_acc"] >= table["probe_acc"].max() - ACCURACY_SLACK]
    chosen = eligible.loc[eligible["sw2_ratio"].idxmin(), "adversarial_weight"]
    table["chosen"] = table["adversarial_weight"] == chosen
    Path(args.output).mkdir(parents=True, exist_ok=True)
    table.to_csv(Path(args.output) / "adversarial_tuning.csv", index=False)
    print(f"chosen adversarial_weight = {chosen:g}")


if __name__ == "__main__":
    main()
