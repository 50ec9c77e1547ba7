"""Round 66 (PyTorch's OpInfo unary and special entries): parity fixes.

- hardtanh/relu6's gradient outside the band is +0 for a negative, inf or NaN upstream gradient
  (a product by the mask gave -0 for a negative one);
- sinc's gradient at 0 is +0 whatever the upstream gradient (PyTorch selects after the product);
- the dtype casts (``float``, ``int``, ``bool``, ``cfloat`` ...) take ``memory_format=``, and a
  cast with an explicit format copies into it;
- ``torch.fill`` of a tensor that requires grad is recorded, with a zero gradient;
- a complex ``exp2`` at an infinite part is PyTorch's (no 0 * inf NaN);
- ``i1``/``i1e`` of -0.0 is +0.0, as PyTorch's.
"""

import numpy as np
import pytest

import glassgrad as gg

_CASTS = ["float", "double", "half", "long", "int", "short", "char", "byte", "bool", "cfloat", "cdouble"]


def _grad(lib, fn, x, ct, **kw):
    t = lib.tensor(x, dtype=lib.float64, requires_grad=True)
    fn(lib)(t, **kw).backward(lib.tensor(ct, dtype=lib.float64))
    return t.grad.detach().numpy()


def _same_bits(a, b):
    np.testing.assert_array_equal(a, b)
    assert (np.signbit(a) == np.signbit(b)).all(), (a, b)


@pytest.mark.parametrize(
    "name,kw", [("hardtanh", {}), ("hardtanh", {"min_val": -0.5, "max_val": 0.5}), ("relu6", {})]
)
def test_hardtanh_gradient_outside_is_plus_zero(torch, name, kw):
    x = [-7.0, -1.0, -0.25, 0.0, 0.25, 0.5, 1.0, 6.0, 7.0, 3.0, -3.0, 2.0] * 3  # past one SIMD width
    ct = [-1.0, -2.0, -3.0, float("inf"), float("-inf"), float("nan"), -4.0, -5.0, -6.0, -7.0, 8.0, -9.0] * 3
    fn = lambda lib: getattr(lib.nn.functional, name)  # noqa: E731
    _same_bits(_grad(gg, fn, x, ct, **kw), _grad(torch, fn, x, ct, **kw))


def test_sinc_gradient_at_zero_is_plus_zero(torch):
    x = [0.0, -0.0, 0.0, 0.0, 1e-200, 0.3, -2.5]
    ct = [-1.0, -2.0, float("inf"), float("nan"), -3.0, -1.5, 2.0]
    fn = lambda lib: lib.sinc  # noqa: E731
    a, b = _grad(gg, fn, x, ct), _grad(torch, fn, x, ct)
    _same_bits(a[:5], b[:5])
    np.testing.assert_allclose(a[5:], b[5:], rtol=1e-12)


@pytest.mark.parametrize("name", _CASTS)
@pytest.mark.parametrize("fmt", ["contiguous_format", "preserve_format"])
def test_casts_take_memory_format(torch, name, fmt):
    base = np.arange(6.0).reshape(2, 3)
    t, x = torch.tensor(base).t(), gg.tensor(base).t()
    a = getattr(t, name)(memory_format=getattr(torch, fmt))
    b = getattr(x, name)(memory_format=getattr(gg, fmt))
    assert str(b.dtype).split(".")[1] == str(a.dtype).split(".")[1]
    assert b.stride() == a.stride()
    assert (b is x) == (a is t)
    np.testing.assert_array_equal(b.numpy(), a.numpy())
    with pytest.raises(TypeError):
        getattr(x, name)(gg.contiguous_format)  # keyword-only, as PyTorch's


def test_to_with_format_and_cast_copies_into_the_format(torch):
    base = np.arange(6.0).reshape(2, 3)
    a = torch.tensor(base).t().to(torch.float32, memory_format=torch.contiguous_format)
    b = gg.tensor(base).t().to(gg.float32, memory_format=gg.contiguous_format)
    assert b.stride() == a.stride()
    x = gg.tensor(base).t()
    assert x.to(gg.float64, memory_format=gg.contiguous_format) is x  # no cast: self, as PyTorch


@pytest.mark.parametrize("value", [3, 2.5, True])
def test_fill_of_tensor_requiring_grad_is_recorded(torch, value):
    ct = [-1.0, 2.0, float("nan")]
    outs = []
    for lib in (gg, torch):
        x = lib.tensor([1.0, -2.0, 4.0], dtype=lib.float64, requires_grad=True)
        y = lib.fill(x, value)
        assert y.requires_grad
        y.backward(lib.tensor(ct, dtype=lib.float64))
        outs.append((y.detach().numpy(), x.grad.numpy()))
    np.testing.assert_array_equal(outs[0][0], outs[1][0])
    _same_bits(outs[0][1], outs[1][1])
    with gg.no_grad():
        assert not gg.fill(gg.tensor([1.0], requires_grad=True), value).requires_grad


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_complex_exp2_at_extremes(torch, dtype):
    """exp2(z) is exp(z ln 2) with each part times the real ln 2, as PyTorch's kernel: a complex
    product by ln 2 made 0 * inf a NaN (exp2(-inf+infj) was nan+nanj; PyTorch's is 0)."""
    v = [0.0, -0.0, 1.0, -2.5, 1e3, -745.0, float("inf"), float("-inf"), float("nan")]
    z = np.array([complex(a, b) for a in v for b in v], dtype=dtype)
    a = torch.exp2(torch.from_numpy(z.copy())).numpy()
    b = gg.exp2(gg.from_numpy(z.copy())).numpy()
    for part in ("real", "imag"):
        np.testing.assert_allclose(
            getattr(b, part), getattr(a, part), rtol=2e-7 if dtype == "complex64" else 1e-15
        )


@pytest.mark.parametrize("name", ["i1", "i1e", "modified_bessel_i1"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_i1_at_signed_zero(torch, name, dtype):
    """I1 is odd, but PyTorch's kernels negate where x < 0, so i1(-0.0) is +0.0 (a copysign gave -0.0)."""
    x = [0.0, -0.0, -1e-310, float("nan"), -1.0, 2.0]
    a = getattr(torch.special, name)(torch.tensor(x, dtype=getattr(torch, dtype))).numpy()
    b = getattr(gg.special, name)(gg.tensor(x, dtype=getattr(gg, dtype))).numpy()
    _same_bits(a[:4], b[:4])
    np.testing.assert_allclose(b[4:], a[4:], rtol=1e-6 if dtype == "float32" else 1e-14)


def test_kept_differences_softsign_int8_and_softshrink_band():
    """Deliberate (design.md, round 66): int8 softsign(-128) is the true -128/129 (PyTorch's int8
    abs wraps to -128, giving 1.008); softshrink inside the band is +0 on a strided input too."""
    y = gg.nn.functional.softsign(gg.tensor([-128, 127, 0], dtype=gg.int8))
    np.testing.assert_allclose(y.numpy(), np.array([-128 / 129, 127 / 128, 0.0], dtype=np.float32), rtol=1e-7)
    x = gg.tensor([-0.3, 0.0, -0.1, 0.2, -0.4, 1.0], dtype=gg.float64)[::2]
    z = gg.nn.functional.softshrink(x).numpy()
    assert not np.signbit(z[:2]).any()
