"""The benchmark suites: each a function ``suite(settings, log) -> list of result rows``.

- ``match``: the embedder over a noise grid against the other ways of getting
  a Gaussian latent, same splits and ``d`` for all (issue 8);
- ``images``: full Fashion-MNIST (60,000 / official 10,000), d = 16 and 64;
- ``speed`` and ``scaling`` (in ``speed_suites``): fit time against UMAP,
  processes, streams; fit time and peak memory from 10^3 to 10^6 rows;
- ``uses``: outliers, generation and independent factors (issue 12);
- ``tune``: the one-off choice of the peers' penalty weights;
- ``penalty``: the embedder's prior penalty over a grid of weights and noises;
- ``epochs`` (in ``training_length``): probe, match and label-free scores
  against the number of epochs;
- ``terms`` (in ``identity_terms``): each term of the method's identity over
  the noise, on training and test rows.
"""

import math

import datasets
import measures
import numpy as np
from harness import averaged, epochs_for, evaluate, our_epochs, ours
from identity_terms import terms
from methods import PEERS, make
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import train_test_split
from sklearn.neighbors import LocalOutlierFactor
from sklearn.svm import OneClassSVM
from speed_suites import scaling, speed
from training_length import epochs

from sklearn_ndim import NoisyInfoMaxEmbedder
from sklearn_ndim.outliers import OutlierDetector

NOISE_GRID = (0.25, 0.5, "auto", 2.0)
# The uniform prior is the Gaussian embedding mapped by Phi: its default only.
UNIFORM_GRID = ("auto",)


# --------------------------------------------------------------------- match


def match(settings, log):
    """Probe accuracy and held-out prior match of every method on every data set."""
    rows = []
    plans = [("digits", 16), ("table", 16)]
    if datasets.fashion_available():
        # d = 64 on Fashion-MNIST is measured on the full set only (the images suite).
        plans += [("fashion", 16)]
    for name, d in plans:
        data = datasets.load(
            name, n_train=settings["fashion_train"], n_test=settings["fashion_test"]
        )
        seeds = settings["seeds"] if name != "fashion" else settings["seeds"][:1]
        epochs = epochs_for(settings, len(data[0]))
        configurations = [("InfoMax (noise 0)", {})]
        configurations += [("NI-DIM", {"noise_scale": noise}) for noise in NOISE_GRID]
        configurations += [(peer, {}) for peer in PEERS]
        if name != "fashion":
            configurations += [("NI-DIM uniform", {"noise_scale": n}) for n in UNIFORM_GRID]
        for method, params in configurations:
            per_seed = []
            prior = "uniform" if method.endswith("uniform") else "gaussian"
            for seed in seeds:
                model = make(
                    method,
                    d,
                    max_epochs=epochs,
                    own_epochs=our_epochs(settings),
                    random_state=seed,
                    **params,
                )
                row = {
                    "dataset": name,
                    "d": d,
                    "method": method,
                    "seed": seed,
                    "noise": str(params.get("noise_scale", "")),
                    **evaluate(model, data, prior=prior),
                }
                per_seed.append(row)
            rows.append(averaged(per_seed))
            log(
                f"match {name} d={d} {method} {params}: probe {rows[-1]['probe']:.3f} "
                f"W2 {rows[-1]['w2_ratio']:.2f} fit {rows[-1]['fit_s']:.1f}s"
            )
    return rows


