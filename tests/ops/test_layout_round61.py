"""Elementwise results of every rank get PyTorch's strides (its TensorIterator rule), not NumPy's.

NumPy's ``order="K"`` follows a single transposed operand, but a transposed operand beside a
row-major one (``x.t() / y``), a number base (``2 ** x``), ``logsigmoid``, ``F.normalize`` (a
division by an expanded norm), ``heaviside``, ``nextafter`` without a graph and a resized ``out=``
gave a layout of their own at 2 and 3 dims, where ``iterator_layout`` was applied to 4-D/5-D
results only. A program branching on ``is_contiguous()``,
``v = y.view(-1) if y.is_contiguous() else y.reshape(-1); v[::2].mul_(3)``, then wrote into ``y``
in one library only (round 60's fuzz seeds 100963 and 111576), and ``view`` raised in one only.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.iterator_layout import relayout

RNG = np.random.default_rng(61)
X = RNG.standard_normal((2, 3, 4, 5))
OTHER = RNG.standard_normal(200)
UP = RNG.standard_normal(200)


def _read(t):
    return np.array(t.detach().tolist())


def _leaf(lib, layout):
    """A float64 leaf that requires grad, laid out as ``layout``, and the tensor ops receive."""
    a = X
    if layout == "transposed2":
        t = lib.tensor(np.ascontiguousarray(a[0, 0].T)).t()
    elif layout == "transposed3":
        t = lib.tensor(np.ascontiguousarray(a[0].transpose(2, 1, 0))).permute(2, 1, 0)
    elif layout == "permuted3":
        t = lib.tensor(np.ascontiguousarray(a[0].transpose(1, 2, 0))).permute(2, 0, 1)
    elif layout == "stepped2":
        t = lib.tensor(a[0, 0])[:, ::2]
    elif layout == "size1_transposed":  # (4, 1, 3), its size-1 dim's stride not C order's
        t = lib.tensor(np.ascontiguousarray(a[0, 0, :, :3].T)).t().unsqueeze(1)
    elif layout == "permuted6":
        t = lib.tensor(a.reshape(2, 3, 2, 2, 5, 1)).permute(4, 2, 0, 5, 3, 1)
    elif layout == "contiguous2":
        t = lib.tensor(a[0, 0])
    else:
        raise KeyError(layout)
    return t.detach().requires_grad_(True)


LAYOUTS = [
    "transposed2",
    "transposed3",
    "permuted3",
    "stepped2",
    "size1_transposed",
    "permuted6",
    "contiguous2",
]


def _plain(lib, x, k=0):
    """A row-major operand of ``x``'s shape."""
    n = x.numel()
    return lib.tensor(OTHER[k : k + n].reshape(tuple(x.shape)))


OPS = {
    "div_plain": lambda lib, x: x / (_plain(lib, x).abs() + 0.5),  # seed 100963
    "rsub_number": lambda lib, x: 1.5 - x,  # seed 111576
    "mul_number": lambda lib, x: x * -0.5,
    "rsub_fn_plain": lambda lib, x: lib.rsub(x, _plain(lib, x), alpha=2),  # other's layout
    "rsub_fn_of_plain": lambda lib, x: lib.rsub(_plain(lib, x), x),
    "mul_plain": lambda lib, x: x * _plain(lib, x),
    "plain_sub": lambda lib, x: _plain(lib, x) - x,
    "add_row": lambda lib, x: x + _plain(lib, x[(0,) * (x.dim() - 1)]),
    "exp": lambda lib, x: x.exp(),
    "number_pow": lambda lib, x: 1.7**x,
    "logsigmoid": lambda lib, x: lib.nn.functional.logsigmoid(x),
    "normalize_last": lambda lib, x: lib.nn.functional.normalize(x, dim=-1),
    "normalize_first": lambda lib, x: lib.nn.functional.normalize(x, dim=0),
    "where_plain": lambda lib, x: lib.where(_plain(lib, x, 3) > 0, x, _plain(lib, x, 5)),
    "addcmul": lambda lib, x: lib.addcmul(x, x, _plain(lib, x, 7), value=0.7),
    "lerp": lambda lib, x: lib.lerp(x, _plain(lib, x, 2), 0.3),
    "maximum": lambda lib, x: lib.maximum(x, _plain(lib, x, 1)),
    "floor": lambda lib, x: (x * 3).floor(),
    "nextafter": lambda lib, x: lib.nextafter(x, _plain(lib, x, 4)),
}


def _run(lib, op, layout):
    leaf = _leaf(lib, layout)
    y = OPS[op](lib, leaf)
    info = {"stride": y.stride(), "contiguous": y.is_contiguous()}
    try:
        y.view(-1)
        info["view"] = "ok"
    except RuntimeError:
        info["view"] = "raise"
    (y * lib.tensor(UP[: y.numel()].reshape(tuple(y.shape)))).sum().backward()
    info["grad_stride"] = leaf.grad.stride()
    values, grad = _read(y), _read(leaf.grad)
    with lib.no_grad():  # the in-place pattern of the fuzz's seeds: writes into y where view aliases
        y2 = OPS[op](lib, leaf.detach())
        info["stride_no_grad"] = y2.stride()
        v = y2.view(-1) if y2.is_contiguous() else y2.reshape(-1)
        v[::2].mul_(3)
    return info, values, grad, _read(y2)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("op", list(OPS))
