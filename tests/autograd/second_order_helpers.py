"""What the recorded-rule tests (test_recorded_*.py) share: float64 leaves, and the first- and
second-order gradients of a function in glassgrad or PyTorch for the same v and w."""

from __future__ import annotations

import numpy as np

import glassgrad as gg

__all__ = ["gg_inputs", "second_order", "v_w"]


def gg_inputs(arrays, dtype=np.float64):
    return [gg.tensor(a.astype(dtype)).requires_grad_() for a in arrays]


def second_order(lib, fn, arrays, v, w, allow_unused=True):
    """(create_graph first-order grads, second-order grads of sum(grads * w) in (inputs, v))."""
    if lib is gg:
        xs, vt = gg_inputs(arrays), gg.tensor(v).requires_grad_()
    else:
        xs = [lib.tensor(a, requires_grad=True) for a in arrays]
        vt = lib.tensor(v, requires_grad=True)
    out = fn(lib, *xs)
    firsts = lib.autograd.grad(out, xs, vt, create_graph=True)
    total = sum((f * lib.tensor(wi)).sum() for f, wi in zip(firsts, w))
    if not total.requires_grad:  # (x ** 0: a constant first-order gradient, in both libraries)
        return [f.detach().numpy() for f in firsts], [None] * (len(xs) + 1)
    seconds = lib.autograd.grad(total, [*xs, vt], allow_unused=allow_unused)
    return [f.detach().numpy() for f in firsts], [None if s is None else s.detach().numpy() for s in seconds]


def v_w(fn, arrays):
    """A random output gradient v and weights w for the first-order gradients (seeded)."""
    out = fn(gg, *gg_inputs(arrays))
    rng = np.random.default_rng(7)
    return rng.standard_normal(tuple(out.shape)), [rng.standard_normal(a.shape) for a in arrays]


def like_torch(torch, fn, arrays, rtol=1e-10, atol=1e-12, nans=None, allow_unused=True):
    """glassgrad's first- and second-order gradients of ``fn`` equal PyTorch's (an unused input's
    None counts as zeros). ``nans``: None (none expected), "same" (NaN exactly where PyTorch's is),
    "finite" (glassgrad's finite where PyTorch's may be NaN, compared elsewhere)."""
    v, w = v_w(fn, arrays)
    f_gg, s_gg = second_order(gg, fn, arrays, v, w, allow_unused)
    f_t, s_t = second_order(torch, fn, arrays, v, w, allow_unused)
    for a, b in zip(f_gg, f_t):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    for a, b, x in zip(s_gg, s_t, [*arrays, v]):
        a = np.zeros_like(x) if a is None else a
        b = np.zeros_like(x) if b is None else b
        if nans is not None:
            nan = np.isnan(b)
            if nans == "same":
                np.testing.assert_array_equal(np.isnan(a), nan)
            else:
                assert not np.isnan(a).any()
            a, b = a[~nan], b[~nan]
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
