"""Round 46, group vae: AntixK/PyTorch-VAE (the VAE zoo) and XPixelGroup/BasicSR (super-resolution
networks and their losses), run with only their imports changed.

BasicSR's weighted losses reduce through ``F._Reduction.get_enum(reduction)``, PyTorch's module
``torch.nn._reduction``, which glassgrad lacked (every ``L1Loss``/``MSELoss``/``CharbonnierLoss``
call raised ``AttributeError``). ECBSR wraps ``torch.FloatTensor(torch.randn(...))``: PyTorch's
legacy typed constructors alias a tensor of their own dtype and refuse any other with a
``TypeError``, where glassgrad cast it silently. The VAE zoo's ``sample`` calls
``z.cuda(current_device)`` with ``current_device="cpu"``: PyTorch refuses a device of another type
("Invalid device, must be cuda device"), glassgrad returned the tensor unchanged.
"""

import warnings

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.errors import DeviceError

# ----------------------------------------------------------------- Tensor.cuda / Module.cuda(device)

OTHER_DEVICES = ["cpu", "meta", ("device", "cpu"), ("device", "meta")]


def _dev(lib, d):
    return lib.device(d[1]) if isinstance(d, tuple) else d


@pytest.mark.parametrize("where", OTHER_DEVICES)
def test_tensor_cuda_of_another_device_type_is_refused_as_pytorch(torch, where):
    with pytest.raises(RuntimeError, match="Invalid device, must be cuda device"):
        torch.zeros(2).cuda(_dev(torch, where))
    with pytest.raises(RuntimeError, match="Invalid device, must be cuda device") as info:
        gg.zeros(2).cuda(_dev(gg, where))
    assert isinstance(info.value, DeviceError)
    assert "cuda:" in str(info.value) or str(info.value).startswith("cuda")  # names the op
    with pytest.raises(RuntimeError, match="Invalid device, must be cuda device"):
        gg.zeros(2).cuda(device=_dev(gg, where))


@pytest.mark.parametrize(
    "method, label", [("cuda", "cuda"), ("xpu", "xpu"), ("ipu", "ipu"), ("mtia", "MTIA")]
)
@pytest.mark.parametrize("where", OTHER_DEVICES)
def test_module_accelerator_moves_to_another_device_type_are_refused_as_pytorch(torch, method, label, where):
    sentence = f"Invalid device, must be {label} device"
    with pytest.raises(RuntimeError, match=sentence):
        getattr(torch.nn.Linear(2, 2), method)(_dev(torch, where))
    with pytest.raises(RuntimeError, match=sentence):
        getattr(gg.nn.Linear(2, 2), method)(_dev(gg, where))


@pytest.mark.parametrize("where", [None, 0, "cuda", "cuda:1", ("device", "cuda")])
def test_cuda_itself_is_still_refused_as_unavailable(where):
    """The accelerator's own device (or an index, or nothing) is refused because glassgrad has no
    CUDA, as before, not as a device of another type."""
    with pytest.raises(DeviceError, match="CPU only"):
        gg.zeros(2).cuda(_dev(gg, where))
    with pytest.raises(DeviceError, match="CPU only"):
        gg.nn.Linear(2, 2).cuda(_dev(gg, where))


def test_vae_sample_on_cpu_stops_where_pytorch_stops(torch):
    """PyTorch-VAE's ``sample(n, current_device)``: ``torch.randn(n, d)`` then ``z.cuda(current_device)``."""
    for lib in (torch, gg):
        z = lib.randn(4, 3)
        with pytest.raises(RuntimeError, match="must be cuda device"):
            z.cuda("cpu")


# ----------------------------------------------------------------- legacy typed constructors

CTORS = ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor",
         "CharTensor", "ByteTensor", "BoolTensor"]  # fmt: skip
SOURCES = ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"]