def test_elementwise_layout_matches_pytorch(torch, op, layout):
    got, want = _run(gg, op, layout), _run(torch, op, layout)
    assert got[0] == want[0]
    for g, w in zip(got[1:], want[1:], strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("lib_name", ["glassgrad", "torch"])
def test_seed_100963_div_of_a_transposed_leaf(torch, lib_name):
    lib = gg if lib_name == "glassgrad" else torch
    a = np.arange(1.0, 13.0).reshape(4, 3)
    x = lib.tensor(np.ascontiguousarray(a.T)).t().requires_grad_()  # (4, 3), strides (1, 4)
    y = x / lib.tensor(np.full((4, 3), 2.0))
    assert y.stride() == (1, 4) and not y.is_contiguous()
    v = y.view(-1) if y.is_contiguous() else y.reshape(-1)
    v[::2].mul_(3)  # a copy: y keeps its values
    np.testing.assert_array_equal(_read(y), a / 2)


@pytest.mark.parametrize("op", ["rsub", "mul"])
def test_seed_111576_view_of_a_transposed_3d_result_raises(torch, op):
    def run(lib):
        x = lib.tensor(np.ascontiguousarray(X[0].transpose(2, 1, 0))).permute(2, 1, 0).requires_grad_()
        y = 2.0 - x if op == "rsub" else x * 2.0
        with pytest.raises(RuntimeError):
            y.view(-1)
        return y.stride()

    assert run(gg) == run(torch)


@pytest.mark.parametrize("op", ["addmm", "addmm_beta0", "baddbmm", "addbmm", "addr", "addr_beta0"])
def test_blas_sums_of_a_transposed_input_take_pytorchs_layout(torch, op):
    """addmm/baddbmm/addbmm answer row-major as their product whatever input's layout; addr (an
    elementwise kernel in PyTorch) keeps input's, also with beta = 0."""

    def run(lib):
        x = lib.tensor(np.ascontiguousarray(X[0, 0].T)).t().requires_grad_()  # (4, 5), strides (1, 4)
        e = lib.tensor(X[1, 1, :, :].T @ X[1, 1, :, :])  # (5, 5)
        u, v = lib.tensor(X[0, 1, :, 0]), lib.tensor(X[0, 2, 0])
        y = {
            "addmm": lambda: lib.addmm(x, x, e, beta=0.5),
            "addmm_beta0": lambda: lib.addmm(x, x, e, beta=0),
            "baddbmm": lambda: lib.baddbmm(x[None], x[None], e[None]),
            "addbmm": lambda: lib.addbmm(x, x[None], e[None], alpha=2),
            "addr": lambda: lib.addr(x, u, v),
            "addr_beta0": lambda: lib.addr(x, u, v, beta=0),
        }[op]()
        y.sum().backward()
        return y.stride(), y.is_contiguous(), _read(y), _read(x.grad)

    got, want = run(gg), run(torch)
    assert got[:2] == want[:2]
    for g, w in zip(got[2:], want[2:], strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("op", ["add", "mul", "addcmul"])
def test_resized_out_takes_the_results_layout(torch, op):
    def run(lib):
        x = lib.tensor(np.ascontiguousarray(X[0].transpose(2, 1, 0))).permute(2, 1, 0)
        out = lib.empty(0, dtype=x.dtype)
        if op == "add":
            lib.add(x, 1.0, out=out)
        elif op == "mul":
            lib.mul(x, _plain(lib, x), out=out)
        else:
            lib.addcmul(x, x, _plain(lib, x), out=out)
        stride, contiguous = out.stride(), out.is_contiguous()
        v = out.view(-1) if out.is_contiguous() else out.reshape(-1)
        v[::2].mul_(3)
        return stride, contiguous, _read(out)

    got, want = run(gg), run(torch)
    assert got[:2] == want[:2]
    np.testing.assert_allclose(got[2], want[2], rtol=1e-12)


def test_heaviside_of_a_transposed_input_keeps_its_layout(torch):
    def run(lib):
        x = lib.tensor(np.ascontiguousarray(X[0, 0].T)).t()
        y = lib.heaviside(x, _plain(lib, x))
        return y.stride(), y.is_contiguous(), _read(y)

    got, want = run(gg), run(torch)
    assert got[:2] == want[:2]
    np.testing.assert_array_equal(got[2], want[2])


@pytest.mark.parametrize("shape", [(3, 1), (1, 4, 3), (4, 3)])
def test_row_major_operands_keep_numpys_result(shape):
    """The common case pays a flag test: row-major operands (a size-1 dim's stride included) give
    NumPy's own result back, not a copy."""
    a = np.ones(shape)
    b = np.ones(shape[-1:])
    out = a + b
    assert relayout(None, out, [a, b], lambda o, ops: o.copy()) is out


def test_odd_size1_stride_is_relaid_as_pytorch(torch):
    """A row-major (C-flagged) operand whose size-1 dim has a stride of its own votes in
    PyTorch's sort, so its result is relaid out, as PyTorch's."""

    def run(lib):
        x = lib.tensor(np.arange(3.0)[None]).t()  # (3, 1), strides (1, 3)
        return (x + lib.ones(1, 1, dtype=x.dtype)).stride(), (x + 1.0).stride()

    assert run(gg) == run(torch)
