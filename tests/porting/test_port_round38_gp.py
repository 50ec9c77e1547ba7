"""Round 38, GPyTorch and linear_operator: exact GP regression, SVGP, a multitask GP, Matern and
periodic kernels, and linear_operator's own operator tests, run on glassgrad.

What they needed, each checked here against PyTorch:

- ``torch.linalg`` functions take ``out=`` where PyTorch's do (linear_operator's
  ``psd_safe_cholesky`` calls ``torch.linalg.cholesky_ex(A, out=out)``), with PyTorch's dtype rules;
- a user ``autograd.Function`` whose backward returns a gradient that an input broadcasts to
  (gpytorch's ``RBFCovariance`` returns an (n, m) gradient for a (1, 1) lengthscale) has it summed
  to the input's shape, as PyTorch's engine does (``validate_outputs``), also under create_graph;
- a type that is not a Tensor and implements ``__torch_function__`` (``LinearOperator``) is asked by
  a public function or operator before the protocol was switched on (``torch.add(linear_op, t)``,
  ``torch.clone(linear_op, memory_format=...)``), at no cost to calls that succeed;
- pickling a tensor (and ``copy.copy``) gives a leaf without its graph, ``.grad`` or hooks, as
  PyTorch's (linear_operator pickles its cache of a computed tensor); ``deepcopy`` keeps ``.grad``;
- a sparse COO tensor answers ``ndimension``/``nelement``/``is_complex``/``is_signed`` and ``mT``.
"""

from __future__ import annotations

import copy
import json
import pickle
import subprocess
import sys

import numpy as np
import pytest

import glassgrad
from glassgrad.autograd import gradcheck
from glassgrad.errors import DTypeError, GraphError, ShapeError


def _spd(lib, n=4, batch=(), dtype="float64", seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((*batch, n, n))
    a = a @ np.swapaxes(a, -1, -2) + n * np.eye(n)
    return lib.tensor(a, dtype=getattr(lib, dtype))


# ---------------------------------------------------------------- torch.linalg out=
_TUPLE_OUT = {
    "cholesky_ex": lambda lib, a: ((a,), {}),
    "inv_ex": lambda lib, a: ((a,), {}),
    "solve_ex": lambda lib, a: ((a, a[..., :2]), {}),
    "eigh": lambda lib, a: ((a,), {}),
    "qr": lambda lib, a: ((a,), {}),
    "svd": lambda lib, a: ((a,), {"full_matrices": False}),
    "slogdet": lambda lib, a: ((a,), {}),
    "lstsq": lambda lib, a: ((a, a[..., :2]), {}),
}
_ONE_OUT = {
    "vector_norm": lambda lib, a: ((a,), {"dim": -1}),
    "matrix_norm": lambda lib, a: ((a,), {}),
    "norm": lambda lib, a: ((a,), {}),
    "svdvals": lambda lib, a: ((a,), {}),
    "eigvalsh": lambda lib, a: ((a,), {}),
    "cross": lambda lib, a: ((a[..., :3], a[..., 1:]), {}),
    "cond": lambda lib, a: ((a,), {}),
    "matrix_rank": lambda lib, a: ((a,), {}),
    "eigvals": lambda lib, a: ((a,), {}),
}


@pytest.mark.parametrize("name", sorted(_TUPLE_OUT))
def test_linalg_tuple_out_is_written_and_returned_as_pytorch(torch, name):
    def run(lib):
        a = _spd(lib, batch=(2,))
        args, kw = _TUPLE_OUT[name](lib, a)
        want = getattr(lib.linalg, name)(*args, **kw)
        outs = tuple(lib.empty(0, dtype=w.dtype) for w in want)
        got = getattr(lib.linalg, name)(*args, **kw, out=outs)
        assert all(g is o for g, o in zip(got, outs))
        return [o.numpy() for o in outs]

    for g, w in zip(run(glassgrad), run(torch)):
        assert g.dtype == w.dtype
        np.testing.assert_allclose(np.abs(g), np.abs(w), rtol=1e-12, atol=1e-12)  # (signs of Q, U, V)


@pytest.mark.parametrize("name", sorted(_ONE_OUT))
@pytest.mark.parametrize("out_dtype", ["float32", "float64", "complex128", "int64"])
def test_linalg_out_dtypes_are_pytorchs(torch, name, out_dtype):
    def run(lib):
        a = _spd(lib, dtype="float32")
        args, kw = _ONE_OUT[name](lib, a)
        out = lib.empty(0, dtype=getattr(lib, out_dtype))
        try:
            res = getattr(lib.linalg, name)(*args, **kw, out=out)
        except (RuntimeError, DTypeError):
            return None
        assert res is out
        return out.numpy()

    g, w = run(glassgrad), run(torch)
    assert (g is None) == (w is None), f"{name} into {out_dtype}: glassgrad {g}, PyTorch {w}"
    if g is not None:
        assert g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)


