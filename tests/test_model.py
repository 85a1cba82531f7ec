"""The torch modules of the objective: output normaliser, critics and their wiring."""

import pickle

import pytest
import torch

from sklearn_ndim._model import (
    InfoMaxModule,
    MLPCritic,
    OutputNormalizer,
    QuadraticCritic,
    SeparableCritic,
    check_encoder_output,
    make_critic,
)
from sklearn_ndim._networks import MLPEncoder
from sklearn_ndim._objective import contrastive_loss
from sklearn_ndim._priors import GaussianPrior, resolve_prior

# ------------------------------------------------------------------ encoders


def test_encoder_output_shape_is_checked_when_the_module_is_made():
    # It had trained silently at the encoder's width, d = 3, and failed only at calibration.
    with pytest.raises(ValueError, match=r"must return \(batch, n_components=2\)"):
        InfoMaxModule(
            torch.nn.Linear(5, 3), 2, resolve_prior("gaussian"), 1.0, SeparableCritic(2), (5,)
        )
    module = InfoMaxModule(
        torch.nn.Linear(5, 2), 2, resolve_prior("gaussian"), 1.0, SeparableCritic(2), (5,)
    )
    module.encoder = torch.nn.Linear(5, 3)
    with pytest.raises(ValueError, match=r"must return \(batch, n_components=2\)"):
        check_encoder_output(module, 2)


def test_an_encoder_that_fails_on_the_input_shape_is_explained():
    # A table encoder given images: torch's "mat1 and mat2" error, with the shape it got.
    flat = torch.nn.Sequential(torch.nn.Linear(64, 2))
    with pytest.raises(ValueError, match=r"failed on a batch of 2 samples of shape \(1, 8, 8\)"):
        InfoMaxModule(flat, 2, resolve_prior("gaussian"), 1.0, SeparableCritic(2), (1, 8, 8))


# ---------------------------------------------------------------- normaliser


def test_training_mode_standardises_each_batch_without_parameters():
    normalizer = OutputNormalizer(3)
    assert list(normalizer.parameters()) == []
    h = 5.0 + 3.0 * torch.randn(500, 3)
    z = normalizer.train()(h)
    assert torch.allclose(z.mean(0), torch.zeros(3), atol=1e-5)
    assert torch.allclose(z.std(0, unbiased=False), torch.ones(3), atol=1e-3)


def test_eval_mode_uses_calibrated_statistics_row_by_row():
    normalizer = OutputNormalizer(2)
    h = torch.randn(100, 2) * 4 + 1
    normalizer.calibrate(h)
    normalizer.eval()
    whole = normalizer(h)
    assert torch.allclose(whole[:1], normalizer(h[:1]))
    assert torch.allclose(whole.mean(0), torch.zeros(2), atol=1e-5)


def test_evaluation_before_calibration_is_refused():
    # The frozen buffers start as mean 0 and the identity: the output would be the raw h.
    normalizer = OutputNormalizer(2).eval()
    with pytest.raises(RuntimeError, match="never calibrated.*calibrate"):
        normalizer(torch.randn(10, 2))
    normalizer.calibrate(torch.randn(10, 2) * 3 + 1)
    assert normalizer(torch.randn(10, 2)).shape == (10, 2)


def test_a_loaded_state_dict_counts_as_calibration_and_pickles_keep_it():
    source = OutputNormalizer(2, whiten=True)
    h = torch.randn(200, 2, generator=torch.Generator().manual_seed(0)) * 2 - 3
    source.calibrate(h)
    loaded = OutputNormalizer(2, whiten=True)
    loaded.load_state_dict(source.state_dict())
    torch.testing.assert_close(loaded.eval()(h), source.eval()(h), rtol=0, atol=0)
    copied = pickle.loads(pickle.dumps(source))
    torch.testing.assert_close(copied.eval()(h), source(h), rtol=0, atol=0)
    # Modules pickled before the flag existed were calibrated.
    del copied.__dict__["calibrated"]
    assert copied.calibrated


