"""The "auto" training settings: which inputs train as images; epochs, rate, schedule, penalty."""

import functools
import pickle
import warnings

import numpy as np
import pytest
from sklearn.utils._param_validation import InvalidParameterError
from skorch.callbacks import LRScheduler

from sklearn_ndim import NoisyInfoMaxEmbedder, _fitting
from sklearn_ndim._auto_settings import (
    IMAGE_LEARNING_RATE,
    IMAGE_PRIOR_PENALTY,
    TABLE_LEARNING_RATE,
    resolve_max_epochs,
    trains_as_images,
)
from sklearn_ndim._views import ViewSpec
from sklearn_ndim.nn import ConvEncoder


def _images(side, n=64, seed=0):
    return np.random.default_rng(seed).random((n, side, side)).astype(np.float32)


def _as_images(estimator, sample_shape):
    return trains_as_images(estimator, sample_shape, ViewSpec.resolve(estimator, sample_shape))


@pytest.mark.parametrize(
    "sample_shape, params, expected",
    [
        ((1, 16, 16), {}, True),
        ((3, 28, 28), {}, True),
        ((1, 11, 16), {}, False),  # "auto" shifts one pixel per 12 of the smaller side
        ((1, 8, 8), {"max_shift": 1}, True),
        ((1, 16, 16), {"max_shift": 0}, False),
        ((1, 16, 16), {"encoder": "mlp"}, False),
        ((1, 16, 16), {"encoder": functools.partial(ConvEncoder, channels=(4, 8))}, True),
        (None, {}, False),
    ],
)
def test_images_train_as_images_when_their_views_shift_them(sample_shape, params, expected):
    assert _as_images(NoisyInfoMaxEmbedder(**params), sample_shape) is expected


def test_images_get_half_the_epochs_only_with_the_auto_learning_rate():
    auto = NoisyInfoMaxEmbedder()
    assert resolve_max_epochs(auto, 10_000, images=True) == 13  # half of 25, rounded up
    assert resolve_max_epochs(auto, 6_000, images=True) == 21  # half of 42
    assert resolve_max_epochs(auto, 10**6, images=True) == 1
    assert resolve_max_epochs(auto, 10_000) == 25
    set_rate = NoisyInfoMaxEmbedder(learning_rate=1e-3)
    assert resolve_max_epochs(set_rate, 10_000, images=True) == 25
    assert resolve_max_epochs(NoisyInfoMaxEmbedder(max_epochs=7), 10_000, images=True) == 7


def _rates(fitted):
    return [float(rate) for rate in fitted.history_[:, "event_lr"]]


def test_images_start_at_the_image_rate_and_decay_it_on_a_cosine_over_the_epochs():
    fitted = NoisyInfoMaxEmbedder(2, max_epochs=3, random_state=0).fit(_images(16))
    cosine = [IMAGE_LEARNING_RATE * (1 + np.cos(np.pi * epoch / 3)) / 2 for epoch in range(3)]
    assert _rates(fitted) == pytest.approx(cosine)
    assert fitted.prior_penalty_ == IMAGE_PRIOR_PENALTY


def test_a_schedule_of_the_users_drives_the_image_rate_instead_of_the_cosine():
    steps = LRScheduler(policy="StepLR", step_size=1, gamma=0.5)
    fitted = NoisyInfoMaxEmbedder(2, max_epochs=3, callbacks=[steps], random_state=0)
    fitted.fit(_images(16))
    assert _rates(fitted) == pytest.approx([3e-3, 1.5e-3, 7.5e-4])
    schedulers = [c for _, c in fitted.net_.callbacks_ if isinstance(c, LRScheduler)]
    assert schedulers == [steps]


@pytest.mark.parametrize(
    "X, params",
    [
        (np.random.default_rng(0).normal(size=(64, 5)), {}),  # a table
        (_images(8), {}),  # too small to shift
        (_images(16), {"learning_rate": 2e-3}),  # a rate of the user's
    ],
    ids=["table", "small images", "set rate"],
)
def test_without_the_image_settings_the_rate_is_constant(X, params):
    fitted = NoisyInfoMaxEmbedder(2, max_epochs=2, random_state=0, **params).fit(X)
    assert "event_lr" not in fitted.history_[-1]
    expected = params.get("learning_rate", TABLE_LEARNING_RATE)
    assert fitted.net_.optimizer_.param_groups[0]["lr"] == expected


def test_the_penalty_is_resolved_by_input_and_reported():
    table = np.random.default_rng(0).normal(size=(64, 5))
    assert NoisyInfoMaxEmbedder(2, max_epochs=1).fit(table).prior_penalty_ == 0.0
    assert NoisyInfoMaxEmbedder(2, max_epochs=1).fit(_images(8)).prior_penalty_ == 0.0
    images = NoisyInfoMaxEmbedder(2, max_epochs=1, random_state=0).fit(_images(16))
    assert images.prior_penalty_ == IMAGE_PRIOR_PENALTY
    assert pickle.loads(pickle.dumps(images)).prior_penalty_ == IMAGE_PRIOR_PENALTY
    assert (
        NoisyInfoMaxEmbedder(2, max_epochs=1, prior_penalty=5).fit(_images(16)).prior_penalty_ == 5
    )