def test_linalg_out_refuses_an_input_that_requires_grad_as_pytorch(torch):
    for lib, err in ((torch, RuntimeError), (glassgrad, GraphError)):
        a = _spd(lib).requires_grad_()
        with pytest.raises(err, match="out="):
            lib.linalg.cholesky_ex(a, out=(lib.empty(0, dtype=lib.float64), lib.empty(0, dtype=lib.int32)))
        with pytest.raises((RuntimeError, DTypeError), match="int"):  # info is int32
            lib.linalg.cholesky_ex(a.detach(), out=(lib.empty(0, dtype=lib.float64), lib.empty(0)))


# ---------------------------------------------------------------- a Function's broadcast gradient
def _covariance(lib):
    class Covariance(lib.autograd.Function):
        """exp(-d / (2 l^2)) for squared distances d (n, m) and a lengthscale l of shape (1, 1)
        or (m,): its backward returns the full (n, m) gradient for l, as gpytorch's RBFCovariance."""

        @staticmethod
        def forward(ctx, d, ell):
            k = (-d / (2 * ell**2)).exp()
            ctx.save_for_backward(d, ell, k)
            return k

        @staticmethod
        def backward(ctx, g):
            d, ell, k = ctx.saved_tensors
            return None, g * k * d / ell**3

    return Covariance


@pytest.mark.parametrize("ell_shape", [(1, 1), (1,), (4,), (1, 4), ()])
def test_function_gradient_is_summed_to_the_input_shape_as_pytorch(torch, ell_shape):
    rng = np.random.default_rng(1)
    d, ell = rng.random((3, 4)) * 2, rng.random(ell_shape) + 0.5

    def run(lib):
        ell_t = lib.tensor(ell, requires_grad=True)
        k = _covariance(lib).apply(lib.tensor(d), ell_t)
        (g,) = lib.autograd.grad((k * k).sum(), ell_t, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), ell_t)  # the backward's own ops, recorded
        return g.detach().numpy(), gg.numpy()

    for a, b in zip(run(glassgrad), run(torch)):
        assert a.shape == b.shape == ell_shape
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_function_broadcast_gradient_passes_gradcheck():
    rng = np.random.default_rng(2)
    d = glassgrad.tensor(rng.random((2, 3, 4)))
    cov = _covariance(glassgrad)
    for shape in [(1, 1), (3, 1), (4,), (1, 1, 4)]:
        ell = glassgrad.tensor(rng.random(shape) + 0.5, requires_grad=True)
        assert gradcheck(lambda e: cov.apply(d, e), (ell,))