def test_a_state_dict_saved_before_calibration_does_not_count_as_calibration():
    # A mid-training checkpoint holds the initial buffers: evaluation would return h.
    loaded = OutputNormalizer(2)
    loaded.load_state_dict(OutputNormalizer(2).state_dict())
    with pytest.raises(RuntimeError, match="never calibrated"):
        loaded.eval()(torch.randn(5, 2))


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(50, 4), (3,)])
def test_outputs_of_another_width_are_refused(training, shape):
    normalizer = OutputNormalizer(3)
    normalizer.calibrate(torch.randn(50, 3))
    with pytest.raises(ValueError, match=r"for 3 dimensions; got outputs of shape"):
        normalizer.train(training)(torch.randn(shape))


def test_whitening_removes_correlation_in_training_and_after_calibration():
    mixing = torch.tensor([[1.0, 0.0, 0.0], [0.9, 0.4, 0.0], [0.5, 0.5, 0.7]])
    h = torch.randn(2000, 3, dtype=torch.float64) @ mixing.T.double() + 3.0
    normalizer = OutputNormalizer(3, whiten=True).double()
    identity = torch.eye(3, dtype=torch.float64)
    assert torch.allclose(torch.cov(normalizer.train()(h).T, correction=0), identity, atol=1e-3)
    normalizer.calibrate(h)
    assert torch.allclose(torch.cov(normalizer.eval()(h).T, correction=0), identity, atol=1e-3)
    standardized = OutputNormalizer(3).train()(h)
    assert torch.corrcoef(standardized.T)[0, 1] > 0.8


@pytest.mark.parametrize("whiten", [True, False])
@pytest.mark.parametrize("scale", [1e-4, 1e-2, 1.0, 1e3])
def test_outputs_of_any_scale_get_unit_variance(whiten, scale):
    # A fixed eps of 1e-5 gave outputs of standard deviation 0.01 a variance of 0.9,
    # so the noise's power and the reported capacity were wrong.
    h = scale * torch.randn(4096, 6, generator=torch.Generator().manual_seed(0))
    normalizer = OutputNormalizer(6, whiten=whiten)
    variances = [normalizer.train()(h).var(0, unbiased=False)]
    normalizer.calibrate(h)
    variances.append(normalizer.eval()(h).var(0, unbiased=False))
    for variance in variances:
        torch.testing.assert_close(variance, torch.ones(6), rtol=0, atol=2e-3)


def test_eps_is_unchanged_for_outputs_of_variance_0_01_and_more():
    # Fitted models and the benchmarks' embeddings stay bitwise what they were.
    cov = torch.diag(torch.tensor([0.01, 0.02, 5.0])) + 0.001
    for whiten in (True, False):
        normalizer = OutputNormalizer(3, whiten=whiten, eps=1e-5)
        if whiten:
            factor = torch.linalg.cholesky(cov + 1e-5 * torch.eye(3))
            expected = torch.linalg.solve_triangular(factor, torch.eye(3), upper=False)
        else:
            expected = torch.diag(torch.rsqrt(torch.diagonal(cov) + 1e-5))
        assert torch.equal(normalizer._whitening(cov), expected)


def test_a_constant_output_is_not_divided_by_zero():
    h = torch.zeros(100, 3)
    for whiten in (True, False):
        assert torch.equal(OutputNormalizer(3, whiten=whiten).train()(h), h)


@pytest.mark.parametrize("scale", [100.0, 1e3, 1e15])
def test_a_copied_output_of_large_scale_is_whitened_with_a_jitter(scale):
    # float32 round-off left the covariance indefinite: Cholesky's partial factor
    # gave NaN, reported as "a learning rate too high", or silently zeroed outputs.
    h = torch.randn(4096, 4, generator=torch.Generator().manual_seed(0))
    h[:, 1] = h[:, 0]
    h *= scale
    normalizer = OutputNormalizer(4, whiten=True)
    for z in (normalizer.train()(h), (normalizer.calibrate(h), normalizer.eval()(h))[1]):
        variance = z.var(0, unbiased=False)
        assert torch.isfinite(z).all()
        torch.testing.assert_close(variance[[0, 2, 3]], torch.ones(3), rtol=0, atol=1e-3)
        assert variance[1] < 1e-3


