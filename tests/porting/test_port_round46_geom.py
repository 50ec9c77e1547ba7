"""Round 46, group geom: pytorch3d's pure-Python parts (transforms, Transform3d, points alignment,
Pointclouds/Meshes, mesh losses) and lucidrains/egnn-pytorch, run with only their imports changed.

pytorch3d's ``laplacian`` (behind ``Meshes.laplacian_packed``, ``mesh_laplacian_smoothing`` and
``taubin_smoothing``) ends with ``L -= torch.sparse_coo_tensor(...)``: glassgrad's sparse tensors had
``s - t`` but no in-place arithmetic, and no ``add``/``sub``/``div``/``neg`` methods either; they
have them now, as PyTorch's. pytorch3d's ``knn_points`` backward returns float32 gradients for
float64 points; PyTorch casts each to the input's dtype before summing it with the other paths'
gradients, glassgrad summed them in float32 first (chamfer distance gradients 2e-7 off in float64).
"""

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradcheck

IX = [[0, 1, 2, 1], [1, 0, 2, 1]]


def _pair(torch, vals, ix=IX, size=(3, 3), dtype="float64"):
    v = np.asarray(vals, dtype)
    return (
        gg.sparse_coo_tensor(ix, v, size),
        torch.sparse_coo_tensor(torch.tensor(ix), torch.tensor(v), size),
    )


def _dense(t):
    return t.to_dense().detach().numpy()


def test_laplacian_pattern_isub_of_sparse_matches_pytorch(torch):
    # pytorch3d.ops.laplacian: L -= sparse identity
    ours, theirs = _pair(torch, [0.5, 0.25, 1.0, 2.0])
    eye_ix = [[0, 1, 2], [0, 1, 2]]
    eye_ours, eye_theirs = _pair(torch, [1.0, 1.0, 1.0], ix=eye_ix)
    before = ours._version
    same = ours
    ours -= eye_ours
    theirs -= eye_theirs
    assert ours is same and ours.layout == gg.sparse_coo
    assert ours._version == before + 1
    np.testing.assert_array_equal(_dense(ours), _dense(theirs))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_sparse_inplace_and_method_arithmetic_match_pytorch(torch, dtype):
    rng = np.random.default_rng(0)
    a_vals, b_vals = rng.standard_normal(4), rng.standard_normal(3)
    b_ix = [[2, 0, 1], [0, 1, 1]]
    cases = [
        lambda s, o: s.add_(o, alpha=2.5),
        lambda s, o: s.sub_(o),
        lambda s, o: s.sub_(o, alpha=-0.5),
        lambda s, o: s.mul_(3.0),
        lambda s, o: s.mul_(o),
        lambda s, o: s.div_(4.0),
        lambda s, o: s.neg_(),
        lambda s, o: s.zero_(),
        lambda s, o: s.add(o, alpha=2),
        lambda s, o: s.sub(o),
        lambda s, o: s.subtract(o, alpha=3),
        lambda s, o: s.div(2.0),
        lambda s, o: s.div(0.3, rounding_mode="floor"),
        lambda s, o: s.div_(-0.3, rounding_mode="trunc"),
        lambda s, o: s.neg(),
    ]
    for k, case in enumerate(cases):
        ours, theirs = _pair(torch, a_vals, dtype=dtype)
        o_ours, o_theirs = _pair(torch, b_vals, ix=b_ix, dtype=dtype)
        r_ours, r_theirs = case(ours, o_ours), case(theirs, o_theirs)
        assert r_ours.layout == gg.sparse_coo, k
        assert str(r_ours.dtype).split(".")[-1] == str(r_theirs.dtype).split(".")[-1], k
        np.testing.assert_allclose(_dense(r_ours), _dense(r_theirs), rtol=1e-6, atol=0, err_msg=str(k))
        np.testing.assert_allclose(_dense(ours), _dense(theirs), rtol=1e-6, atol=0, err_msg=str(k))


def test_sparse_iadd_imul_itruediv_match_pytorch(torch):
    ours, theirs = _pair(torch, [1.0, 2.0, 3.0, 4.0])
    o_ours, o_theirs = _pair(torch, [0.5, -1.0], ix=[[0, 2], [0, 2]])
    for s, o in ((ours, o_ours), (theirs, o_theirs)):
        s += o
        s *= 3
        s /= 2
    np.testing.assert_allclose(_dense(ours), _dense(theirs), rtol=1e-15)