def test_an_image_stream_keeps_the_penalty_at_the_table_rate():
    stream = NoisyInfoMaxEmbedder(2, batch_size=32, random_state=0)
    stream.partial_fit(_images(16)).partial_fit(_images(16, seed=1))
    assert stream.prior_penalty_ == IMAGE_PRIOR_PENALTY
    assert stream.net_.optimizer_.param_groups[0]["lr"] == TABLE_LEARNING_RATE
    assert "event_lr" not in stream.history_[-1]


def test_the_decoder_trains_at_the_table_rate(monkeypatch):
    rates = []
    real = _fitting.fit_decoder

    def recording(decoder, module, data, max_epochs, batch_size, learning_rate, generator):
        rates.append(learning_rate)
        return real(decoder, module, data, max_epochs, batch_size, learning_rate, generator)

    monkeypatch.setattr(_fitting, "fit_decoder", recording)
    NoisyInfoMaxEmbedder(2, max_epochs=1, fit_inverse_transform=True).fit(_images(16))
    assert rates == [TABLE_LEARNING_RATE]


@pytest.mark.parametrize("name", ["learning_rate", "prior_penalty"])
@pytest.mark.parametrize("value", ["fast", "Auto", -1.0])
def test_other_values_than_a_number_or_auto_are_refused_naming_auto(name, value):
    with pytest.raises(InvalidParameterError, match=f"{name}.*'auto'"):
        NoisyInfoMaxEmbedder(**{name: value}).fit(np.zeros((10, 3)))


@pytest.mark.parametrize("n_components", [4, 16, 32])
def test_auto_noise_puts_the_capacity_at_ln_b_and_stops_at_1_on_images_with_a_penalty(
    n_components,
):
    from sklearn_ndim._auto_settings import resolve_noise_scale
    from sklearn_ndim._priors import resolve_prior

    auto = NoisyInfoMaxEmbedder(n_components)
    gaussian = resolve_prior("gaussian")
    table = resolve_noise_scale(auto, gaussian, 256)
    assert gaussian.capacity(n_components, table) == pytest.approx(np.log(256))
    assert resolve_noise_scale(auto, gaussian, 256, True, 30.0) == min(table, 1.0)
    assert resolve_noise_scale(auto, gaussian, 256, True, 0.0) == table  # no penalty: no cap
    assert resolve_noise_scale(auto, gaussian, 256, False, 30.0) == table
    explicit = NoisyInfoMaxEmbedder(noise_scale=2.0)
    assert resolve_noise_scale(explicit, gaussian, 256, True, 30.0) == 2.0


def test_above_16_dimensions_images_train_at_noise_1_without_a_warning_from_the_report():
    from sklearn_ndim.metrics import information_report

    images = _images(16, n=300)
    fitted = NoisyInfoMaxEmbedder(32, max_epochs=1, random_state=0).fit(images)
    assert fitted.noise_scale_ == 1.0 and fitted.capacity_ > np.log(256)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*exceeds ln")  # by design: the penalty pulls
        assert not information_report(fitted).capacity_visible
    stream = NoisyInfoMaxEmbedder(32, random_state=0).partial_fit(images)
    assert stream.noise_scale_ == 1.0
    # Without the penalty the ln B rule applies, as on tables.
    plain = NoisyInfoMaxEmbedder(32, max_epochs=1, prior_penalty=0, random_state=0).fit(images)
    assert plain.capacity_ == pytest.approx(np.log(256))
    assert information_report(plain).capacity_visible


def test_the_report_still_warns_of_c_above_ln_b_where_the_penalty_is_not_the_cause():
    from sklearn_ndim.metrics import information_report

    table = np.random.default_rng(0).normal(size=(300, 5))
    for noise in (0.01, 0.0):  # far below the cap, and an infinite capacity
        fitted = NoisyInfoMaxEmbedder(
            2, noise_scale=noise, prior_penalty=1e-6, max_epochs=1, random_state=0
        ).fit(table)
        with pytest.warns(UserWarning, match="exceeds ln|above ln"):
            information_report(fitted)


def test_a_schedule_of_the_users_trains_images_the_full_epoch_budget():
    auto = NoisyInfoMaxEmbedder()
    steps = LRScheduler(policy="StepLR", step_size=1)
    assert resolve_max_epochs(auto, 10_000, True, [steps]) == 25
    assert resolve_max_epochs(auto, 10_000, True, [("mine", steps)]) == 25
    assert resolve_max_epochs(auto, 10_000, True, []) == 13
    # Through fit: 300 images have a budget of 100 epochs, halved without a schedule of yours.
    images = _images(16, n=300)
    scheduled = NoisyInfoMaxEmbedder(2, callbacks=[("mine", steps)], random_state=0)
    assert scheduled.fit(images).n_iter_ == 100
    assert NoisyInfoMaxEmbedder(2, random_state=0).fit(images).n_iter_ == 50