@pytest.mark.parametrize("scale", [300.0, 3000.0])
def test_the_jitter_leaves_outputs_of_other_scales_at_unit_variance(scale):
    # A jitter scaled to the largest variance whitened independent unit outputs
    # beside a copied output of scale 1000 to a variance of 0.68, in training only.
    generator = torch.Generator().manual_seed(0)
    a, b, c = torch.randn(3, 256, generator=generator)
    h = torch.stack([scale * a, scale * a, b, c], dim=1)
    assert torch.linalg.cholesky_ex(torch.cov(h.T, correction=0) + 1e-5 * torch.eye(4)).info > 0
    normalizer = OutputNormalizer(4, whiten=True)
    for z in (normalizer.train()(h), (normalizer.calibrate(h), normalizer.eval()(h))[1]):
        variance = z.var(0, unbiased=False)
        torch.testing.assert_close(variance[[0, 2, 3]], torch.ones(3), rtol=0, atol=1e-3)


@pytest.mark.parametrize("rows", [256, 4096])
def test_outputs_of_a_bottleneck_at_large_scale_are_whitened_in_every_batch(rows):
    # Four outputs of rank two: a jitter of d round-off units left 6 of 40 batches
    # of 256 rows NaN, reported as divergence; float32 round-off grows with the rows.
    normalizer = OutputNormalizer(4, whiten=True)
    for seed in range(40):
        generator = torch.Generator().manual_seed(seed)
        x = torch.randn(rows, 2, generator=generator)
        h = torch.cat([x, x @ torch.randn(2, 2, generator=generator)], 1) * 1e4
        z = normalizer.train()(h)
        assert torch.isfinite(z).all(), seed
        normalizer.calibrate(h)
        assert torch.isfinite(normalizer.eval()(h)).all(), seed


@pytest.mark.parametrize("rows", [4096, 65536])
def test_independent_outputs_stay_at_unit_variance_when_the_jitter_applies(rows):
    # The jitter grows with the rows: without scaling back it whitened 62
    # independent outputs beside a copied one to 0.992 at 65,536 rows.
    generator = torch.Generator().manual_seed(0)
    copied = 1e4 * torch.randn(rows, 1, generator=generator)
    h = torch.cat([copied, copied, torch.randn(rows, 62, generator=generator)], 1)
    variance = OutputNormalizer(64, whiten=True).train()(h).var(0, unbiased=False)
    torch.testing.assert_close(variance[2:], torch.ones(62), rtol=0, atol=1e-4)


@pytest.mark.parametrize("n_rows", [0, -5, 2.5, True, "256"])
def test_set_moments_refuses_a_row_count_that_is_no_positive_integer(n_rows):
    normalizer = OutputNormalizer(2, whiten=True)
    with pytest.raises(ValueError, match="n_rows must be a positive integer or None"):
        normalizer.set_moments(
            torch.zeros(2, dtype=torch.float64), torch.eye(2, dtype=torch.float64), n_rows=n_rows
        )
    assert not normalizer.calibrated  # nothing was set


@pytest.mark.parametrize(
    "whiten, bad",
    [(w, b) for w in (True, False) for b in ("nan", "inf", "few rows")] + [(True, "indefinite")],
)
def test_a_refused_calibration_keeps_the_previous_statistics(whiten, bad):
    generator = torch.Generator().manual_seed(0)
    good = torch.randn(500, 4, generator=generator) * 3 + 1
    normalizer = OutputNormalizer(4, whiten=whiten).eval()
    normalizer.calibrate(good)
    expected = normalizer(good[:5])
    h = good.clone()
    if bad in ("nan", "inf"):
        h[0, 0] = float(bad)
        message = "not finite"
    elif bad == "few rows":
        h = good[: 4 if whiten else 1]
        message = "more than 4, the dimension" if whiten else "at least 2 rows"
    else:  # only whitening factors the covariance
        h = None
        message = "not positive definite"
    with pytest.raises(ValueError, match=message):
        if h is None:
            normalizer.set_moments(torch.zeros(4), -torch.eye(4))
        else:
            normalizer.calibrate(h)
    torch.testing.assert_close(normalizer(good[:5]), expected, rtol=0, atol=0)


def test_calibration_on_just_enough_rows_is_accepted():
    generator = torch.Generator().manual_seed(1)
    OutputNormalizer(4, whiten=True).calibrate(torch.randn(5, 4, generator=generator))
    OutputNormalizer(4, whiten=False).calibrate(torch.randn(2, 4, generator=generator))


