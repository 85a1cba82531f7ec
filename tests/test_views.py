import warnings

import numpy as np
import pytest
import torch

from sklearn_ndim._views import ImageViews, NeighborMix, TabularViews, nearest_neighbors


def _generator(seed=0):
    return torch.Generator().manual_seed(seed)


def test_tabular_views_are_reproducible_and_random():
    bank = torch.randn(50, 4)
    views = TabularViews(0.1, 0.2, bank, NeighborMix(bank, nearest_neighbors(bank, 5)))
    indices = torch.arange(10)
    first = views(bank[:10], indices, _generator())
    assert torch.equal(first, views(bank[:10], indices, _generator()))
    assert not torch.equal(first, views(bank[:10], indices, _generator(1)))


def test_corruption_draws_from_the_feature_marginals():
    bank = torch.arange(20.0).reshape(10, 2) * torch.tensor([1.0, 100.0])
    views = TabularViews(0.0, 0.99, bank)
    out = views(torch.full((200, 2), -1.0), torch.zeros(200, dtype=torch.long), _generator())
    replaced = out[:, 1][out[:, 1] != -1]
    assert len(replaced) > 150 and set(replaced.tolist()) <= set(bank[:, 1].tolist())


def test_neighbour_views_stay_between_a_row_and_its_neighbour():
    bank = torch.tensor([[0.0], [1.0], [10.0], [11.0]])
    neighbors = nearest_neighbors(bank, 1)
    assert neighbors[:, 0].tolist() == [1, 0, 3, 2]
    views = TabularViews(0.0, 0.0, bank, NeighborMix(bank, neighbors))
    out = views(bank, torch.arange(4), _generator())
    assert torch.all((out[:2] >= 0) & (out[:2] <= 1)) and torch.all(out[2:] >= 10)


def test_image_translation_moves_content_without_changing_shape():
    image = torch.zeros(1, 1, 8, 8)
    image[0, 0, 4, 4] = 1.0
    views = ImageViews(max_shift=2, flip=False, intensity_jitter=0.0, jitter_scale=0.0)
    shifted = torch.cat([views(image, None, _generator(s)) for s in range(20)])
    assert shifted.shape == (20, 1, 8, 8)
    assert torch.all(shifted.sum(dim=(1, 2, 3)) == 1.0)
    positions = {tuple(torch.nonzero(s[0]).tolist()[0]) for s in shifted}
    assert len(positions) > 3 and all(2 <= r <= 6 and 2 <= c <= 6 for r, c in positions)


def test_image_flip_and_intensity():
    images = torch.rand(64, 3, 6, 6)
    flipped = ImageViews(0, True, 0.0, 0.0)(images, None, _generator())
    mirrored = torch.all(flipped == images.flip(-1), dim=(1, 2, 3))
    unchanged = torch.all(flipped == images, dim=(1, 2, 3))
    assert torch.all(mirrored | unchanged) and 10 < mirrored.sum() < 54
    jittered = ImageViews(0, False, 0.5, 0.0)(images, None, _generator())
    assert not torch.allclose(jittered, images)


def test_neighbour_mixing_works_on_images():
    bank = torch.rand(20, 1, 5, 5)
    mix = NeighborMix(bank, nearest_neighbors(bank, 3))
    views = ImageViews(1, False, 0.1, 0.05, mix)
    out = views(bank[:4], torch.arange(4), _generator())
    assert out.shape == (4, 1, 5, 5) and not torch.equal(out, bank[:4])


def test_exact_search_by_blocks_equals_brute_force_and_skips_each_row_itself(monkeypatch):
    import sklearn_ndim._views as views_module

    bank = torch.randn(300, 6, generator=torch.Generator().manual_seed(0))
    bank[10] = bank[11]  # a duplicated row: neither its twin nor itself is a neighbour
    distances = torch.cdist(bank, bank)
    distances.fill_diagonal_(torch.inf)
    distances[10, 11] = distances[11, 10] = torch.inf
    expected = torch.topk(distances, 4, largest=False).indices
    monkeypatch.setattr(views_module, "_DISTANCE_BLOCK", 300 * 7)  # blocks of 7 rows
    found = nearest_neighbors(bank, 4)
    assert torch.equal(torch.sort(found, 1).values, torch.sort(expected, 1).values)
    assert 11 not in found[10] and 10 not in found[11]
    assert not torch.any(found == torch.arange(300)[:, None])
    assert nearest_neighbors(bank, 4, queries=5).shape == (5, 4)


