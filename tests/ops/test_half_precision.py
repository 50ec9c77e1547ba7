"""float16 products (ops/half_precision.py): ``F.linear`` and ``matmul`` multiply float16 in
float32 and round once, as PyTorch's CPU kernels accumulate in float32. The results and gradients
match PyTorch's to float16 rounding, and the product is the float32 product rounded."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad
from glassgrad.ops.half_precision import matmul_half

ULP = 2.0**-10  # float16's relative spacing


def _h(*shape, scale=1.0, seed=16):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float16)


def test_matmul_half_is_the_rounded_float32_product():
    a, b = _h(5, 7), _h(7, 3, seed=17)
    out = matmul_half(a, b)
    assert out.dtype == np.float16
    np.testing.assert_array_equal(out, (a.astype(np.float32) @ b.astype(np.float32)).astype(np.float16))


def _run(lib, arrays, fn):
    ts = [lib.tensor(a, requires_grad=True) for a in arrays]
    out = fn(lib, *ts)
    (
        out.float() * lib.tensor(np.linspace(-1, 1, out.numel(), dtype=np.float32).reshape(out.shape))
    ).sum().backward()
    return [out.detach().float().numpy()] + [t.grad.float().numpy() for t in ts]


CASES = {
    "linear": (lambda lib, x, w, b: lib.nn.functional.linear(x, w, b), ((3, 4, 16), (8, 16), (8,))),
    "linear no bias": (lambda lib, x, w: lib.nn.functional.linear(x, w), ((6, 16), (8, 16))),
    "matmul batched": (lambda lib, a, b: a @ b, ((2, 3, 5, 16), (2, 3, 16, 4))),
    "matmul broadcast": (lambda lib, a, b: lib.matmul(a, b), ((2, 5, 16), (16, 4))),
    "matmul vector": (lambda lib, a, b: a @ b, ((16,), (3, 16, 4))),
    "mm": (lambda lib, a, b: lib.mm(a, b), ((5, 16), (16, 4))),
    "bmm": (lambda lib, a, b: lib.bmm(a, b), ((3, 5, 16), (3, 16, 4))),
    "baddbmm": (
        lambda lib, c, a, b: lib.baddbmm(c, a, b, beta=0.5, alpha=2.0),
        ((3, 5, 4), (3, 5, 16), (3, 16, 4)),
    ),
    "einsum": (lambda lib, a, b: lib.einsum("bhqd,bhkd->bhqk", a, b), ((2, 2, 5, 16), (2, 2, 4, 16))),
    "dot": (lambda lib, a, b: lib.dot(a, b), ((16,), (16,))),
}


@pytest.mark.parametrize("name", list(CASES))
def test_half_products_match_pytorch(torch, name):
    fn, shapes = CASES[name]
    arrays = [_h(*s, scale=0.5, seed=i) for i, s in enumerate(shapes)]
    ours, theirs = _run(glassgrad, arrays, fn), _run(torch, arrays, fn)
    for o, t in zip(ours, theirs):
        assert o.shape == t.shape
        # one float16 rounding apart at most (the summation orders differ)
        np.testing.assert_allclose(o, t, rtol=2 * ULP, atol=2 * ULP * np.abs(t).max())


def test_half_products_keep_float16():
    x = glassgrad.tensor(_h(2, 16), requires_grad=True)
    w = glassgrad.tensor(_h(8, 16, seed=17), requires_grad=True)
    y = glassgrad.nn.functional.linear(x, w)
    (y @ w).sum().backward()
    assert (
        y.dtype == glassgrad.float16
        and x.grad.dtype == glassgrad.float16
        and w.grad.dtype == glassgrad.float16
    )


def test_float16_by_a_python_number_is_pytorchs_half_kernel(torch):
    # found by tensorbasics probing (Machine-Learning-Collection): `half_tensor * 0.1` rounded 0.1 to
    # float16 first (NumPy), about a third of the elements one ulp off PyTorch's float32 computation
    x = (np.random.default_rng(3).standard_normal(4000) * 100).astype(np.float16)
    g = _h(4000, seed=4)
    for fn in (
        lambda t: t * 0.1,
        lambda t: 0.1 * t,
        lambda t: t / 0.3,
        lambda t: t * 130.7,
        lambda t: t / 3.3,
    ):
        ours, theirs = glassgrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        a, b = fn(ours), fn(theirs)
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
        a.backward(glassgrad.tensor(g))
        b.backward(torch.tensor(g))
        # the gradients (g * 0.1, g / 0.3 ...) go through the same kernel
        np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
    t, u = glassgrad.tensor(x), torch.tensor(x)
    t.mul_(0.1)
    u.mul_(0.1)
    np.testing.assert_array_equal(t.numpy(), u.numpy())
