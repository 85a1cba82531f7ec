"""The encoder and decoder networks."""

import functools
import pickle

import pytest
import torch

from sklearn_ndim._networks import (
    ConvDecoder,
    ConvEncoder,
    MLPDecoder,
    MLPEncoder,
    build_decoder,
    build_encoder,
)

# ------------------------------------------------------------------ encoders


def test_mlp_shapes():
    encoder = MLPEncoder(7, 3, (16, 8))
    assert encoder(torch.randn(5, 7)).shape == (5, 3)


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32), (1, 8, 8), (1, 3, 5)])
def test_conv_encoder_handles_small_and_large_images(shape):
    encoder = ConvEncoder(shape, 4)
    assert encoder(torch.randn(2, *shape)).shape == (2, 4)


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32)])
def test_conv_encoder_computes_in_channels_last_as_in_the_default_layout(shape):
    torch.manual_seed(0)
    encoder = ConvEncoder(shape, 4)
    weights = [m.weight for m in encoder.features if isinstance(m, torch.nn.Conv2d)]
    assert all(w.is_contiguous(memory_format=torch.channels_last) for w in weights)
    x = torch.randn(6, *shape)
    reference = ConvEncoder(shape, 4)
    reference.load_state_dict({k: v.contiguous() for k, v in encoder.state_dict().items()})
    reference.features.to(memory_format=torch.contiguous_format)
    reference.forward = lambda x: reference.head(reference.features(x.contiguous()))
    torch.testing.assert_close(encoder(x), reference(x), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("shape, pools", [((1, 28, 28), False), ((3, 64, 64), True)])
def test_conv_encoder_pools_only_feature_maps_larger_than_7x7(shape, pools):
    encoder = ConvEncoder(shape, 4)
    has_pool = any(isinstance(m, torch.nn.AdaptiveAvgPool2d) for m in encoder.features)
    assert has_pool is pools


def test_build_encoder_picks_by_input_and_copies_instances():
    assert isinstance(build_encoder("auto", None, 5, 2, (8,))[0], MLPEncoder)
    assert isinstance(build_encoder("auto", (1, 8, 8), 64, 2, (8,))[0], ConvEncoder)
    mine = torch.nn.Linear(5, 2)
    built, shape = build_encoder(mine, None, 5, 2, (8,))
    assert built is not mine and shape == (5,)
    assert torch.equal(built.weight, mine.weight)
    with pytest.raises(ValueError, match="needs images"):
        build_encoder("conv", None, 5, 2, (8,))
    with pytest.raises(ValueError, match="positive integers"):
        build_encoder("mlp", None, 5, 2, (8, True))
    with pytest.raises(TypeError, match="not a torch.nn.Module"):
        build_encoder(lambda **kwargs: "nope", None, 5, 2, (8,))


def test_a_callable_encoder_with_other_arguments_is_explained():
    with pytest.raises(TypeError, match=r"cannot be called as encoder\(input_shape=\.\.\., n_comp"):
        build_encoder(lambda x: torch.nn.Linear(5, 2), None, 5, 2, (8,))

    def raises_inside(input_shape, n_components):
        raise TypeError("the user's own bug")

    # A TypeError from inside a callable that takes the right arguments is its own.
    with pytest.raises(TypeError, match="the user's own bug"):
        build_encoder(raises_inside, None, 5, 2, (8,))


def test_the_librarys_own_encoder_classes_and_partials_are_called_by_their_own_names():
    wide = functools.partial(ConvEncoder, channels=(8, 16))
    built, shape = build_encoder(wide, (1, 12, 12), 144, 3, (8,))
    assert isinstance(built, ConvEncoder) and shape == (1, 12, 12)
    assert built(torch.zeros(2, 1, 12, 12)).shape == (2, 3)
    assert built.features[0].out_channels == 8
    built, shape = build_encoder(MLPEncoder, None, 5, 2, (8,))
    assert isinstance(built, MLPEncoder) and shape == (5,)
    # The class gets hidden_layer_sizes; a partial that sets its widths keeps them.
    assert built.network[0].out_features == 8
    narrow = functools.partial(MLPEncoder, hidden_layer_sizes=(3,))
    assert build_encoder(narrow, None, 5, 2, (8,))[0].network[0].out_features == 3
    # An MLP on images sees flat rows, as encoder="mlp" does.
    built, shape = build_encoder(
        functools.partial(MLPEncoder, hidden_layer_sizes=(4,)), (1, 3, 3), 9, 2, (8,)
    )
    assert shape == (9,) and built(torch.zeros(2, 9)).shape == (2, 2)
    with pytest.raises(ValueError, match="encoder=ConvEncoder needs images"):
        build_encoder(ConvEncoder, None, 5, 2, (8,))


def test_a_subclass_with_its_own_signature_is_called_as_the_protocol_says():
    class Mine(MLPEncoder):
        def __init__(self, input_shape, n_components):
            super().__init__(input_shape[0], n_components, (4,))

    built, shape = build_encoder(Mine, None, 5, 2, (8,))
    assert isinstance(built, Mine) and shape == (5,)


# ------------------------------------------------------------------ decoders


def test_mlp_decoder_mirrors_the_encoder_widths():
    decoder = MLPDecoder(3, 7, (16, 8))
    widths = [m.out_features for m in decoder.network if isinstance(m, torch.nn.Linear)]
    assert widths == [8, 16, 7]
    assert decoder(torch.randn(5, 3)).shape == (5, 7)


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32), (1, 8, 8), (2, 5, 9)])
def test_conv_decoder_returns_images_of_the_input_shape(shape):
    # Sizes that are not multiples of 4 are upsampled past the image, then cropped.
    assert ConvDecoder(4, shape)(torch.randn(3, 4)).shape == (3, *shape)


def test_build_decoder_picks_by_input_layout():
    assert isinstance(build_decoder((1, 8, 8), 64, 2, (8,)), ConvDecoder)
    assert isinstance(build_decoder(None, 5, 2, (8,)), MLPDecoder)


@pytest.mark.parametrize(
    "network, x",
    [(MLPEncoder(5, 2, (8,)), torch.randn(4, 5)), (ConvDecoder(2, (1, 8, 8)), torch.randn(4, 2))],
)
def test_pickles_that_name_the_networks_old_module_still_load(network, x):
    old = pickle.dumps(network, protocol=0)
    old = old.replace(b"sklearn_ndim._networks", b"sklearn_ndim._model")
    assert b"sklearn_ndim._networks" not in old
    loaded = pickle.loads(old)
    assert type(loaded) is type(network)
    network.eval(), loaded.eval()
    torch.testing.assert_close(loaded(x), network(x), rtol=0, atol=0)
