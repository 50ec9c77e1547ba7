"""Review of round 26's torch.fft, complex linalg and TensorIterator layouts against PyTorch: the
defects found (fft's out=, a size-0 transform's error, layouts of expanded operands, of
floor_divide/remainder without gradient, of logsigmoid, complex and polar)."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg


def _layouts(lib, a):
    """The same layouts of ``a`` (a 4-D float32 array) in either library."""
    t = lib.tensor(a)
    return {
        "channels_last": t.contiguous(memory_format=lib.channels_last),
        "reversed": t.permute(3, 2, 1, 0).contiguous().permute(3, 2, 1, 0),
        "sliced": lib.cat([t, t], -1)[..., ::2],
        "expanded": lib.tensor(a[:1, :, :1]).expand(*a.shape),
    }


# ------------------------------------------------------------------ torch.fft's out=
# (not ifft/ihfft of a real input: PyTorch's conj path there takes only an out of the result's dtype)
@pytest.mark.parametrize("name", ["fft", "rfft", "fftn", "ifftn", "rfft2", "irfft", "hfft", "irfftn"])
def test_fft_out_writes_and_casts_as_torch(torch, name):
    x = np.random.default_rng(0).standard_normal((3, 4))
    if name in ("irfft", "hfft", "irfftn"):
        x = x + 1j * x[::-1]
    ref = getattr(torch.fft, name)(torch.from_numpy(x))
    wide = torch.complex128 if ref.is_complex() else torch.float64
    out_t = torch.empty(ref.shape, dtype=wide)
    getattr(torch.fft, name)(
        torch.from_numpy(x.astype(np.complex64 if x.dtype.kind == "c" else np.float32)), out=out_t
    )
    out_g = gg.empty(tuple(ref.shape), dtype=gg.complex128 if ref.is_complex() else gg.float64)
    src = gg.tensor(x.astype(np.complex64 if x.dtype.kind == "c" else np.float32))
    assert getattr(gg.fft, name)(src, out=out_g) is out_g  # a float32 result into a float64 out
    np.testing.assert_allclose(out_g.numpy(), out_t.numpy(), rtol=1e-5, atol=1e-5)


def test_fft_out_refuses_what_torch_refuses(torch):
    with pytest.raises(RuntimeError):
        torch.fft.fft(torch.ones(4), out=torch.empty(4))
    with pytest.raises(RuntimeError):  # a complex result into a real out
        gg.fft.fft(gg.ones(4), out=gg.empty(4))
    with pytest.raises(RuntimeError):  # autograd through out=
        gg.fft.fft(gg.ones(4, requires_grad=True), out=gg.empty(4, dtype=gg.complex64))
    with pytest.raises(TypeError):  # the shifts have no out=, as PyTorch's
        gg.fft.fftshift(gg.ones(4), out=gg.empty(4))


def test_fftfreq_out_sets_the_dtype_as_torch(torch):
    out_t, out_g = torch.empty(5, dtype=torch.float64), gg.empty(5, dtype=gg.float64)
    torch.fft.fftfreq(5, 0.1, out=out_t)
    assert gg.fft.fftfreq(5, 0.1, out=out_g) is out_g
    np.testing.assert_array_equal(out_g.numpy(), out_t.numpy())
    assert (
        gg.fft.rfftfreq(6, out=gg.empty(4, dtype=gg.float64)).tolist()
        == torch.fft.rfftfreq(6, out=torch.empty(4, dtype=torch.float64)).tolist()
    )
    with pytest.raises(RuntimeError):  # dtype= and out= disagree
        gg.fft.fftfreq(4, dtype=gg.float32, out=gg.empty(4, dtype=gg.float64))


@pytest.mark.parametrize("name", ["fft", "ifft", "rfft", "ihfft"])
def test_fft_of_an_empty_dim_raises_torch_error(torch, name):
    with pytest.raises(RuntimeError, match=r"Invalid number of data points \(0\)"):
        getattr(torch.fft, name)(torch.zeros(3, 0))
    with pytest.raises(RuntimeError, match=r"Invalid number of data points \(0\) specified"):
        getattr(gg.fft, name)(gg.zeros(3, 0))


# ------------------------------------------------------------------ TensorIterator layouts
def test_an_expanded_size1_dim_votes_with_torch_stride(torch):
    # NumPy gives an expanded or unsqueezed size-1 dim the stride 0; PyTorch keeps a real one,
    # which orders the dims of the result
    a = np.random.default_rng(1).standard_normal((1, 3, 4, 5)).astype(np.float32)
    strides = {}
    for lib in (torch, gg):
        t = lib.tensor(a).permute(3, 2, 1, 0).contiguous().permute(3, 2, 1, 0)
        e = lib.ones(1, 3, 4, 5).expand(1, 3, 4, 5)
        u = lib.ones(3, 4, 5).unsqueeze(0)
        x = lib.ones(2, 3, 1, 5).expand(2, 3, 1, 5)
        y = lib.ones(2, 3, 1, 5).permute(3, 2, 1, 0).contiguous().permute(3, 2, 1, 0)
        strides[lib] = [
            (e + t).stride(),
            (u + t).stride(),
            u.double().stride(),
            e.exp().stride(),
            (x + y).stride(),
        ]
    assert strides[gg] == strides[torch]


@pytest.mark.parametrize("layout", ["channels_last", "reversed", "sliced", "expanded"])
def test_division_ops_without_gradient_take_torch_strides(torch, layout):
    rng = np.random.default_rng(2)
    a, b = (
        rng.standard_normal((2, 3, 4, 5)).astype(np.float32),
        rng.standard_normal((2, 3, 4, 5)).astype(np.float32),
    )
    results = []
    for lib in (torch, gg):
        x, y = _layouts(lib, a)[layout], lib.tensor(b)
        ops = [lib.remainder(x, y), lib.floor_divide(x, y), x // 2, x % 2, (x * 4).long() // 3, y % x]
        results.append(([r.stride() for r in ops], [r.numpy() for r in ops]))
    assert results[0][0] == results[1][0]
    for t, g in zip(results[0][1], results[1][1]):
        np.testing.assert_allclose(g, t, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("layout", ["channels_last", "reversed", "sliced", "expanded"])
def test_logsigmoid_answers_contiguous_complex_keeps_the_layout(torch, layout):
    a = np.random.default_rng(3).standard_normal((2, 3, 4, 5)).astype(np.float32)
    found = []
    for lib in (torch, gg):
        x = _layouts(lib, a)[layout].requires_grad_()
        outs = [
            lib.nn.functional.logsigmoid(x),
            lib.complex(x, 2 * x),
            lib.polar(x.abs() + 1, x),
        ]
        loss = sum((o.abs() if o.is_complex() else o).sum() for o in outs)
        (grad,) = lib.autograd.grad(loss, x)
        found.append(([o.stride() for o in outs], [o.detach().numpy() for o in outs], grad.numpy()))
    assert found[1][0] == found[0][0]
    for g, t in zip(found[1][1], found[0][1]):
        np.testing.assert_allclose(g, t, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(found[1][2], found[0][2], rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------------ Tensor.mH / H / adjoint
def test_conjugate_transposes_match_torch(torch):
    # the linalg code writes Aᴴ as A.mH (PyTorch's attribute; glassgrad had mT only)
    rng = np.random.default_rng(4)
    a = rng.standard_normal((2, 3, 4)) + 1j * rng.standard_normal((2, 3, 4))
    w = np.arange(24.0).reshape(2, 4, 3)
    found = []
    for lib in (torch, gg):
        x = lib.tensor(a, requires_grad=True)
        ((x.mH.abs() ** 2) * lib.tensor(w)).sum().backward()
        m, r = lib.tensor(a[0]), lib.tensor(a.real)
        found.append(
            [
                lib.linalg.solve(x.mH @ x + 3 * lib.eye(4), x.adjoint()).detach().resolve_conj().numpy(),
                x.grad.numpy(),
            ]
            + [m.H.resolve_conj().numpy(), r.mH.numpy(), r.adjoint().numpy()]
        )
    for g, t in zip(found[1], found[0]):
        np.testing.assert_allclose(g, t, rtol=1e-10, atol=1e-12)
    with pytest.raises(RuntimeError, match="only supported on matrices"):
        _ = gg.tensor(a).H