def test_training_mode_whitening_reads_nothing_on_the_host():
    # A host read (bool of a device tensor) would sync every CUDA training step.
    from torch.overrides import TorchFunctionMode

    reads = []

    class CountHostReads(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            if getattr(func, "__name__", "") in ("__bool__", "item", "tolist", "__float__"):
                reads.append(func.__name__)
            return func(*args, **(kwargs or {}))

    h = torch.randn(256, 4, generator=torch.Generator().manual_seed(0))
    h[:, 1] = h[:, 0]
    normalizer = OutputNormalizer(4, whiten=True).train()
    with CountHostReads():
        normalizer(1e3 * h)
        normalizer(h)
    assert reads == []


def test_a_covariance_that_no_jitter_makes_definite_is_explained():
    normalizer = OutputNormalizer(2, whiten=True)
    with pytest.raises(ValueError, match="not positive definite even after a round-off jitter"):
        normalizer.set_moments(torch.zeros(2), torch.tensor([[1.0, 0.0], [0.0, -1.0]]))


def test_training_statistics_can_come_from_reference_rows():
    normalizer = OutputNormalizer(2, whiten=True).train()
    reference = torch.randn(500, 2, generator=torch.Generator().manual_seed(0)) * 3 + 1
    other = reference[:100] * 0.5
    z = normalizer(other, reference=reference)
    expected = normalizer(reference)[:100] - normalizer(reference).mean(0) * 0
    torch.testing.assert_close(
        z,
        (other - reference.mean(0)) @ normalizer._whitening(torch.cov(reference.T, correction=0)).T,
    )
    assert expected.shape == z.shape


# ------------------------------------------------------------------- critics


@pytest.mark.parametrize("name", ["separable", "quadratic", "mlp"])
def test_critics_score_all_pairs(name):
    critic = make_critic(name, 3, 0.5)
    a, y = torch.randn(5, 3), torch.randn(5, 3)
    assert critic(a, y).shape == (5, 5)


def test_quadratic_critic_matches_the_explicit_formula():
    critic = QuadraticCritic(noise_scale=0.5)
    a, y = torch.randn(4, 3), torch.randn(4, 3)
    expected = -((a[:, None, :] - y[None, :, :]) ** 2).sum(-1) / (2 * (0.25 + 1.0))
    assert torch.allclose(critic(a, y), expected, atol=1e-5)


def test_quadratic_critic_prefers_the_nearest_pair():
    a = torch.tensor([[0.0, 0.0], [5.0, 5.0]])
    scores = QuadraticCritic(0.1)(a, a)
    assert scores.argmax(dim=1).tolist() == [0, 1]


def test_mlp_critic_sees_the_pair_order():
    critic = MLPCritic(2, hidden_size=8)
    a, y = torch.randn(3, 2), torch.randn(3, 2)
    scores = critic(a, y)
    assert torch.allclose(scores[1, 2], critic.network(torch.cat([a[1], y[2]])).squeeze())


def test_separable_critic_has_unit_scale_scores_at_start():
    critic = SeparableCritic(16, noise_scale=1.0)
    a = torch.randn(4000, 16, generator=torch.Generator().manual_seed(0))
    y = torch.randn(4000, 16, generator=torch.Generator().manual_seed(1)) * 2**0.5
    assert [name for name, _ in critic.named_parameters()] == ["log_inverse_temperature"]
    assert abs(critic(a[:1000], y[:1000]).std().item() - 1.0) < 0.05


def test_unknown_critic():
    with pytest.raises(ValueError, match="critic must be"):
        make_critic("bilinear", 2, 0.1)


# -------------------------------------------------------------------- wiring


def _module(prior, noise_scale):
    return InfoMaxModule(
        torch.nn.Identity(), 2, resolve_prior(prior), noise_scale, QuadraticCritic(0.0), (2,)
    )


def test_noise_goes_on_the_second_branch_only_after_the_normaliser():
    module = _module("gaussian", 0.5).train()
    x = torch.randn(300, 2, generator=torch.Generator().manual_seed(0))
    scores = module.pair_scores(x, x, torch.Generator().manual_seed(1))
    z = module.embed(x)
    distances = -scores / module.critic.log_inverse_width_sq.exp()
    # Clean against noisy copies: the diagonal holds |noise|^2, 2 sigma^2 on average.
    assert abs(torch.diagonal(distances).mean().item() - 2 * 0.25) < 0.05
    assert torch.allclose(z.mean(0), torch.zeros(2), atol=1e-5)


def test_zero_noise_gives_identical_branches():
    module = _module("gaussian", 0.0).train()
    x = torch.randn(50, 2)
    scores = module.pair_scores(x, x)
    assert torch.allclose(torch.diagonal(scores), torch.zeros(50), atol=1e-4)


def test_every_prior_trains_through_the_same_gaussian_channel():
    # The uniform prior's own channel (Phi(g) plus uniform noise) left two
    # bumps in each marginal; it trains as the Gaussian prior and maps by Phi.
    x = torch.randn(64, 2, generator=torch.Generator().manual_seed(0))
    outputs = []
    for prior in ("gaussian", "uniform"):
        module = _module(prior, 0.5).train()
        torch.manual_seed(0)
        module.encoder = MLPEncoder(2, 2, (8,))
        outputs.append(module.pair_channel(x, x, torch.Generator().manual_seed(1)))
    for gaussian, uniform in zip(*outputs, strict=True):
        assert torch.equal(gaussian, uniform)


def test_mixed_precision_runs_the_encoder_only_and_keeps_float32_outputs():
    module = _module("gaussian", 0.5)
    torch.manual_seed(0)  # an encoder whose two outputs are not nearly collinear
    module.encoder = MLPEncoder(2, 2, (8,))
    module.autocast_dtype = torch.bfloat16  # on the CPU here; bfloat16 on CUDA in fits
    x = torch.randn(64, 2, generator=torch.Generator().manual_seed(0))
    module.train()
    z = module.embed(x)
    assert z.dtype == torch.float32
    assert torch.allclose(z.var(0, unbiased=False), torch.ones(2), atol=1e-3)
    scores = module.pair_scores(x, x, torch.Generator().manual_seed(1))
    scores.sum().backward()
    assert all(
        p.grad is not None and p.grad.dtype == torch.float32 for p in module.encoder.parameters()
    )
    module.eval()
    module.normalizer.calibrate(module.encode(x))
    assert module.embed(x).dtype == torch.float32


def test_calibration_by_blocks_equals_the_covariance_of_all_rows(monkeypatch):
    import sklearn_ndim._model as model_module

    h = torch.randn(1000, 3, generator=torch.Generator().manual_seed(0)) * 5 + 2
    monkeypatch.setattr(model_module, "_CALIBRATION_BLOCK", 7)
    normalizer = OutputNormalizer(3, whiten=True).double()
    normalizer.calibrate(h)
    rows = h.double()
    expected = normalizer._whitening(torch.cov(rows.T, correction=0))
    torch.testing.assert_close(normalizer.mean, rows.mean(0), rtol=0, atol=1e-12)
    torch.testing.assert_close(normalizer.whitening, expected, rtol=1e-10, atol=1e-12)


def test_whitening_refuses_batches_with_no_more_rows_than_dimensions():
    normalizer = OutputNormalizer(4, whiten=True).train()
    with pytest.raises(ValueError, match="singular; use batches of more rows than dimensions"):
        normalizer(torch.randn(4, 4))
    assert normalizer(torch.randn(5, 4)).shape == (5, 4)
    assert OutputNormalizer(4).train()(torch.randn(3, 4)).shape == (3, 4)  # per-dimension


def test_the_module_takes_the_estimators_prior_spellings_and_a_feature_count():
    # prior="gaussian" was kept as a string and failed at the first step
    # ("'str' object has no attribute 'add_noise'"); input_shape=10 failed too.
    module = InfoMaxModule(MLPEncoder(10, 4), 4, "gaussian", 1.0, SeparableCritic(4, 1.0), 10)
    assert module.prior == GaussianPrior() and module.input_shape == (10,)
    x = torch.randn(64, 10)
    loss, _ = contrastive_loss(module, x, torch.arange(64), lambda x, i, g: x, None)
    assert torch.isfinite(loss)