def test_approximate_search_finds_most_true_neighbours():
    pytest.importorskip("pynndescent")
    from sklearn_ndim._views import _approximate_neighbors

    bank = torch.randn(3000, 8, generator=torch.Generator().manual_seed(0))
    approximate = _approximate_neighbors(bank, 5, random_state=0, queries=3000)
    exact = nearest_neighbors(bank, 5)
    recall = np.mean(
        [
            len(set(a.tolist()) & set(e.tolist())) / 5
            for a, e in zip(approximate, exact, strict=True)
        ]
    )
    assert recall > 0.9
    assert not torch.any(approximate == torch.arange(3000)[:, None])


def test_large_data_without_pynndescent_warns_and_stays_exact(monkeypatch):
    import builtins

    import sklearn_ndim._views as views_module

    real_import = builtins.__import__

    def no_pynndescent(name, *args, **kwargs):
        if name == "pynndescent":
            # As an old pynndescent fails on current setuptools: installed, yet no import.
            raise ModuleNotFoundError("No module named 'pkg_resources'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pynndescent)
    monkeypatch.setattr(views_module, "EXACT_SEARCH_MAX_ROWS", 50)
    bank = torch.randn(80, 3, generator=torch.Generator().manual_seed(0))
    said = r"did not import \(No module named 'pkg_resources'\): install or upgrade it"
    with pytest.warns(UserWarning, match=said):
        found = nearest_neighbors(bank, 3)
    assert found.shape == (80, 3)


def test_the_approximate_search_keeps_the_callers_thread_count(monkeypatch):
    # numba's OpenMP layer set OpenMP's threads to all cores as it started, and
    # torch, which reads them, kept them after the search: a process started
    # with OMP_NUM_THREADS=1 trained on every core after a fit of 100,000 rows.
    # A stand-in search does what the layer did, and records numba's threads.
    numba = pytest.importorskip("numba")
    pynndescent = pytest.importorskip("pynndescent")
    from sklearn.neighbors import NearestNeighbors

    import sklearn_ndim._views as views_module

    seen = []

    class StartsNumbasLayer:
        def __init__(self, data, n_neighbors, **kwargs):
            seen.append(numba.get_num_threads())
            torch.set_num_threads(numba.config.NUMBA_NUM_THREADS + 1)
            distances, graph = NearestNeighbors(n_neighbors=n_neighbors).fit(data).kneighbors()
            self.neighbor_graph = (graph, distances)

    monkeypatch.setattr(pynndescent, "NNDescent", StartsNumbasLayer)
    monkeypatch.setattr(views_module, "EXACT_SEARCH_MAX_ROWS", 50)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        nearest_neighbors(torch.randn(80, 3), 3)
        assert torch.get_num_threads() == 1 and seen == [1]
    finally:
        torch.set_num_threads(threads)


@pytest.mark.parametrize("approximate", [False, True])
def test_copies_of_a_row_are_not_its_neighbours(monkeypatch, approximate):
    import sklearn_ndim._views as views_module

    if approximate:
        pytest.importorskip("pynndescent")
        monkeypatch.setattr(views_module, "EXACT_SEARCH_MAX_ROWS", 50)
    rows = torch.randn(40, 50, generator=torch.Generator().manual_seed(1)) * 3 + 5
    bank = torch.cat([rows, rows])  # a stream's chunk and a reservoir holding it
    found = nearest_neighbors(bank, 5, queries=40)
    assert not torch.any(found % 40 == torch.arange(40)[:, None])


@pytest.mark.parametrize(
    "sample_shape, max_shift, n_neighbors",
    [
        (None, 0, 10),
        ((1, 8, 8), 0, 10),
        ((1, 11, 11), 0, 10),
        ((1, 28, 28), 2, 0),
        ((3, 32, 32), 2, 0),
    ],
)
def test_auto_views_use_neighbours_wherever_there_is_nothing_to_shift(
    sample_shape, max_shift, n_neighbors
):
    from sklearn_ndim import NoisyInfoMaxEmbedder
    from sklearn_ndim._views import ViewSpec

    spec = ViewSpec.resolve(NoisyInfoMaxEmbedder(), sample_shape)
    assert (spec.max_shift, spec.n_neighbors) == (max_shift, n_neighbors)
    explicit = ViewSpec.resolve(NoisyInfoMaxEmbedder(n_neighbors=3, max_shift=1), sample_shape)
    assert (explicit.max_shift, explicit.n_neighbors) == (1, 3)


def test_approximate_search_cleans_its_graph_by_blocks_alike(monkeypatch):
    pytest.importorskip("pynndescent")
    import sklearn_ndim._views as views_module

    bank = torch.randn(500, 6, generator=torch.Generator().manual_seed(0))
    bank[7] = bank[3]  # a copy is no neighbour
    whole = views_module._approximate_neighbors(bank, 4, random_state=0, queries=300)
    monkeypatch.setattr(views_module, "_POSTPROCESS_ROWS", 13)
    blocks = views_module._approximate_neighbors(bank, 4, random_state=0, queries=300)
    assert torch.equal(whole, blocks) and whole.shape == (300, 4)
    # Rows 3 and 7 have only k - 1 others at a distance above zero among the
    # k + 1 found: one of those repeats, rather than the row itself or its copy.
    assert not torch.any(whole == torch.arange(300)[:, None])
    assert not any(row in (3, 7) for row in whole[3].tolist())
    assert len(set(whole[3].tolist())) == 3


def test_an_mlp_on_images_trains_on_the_tabular_views(fast):
    from sklearn_ndim import NoisyInfoMaxEmbedder

    images = np.random.default_rng(0).random((120, 24, 24))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # defaults: nothing set that would not apply
        mlp = NoisyInfoMaxEmbedder(2, encoder="mlp", **fast).fit(images)
    assert mlp._view_spec.n_neighbors == 10  # the tabular rule, not the image rule (0)
    assert NoisyInfoMaxEmbedder(2, **fast).fit(images)._view_spec.n_neighbors == 0
    with pytest.warns(UserWarning, match=r"encoder='mlp' reads images as flat rows.*flip=True"):
        NoisyInfoMaxEmbedder(2, encoder="mlp", flip=True, **fast).fit(images)


def test_a_shift_as_large_as_the_image_is_refused(fast):
    from sklearn_ndim import NoisyInfoMaxEmbedder

    images = np.random.default_rng(0).random((60, 8, 8))
    with pytest.raises(ValueError, match="max_shift=8 moves 8x8 images wholly out"):
        NoisyInfoMaxEmbedder(2, max_shift=8, **fast).fit(images)
    NoisyInfoMaxEmbedder(2, max_shift=7, **fast).fit(images)


def test_settings_that_do_not_apply_to_a_table_warn(fast):
    from sklearn_ndim import NoisyInfoMaxEmbedder

    X = np.random.default_rng(0).normal(size=(50, 4))
    with pytest.warns(UserWarning, match=r"a table .* max_shift=3, flip=True do not apply"):
        NoisyInfoMaxEmbedder(2, max_shift=3, flip=True, **fast).fit(X)
    with pytest.warns(UserWarning, match=r"n_neighbors=50 is not below the 50 rows"):
        model = NoisyInfoMaxEmbedder(2, n_neighbors=50, **fast).fit(X)
    assert model._view_spec.n_neighbors == 50  # kept as set; the search returns the 49 others
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*(not apply|is not below)")
        NoisyInfoMaxEmbedder(2, n_neighbors=49, **fast).fit(X)
        NoisyInfoMaxEmbedder(2, intensity_jitter=0.0, max_shift=0, **fast).fit(X)  # "none" too
        NoisyInfoMaxEmbedder(2, **fast).fit(X[:8])  # "auto" on tiny data: capped quietly


def test_a_corruption_rate_set_on_images_warns(fast):
    from sklearn_ndim import NoisyInfoMaxEmbedder

    images = np.random.default_rng(0).random((60, 12, 12))
    for method in ("fit", "partial_fit"):
        model = NoisyInfoMaxEmbedder(2, corruption_rate=0.5, **fast)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            getattr(model, method)(images)
        said = [
            w for w in caught if "corruption_rate=0.5 does not apply to images" in str(w.message)
        ]
        assert len(said) == 1 and said[0].filename == __file__  # once, at the user's line
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*does not apply")
        # Without fast's MLP widths, which the convolutional encoder does not use.
        NoisyInfoMaxEmbedder(2, max_epochs=3, random_state=0).fit(images)
        # The MLP reads images as a table, where the corruption applies.
        NoisyInfoMaxEmbedder(2, corruption_rate=0.5, encoder="mlp", **fast).fit(images)


@pytest.mark.parametrize("offset", [0.0, 100.0, 1000.0])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_exact_neighbours_do_not_depend_on_an_offset_common_to_all_rows(offset, dtype):
    # Squared distances as |q|^2 + |p|^2 - 2 q.p cancelled far from the origin: at an
    # offset of 1,000 the neighbours found were 2.9 times as far as the nearest.
    from sklearn.neighbors import NearestNeighbors

    rows = np.random.default_rng(0).normal(size=(1000, 5))
    found = nearest_neighbors(torch.as_tensor(rows + offset, dtype=dtype), 10).numpy()
    exact = NearestNeighbors(n_neighbors=11).fit(rows).kneighbors(rows)[1][:, 1:]
    found_distance = np.linalg.norm(rows[found] - rows[:, None], axis=2).mean()
    exact_distance = np.linalg.norm(rows[exact] - rows[:, None], axis=2).mean()
    assert found_distance == pytest.approx(exact_distance, rel=1e-3)


@pytest.mark.parametrize("offset", [1e6, 1e8])
def test_float64_rows_keep_their_neighbours_far_from_the_origin(offset):
    # The docstring promised centring before the float32 search, but the rows
    # were cast first: at an offset of 1e8, 0.5 % of the neighbours were right.
    rows = torch.as_tensor(np.random.default_rng(0).normal(size=(200, 2)))
    assert torch.equal(nearest_neighbors(rows + offset, 3), nearest_neighbors(rows, 3))


@pytest.mark.parametrize("queries", [0, -1, 6, 2.0, True])
def test_nearest_neighbors_explains_bad_queries(queries):
    # 6 of 5 rows failed with an IndexError, -1 with a negative dimension.
    with pytest.raises(ValueError, match=f"from 1 to the 5 rows of bank.*got {queries!r}"):
        nearest_neighbors(torch.randn(5, 2), 2, queries=queries)


@pytest.mark.parametrize(
    "bank, n_neighbors, error, message",
    [
        (np.zeros((5, 2)), 2, TypeError, "torch.as_tensor"),
        (torch.randn(5, 2), 0, ValueError, "at least 1; got 0"),
        (torch.randn(5, 2), -1, ValueError, "at least 1; got -1"),
        (torch.randn(5, 2), True, ValueError, "at least 1; got True"),
        (torch.randn(5, 2), 2.0, ValueError, "an integer"),
        (torch.randn(1, 2), 2, ValueError, "at least 2 rows"),
    ],
)
def test_nearest_neighbors_explains_bad_arguments(bank, n_neighbors, error, message):
    with pytest.raises(error, match=message):
        nearest_neighbors(bank, n_neighbors)


def test_image_views_explain_images_without_a_channel_axis():
    views = ImageViews(max_shift=1, flip=False, intensity_jitter=0.1, jitter_scale=0.1)
    with pytest.raises(ValueError, match=r"\(batch, channels, height, width\); got \(4, 8, 8\)"):
        views(torch.zeros(4, 8, 8), torch.arange(4), None)
