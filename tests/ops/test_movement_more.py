"""ops/movement_more.py, ops/products_more.py and linalg_more.py: PyTorch parity of values, dtypes
and every input gradient (float64 and float32, negative dims, empty and size-1 dims, broadcasting);
Tensor.unfold as a view; in-place addbmm_/addr_; error messages."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import DTypeError, GraphError, ShapeError
from tests.ops.test_indexing_more import DTYPES, parity, rand


# ------------------------------------------------------------------ broadcasting, atleast, stacks
@pytest.mark.parametrize("dtype", DTYPES)
def test_broadcasting_and_stacks_match_pytorch(torch, dtype):
    parity(
        torch, lambda L, c, a, b, d: L.broadcast_tensors(a, b, d), [rand(3, 1), rand(4), rand(2, 1, 1)], dtype
    )
    for fn in ("atleast_1d", "atleast_2d", "atleast_3d"):
        parity(
            torch,
            lambda L, c, a, b, d, e: getattr(L, fn)(a, b, d, e),
            [rand(), rand(3), rand(2, 3), rand(1, 2, 3)],
            dtype,
        )
        parity(torch, lambda L, c, a: getattr(L, fn)(a), [rand(2)], dtype)
        parity(torch, lambda L, c, a, b: getattr(L, fn)([a, b]), [rand(), rand(0)], dtype)
    parity(torch, lambda L, c, a, b, d: L.column_stack([a, b, d]), [rand(3), rand(3, 2), rand(3, 1)], dtype)
    parity(torch, lambda L, c, a, b: L.column_stack((a, b)), [rand(), rand()], dtype)
    parity(torch, lambda L, c, a, b: L.dstack([a, b]), [rand(3), rand(1, 3, 2)], dtype)
    parity(torch, lambda L, c, a, b: L.row_stack([a, b]), [rand(3), rand(2, 3)], dtype)
    for shapes in [(), (3,), ((2, 1), (1, 4)), (5, (3, 1), (1, 1, 1))]:
        assert gg.broadcast_shapes(*shapes) == torch.broadcast_shapes(*shapes)
    assert isinstance(gg.broadcast_shapes((2, 1), 3), gg.Size)


# ------------------------------------------------------------------ flips, rot90, tensor_split
@pytest.mark.parametrize("dtype", DTYPES)
def test_flips_and_rot90_match_pytorch(torch, dtype):
    x = rand(2, 3, 4)
    parity(torch, lambda L, c, a: (L.fliplr(a), a.flipud(), L.flipud(a[0, 0])), [x], dtype)
    for k in (-3, -1, 0, 1, 2, 3, 5):
        for dims in ((0, 1), (1, 0), (-1, 0), (2, -2)):
            parity(torch, lambda L, c, a: L.rot90(a, k, dims) if k % 2 else a.rot90(k, dims), [x], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_tensor_split_matches_pytorch(torch, dtype):
    x = rand(7, 2)
    for ios in (1, 3, 7, 9, [2, 5], [0, 3, 3, 100], [-2], [5, 1], (4, 2, 6)):
        parity(torch, lambda L, c, a: L.tensor_split(a, ios), [x], dtype)
        parity(torch, lambda L, c, a: a.tensor_split(ios, dim=-1), [x.T], dtype)
    parity(torch, lambda L, c, a: a.tensor_split(c(np.array([1, 4])), 0), [x], dtype)
    parity(torch, lambda L, c, a: a.tensor_split(c(np.array(3)), 0), [x], dtype)
    parity(torch, lambda L, c, a: L.tensor_split(a, 2), [rand(0, 3)], dtype)


# ------------------------------------------------------------------ diff
@pytest.mark.parametrize("dtype", DTYPES)
def test_diff_matches_pytorch(torch, dtype):
    x = rand(3, 5)
    for n in (0, 1, 2, 5, 7):
        parity(torch, lambda L, c, a: L.diff(a, n), [x], dtype)
    parity(
        torch,
        lambda L, c, a, p, q: a.diff(2, 0, prepend=p, append=q),
        [x, rand(2, 5, seed=1), rand(1, 5, seed=2)],
        dtype,
    )
    parity(torch, lambda L, c, a, q: L.diff(a, dim=-2, append=q), [x, rand(0, 5)], dtype)
    for L in (gg, torch):
        assert L.diff(L.tensor([True, False, False, True])).tolist() == [True, False, True]
        assert L.diff(L.tensor([[1, 4, 9]]), n=2).tolist() == [[2]]


# ------------------------------------------------------------------ diag_embed, diagflat, unfold
@pytest.mark.parametrize("dtype", DTYPES)
def test_diag_embed_and_diagflat_match_pytorch(torch, dtype):
    for offset in (-2, 0, 1):
        parity(torch, lambda L, c, a: L.diag_embed(a, offset), [rand(2, 3)], dtype)
        parity(torch, lambda L, c, a: a.diag_embed(offset, 0, -1), [rand(2, 3)], dtype)
        parity(torch, lambda L, c, a: a.diag_embed(offset, dim1=2, dim2=0), [rand(2, 3)], dtype)
        parity(torch, lambda L, c, a: L.diagflat(a, offset), [rand(2, 2)], dtype)
    parity(torch, lambda L, c, a: a.diagflat(), [rand()], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_unfold_matches_pytorch(torch, dtype):
    x = rand(3, 7)
    for dim, size, step in [(1, 3, 1), (1, 2, 2), (-1, 3, 4), (0, 3, 1), (-2, 1, 2), (1, 7, 1), (1, 0, 3)]:
        parity(torch, lambda L, c, a: a.unfold(dim, size, step), [x], dtype)
    parity(torch, lambda L, c, a: a.unfold(0, 1, 1), [rand()], dtype)
    parity(torch, lambda L, c, a: a.unfold(1, 2, 1).unfold(0, 2, 1), [rand(3, 4)], dtype)


def test_unfold_is_a_view():
    x = gg.arange(6.0)
    w = x.unfold(0, 2, 2)
    with gg.no_grad():
        w[1, 0] = 40.0
    assert x.tolist() == [0.0, 1.0, 40.0, 3.0, 4.0, 5.0]
    y = gg.tensor(rand(5), requires_grad=True) * 1.0
    windows = y.unfold(0, 2, 1)
    loss = (windows**2).sum()
    y.add_(1.0)  # written through to the windows, as PyTorch; the saved windows are stale now
    assert windows.tolist()[0] == (y[0:2]).tolist()
    with pytest.raises(GraphError, match="modified in place"):
        loss.backward()


# ------------------------------------------------------------------ products
@pytest.mark.parametrize("dtype", DTYPES)
def test_products_match_pytorch(torch, dtype):
    parity(torch, lambda L, c, a, b: L.tensordot(a, b, 2), [rand(2, 3, 4), rand(3, 4, 5, seed=1)], dtype)
    parity(
        torch,
        lambda L, c, a, b: L.tensordot(a, b, ([0, -1], [2, 0])),
        [rand(2, 3, 4), rand(4, 5, 2, seed=1)],
        dtype,
    )
    parity(torch, lambda L, c, a, b: L.tensordot(a, b, 0), [rand(2), rand(3, seed=1)], dtype)
    parity(
        torch, lambda L, c, a, b: L.tensordot(a, b, dims=([1], [0])), [rand(2, 0), rand(0, 3, seed=1)], dtype
    )
    parity(torch, lambda L, c, a, b: L.kron(a, b), [rand(2, 3), rand(3, 1, 2, seed=1)], dtype)
    parity(torch, lambda L, c, a, b: a.kron(b), [rand(2), rand(3, seed=1)], dtype)
    parity(torch, lambda L, c, a, b: L.inner(a, b), [rand(2, 3), rand(4, 1, 3, seed=1)], dtype)
    parity(torch, lambda L, c, a, b: a.inner(b), [rand(), rand(2, 3, seed=1)], dtype)
    parity(torch, lambda L, c, a, b: (L.vdot(a, b), a.vdot(b)), [rand(4), rand(4, seed=1)], dtype)
    for beta, alpha in ((1, 1), (0.5, -2.0), (0, 1)):
        parity(torch, lambda L, c, i, b1, b2: L.addbmm(i, b1, b2, beta=beta, alpha=alpha),
               [rand(3), rand(2, 4, 5, seed=1), rand(2, 5, 3, seed=2)], dtype)  # fmt: skip
        parity(torch, lambda L, c, i, v1, v2: i.addr(v1, v2, beta=beta, alpha=alpha),
               [rand(2, 1), rand(2, seed=1), rand(3, seed=2)], dtype)  # fmt: skip


def test_inplace_addbmm_and_addr_match_pytorch(torch):
    x, b1, b2 = rand(2, 3), rand(4, 2, 5, seed=1), rand(4, 5, 3, seed=2)
    parity(torch, lambda L, c, a, p, q: (a * 1.0).addbmm_(p, q, alpha=0.5), [x, b1, b2])
    parity(torch, lambda L, c, a, p, q: (a * 1.0).addr_(p, q, beta=2), [x, rand(2), rand(3, seed=3)])
    with pytest.raises(GraphError, match="addr_: in-place change of a leaf"):
        gg.tensor(x, requires_grad=True).addr_(gg.tensor(rand(2)), gg.tensor(rand(3)))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, math.inf])
def test_cdist_and_dist_match_pytorch(torch, dtype, p):
    x1, x2 = rand(2, 4, 3), rand(2, 5, 3, seed=1)
    x2[0, 1] = x1[0, 2]  # zero distance
    x2[1, 0, 1] = x1[1, 3, 1]  # a zero difference
    x1[1, 0] = x2[1, 2] + np.array([1.0, -1.0, 0.5])  # ties for inf
    mode = "donot_use_mm_for_euclid_dist"
    parity(torch, lambda L, c, a, b: L.cdist(a, b, p, compute_mode=mode), [x1, x2], dtype)
    parity(torch, lambda L, c, a, b: L.cdist(a, b, p=p), [x1[0], x2[:1]], dtype)  # batch broadcast
    parity(torch, lambda L, c, a, b: L.cdist(a, b, p), [rand(0, 3), rand(2, 3)], dtype)
    if p == 0:  # PyTorch's dist backward fails for p = 0 ("Expected a proper Tensor but got None")
        a, b = gg.tensor(x1, requires_grad=True), gg.tensor(x2[:, :1], requires_grad=True)
        gg.dist(a, b, 0).backward()  # no gradient reaches them, as vector_norm(x, 0)'s
        assert a.grad is None and b.grad is None
        return
    parity(torch, lambda L, c, a, b: (L.dist(a, b, p), a.dist(b, p)), [x1, x2[:, :1]], dtype)
    parity(torch, lambda L, c, a, b: L.dist(a, b, p), [x1, x1], dtype)  # zero distance


# ------------------------------------------------------------------ linalg
@pytest.mark.parametrize("dtype", DTYPES)
def test_linalg_norms_match_pytorch(torch, dtype):
    x = rand(2, 3, 4)
    x[0, 0, 0] = 0.0
    for ord in (2, 1, 0, 3.5, -1, math.inf, -math.inf):
        parity(torch, lambda L, c, a: L.linalg.vector_norm(a, ord), [x], dtype)
        parity(torch, lambda L, c, a: L.linalg.vector_norm(a, ord, dim=(-1, 0), keepdim=True), [x], dtype)
    parity(torch, lambda L, c, a: L.linalg.vector_norm(a, dtype=L.float64), [x], np.float32)
    for ord in ("fro", "nuc", math.inf, -math.inf, 1, -1, 2, -2):
        parity(
            torch,
            lambda L, c, a: L.linalg.matrix_norm(a, ord),
            [x],
            dtype,
            atol=1e-4 if dtype == np.float32 else 1e-9,
        )
        parity(torch, lambda L, c, a: L.linalg.matrix_norm(a, ord, dim=(2, 0), keepdim=True), [x], dtype,
               atol=1e-4 if dtype == np.float32 else 1e-9)  # fmt: skip
        parity(
            torch,
            lambda L, c, a: L.linalg.norm(a, ord),
            [x[0]],
            dtype,
            atol=1e-4 if dtype == np.float32 else 1e-9,
        )
    parity(torch, lambda L, c, a: L.linalg.norm(a), [x], dtype)
    parity(torch, lambda L, c, a: L.linalg.norm(a, 3, dim=1), [x], dtype)
    parity(torch, lambda L, c, a: L.linalg.norm(a, dim=(0, 1)), [x], dtype)
    parity(torch, lambda L, c, a: L.linalg.norm(a, -2), [x[0, :, 0]], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_and_multi_dot_match_pytorch(torch, dtype):
    parity(torch, lambda L, c, a, b: L.linalg.cross(a, b), [rand(4, 3), rand(1, 3, seed=1)], dtype)
    parity(torch, lambda L, c, a, b: L.linalg.cross(a, b, dim=0), [rand(3, 2), rand(3, 2, seed=1)], dtype)
    parity(
        torch,
        lambda L, c, a, b: (L.cross(a, b, dim=-2), a.cross(b, 1)),
        [rand(2, 3, 3), rand(2, 3, 3, seed=1)],
        dtype,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parity(torch, lambda L, c, a, b: L.cross(a, b), [rand(2, 3, 4), rand(2, 3, 4, seed=1)], dtype)
    with pytest.warns(UserWarning, match="without specifying the dim"):
        gg.cross(gg.ones(3), gg.ones(3))
    ms = [rand(3), rand(3, 4, seed=1), rand(4, 2, seed=2), rand(2, seed=3)]
    parity(torch, lambda L, c, *t: L.linalg.multi_dot(t), ms, dtype)
    parity(torch, lambda L, c, *t: L.linalg.multi_dot(list(t)), [rand(2, 3), rand(3, 4, seed=1)], dtype)
    parity(
        torch,
        lambda L, c, *t: L.linalg.multi_dot(t),
        [rand(3), rand(3, 4, seed=1), rand(4, 5, seed=2)],
        dtype,
    )


# ------------------------------------------------------------------ errors
def test_bad_input_gets_clear_errors():
    x = gg.zeros(3, 4)
    cases = [
        (ShapeError, r"broadcast_tensors: shapes \(3, 4\), \(2,\) do not broadcast", lambda: gg.broadcast_tensors(x, gg.zeros(2))),
        (ShapeError, "broadcast_shapes: Attempting to broadcast a dimension of length 3 at -1!", lambda: gg.broadcast_shapes((2,), (3,))),
        (ShapeError, r"fliplr: Input must be >= 2-d\. \(got shape \(3,\)\)", lambda: gg.fliplr(gg.zeros(3))),
        (ShapeError, "rot90: expected two different rotation dims", lambda: x.rot90(1, (1, -1))),
        (ShapeError, "rot90: expected 2 rotation dims", lambda: x.rot90(1, (0,))),
        (ShapeError, "tensor_split: expected a positive number of sections", lambda: x.tensor_split(0)),
        (DTypeError, "tensor_split: expected a 0-d or 1-D integer tensor", lambda: x.tensor_split(gg.tensor([1.0]))),
        (ShapeError, r"diff: expected prepend with the input's 2 dims .* got \(4,\)", lambda: x.diff(prepend=gg.zeros(4))),
        (ValueError, "diff: expected order n >= 0", lambda: x.diff(-1)),
        (ShapeError, "diag_embed: expected two different dims", lambda: x.diag_embed(0, 1, -2)),
        (ShapeError, "unfold: maximum size for tensor at dimension 1 is 4 but size is 5", lambda: x.unfold(-1, 5, 1)),
        (ShapeError, "unfold: step is 0 but must be > 0", lambda: x.unfold(0, 1, 0)),
        (ShapeError, r"tensordot: contracted dims must match, got a.shape\[1\] = 4", lambda: gg.tensordot(x, x, 1)),
        (DTypeError, "tensordot: expected both inputs of one dtype", lambda: gg.tensordot(x, x.double(), 1)),
        (ShapeError, "inner: expected equal last dims", lambda: gg.inner(x, gg.zeros(3))),
        (ShapeError, "vdot: expected input with 1 dims", lambda: gg.vdot(x, x)),
        (ShapeError, r"addbmm: expected \(b, n, k\) and \(b, k, m\)", lambda: gg.addbmm(x, gg.zeros(2, 3, 4), gg.zeros(2, 3, 4))),
        (ShapeError, "addr", lambda: gg.addr(gg.zeros(2, 2), gg.zeros(3), gg.zeros(4))),
        (ShapeError, "cdist: expected x1 and x2 with the same last dim", lambda: gg.cdist(x, gg.zeros(2, 3))),
        (DTypeError, "cdist: expected floating point inputs", lambda: gg.cdist(x.long(), x.long())),
        (ValueError, "cdist: expected p to be a non-negative number", lambda: gg.cdist(x, x, -1.0)),
        (ShapeError, "linalg.matrix_norm: expected a tensor with at least 2 dims", lambda: gg.linalg.matrix_norm(gg.zeros(3))),
        (ValueError, "linalg.matrix_norm: expected ord to be one of", lambda: gg.linalg.matrix_norm(x, 3)),
        (DTypeError, "linalg.vector_norm: expected a floating point input", lambda: gg.linalg.vector_norm(x.long())),
        (ShapeError, "linalg.norm: expected a 1-D or 2-D input", lambda: gg.linalg.norm(gg.zeros(2, 2, 2), 2)),
        (ShapeError, "linalg.cross: inputs dimension -1 must have length 3", lambda: gg.linalg.cross(x, x)),
        (ShapeError, "linalg.multi_dot: expected at least 2 tensors", lambda: gg.linalg.multi_dot([x])),
        (ShapeError, r"linalg.multi_dot: tensors #0 \(3, 4\) and #1 \(3, 4\) cannot be multiplied", lambda: gg.linalg.multi_dot([x, x])),
        (ShapeError, "linalg.multi_dot: expected the middle", lambda: gg.linalg.multi_dot([x, gg.zeros(4), x])),
    ]  # fmt: skip
    for kind, message, call in cases:
        with pytest.raises(kind, match=message):
            call()


# ------------------------------------------------------------------ review regressions
def test_cdist_of_infinite_values_gives_no_numpy_warning(torch):
    # was: RuntimeWarning for inf - inf (forward) and in the backward's sums
    x1, x2 = np.array([[np.inf, 0.0], [1.0, 2.0]]), np.array([[np.inf, 1.0], [-np.inf, 1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for p in (1.0, 2.0, 3.0, 0.5):
            a, b = gg.tensor(x1, requires_grad=True), gg.tensor(x2, requires_grad=True)
            out = gg.cdist(a, b, p)
            out.backward(gg.ones_like(out))
            ta, tb = torch.tensor(x1, requires_grad=True), torch.tensor(x2, requires_grad=True)
            t = torch.cdist(ta, tb, p)
            t.backward(torch.ones_like(t))
            for g, r in ((out, t), (a.grad, ta.grad), (b.grad, tb.grad)):
                np.testing.assert_allclose(g._data, r.detach().numpy())


@pytest.mark.parametrize("ord", [2, 1, math.inf])
def test_matrix_norm_of_an_empty_matrix_is_zero_as_pytorch(torch, ord):
    # was: ShapeError for the largest singular value / column sum / row sum of no entries
    for shape in [(0, 4), (4, 0), (2, 0, 3)]:
        for keepdim in (False, True):
            parity(torch, lambda L, c, a: L.linalg.matrix_norm(a, ord, keepdim=keepdim), [rand(*shape)])
    with pytest.raises(ShapeError, match="linalg.matrix_norm: expected a non-empty matrix for ord=-2"):
        gg.linalg.matrix_norm(gg.zeros(0, 4), -2)  # the smallest of none: PyTorch raises too


def test_matrix_norm_of_a_non_finite_matrix_says_so():
    # was: "singular_values: (3, 3) float32 cannot be combined (SVD did not converge)"; then a
    # ShapeError; now LinAlgError, the type PyTorch raises (torch.linalg.LinAlgError)
    with pytest.raises(gg.linalg.LinAlgError, match="linalg.matrix_norm: expected a finite matrix"):
        gg.linalg.matrix_norm(gg.full((3, 3), float("nan")), 2)
