"""The ``epochs`` suite: what the number of epochs trades, and whether a label-free score sees it.

For each data set the default embedder is fitted for each number of epochs of
a grid (the same seed, so each fit repeats the shorter ones' first epochs) on
the training rows less a fifth held out. Each fit records the InfoNCE
estimate on the held-out rows and on as many training rows (equal batch
sizes, so equal ``ln B`` ceilings), the label-free ``score`` on the held-out
rows (the score early stopping on a validation part would watch), and the
test set's probe accuracy and W2 ratio.
"""

import datasets
import measures
import numpy as np
from sklearn.model_selection import train_test_split

from sklearn_ndim import NoisyInfoMaxEmbedder

#: Epochs per data set; each grid reaches past the default's epochs.
EPOCH_GRIDS = {
    "digits": (5, 10, 25, 50, 100, 150),
    "table": (5, 10, 25, 50, 100, 150),
    "fashion": (1, 2, 4, 8, 12, 16, 25, 35),
}
QUICK_EPOCH_GRID = (1, 2)
#: Share of the training rows held out for the label-free scores.
HELD_OUT = 0.2


def epochs(settings, log):
    """Probe, match and label-free scores against the number of training epochs."""
    rows = []
    for name, (X_train, X_test, y_train, y_test) in datasets.each_set(settings):
        X_fit, X_held, y_fit, _ = train_test_split(
            X_train, y_train, test_size=HELD_OUT, random_state=0, stratify=y_train
        )
        # Training rows as many as the held-out ones, for an equal InfoNCE ceiling.
        seen = np.random.default_rng(0).choice(len(X_fit), len(X_held), replace=False)
        grid = QUICK_EPOCH_GRID if settings["epochs"] is not None else EPOCH_GRIDS[name]
        for n_epochs in grid:
            model = NoisyInfoMaxEmbedder(16, max_epochs=n_epochs, random_state=0).fit(X_fit)
            Z_fit, Z_test = model.transform(X_fit), model.transform(X_test)
            probe, _ = measures.probe_accuracies(Z_fit, y_fit, Z_test, y_test)
            rows.append(
                {
                    "dataset": name,
                    "d": 16,
                    "epochs": n_epochs,
                    "mi_train": model.estimate_mutual_info(X_fit[seen]),
                    "mi_held_out": model.estimate_mutual_info(X_held),
                    "score_held_out": model.score(X_held),
                    "probe": probe,
                    "w2_ratio": measures.prior_match(Z_test, n_reference=20)["w2_ratio"],
                }
            )
            log(
                f"epochs {name} {n_epochs}: MI {rows[-1]['mi_train']:.2f} / "
                f"{rows[-1]['mi_held_out']:.2f}, probe {probe:.3f}, "
                f"W2 {rows[-1]['w2_ratio']:.2f}"
            )
    return rows