def images(settings, log):
    """Full Fashion-MNIST: all 60,000 training images and the official test set."""
    if not datasets.fashion_available():
        log("images: Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
        return []
    data = datasets.load("fashion", n_train=None)
    rows = []
    # UMAP is left out here: on 60,000 images it costs more than all the others together, and
    # the match suite compares it on the 10,000-image subset.
    peers = [peer for peer in PEERS if not peer.startswith("UMAP")]
    for d in (16, 64):
        for method in ("NI-DIM", "InfoMax (noise 0)", *peers):
            model = make(
                method,
                d,
                max_epochs=epochs_for(settings, len(data[0])),
                own_epochs=our_epochs(settings),
                random_state=0,
            )
            rows.append(
                {"dataset": "fashion-60k", "d": d, "method": method, **evaluate(model, data)}
            )
            log(
                f"images d={d} {method}: probe {rows[-1]['probe']:.3f} "
                f"W2 {rows[-1]['w2_ratio']:.2f} fit {rows[-1]['fit_s']:.0f}s"
            )
    return rows


# ---------------------------------------------------------------------- uses


def _outlier_rows(name, d, split, log):
    train, inliers, outliers = split
    rows = []
    for statistic in ("typicality", "reconstruction", "combined"):
        detector = OutlierDetector(
            NoisyInfoMaxEmbedder(d, random_state=0), statistic=statistic, random_state=0
        ).fit(train)
        result = measures.outlier_scores(
            detector.score_samples(inliers),
            detector.score_samples(outliers),
            detector.pvalues(inliers),
            detector.pvalues(outliers),
        )
        rows.append({"method": f"NI-DIM {statistic}", **result})
    flat = [np.asarray(part).reshape(len(part), -1) for part in split]
    peers = {
        "IsolationForest": IsolationForest(random_state=0),
        "LocalOutlierFactor": LocalOutlierFactor(novelty=True),
        "OneClassSVM": OneClassSVM(gamma="scale", nu=0.05),
        f"PCA({d}) log-likelihood": PCA(d, random_state=0),
    }
    for label, peer in peers.items():
        peer.fit(flat[0])
        rows.append(
            {
                "method": label,
                **measures.outlier_scores(peer.score_samples(flat[1]), peer.score_samples(flat[2])),
            }
        )
    for row in rows:
        row.update(part="outliers", dataset=name)
        log(f"outliers {name} {row['method']}: AUROC {row['auroc']:.3f}")
    return rows


def uses(settings, log):
    """Outlier detection, generation and independence against today's tools."""
    rows = []
    sets = [("digits", 16, [0, 3, 8]), ("table", 16, [0, 5])]
    if datasets.fashion_available():
        sets.append(("fashion", 16, [0]))
    for name, d, held_out_classes in sets:
        data = datasets.load(name, n_train=10_000, n_test=2_000)
        per_class = [
            _outlier_rows(name, d, datasets.without_class(data, c), log) for c in held_out_classes
        ]
        for position in range(len(per_class[0])):
            rows.append(averaged([rows_[position] for rows_ in per_class]))
        rows += _generation_rows(name, d, data, settings, log)
        rows += _independence_rows(name, d, data, settings, log)
    return rows


def _generation_rows(name, d, data, settings, log):
    X_train, X_test = data[0], data[1]
    flat_train = X_train.reshape(len(X_train), -1)
    n = min(2000, len(X_test))
    model = ours(settings, d, len(X_train), fit_inverse_transform=True).fit(X_train)
    samples = {
        "NI-DIM decoder": model.sample(n, random_state=1),
        f"probabilistic PCA({d})": _ppca_samples(flat_train, d, n),
        "GaussianMixture(10)": GaussianMixture(10, covariance_type="diag", random_state=0)
        .fit(flat_train)
        .sample(n)[0],
    }
    rows = []
    for label, generated in samples.items():
        auroc = measures.two_sample_auroc(X_test.reshape(len(X_test), -1), generated.reshape(n, -1))
        rows.append({"part": "generation", "dataset": name, "method": label, "c2st_auroc": auroc})
        log(f"generation {name} {label}: C2ST AUROC {auroc:.3f}")
        if X_train.ndim == 4:
            np.save(
                settings["output"] / f"samples_{name}_{label.split()[0]}.npy",
                generated[:64].reshape(64, *X_train.shape[1:]),
            )
    return rows


def _ppca_samples(X, d, n, seed=0):
    """Draws from probabilistic PCA: ``x = W z + mean + e``, isotropic residual ``e``."""
    pca = PCA(d, random_state=seed).fit(X)
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, d)) * np.sqrt(pca.explained_variance_)
    noise = rng.standard_normal((n, X.shape[1])) * math.sqrt(pca.noise_variance_)
    return z @ pca.components_ + pca.mean_ + noise


def _independence_rows(name, d, data, settings, log):
    rows = []
    for method in ("NI-DIM", "PCA(whiten)", "FastICA"):
        model = make(
            method,
            d,
            max_epochs=epochs_for(settings, len(data[0])),
            own_epochs=our_epochs(settings),
            random_state=0,
        )
        model.fit(data[0])
        value = measures.mean_distance_correlation(model.transform(data[1]))
        rows.append(
            {
                "part": "independence",
                "dataset": name,
                "method": method,
                "distance_correlation": value,
            }
        )
        log(f"independence {name} {method}: mean distance correlation {value:.3f}")
    return rows


# ---------------------------------------------------------------------- tune