@pytest.mark.parametrize("ctor", CTORS)
@pytest.mark.parametrize("src", SOURCES)
def test_typed_constructor_of_a_tensor_casts_nothing(torch, ctor, src):
    a = np.array([1, 0, 1], dtype=src)
    t = torch.from_numpy(a.copy())
    try:
        expected = getattr(torch, ctor)(t)
    except TypeError:
        expected = None
    g = gg.from_numpy(a.copy())
    if expected is None:
        with pytest.raises(
            TypeError, match=f"{ctor}: expected a tensor of dtype .* got one of glassgrad.{src}"
        ):
            getattr(gg, ctor)(g)
        return
    out = getattr(gg, ctor)(g)
    assert str(out.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    # an alias, as PyTorch's: a write through it shows in the source
    out[0] = 0
    expected[0] = 0
    np.testing.assert_array_equal(g.numpy(), t.numpy())


def test_ecbsr_float_tensor_of_default_float64_randn(torch):
    """ECBSR's ``nn.Parameter(torch.FloatTensor(torch.randn(...) * 1e-3))`` after
    ``set_default_dtype(float64)``: PyTorch raises, and so does glassgrad now."""
    for lib in (torch, gg):
        old = lib.get_default_dtype()
        lib.set_default_dtype(lib.float64)
        try:
            with pytest.raises(TypeError):
                lib.FloatTensor(lib.randn(4, 1, 1, 1) * 1e-3)
            assert lib.DoubleTensor(lib.randn(2)).dtype == lib.float64
        finally:
            lib.set_default_dtype(old)


def test_typed_constructor_keeps_its_other_forms():
    assert gg.FloatTensor([1, 2]).dtype == gg.float32
    assert gg.LongTensor(np.array([1.5, 2.0])).tolist() == [1, 2]
    assert gg.DoubleTensor(2, 3).shape == (2, 3)
    assert gg.ByteTensor(gg.Size([2])).dtype == gg.uint8


# ----------------------------------------------------------------- torch.nn._reduction


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_reduction_get_enum_as_pytorch(torch, reduction):
    assert F._Reduction.get_enum(reduction) == torch.nn.functional._Reduction.get_enum(reduction)


def test_reduction_refusals_and_deprecations_as_pytorch(torch):
    for bad in ["avg", "", "Mean"]:
        with pytest.raises(ValueError, match="is not a valid value for reduction"):
            torch.nn._reduction.get_enum(bad)
        with pytest.raises(ValueError, match=f"{bad} is not a valid value for reduction"):
            gg.nn._reduction.get_enum(bad)
    with pytest.warns(UserWarning, match="elementwise_mean' is deprecated"):
        assert gg.nn._reduction.get_enum("elementwise_mean") == 1


@pytest.mark.parametrize("size_average", [None, True, False])
@pytest.mark.parametrize("reduce", [None, True, False])
def test_reduction_legacy_pair_as_pytorch(torch, size_average, reduce):
    r = torch.nn._reduction
    want = r.legacy_get_string(size_average, reduce, emit_warning=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # emit_warning=False says nothing
        assert gg.nn._reduction.legacy_get_string(size_average, reduce, emit_warning=False) == want
        assert gg.nn._reduction.legacy_get_enum(size_average, reduce, emit_warning=False) == r.get_enum(want)
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        assert gg.nn._reduction.legacy_get_string(size_average, reduce) == want


def test_reduction_module_reached_as_pytorch_reaches_it():
    import glassgrad.nn._reduction as red
    import glassgrad.nn.modules.loss as loss_modules

    assert F._Reduction is red
    assert loss_modules._Reduction is red
    assert gg.nn._reduction is red


def _basicsr_weighted_l1(lib, pred, target, weight, reduction):
    """BasicSR's ``weight_reduce_loss`` as written: reduce with the enum, or a weighted mean."""
    functional = lib.nn.functional
    loss = functional.l1_loss(pred, target, reduction="none")
    if weight is not None:
        loss = loss * weight
    if weight is None or reduction == "sum":
        enum = functional._Reduction.get_enum(reduction)
        return loss if enum == 0 else (loss.mean() if enum == 1 else loss.sum())
    if reduction == "mean":
        if weight.size(1) > 1:
            weight = weight.sum()
        else:
            weight = weight.sum() * loss.size(1)
        loss = loss.sum() / weight
    return loss


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("weighted", [False, True])
def test_basicsr_weighted_loss_through_reduction_enum_matches_pytorch(torch, reduction, weighted):
    rng = np.random.default_rng(46)
    p, t, w = rng.random((2, 3, 4, 5)), rng.random((2, 3, 4, 5)), rng.random((2, 1, 4, 5))
    results = []
    for lib in (torch, gg):
        pred = lib.tensor(p, requires_grad=True)
        out = _basicsr_weighted_l1(lib, pred, lib.tensor(t), lib.tensor(w) if weighted else None, reduction)
        out.sum().backward()
        results.append((out.detach().numpy(), pred.grad.numpy()))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-13, atol=1e-15)
