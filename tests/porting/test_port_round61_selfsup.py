"""Round 61, self-supervised learning: vturrisi/solo-learn (9187ea3) and facebookresearch/lingua (437d680).

solo-learn's VIbCReg whitens with IterNorm, a custom autograd Function whose backward updates a
gradient in place with ``g_P.baddbmm_(beta=1.5, alpha=-0.5, batch1=a, batch2=b)``: glassgrad's
``baddbmm_`` named its operands ``b1``/``b2`` (TypeError). Looking at the class behind it, every
in-place method built by ``methods._inplace`` handed its keyword operands past ``Tensor._update``,
which decides from the positional ones whether to record: ``buf.addmm_(mat1=w, mat2=v)`` on a
buffer that does not require grad dropped ``w``'s graph (backward then raised, or, inside a larger
graph, the gradient through that term was silently missing), and ``addcmul_``/``addcdiv_`` with
``tensor1=``/``tensor2=`` raised IndexError. The tests below are fresh programs of those patterns,
against PyTorch in float64.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg

_R = np.random.default_rng(61)

# method, keyword operands (shapes; a float is passed as a number), self's shape
_CASES = [
    ("addmm_", {"mat1": (2, 4), "mat2": (4, 3), "beta": 0.5, "alpha": -1.5}, (2, 3)),
    ("baddbmm_", {"batch1": (2, 2, 4), "batch2": (2, 4, 3), "beta": 1.5, "alpha": -0.5}, (2, 2, 3)),
    ("addbmm_", {"batch1": (5, 2, 4), "batch2": (5, 4, 3), "alpha": 0.25}, (2, 3)),
    ("addmv_", {"mat": (2, 4), "vec": (4,), "beta": 2.0}, (2,)),
    ("addr_", {"vec1": (2,), "vec2": (3,), "alpha": 3.0}, (2, 3)),
    ("addcmul_", {"tensor1": (2, 3), "tensor2": (2, 3), "value": 0.5}, (2, 3)),
    ("addcdiv_", {"tensor1": (2, 3), "tensor2": (2, 3), "value": -2.0}, (2, 3)),
    ("lerp_", {"end": (2, 3), "weight": (2, 3)}, (2, 3)),
    ("atan2_", {"other": (2, 3)}, (2, 3)),
    ("hypot_", {"other": (2, 3)}, (2, 3)),
    ("fmod_", {"other": (2, 3)}, (2, 3)),
    ("copysign_", {"other": (2, 3)}, (2, 3)),
    ("xlogy_", {"other": (2, 3)}, (2, 3)),
    ("true_divide_", {"other": (2, 3)}, (2, 3)),
    ("clamp_min_", {"min": (2, 3)}, (2, 3)),
    ("clamp_max_", {"max": (2, 3)}, (2, 3)),
]
_DATA = {
    name: (
        np.abs(_R.standard_normal(shape)) + 0.5,
        {k: np.abs(_R.standard_normal(s)) + 0.5 if isinstance(s, tuple) else s for k, s in kw.items()},
    )
    for name, kw, shape in _CASES
}


def _run(lib, name, self_grad):
    """``base.<name>(**operands)`` on a buffer (or on a non-leaf), then backward of a weighted sum."""
    x0, kw0 = _DATA[name]
    a = lib.from_numpy(x0.copy()).requires_grad_(self_grad)
    ops = {
        k: lib.from_numpy(v.copy()).requires_grad_() if isinstance(v, np.ndarray) else v
        for k, v in kw0.items()
    }
    x = a * 1.0 if self_grad else a
    y = getattr(x, name)(**ops)
    assert y is x
    w = lib.from_numpy(np.linspace(-1.0, 2.0, y.numel()).reshape(y.shape))
    (y * w).sum().backward()
    grads = {k: v.grad.numpy() for k, v in ops.items() if isinstance(v, lib.Tensor)}
    if self_grad:
        grads["self"] = a.grad.numpy()
    return y.detach().numpy(), grads


@pytest.mark.parametrize("self_grad", [False, True], ids=["buffer", "non_leaf"])
@pytest.mark.parametrize("name", [c[0] for c in _CASES])
def test_inplace_method_records_operands_given_by_keyword(torch, name, self_grad):
    yt, gt = _run(torch, name, self_grad)
    yg, gg_ = _run(gg, name, self_grad)
    np.testing.assert_allclose(yg, yt, rtol=1e-13, atol=1e-15)
    assert sorted(gg_) == sorted(gt)
    for k in gt:
        np.testing.assert_allclose(gg_[k], gt[k], rtol=1e-12, atol=1e-14, err_msg=k)


@pytest.mark.parametrize("lib_name", ["torch", "gg"])
def test_addcmul_mixes_positional_keyword_and_deprecated_forms(torch, lib_name):
    lib = torch if lib_name == "torch" else gg
    t1 = lib.from_numpy(np.array([[1.0, 2.0], [3.0, 4.0]]))
    t2 = lib.from_numpy(np.array([[0.5, -1.0], [2.0, 0.25]]))
    a = lib.ones(2, 2, dtype=lib.float64)
    a.addcmul_(t1, tensor2=t2, value=2)  # one operand by position, one by keyword
    a.addcdiv_(tensor1=t1, tensor2=t2)
    a.addcmul_(t1, t2, value=lib.tensor(0.5, dtype=lib.float64))  # a 0-d tensor as the number
    expected = 1 + 2 * t1.numpy() * t2.numpy() + t1.numpy() / t2.numpy() + 0.5 * t1.numpy() * t2.numpy()
    np.testing.assert_allclose(a.numpy(), expected, rtol=1e-15)
    with warnings.catch_warnings():  # both libraries warn once per process: not asserted here
        warnings.simplefilter("ignore")
        a.addcmul_(0.5, tensor1=t1, tensor2=t2)  # PyTorch's deprecated number-first overload
    np.testing.assert_allclose(a.numpy(), expected + 0.5 * t1.numpy() * t2.numpy(), rtol=1e-15)


@pytest.mark.parametrize("name", ["hypot_", "atan2_", "lerp_", "addcmul_"])
def test_keyword_operand_overlapping_self_reads_before_the_write(torch, name):
    def run(lib):
        x = lib.from_numpy(np.arange(12.0).reshape(3, 4) / 5)
        kw = {
            "lerp_": {"end": x[:, 1:], "weight": 0.25},
            "addcmul_": {"tensor1": x[:, 1:], "tensor2": x[:, :3]},
        }
        getattr(x[:, :3], name)(**kw.get(name, {"other": x[:, 1:]}))
        return x.numpy()

    np.testing.assert_allclose(run(gg), run(torch), rtol=1e-15)


def _iternorm_like(lib, xc_np, t_steps=2):
    """The shape of solo-learn's IterNorm: Newton iterations for Sigma^-1/2 in a custom Function
    whose backward runs the iterations back with in-place ``baddbmm_`` on the gradient, operands
    given by keyword. xc: (g, d, m) centred features; returns wm @ xc, (g, d, m)."""

    class Whiten(lib.autograd.Function):
        @staticmethod
        def forward(ctx, xc):
            g, d, m = xc.shape
            eye = lib.eye(d, dtype=xc.dtype).expand(g, d, d)
            sigma = lib.baddbmm(eye, xc, xc.transpose(1, 2), beta=1e-5, alpha=1.0 / m)
            r_tr = (sigma * eye).sum((1, 2), keepdim=True).reciprocal()
            sn = sigma * r_tr
            p = [eye]
            for k in range(t_steps):
                p.append(lib.baddbmm(p[k], lib.matrix_power(p[k], 3), sn, beta=1.5, alpha=-0.5))
            ctx.save_for_backward(sn, *p)
            return p[-1].matmul(xc)

        @staticmethod
        def backward(ctx, grad):
            sn, *p = ctx.saved_tensors
            g_p = grad.matmul(grad.transpose(-2, -1))  # a stand-in upstream for the iterations
            for k in range(t_steps, 1, -1):
                p2 = p[k - 1].matmul(p[k - 1])
                g_tmp = g_p.matmul(sn)
                g_p.baddbmm_(beta=1.5, alpha=-0.5, batch1=g_tmp, batch2=p2)
                g_p.baddbmm_(beta=1, alpha=-0.5, batch1=p2, batch2=g_tmp)
            return g_p.matmul(grad)

    xc = lib.from_numpy(xc_np.copy()).requires_grad_()
    out = Whiten.apply(xc)
    (out * out).sum().backward()
    return out.detach().numpy(), xc.grad.numpy()


def test_iternorm_style_backward_with_keyword_baddbmm_(torch):
    x = np.random.default_rng(5).standard_normal((2, 3, 3))
    x -= x.mean(-1, keepdims=True)
    ot, gt = _iternorm_like(torch, x, t_steps=3)
    og, g_ = _iternorm_like(gg, x, t_steps=3)
    np.testing.assert_allclose(og, ot, rtol=1e-12)
    np.testing.assert_allclose(g_, gt, rtol=1e-12)
