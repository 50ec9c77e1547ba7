"""Round 27, diffusion group: torchdiffeq (odeint_adjoint's ``torch.as_strided`` workaround, the
implicit solvers' ``torch.linalg.vecdot``), glow-pytorch (a float32 log-det added to a float64
loss: PyTorch casts the gradient back to float32) and ``torch.qr``'s deprecation warning.
Each test is a distilled repro of the program's use, checked against PyTorch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad
from glassgrad.errors import ShapeError


# ------------------------------------------------------------------ as_strided
def test_as_strided_values_and_memory_match_pytorch(torch):
    def run(t):
        x = t.arange(12.0)
        y = x[2:].view(2, 5)
        views = [
            t.as_strided(x, (3, 2), (2, 1)),
            x.as_strided((2, 3), (1, 1), 4),
            y.as_strided((2, 2), (1, 2)),  # offset: y's own (2)
            y.as_strided((2,), (3,), 0),  # explicit offset counts from the memory's start
            y.t().as_strided((2,), (5,)),
            t.as_strided(x[5], (), ()),
        ]
        out = [(v.tolist(), tuple(v.shape), v.stride(), v.storage_offset()) for v in views]
        views[0][1, 1] = 100.0  # a view: the write reaches x
        out.append(x.tolist())
        return out

    assert run(glassgrad) == run(torch)


def _grads(t, fn):
    w = t.tensor(np.linspace(-1.0, 1.0, 10), dtype=t.float64, requires_grad=True)
    z = fn(w)
    wts = t.tensor(np.arange(1.0, z.numel() + 1).reshape(tuple(z.shape)), dtype=t.float64)
    (z * wts).sum().backward()
    return z.detach().numpy(), w.grad.numpy(), type(z.grad_fn).__name__


@pytest.mark.parametrize(
    "fn",
    [
        lambda w: w.as_strided((3, 2), (3, 1)),
        lambda w: w[1:].as_strided((2, 3), (1, 1), 2),  # overlapping windows: gradients summed
        lambda w: w[4:].view(2, 3).t().as_strided((2, 2), (1, 3)),
        lambda w: w.as_strided((4,), (0,), 7),  # one element read four times
        lambda w: w.view(2, 5)[:, 1:].as_strided((2, 2), (5, 2)),
    ],
)
def test_as_strided_gradient_matches_pytorch(torch, fn):
    gz, gg, gname = _grads(glassgrad, fn)
    tz, tg, tname = _grads(torch, fn)
    np.testing.assert_array_equal(gz, tz)
    np.testing.assert_allclose(gg, tg, rtol=0, atol=1e-15)
    assert gname == tname == "AsStridedBackward0"


def test_as_strided_gradcheck():
    x = glassgrad.tensor(np.random.RandomState(0).normal(size=(3, 4)), requires_grad=True)
    assert glassgrad.autograd.gradcheck(lambda a: a.t().as_strided((2, 3), (2, 1), 1), (x,))
    assert glassgrad.autograd.gradcheck(lambda a: a[1:].as_strided((3, 3), (1, 1)), (x,))


def test_as_strided_in_adjoint_dynamics(torch):
    """odeint_adjoint's augmented dynamics: 0-d as_strided views of t, y and the parameters made
    inside enable_grad (its workaround for PyTorch issue 39784), then autograd.grad with
    allow_unused=True."""

    def run(t):
        w = t.nn.Parameter(t.tensor([[0.5, -0.2], [0.3, 0.8]], dtype=t.float64))
        y = t.tensor([1.0, 2.0], dtype=t.float64)
        adj = t.tensor([0.1, -0.4], dtype=t.float64)
        tt = t.tensor(0.3, dtype=t.float64)
        with t.enable_grad():
            tt = tt.detach().requires_grad_(True)
            y = y.detach().requires_grad_(True)
            f = t.tanh(y @ w) * tt
            _t = t.as_strided(tt, (), ())
            _y = t.as_strided(y, (), ())
            _p = tuple(t.as_strided(p, (), ()) for p in (w,))
            gt, gy, gw = t.autograd.grad(f, (tt, y, w), -adj, allow_unused=True, retain_graph=True)
        return [g.tolist() for g in (gt, gy, gw)]

    np.testing.assert_allclose(
        np.concatenate([np.ravel(a) for a in run(glassgrad)]),
        np.concatenate([np.ravel(a) for a in run(torch)]),
        rtol=1e-14,
    )


def test_as_strided_errors_name_the_problem():
    x = glassgrad.arange(6.0)
    with pytest.raises(
        ShapeError, match=r"setStorage: sizes \[4\], strides \[2\].*out of bounds for storage of size 24"
    ):
        glassgrad.as_strided(x, (4,), (2,))
    with pytest.raises(ShapeError, match="as_strided: mismatch in length of strides and shape"):
        glassgrad.as_strided(x, (2,), (1, 2))
    with pytest.raises(ShapeError, match="as_strided: Negative strides are not supported"):
        x.as_strided((2,), (-1,))
    with pytest.raises(ShapeError, match="as_strided: invalid storage offset -1"):
        x.as_strided((2,), (1,), -1)
    with pytest.raises(ShapeError, match="add_: expected a writable tensor"):
        x.as_strided((3,), (0,)).add_(1)  # PyTorch too refuses writing where elements overlap


# ------------------------------------------------------------------ mixed-dtype gradients
def test_float32_operand_of_float64_op_gets_float32_gradient(torch):
    """glow's InvConv2d: slogdet(W.double())[1].float() * h * w, added to a float64 log-det sum;
    PyTorch rounds the gradient entering the float32 branch to float32."""

    def run(t):
        w = t.tensor([[1.3, 0.2], [0.1, 0.7]], dtype=t.float64, requires_grad=True)
        ld = 64 * t.slogdet(w.double())[1].float()
        ld.retain_grad()
        tot = t.zeros((), dtype=t.float64) + ld
        (tot / 3.0).backward()
        x = t.tensor([1.1], dtype=t.float64, requires_grad=True)
        y = x.float() * 3.3 + t.tensor([0.7], dtype=t.float64)
        (y / 7.0).sum().backward()
        return ld.grad.dtype, ld.grad.item(), w.grad.numpy(), x.grad.item()

    g, r = run(glassgrad), run(torch)
    assert str(g[0]).split(".")[-1] == str(r[0]).split(".")[-1] == "float32"
    assert g[1] == r[1] and g[3] == r[3]  # the same float32 rounding, to the bit
    np.testing.assert_allclose(g[2], r[2], rtol=1e-15)


# ------------------------------------------------------------------ torch.qr
def test_torch_qr_warns_deprecation_once(monkeypatch):
    from glassgrad import linalg_decomp

    monkeypatch.setattr(linalg_decomp, "_QR_WARNED", [False])
    x = glassgrad.tensor(np.random.RandomState(3).normal(size=(3, 3)))
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        q, r = glassgrad.qr(x)
        x.qr()
    msgs = [str(w.message) for w in rec]
    assert len(msgs) == 1 and msgs[0].startswith("torch.qr is deprecated in favor of torch.linalg.qr")
    assert rec[0].filename == __file__
    np.testing.assert_allclose((q @ r).numpy(), x.numpy(), atol=1e-12)


def test_as_strided_on_meta_gives_the_shape(torch):
    def run(t):
        x = t.empty(6, device="meta", requires_grad=True)
        y = x.as_strided((2, 2), (1, 2))
        y.sum().backward()
        return tuple(y.shape), str(y.device), tuple(x.grad.shape)

    assert run(glassgrad) == run(torch)


def test_mixed_dtype_gradient_cast_is_recorded_under_create_graph(torch):
    """With create_graph=True the float32 rounding of a float32 input's gradient is itself recorded:
    the first derivative is float32-rounded and the second is taken through it, as PyTorch's."""
    out = []
    for lib in (glassgrad, torch):
        x = lib.tensor([1.1], dtype=lib.float64, requires_grad=True)
        y = x.float() * 3.3 + lib.tensor([0.7], dtype=lib.float64)
        (gx,) = lib.autograd.grad(y.sum() / 7, x, create_graph=True)
        w = lib.tensor([2.0], dtype=lib.float32, requires_grad=True)
        (gw,) = lib.autograd.grad(
            ((w * lib.tensor([1.3], dtype=lib.float64)) ** 2).sum(), w, create_graph=True
        )
        (gww,) = lib.autograd.grad(gw.sum(), w)
        out.append(
            [gx.item(), str(gw.dtype).split(".")[1], gw.item(), str(gww.dtype).split(".")[1], gww.item()]
        )
    assert out[0] == out[1]


def test_as_strided_of_an_overlapping_input_shares_its_gradient_as_pytorch(torch):
    """An input that reads one element twice (expand, unfold): each reader gets an equal share of
    that element's gradient (the sum over them is the element's gradient once, not twice)."""
    cases = (
        (lambda x: x[:3].expand(2, 3), [1.0, 10.0, 100.0, 0.0, 0.0, 0.0]),
        (lambda x: (x * 1).unfold(0, 2, 1), [1.0, 10.0, 100.0, 0.0, 0.0, 0.0]),
    )
    for make, want in cases:
        out = []
        for lib in (glassgrad, torch):
            x = lib.tensor([0.0, 1.0, 2.0, 3.0, 4.0, 5.0], dtype=lib.float64, requires_grad=True)
            v = make(x).as_strided((3,), (1,))
            (v * lib.tensor([1.0, 10.0, 100.0], dtype=lib.float64)).sum().backward()
            out.append((v.detach().numpy().copy(), x.grad.numpy().copy()))
        np.testing.assert_array_equal(out[0][0], out[1][0])
        np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-15)
        np.testing.assert_allclose(out[0][1], want, rtol=1e-15)