def test_function_gradient_of_a_shape_the_input_does_not_broadcast_to_is_refused(torch):
    def run(lib, err):
        class Bad(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return lib.ones(5, 2)

        x = lib.ones(3, 2, requires_grad=True)
        with pytest.raises(err, match=r"Bad"):
            Bad.apply(x).sum().backward()

    run(torch, RuntimeError)
    run(glassgrad, ShapeError)


# ---------------------------------------------------------------- __torch_function__ of a non-Tensor
class _Op:
    """A matrix that is not a Tensor and takes over the functions it reaches, as linear_operator's
    ``LinearOperator``: it answers what it was asked."""

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        return [func.__name__.replace("linalg_", ""), len(args), sorted(kwargs or {})]


def _cases(lib):
    F, t, w = lib.nn.functional, lib.ones(2, 2), _Op()
    return {
        "add": lambda: lib.add(w, t),
        "add_other": lambda: lib.add(t, w),
        "clone": lambda: lib.clone(w, memory_format=lib.preserve_format),
        "cholesky": lambda: lib.linalg.cholesky(w),
        "relu": lambda: F.relu(w),
        "cat": lambda: lib.cat([t, w]),
        "matmul": lambda: lib.matmul(t, w),
        "transpose": lambda: lib.transpose(w, 0, 1),
        "logdet": lambda: lib.logdet(w),
        "sum_dim": lambda: lib.sum(w, 1),
        "op_add": lambda: t + w,
        "op_matmul": lambda: t @ w,
        "op_lt": lambda: t < w,
        "op_iadd": lambda: t.__iadd__(w),
    }


# Each case is the first call that meets the type in a process of its own (the switch happens
# once): a child forked from one process that imported glassgrad and made plain calls first.
_FRESH = """
import json, os, sys
import glassgrad
from glassgrad import torch_function as tf
from tests.porting.test_port_round38_gp import _cases
t = glassgrad.ones(2, 2)
glassgrad.add(t, t), t + t, t.sum(1)
try:
    glassgrad.exp([1.0])
except TypeError:
    pass
out = {"off_after_plain_calls": not tf.active()}
for case in _cases(glassgrad):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os.write(w, json.dumps([_cases(glassgrad)[case](), tf.active()]).encode())
        os._exit(0)
    os.close(w)
    with os.fdopen(r) as f:
        out[case] = json.loads(f.read())
    os.waitpid(pid, 0)
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def fresh_answers():
    root = str(__import__("pathlib").Path(__file__).resolve().parents[2])
    run = subprocess.run([sys.executable, "-c", _FRESH], check=True, capture_output=True, text=True, cwd=root)
    return json.loads(run.stdout)


@pytest.mark.parametrize("case", sorted(_cases(glassgrad)))
def test_a_non_tensor_type_is_asked_before_the_switch_as_pytorch(torch, fresh_answers, case):
    """PyTorch asks such a type at every call; glassgrad, off until then, switches the protocol on
    at the first public function or operator that fails on it and hands the call over (plain
    calls, also failing ones, leave it off: they pay nothing)."""
    assert fresh_answers["off_after_plain_calls"]
    (name, nargs, kwargs), on = fresh_answers[case]
    want = _cases(torch)[case]()
    assert on and (name, nargs) == tuple(want[:2])
    if case == "sum_dim":  # rebuilt from the parameters: dim=1 goes by position
        assert (nargs, kwargs) == (2, []) and want[1:] == [2, []]
    else:
        assert set(kwargs) <= set(want[2])  # (PyTorch's F.relu also hands over inplace=False)
    if case == "clone":
        assert kwargs == ["memory_format"]


# ---------------------------------------------------------------- pickling and copies
def test_pickle_gives_a_leaf_without_graph_grad_or_hooks_as_pytorch(torch):
    def run(lib):
        a = lib.ones(2, requires_grad=True)
        a.grad = lib.full((2,), 3.0)
        b = a * 2
        b.register_hook(lambda g: g)
        p = lib.nn.Parameter(lib.ones(2))
        p.grad = lib.ones(2)
        rb, ra, rp = (pickle.loads(pickle.dumps(x)) for x in (b, a, p))
        c = copy.copy(a)
        d = copy.deepcopy(a)
        return {
            "b": (rb.is_leaf, rb.requires_grad, rb.grad_fn is None, rb.tolist()),
            "b_backward": rb.sum().backward() is None and rb.grad.tolist(),
            "a": (ra.requires_grad, ra.grad is None),
            "p": (type(rp).__name__, rp.requires_grad, rp.grad is None),
            "copy": (c.is_leaf, c.grad is None, c.data_ptr() == a.data_ptr()),
            "deepcopy": (d.grad.tolist(), d.data_ptr() != a.data_ptr()),
        }

    assert run(glassgrad) == run(torch)


# ---------------------------------------------------------------- sparse metadata
def test_sparse_coo_metadata_methods_and_mT_as_pytorch(torch):
    idx = np.array([[0, 1, 1, 0], [1, 0, 2, 2], [0, 0, 1, 1]])
    vals = np.array([1.0, 2.0, 3.0, 4.0])

    def run(lib):
        s = lib.sparse_coo_tensor(lib.tensor(idx), lib.tensor(vals), (2, 3, 2))
        m = s.mT
        return (
            s.ndimension(),
            s.nelement(),
            s.is_complex(),
            s.is_signed(),
            tuple(m.shape),
            m.to_dense().numpy(),
        )

    g, w = run(glassgrad), run(torch)
    assert g[:5] == w[:5]
    np.testing.assert_array_equal(g[5], w[5])


def test_function_with_a_sparse_input_and_a_view_result_as_pytorch(torch):
    """linear_operator's DSMM: a user Function given a sparse matrix returns a view of a product;
    autograd's test of shared memory used to ask the sparse storage for ``base`` (refused)."""
    idx, vals = np.array([[0, 1, 1], [1, 0, 2]]), np.array([1.0, 2.0, 3.0])
    dense = np.arange(12.0).reshape(3, 4)

    def run(lib):
        class Dsmm(lib.autograd.Function):
            @staticmethod
            def forward(ctx, sparse, d):
                ctx.sparse = sparse
                return lib.mm(sparse, d.reshape(3, -1)).view(2, 2, 2)

            @staticmethod
            def backward(ctx, g):
                return None, lib.mm(ctx.sparse.mT, g.reshape(2, 4)).reshape(3, 4)

        s = lib.sparse_coo_tensor(lib.tensor(idx), lib.tensor(vals), (2, 3))
        d = lib.tensor(dense, requires_grad=True)
        out = Dsmm.apply(s, d)
        (out**2).sum().backward()
        return out.detach().numpy(), d.grad.numpy()

    for a, b in zip(run(glassgrad), run(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("assign", [False, True])
def test_load_state_dict_takes_a_one_element_vector_for_a_scalar_as_pytorch(torch, assign):
    """PyTorch's loader still takes PyTorch 0.3's 1-dim scalars (gpytorch's spectral-mixture test
    loads ``raw_constant`` of shape (1,) into ConstantMean's 0-dim parameter); other shapes are
    refused by both."""

    def run(lib):
        m = lib.nn.Module()
        m.p = lib.nn.Parameter(lib.tensor(1.0))
        m.register_buffer("b", lib.tensor(2.0))
        m.load_state_dict({"p": lib.tensor([5.0]), "b": lib.tensor([7.0])}, assign=assign)
        refused = []
        for bad in ({"p": lib.tensor([5.0, 6.0])}, {"p": lib.ones(1, 1)}):
            try:
                m.load_state_dict({"b": lib.tensor(7.0), **bad})
            except RuntimeError:
                refused.append(True)
        return tuple(m.p.shape), m.p.item(), tuple(m.b.shape), m.b.item(), type(m.p).__name__, refused

    assert run(glassgrad) == run(torch)