def tune(settings, log):
    """The peers' penalty weights, chosen once on an inner split of the digits training rows.

    Rule fixed in advance: among the weights whose validation probe is within
    0.02 of the best, the lowest validation W2 ratio.
    """
    X, _, y, _ = datasets.load("digits")
    X_fit, X_val, y_fit, y_val = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    rows = []
    grids = {
        "WAE-MMD": ("mmd_weight", (1.0, 10.0, 100.0, 1000.0)),
        "adversarial DIM": ("adversarial_weight", (0.1, 0.3, 1.0, 3.0)),
    }
    for method, (parameter, values) in grids.items():
        for value in values:
            epochs = epochs_for(settings, len(X_fit))
            model = make(method, 16, max_epochs=epochs, random_state=0, **{parameter: value})
            row = evaluate(model, (X_fit, X_val, y_fit, y_val))
            rows.append({"method": method, "parameter": parameter, "value": value, **row})
            log(
                f"tune {method} {parameter}={value}: "
                f"probe {row['probe']:.3f} W2 {row['w2_ratio']:.2f}"
            )
    return rows


# ------------------------------------------------------------------- penalty

PENALTY_GRID = (0.0, 10.0, 100.0)
PENALTY_NOISES = (0.0, 0.5, "auto")


def penalty(settings, log):
    """The prior penalty's trade-off: probe and held-out match per weight and noise.

    digits and the table over the whole grid (all seeds); the Fashion-MNIST
    subset at weight 100 over the noises; the full Fashion-MNIST at weight 100
    and the default noise, d = 16 and 64 (weight 0 is in the match and images
    suites).
    """
    plans = [
        ("digits", 16, PENALTY_GRID, PENALTY_NOISES),
        ("table", 16, PENALTY_GRID, PENALTY_NOISES),
    ]
    if datasets.fashion_available():
        plans += [("fashion", 16, (100.0,), PENALTY_NOISES)]
        plans += [("fashion-60k", d, (100.0,), ("auto",)) for d in (16, 64)]
    rows = []
    for name, d, weights, noises in plans:
        if name == "fashion-60k":
            data = datasets.load("fashion", n_train=None)
        else:
            data = datasets.load(
                name, n_train=settings["fashion_train"], n_test=settings["fashion_test"]
            )
        seeds = settings["seeds"] if name in ("digits", "table") else settings["seeds"][:1]
        for weight in weights:
            for noise in noises:
                per_seed = [
                    {
                        "dataset": name,
                        "d": d,
                        "method": "NI-DIM",
                        "penalty": weight,
                        "noise": str(noise),
                        "seed": seed,
                        **evaluate(
                            make(
                                "NI-DIM",
                                d,
                                max_epochs=our_epochs(settings),
                                random_state=seed,
                                noise_scale=noise,
                                prior_penalty=weight,
                            ),
                            data,
                        ),
                    }
                    for seed in seeds
                ]
                rows.append(averaged(per_seed))
                log(
                    f"penalty {name} d={d} weight {weight} noise {noise}: "
                    f"probe {rows[-1]['probe']:.3f} W2 {rows[-1]['w2_ratio']:.2f}"
                )
    return rows


def splits(settings, log):
    """The default embedder against PCA(whiten) over several train/test splits.

    digits and the generated table, whose split seed also draws a new table;
    one model seed (0), so that the spread is that of the data. The ``match``
    suite measures one split over model seeds.
    """
    rows = []
    for name in ("digits", "table"):
        for split in settings["split_seeds"]:
            data = datasets.load(name, seed=split)
            for method in ("NI-DIM", "PCA(whiten)"):
                fitted = (
                    ours(settings, 16, len(data[0]))
                    if method == "NI-DIM"
                    else make(method, 16, random_state=0)
                )
                rows.append(
                    {"dataset": name, "d": 16, "split": split, "method": method}
                    | evaluate(fitted, data)
                )
            ours_row, pca_row = rows[-2], rows[-1]
            log(
                f"splits {name} {split}: NI-DIM {ours_row['probe']:.3f}/"
                f"{ours_row['w2_ratio']:.2f}, PCA(whiten) {pca_row['probe']:.3f}/"
                f"{pca_row['w2_ratio']:.2f}"
            )
    return rows


SUITES = {
    "match": match,
    "images": images,
    "speed": speed,
    "scaling": scaling,
    "uses": uses,
    "tune": tune,
    "penalty": penalty,
    "epochs": epochs,
    "terms": terms,
    "splits": splits,
}
