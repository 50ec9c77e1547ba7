"""Round 28, ldm group: NVlabs/edm's AttentionOp (a custom autograd.Function whose backward calls
PyTorch's private ``torch._softmax_backward_data``) and its log-softmax twin. CompVis/stable-diffusion
(LatentDiffusion, AutoencoderKL, DDIM) ran unchanged. Each test is a distilled repro checked against
PyTorch or against the closed form."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad
from glassgrad.errors import DTypeError, ShapeError


def _attention_op(t):
    """EDM's AttentionOp as the program writes it: softmax(q^T k / sqrt(c)) in float32, its
    backward through the private softmax-backward entry point."""

    class AttentionOp(t.autograd.Function):
        @staticmethod
        def forward(ctx, q, k):
            w = t.einsum("ncq,nck->nqk", q.to(t.float32), (k / np.sqrt(k.shape[1])).to(t.float32))
            w = w.softmax(dim=2).to(q.dtype)
            ctx.save_for_backward(q, k, w)
            return w

        @staticmethod
        def backward(ctx, dw):
            q, k, w = ctx.saved_tensors
            db = t._softmax_backward_data(
                grad_output=dw.to(t.float32), output=w.to(t.float32), dim=2, input_dtype=t.float32
            )
            dq = t.einsum("nck,nqk->ncq", k.to(t.float32), db).to(q.dtype) / np.sqrt(k.shape[1])
            dk = t.einsum("ncq,nqk->nck", q.to(t.float32), db).to(k.dtype) / np.sqrt(k.shape[1])
            return dq, dk

    return AttentionOp


def test_edm_attention_op_matches_pytorch(torch):
    rng = np.random.default_rng(0)
    qn, kn, vn = (rng.standard_normal((2, 8, 5)) for _ in range(3))

    def run(t):
        q = t.tensor(qn, requires_grad=True)
        k = t.tensor(kn, requires_grad=True)
        w = _attention_op(t).apply(q, k)
        a = t.einsum("nqk,nck->ncq", w, t.tensor(vn))
        (a * a).sum().backward()
        return w.detach().numpy(), q.grad.numpy(), k.grad.numpy(), str(w.dtype), str(q.grad.dtype)

    got, want = run(glassgrad), run(torch)
    for g, w in zip(got[:3], want[:3]):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
    assert got[3:] == ("glassgrad.float64", "glassgrad.float64") and want[3:] == ("torch.float64",) * 2


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_and_log_softmax_backward_data_match_pytorch(torch, dim, dtype):
    rng = np.random.default_rng(1)
    gn, xn = rng.standard_normal((3, 4, 5)), rng.standard_normal((3, 4, 5))

    def run(t):
        dt = getattr(t, dtype)
        g, x = t.tensor(gn, dtype=dt), t.tensor(xn, dtype=dt)
        s = t._softmax_backward_data(g, x.softmax(dim), dim, dt)
        ls = t._log_softmax_backward_data(g, x.log_softmax(dim), dim, dt)
        return s.numpy(), ls.numpy(), str(s.dtype).split(".")[1], tuple(s.shape)

    got, want = run(glassgrad), run(torch)
    tol = 1e-6 if dtype == "float32" else 1e-13
    np.testing.assert_allclose(got[0], want[0], rtol=tol, atol=tol)
    np.testing.assert_allclose(got[1], want[1], rtol=tol, atol=tol)
    assert got[2:] == want[2:] == (dtype, (3, 4, 5))


def test_softmax_backward_data_equals_softmax_vjp():
    """Hand check: it is the vector-Jacobian product of softmax (what autograd gives)."""
    rng = np.random.default_rng(2)
    x = glassgrad.tensor(rng.standard_normal((4, 6)), requires_grad=True)
    g = glassgrad.tensor(rng.standard_normal((4, 6)))
    z = x.softmax(1)
    (vjp,) = glassgrad.autograd.grad(z, x, g)
    got = glassgrad._softmax_backward_data(g, z.detach(), 1, glassgrad.float64)
    zn = z.detach().numpy()
    np.testing.assert_allclose(
        got.numpy(), zn * (g.numpy() - (g.numpy() * zn).sum(1, keepdims=True)), atol=1e-15
    )
    np.testing.assert_allclose(got.numpy(), vjp.numpy(), atol=1e-15)


def test_softmax_backward_data_has_a_double_backward(torch):
    rng = np.random.default_rng(3)
    gn, zn, cn = rng.standard_normal((3, 5)), rng.random((3, 5)), rng.standard_normal((3, 5))

    def run(t):
        g = t.tensor(gn, requires_grad=True)
        z = t.tensor(zn, requires_grad=True)
        (t._softmax_backward_data(g, z, 1, t.float64) * t.tensor(cn)).sum().backward()
        return g.grad.numpy(), z.grad.numpy()

    for a, b in zip(run(glassgrad), run(torch)):
        np.testing.assert_allclose(a, b, atol=1e-13)
    g = glassgrad.tensor(gn, requires_grad=True)
    z = glassgrad.tensor(zn, requires_grad=True)
    assert glassgrad.autograd.gradcheck(
        lambda a, b: glassgrad._softmax_backward_data(a, b, 0, glassgrad.float64), (g, z)
    )
    assert glassgrad.autograd.gradcheck(
        lambda a, b: glassgrad._log_softmax_backward_data(a, b, -1, glassgrad.float64), (g, z)
    )


def test_softmax_backward_data_errors_name_the_op():
    g = glassgrad.zeros(2, 3)
    with pytest.raises(ShapeError, match=r"_softmax_backward_data.*\(2, 3\).*\(1, 3\)"):
        glassgrad._softmax_backward_data(g, glassgrad.zeros(1, 3), 1, glassgrad.float32)
    with pytest.raises(DTypeError, match=r"_log_softmax_backward_data.*float32.*float64"):
        glassgrad._log_softmax_backward_data(g, g.double(), 1, glassgrad.float32)
    with pytest.raises(ShapeError, match=r"_softmax_backward_data.*dim"):
        glassgrad._softmax_backward_data(g, g, 3, glassgrad.float32)


# ------------------------------------------------------------------ torch._assert (EDM's torch_utils/misc.py)
def _assert_outcomes(t):
    out = [t._assert(True, "fine"), t._assert(t.tensor([1.0]), "fine")]
    for cond in (False, t.tensor(0), t.equal(t.as_tensor(3), t.tensor(4)), t.tensor([1, 1])):
        try:
            t._assert(cond, "Wrong size for dimension 1: expected 4")
            out.append("passed")
        except AssertionError as err:
            out.append(("AssertionError", str(err)))
        except RuntimeError:
            out.append("RuntimeError")
    return out


def test_private_assert_matches_pytorch(torch):
    """misc.assert_shape calls torch._assert(torch.equal(torch.as_tensor(size), ref), message)."""
    got = _assert_outcomes(glassgrad)
    assert got == _assert_outcomes(torch)
    assert got[:2] == [None, None] and got[2] == ("AssertionError", "Wrong size for dimension 1: expected 4")
    assert got[-1] == "RuntimeError"  # a two-element tensor has no truth value


def test_dim_out_of_range_is_an_index_error_as_in_pytorch(torch):
    """A dim outside the tensor (softmax, sum, the softmax-backward entry points): PyTorch raises
    IndexError; ours is an IndexError too (and still a ShapeError)."""
    for t in (glassgrad, torch):
        x = t.zeros(2, 3)
        for call in (
            lambda: x.softmax(3),
            lambda: x.sum(-3),
            lambda: t._softmax_backward_data(x, x, 2, x.dtype),
        ):
            with pytest.raises(IndexError):
                call()
    with pytest.raises(ShapeError, match=r"softmax: expected dim in range \[-2, 1\], got 3"):
        glassgrad.zeros(2, 3).softmax(3)