def test_sparse_inplace_keeps_its_dtype_and_refuses_a_wider_kind(torch):
    ours, theirs = _pair(torch, [1.0, 2.0, 3.0, 4.0], dtype="float32")
    o_ours, o_theirs = _pair(torch, [0.5, -1.0], ix=[[0, 2], [0, 2]], dtype="float64")
    ours += o_ours
    theirs += o_theirs
    assert ours.dtype == gg.float32 and theirs.dtype == torch.float32
    np.testing.assert_array_equal(_dense(ours), _dense(theirs))
    i_ours = gg.sparse_coo_tensor(IX, np.array([1, 2, 3, 4]), (3, 3))
    i_theirs = torch.sparse_coo_tensor(torch.tensor(IX), torch.tensor([1, 2, 3, 4]), (3, 3))
    with pytest.raises(RuntimeError, match="result type Double"):
        i_theirs += o_theirs
    with pytest.raises(
        RuntimeError, match="add_: result type glassgrad.float64 can't be cast .* glassgrad.int64"
    ):
        i_ours += o_ours


def test_sparse_inplace_on_a_leaf_that_requires_grad_is_refused(torch):
    ours, theirs = _pair(torch, [1.0, 2.0, 3.0, 4.0])
    o_ours, o_theirs = _pair(torch, [0.5], ix=[[0], [0]])
    theirs.requires_grad_()
    ours.requires_grad_()
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        theirs -= o_theirs
    with pytest.raises(RuntimeError, match="sub_: a leaf Variable that requires grad"):
        ours -= o_ours
    with gg.no_grad():
        ours -= o_ours  # allowed there, as PyTorch
    np.testing.assert_array_equal(_dense(ours), [[-0.5, 1.0, 0.0], [2.0, 4.0, 0.0], [0.0, 0.0, 3.0]])


def test_sparse_inplace_on_a_non_leaf_passes_gradients_to_the_values():
    # hand derivation: dense = 2 * S(v) - alpha * S(w) + ..., so d sum(dense * c) / dv_i = 2 * c[ix_i]
    v = gg.tensor([1.0, 2.0, 3.0, 4.0], dtype=gg.float64, requires_grad=True)
    c = np.arange(9.0).reshape(3, 3)
    s = gg.sparse_coo_tensor(IX, v, (3, 3)) * 2.0
    s.sub_(gg.sparse_coo_tensor([[0], [0]], np.array([7.0]), (3, 3)), alpha=3)
    s.div_(4.0)
    (s.to_dense() * gg.tensor(c)).sum().backward()
    np.testing.assert_allclose(v.grad.numpy(), 2.0 / 4.0 * c[tuple(np.array(IX))], rtol=1e-15)


@pytest.mark.parametrize("shape", [(4, 3), (2, 5, 3)])
def test_sparse_inplace_arithmetic_gradcheck(shape):
    rng = np.random.default_rng(len(shape))
    nnz = 5
    ix = np.stack([rng.integers(0, n, nnz) for n in shape])  # duplicates possible
    ix2 = np.stack([rng.integers(0, n, 3) for n in shape])
    w = gg.tensor(rng.standard_normal(3), requires_grad=True)

    def f(v, w):
        s = gg.sparse_coo_tensor(ix, v, shape) * 1.0
        s -= gg.sparse_coo_tensor(ix2, w, shape)
        s.add_(gg.sparse_coo_tensor(ix2, w * w, shape), alpha=0.5)
        s.mul_(1.5)
        s.neg_()
        return s.to_dense()

    v = gg.tensor(rng.standard_normal(nnz), requires_grad=True)
    assert gradcheck(f, (v, w))


@pytest.mark.parametrize("create_graph", [False, True])
def test_custom_function_gradient_of_another_dtype_is_cast_before_summing(torch, create_graph):
    # pytorch3d's knn_points backward returns float32 gradients for float64 points; two uses of the
    # input must each be cast to float64 before they are added, as PyTorch's engine does.
    def run(lib):
        class F(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 1.0

            @staticmethod
            def backward(ctx, g):
                return g.float() * (1 + 2**-20)

        x = lib.tensor([1.0, 2.0, -3.0], dtype=lib.float64, requires_grad=True)
        y = F.apply(x) + F.apply(x) * (1 + 2**-23)
        y.sum().backward(create_graph=create_graph)
        return x.grad

    ours, theirs = run(gg), run(torch)
    assert ours.dtype == gg.float64
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())
