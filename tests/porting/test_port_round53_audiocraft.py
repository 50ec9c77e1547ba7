"""Round 53, group audiocraft: Meta's audiocraft building blocks (EnCodec, SEANet, RVQ, the
streaming transformer, spectral losses, the gradient balancer, the GAN discriminators).

audiocraft's ``ScaleDiscriminator`` builds ``nn.ReflectionPad1d((np.prod(kernel_sizes) - 1) // 2)``
and ``NormConv1d(..., kernel_size=np.prod(kernel_sizes))``: NumPy integers where PyTorch takes an
int. PyTorch's argument parser takes anything with ``__index__``; glassgrad's padding layers,
``Conv*d(groups=)``, the pooling ``stride``/``padding`` (module and functional), adaptive pooling's
``output_size``, ``Softmax``/``LogSoftmax``/``Softmin``'s ``dim`` and ``Tensor.chunk``'s count refused
them (or failed with NumPy's "truth value of an empty array"). Each test compares with PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

I64 = np.int64


def _run(lib, make, shape, seed=0):
    x = lib.tensor(np.random.default_rng(seed).standard_normal(shape))
    out = make(lib)(x)
    return out[0] if isinstance(out, tuple) else out


def _same(torch, make, shape):
    want = _run(torch, make, shape).detach().numpy()
    got = _run(gg, make, shape).detach().numpy()
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


PADS = [
    ("ReflectionPad1d", (), (1, 2, 5)),
    ("ReflectionPad2d", (), (1, 2, 5, 5)),
    ("ReflectionPad3d", (), (1, 2, 4, 5, 5)),
    ("ReplicationPad1d", (), (1, 2, 5)),
    ("ReplicationPad2d", (), (1, 2, 5, 5)),
    ("ReplicationPad3d", (), (1, 2, 4, 5, 5)),
    ("CircularPad1d", (), (1, 2, 5)),
    ("CircularPad2d", (), (1, 2, 5, 5)),
    ("CircularPad3d", (), (1, 2, 4, 5, 5)),
    ("ZeroPad1d", (), (1, 2, 5)),
    ("ZeroPad2d", (), (1, 2, 5, 5)),
    ("ZeroPad3d", (), (1, 2, 4, 5, 5)),
    ("ConstantPad1d", (1.5,), (1, 2, 5)),
    ("ConstantPad2d", (1.5,), (1, 2, 5, 5)),
    ("ConstantPad3d", (1.5,), (1, 2, 4, 5, 5)),
]


@pytest.mark.parametrize("name,extra,shape", PADS)
@pytest.mark.parametrize("npint", [np.int64, np.int32, np.uint8])
def test_padding_layers_take_a_numpy_integer(torch, name, extra, shape, npint):
    _same(torch, lambda lib: getattr(lib.nn, name)(npint(2), *extra), shape)


def test_padding_layer_takes_numpy_tuples_and_iterates_a_tensor(torch):
    _same(torch, lambda lib: lib.nn.ReflectionPad1d(lib.tensor([3, 1])), (2, 3, 6))
    with pytest.raises(TypeError):
        torch.nn.ReflectionPad1d(torch.tensor(3))
    with pytest.raises(TypeError):
        gg.nn.ReflectionPad1d(gg.tensor(3))
    _same(torch, lambda lib: lib.nn.ReplicationPad2d((I64(1), I64(0), 2, I64(3))), (1, 2, 4, 4))
    assert gg.nn.ReflectionPad1d(I64(2)).padding == torch.nn.ReflectionPad1d(I64(2)).padding == (2, 2)
    assert type(gg.nn.ReflectionPad1d(I64(2)).padding[0]) is int


def test_audiocraft_scale_discriminator_stem(torch):
    """msd.py's first layer: a reflection pad and a weight-normed conv sized by ``np.prod``."""
    ks = [5, 3]

    def make(lib):
        lib.manual_seed(0)
        pad = lib.nn.ReflectionPad1d((np.prod(ks) - 1) // 2)
        conv = lib.nn.Conv1d(1, 4, kernel_size=np.prod(ks), stride=1, groups=I64(1))
        return lib.nn.Sequential(pad, conv).double()

    tm, gm = make(torch), make(gg)
    gm.load_state_dict({k: gg.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    x = np.random.default_rng(3).standard_normal((2, 1, 20))
    np.testing.assert_allclose(
        gm(gg.tensor(x)).detach().numpy(), tm(torch.tensor(x)).detach().numpy(), atol=1e-12
    )


@pytest.mark.parametrize("cls", ["Conv1d", "ConvTranspose1d"])
def test_conv_groups_take_a_numpy_integer(torch, cls):
    want = getattr(torch.nn, cls)(4, 6, 3, groups=I64(2))
    got = getattr(gg.nn, cls)(4, 6, 3, groups=I64(2))
    assert got.groups == want.groups == 2
    assert (
        tuple(got.weight.shape) == tuple(want.weight.shape) == ((6, 2, 3) if cls == "Conv1d" else (4, 3, 3))
    )


@pytest.mark.parametrize("bad", [0, True, 1.0])
def test_conv_groups_still_refuse_what_is_not_a_positive_int(bad):
    with pytest.raises(ValueError, match="Conv1d: expected groups to be a positive int"):
        gg.nn.Conv1d(2, 2, 3, groups=bad)


POOLS = [
    (lambda lib: lib.nn.MaxPool1d(I64(2), I64(1), I64(1)), (1, 2, 7)),
    (lambda lib: lib.nn.MaxPool2d(I64(3), stride=I64(2), padding=I64(1)), (1, 2, 7, 7)),
    (lambda lib: lib.nn.AvgPool1d(I64(4), I64(2), padding=I64(2)), (1, 2, 7)),
    (lambda lib: lib.nn.AvgPool2d(I64(2)), (1, 2, 6, 6)),
    (lambda lib: lib.nn.AvgPool2d(I64(2), stride=(I64(1), I64(2))), (1, 2, 6, 6)),
    (lambda lib: lib.nn.AdaptiveAvgPool1d(I64(3)), (1, 2, 7)),
    (lambda lib: lib.nn.AdaptiveMaxPool1d(I64(3)), (1, 2, 7)),
    (lambda lib: lib.nn.AdaptiveAvgPool2d((I64(2), None)), (1, 2, 6, 5)),
    (lambda lib: lib.nn.AdaptiveMaxPool2d((np.int32(2), I64(3))), (1, 2, 6, 5)),
    (lambda lib: lambda x: lib.nn.functional.max_pool1d(x, I64(2), I64(1), I64(1)), (2, 3, 6)),
    (lambda lib: lambda x: lib.nn.functional.avg_pool1d(x, I64(3), stride=I64(2)), (2, 3, 7)),
    (lambda lib: lambda x: lib.nn.functional.adaptive_avg_pool1d(x, I64(2)), (2, 3, 7)),
    (lambda lib: lambda x: lib.nn.functional.adaptive_max_pool2d(x, (I64(2), I64(3))), (1, 2, 6, 7)),
]


@pytest.mark.parametrize("k", range(len(POOLS)))
def test_pooling_takes_numpy_integers(torch, k):
    make, shape = POOLS[k]
    _same(torch, make, shape)


def test_pooling_empty_stride_still_means_the_kernel(torch):
    _same(torch, lambda lib: lambda x: lib.nn.functional.max_pool1d(x, 2, stride=[]), (1, 2, 6))
    _same(torch, lambda lib: lambda x: lib.nn.functional.avg_pool2d(x, 2, stride=()), (1, 2, 6, 6))


@pytest.mark.parametrize("name", ["Softmax", "LogSoftmax", "Softmin"])
def test_softmax_layers_take_a_numpy_dim(torch, name):
    _same(torch, lambda lib: getattr(lib.nn, name)(I64(1)), (2, 3, 4))
    _same(torch, lambda lib: getattr(lib.nn, name)(dim=np.int32(-1)), (2, 3, 4))
    assert type(getattr(gg.nn, name)(I64(1)).dim) is int


@pytest.mark.parametrize("bad", [1.0, True, "1"])
def test_softmax_layers_refuse_a_dim_that_is_not_an_int(torch, bad):
    with pytest.raises(TypeError):
        torch.nn.Softmax(bad)(torch.ones(2, 2))
    with pytest.raises(TypeError, match="Softmax: expected dim to be an int or None"):
        gg.nn.Softmax(bad)


@pytest.mark.parametrize("chunks", [I64(2), np.int32(3), np.uint8(4)])
def test_chunk_takes_a_numpy_count(torch, chunks):
    x = np.arange(30.0).reshape(2, 5, 3)
    want = torch.tensor(x).chunk(chunks, I64(1))
    got = gg.tensor(x).chunk(chunks, I64(1))
    assert [tuple(t.shape) for t in got] == [tuple(t.shape) for t in want]
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    got = gg.chunk(gg.tensor(x), chunks, dim=2)
    assert [tuple(t.shape) for t in got] == [
        tuple(t.shape) for t in torch.chunk(torch.tensor(x), chunks, dim=2)
    ]


@pytest.mark.parametrize("bad", [2.0, True])
def test_chunk_refuses_a_count_that_is_not_an_int(torch, bad):
    with pytest.raises(TypeError):
        torch.ones(4).chunk(bad)
    with pytest.raises(TypeError, match=r"chunk: expected chunks to be an int, got (float|bool)"):
        gg.ones(4).chunk(bad)


def test_chunk_with_a_numpy_count_keeps_gradients(torch):
    x = np.random.default_rng(0).standard_normal((3, 7))
    w = np.random.default_rng(1).standard_normal((3, 3))
    grads = []
    for lib in (torch, gg):
        t = lib.tensor(x, requires_grad=True)
        parts = t.chunk(I64(3), dim=1)
        (parts[0] * lib.tensor(w)).sum().backward()
        grads.append(t.grad.numpy())
    np.testing.assert_array_equal(grads[1], grads[0])


def test_reflection_pad_with_a_numpy_size_gradcheck():
    rng = np.random.default_rng(5)
    pad = gg.nn.ReflectionPad2d((I64(1), I64(2), np.int32(0), 1))
    for shape in [(1, 2, 3, 4), (2, 3, 4)]:
        x = gg.tensor(rng.standard_normal(shape), requires_grad=True)
        assert gg.autograd.gradcheck(lambda t: pad(t), (x,))
