"""Round 24 (udacity/deep-learning-v2-pytorch, spro/practical-pytorch): a NumPy ufunc on a
tensor gives a tensor, as PyTorch's ``__array_wrap__`` does. The denoising autoencoder does
``noisy_imgs = np.clip(images + noise, 0., 1.)`` and feeds the result to ``nn.Conv2d``; with an
ndarray back, the conv refused it."""

import numpy as np
import pytest

import glassgrad as gg

CASES = {
    "clip": lambda m, t: np.clip(t, 0.0, 1.0),
    "sqrt": lambda m, t: np.sqrt(t),
    "greater_bool_as_uint8": lambda m, t: np.greater(t, 0.5),
    "zero_dim": lambda m, t: np.sqrt(m.tensor(4.0)),
    "with_float64_array": lambda m, t: np.add(t, np.ones(3)),
    "array_first": lambda m, t: np.maximum(np.zeros(3), t),
    "int_to_float64": lambda m, t: np.exp(m.arange(3)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_numpy_ufunc_on_tensor_gives_tensor_as_torch(torch, name):
    data = np.array([[0.2, 1.5, -0.3], [0.7, 0.1, 2.0]], dtype=np.float32)
    want = CASES[name](torch, torch.from_numpy(data.copy()))
    got = CASES[name](gg, gg.from_numpy(data.copy()))
    assert isinstance(want, torch.Tensor) and isinstance(got, gg.Tensor)
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    assert tuple(got.shape) == tuple(want.shape) and not got.requires_grad
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_numpy_ufunc_on_tensor_that_requires_grad_refused():
    with pytest.raises(RuntimeError, match="require grad"):
        np.clip(gg.ones(2, requires_grad=True), 0.0, 1.0)


def test_denoising_autoencoder_clip_feeds_conv():
    images = gg.rand(2, 1, 8, 8)
    noisy = np.clip(images + 0.5 * gg.randn(*images.shape), 0.0, 1.0)
    out = gg.nn.Conv2d(1, 4, 3, padding=1)(noisy)
    assert out.shape == (2, 4, 8, 8)


def test_dataloader_iterator_has_len_as_torch(torch):
    """CycleGAN: ``batches_per_epoch = min(len(iter_X), len(iter_Y))`` on two loader iterators."""
    from glassgrad.utils.data import DataLoader, TensorDataset

    tud = torch.utils.data
    for kw in ({"batch_size": 3}, {"batch_size": 3, "drop_last": True}, {"batch_size": None}):
        it = iter(DataLoader(TensorDataset(gg.arange(10.0)), **kw))
        want = iter(tud.DataLoader(tud.TensorDataset(torch.arange(10.0)), **kw))
        assert len(it) == len(want) and iter(it) is it
        assert [b[0].tolist() for b in it] == [b[0].tolist() for b in want]


@pytest.mark.parametrize("name", ["upsample", "upsample_nearest", "upsample_bilinear"])
def test_upsample_deprecation_warning_names_the_callers_line(name):
    """The upsampling autoencoder's ``F.upsample(x, scale_factor=2)``: PyTorch's warning points at
    the caller's line (so each call site shows once); it named a glassgrad frame."""
    import warnings

    x = gg.ones(1, 1, 2, 2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        getattr(gg.nn.functional, name)(x, scale_factor=2)
    assert [w.filename for w in caught] == [__file__]
    assert "is deprecated" in str(caught[0].message)
