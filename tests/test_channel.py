import torch

from sklearn_ndim._channel import NoiseChannel, OutputNormalizer


def test_training_mode_standardises_each_batch_without_parameters():
    normalizer = OutputNormalizer(3, "gaussian")
    assert list(normalizer.parameters()) == []
    h = 5.0 + 3.0 * torch.randn(500, 3)
    z = normalizer.train()(h)
    assert torch.allclose(z.mean(0), torch.zeros(3), atol=1e-5)
    assert torch.allclose(z.std(0, unbiased=False), torch.ones(3), atol=1e-3)


def test_eval_mode_uses_calibrated_statistics_row_by_row():
    normalizer = OutputNormalizer(2, "gaussian")
    h = torch.randn(100, 2) * 4 + 1
    normalizer.calibrate(h)
    normalizer.eval()
    whole = normalizer(h)
    assert torch.allclose(whole[:1], normalizer(h[:1]))
    assert torch.allclose(whole.mean(0), torch.zeros(2), atol=1e-5)


def test_uniform_base_squashes_into_the_unit_cube():
    z = OutputNormalizer(2, "uniform").train()(torch.randn(1000, 2) * 50)
    assert z.min() >= 0 and z.max() <= 1
    assert abs(z.mean().item() - 0.5) < 0.05


def test_gaussian_noise_has_the_requested_scale():
    channel = NoiseChannel("gaussian", 0.5)
    generator = torch.Generator().manual_seed(0)
    x = torch.zeros(20000, 2)
    assert abs(channel(x, generator).std().item() - 0.5) < 0.01


def test_uniform_noise_is_bounded():
    noisy = NoiseChannel("uniform", 0.2)(torch.zeros(5000, 3), torch.Generator().manual_seed(0))
    assert noisy.abs().max() <= 0.2 and noisy.abs().max() > 0.19


def test_zero_noise_is_the_identity():
    x = torch.randn(4, 2)
    assert NoiseChannel("gaussian", 0.0)(x) is x


def test_whitening_removes_correlation_in_training_and_after_calibration():
    mixing = torch.tensor([[1.0, 0.0, 0.0], [0.9, 0.4, 0.0], [0.5, 0.5, 0.7]])
    h = torch.randn(2000, 3, dtype=torch.float64) @ mixing.T.double() + 3.0
    normalizer = OutputNormalizer(3, "gaussian", whiten=True).double()
    z = normalizer.train()(h)
    assert torch.allclose(
        torch.cov(z.T, correction=0), torch.eye(3, dtype=torch.float64), atol=1e-3
    )
    normalizer.calibrate(h)
    z = normalizer.eval()(h)
    assert torch.allclose(
        torch.cov(z.T, correction=0), torch.eye(3, dtype=torch.float64), atol=1e-3
    )
    standardized = OutputNormalizer(3, "gaussian").train()(h)
    assert torch.corrcoef(standardized.T)[0, 1] > 0.8


def test_calibration_does_not_blow_up_directions_only_views_excite():
    clean = torch.randn(500, 2, dtype=torch.float64)
    clean[:, 1] = 1e-6 * clean[:, 1]  # nearly constant on clean rows
    views = torch.randn(500, 2, dtype=torch.float64)
    for whiten in (False, True):
        normalizer = OutputNormalizer(2, "gaussian", whiten=whiten).double()
        normalizer.calibrate(clean, views, shrinkage=0.05)
        z = normalizer.eval()(views)
        assert z[:, 1].std() < 5.0, "a view-only direction must stay bounded"
        assert abs(normalizer.eval()(clean)[:, 0].std().item() - 1.0) < 0.05
