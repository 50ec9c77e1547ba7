"""Round 59's sweep of the public callables (torch, Tensor methods, nn.functional, linalg, special,
fft) against PyTorch with arguments generated from PyTorch's schemas: what it found, pinned.

- ``torch.poisson`` and ``torch.binomial`` of 0-dim parameters raised (NumPy's generators return a
  Python int there, not an array);
- ``Tensor.bernoulli_(p)`` with a tensor ``p`` raised a NumPy TypeError (PyTorch expands ``p``);
- ``F.kl_div`` gave a finite loss and gradient for a negative or NaN target where PyTorch's
  ``xlogy(target, target) - target * input`` gives NaN (the target's gradient at 0 too);
- ``linalg.pinv(A, rcond)`` / ``pinv(A, rcond=)`` and ``linalg.matrix_rank(A, tol)`` (PyTorch's
  older overloads) were refused;
- ``softmax``/``log_softmax`` with an integer or bool ``dtype=`` returned float32, the keyword
  silently ignored, where PyTorch has no kernel and raises;
- ``F.cross_entropy`` of class probabilities refused every ``ignore_index`` but -100 (PyTorch
  passes a negative one and refuses a class to ignore with a RuntimeError);
- ``F.has_torch_function``/``handle_torch_function`` (PyTorch's F re-exports torch.overrides'
  helpers) were missing, and once re-exported, the protocol wrapped them: asked about a subclass
  they answered False;
- ``torch.frobenius_norm(x, 1)``: PyTorch's ``int[1]`` dim takes a bare int;
- ``torch.as_tensor(t, dtype=)`` of a tensor that requires grad detached the cast (PyTorch's is
  ``t.to(dtype)``, recorded): the gradient was silently lost.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg

LIBS = ["torch", "glassgrad"]


def _lib(name, torch):
    return torch if name == "torch" else gg


# ---- samplers of 0-dim parameters ---------------------------------------------------------------


@pytest.mark.parametrize("name", LIBS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_poisson_and_binomial_of_a_0_dim_parameter(torch, name, dtype):
    lib = _lib(name, torch)
    dt = getattr(lib, dtype)
    # rate 0 and probabilities 0 / 1 make the draws certain, so the values compare too
    zero = lib.poisson(lib.tensor(0.0, dtype=dt))
    assert zero.shape == () and zero.dtype == dt and zero.item() == 0.0
    some = lib.poisson(lib.tensor(2.5, dtype=dt))
    assert some.shape == () and some.dtype == dt and some.item() >= 0 and some.item() == int(some.item())
    full = lib.binomial(lib.tensor(3.0, dtype=dt), lib.tensor(1.0, dtype=dt))
    assert full.shape == () and full.dtype == dt and full.item() == 3.0
    none = lib.binomial(lib.tensor(4.0, dtype=dt), lib.tensor(0.0, dtype=dt))
    assert none.shape == () and none.item() == 0.0


# ---- bernoulli_ with a tensor of probabilities --------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "p"),
    [((3,), [0.0, 1.0, 1.0]), ((2, 3), [0.0, 1.0, 0.0]), ((2, 3), [[1.0], [0.0]]), ((2,), 1.0)],
    ids=["same-shape", "row-broadcast", "column-broadcast", "0-dim"],
)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_bernoulli_inplace_takes_a_tensor_p_as_torch(torch, shape, p, dtype):
    got = {}
    for lib in (torch, gg):
        x = lib.full(shape, 7, dtype=getattr(lib, dtype))
        out = x.bernoulli_(lib.tensor(p, dtype=lib.float64))
        assert out is x
        got[lib] = (str(x.dtype).split(".")[-1], x.tolist())
    assert got[gg] == got[torch]


@pytest.mark.parametrize("p_shape", [(4,), (2, 3), (1, 3)], ids=["wrong-size", "more-dims", "more-dims-1"])
def test_bernoulli_inplace_refuses_a_p_that_does_not_expand_as_torch(torch, p_shape):
    for lib in (torch, gg):
        x = lib.zeros(3)
        with pytest.raises(RuntimeError):
            x.bernoulli_(lib.full(p_shape, 0.5))
        assert x.tolist() == [0.0, 0.0, 0.0]


# ---- kl_div is PyTorch's xlogy form -------------------------------------------------------------


@pytest.mark.parametrize("reduction", ["none", "sum", "batchmean"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_kl_div_of_zero_negative_and_nan_targets_as_torch(torch, reduction, dtype):
    inputs = np.array([[-0.5, -1.0, -2.0, -0.3], [-0.7, -0.1, -1.5, -0.2]])
    targets = np.array([[0.0, 0.5, -0.2, np.nan], [0.25, 0.0, 0.75, 0.4]])
    weights = np.random.default_rng(3).standard_normal(4 if reduction != "none" else (2, 4))
    got = {}
    for lib in (torch, gg):
        dt = getattr(lib, dtype)
        x = lib.tensor(inputs, dtype=dt, requires_grad=True)
        t = lib.tensor(targets, dtype=dt, requires_grad=True)
        loss = lib.nn.functional.kl_div(x, t, reduction=reduction)
        seed = lib.tensor(weights[0] if reduction != "none" else weights, dtype=dt)
        gx, gt = lib.autograd.grad((loss * seed).sum(), (x, t))
        got[lib] = [a.detach().numpy() for a in (loss, gx, gt)]
    rtol = 1e-13 if dtype == "float64" else 1e-6
    for a, b in zip(got[torch], got[gg]):
        np.testing.assert_allclose(b, a, rtol=rtol, atol=rtol, equal_nan=True)
        assert np.array_equal(np.isnan(a), np.isnan(b))


def test_kl_div_of_valid_targets_keeps_the_targets_dtype_and_value(torch):
    # a float32 target against a float64 input: t log t formed in float32 first, as PyTorch
    got = {}
    for lib in (torch, gg):
        x = lib.tensor([[-0.5, -1.2, -2.0]], dtype=lib.float64, requires_grad=True)
        t = lib.tensor([[0.2, 0.0, 0.8]], dtype=lib.float32)
        loss = lib.nn.functional.kl_div(x, t, reduction="sum")
        (g,) = lib.autograd.grad(loss, x)
        got[lib] = (loss.item(), g.tolist(), str(loss.dtype).split(".")[-1])
    assert got[gg] == got[torch]


# ---- linalg.pinv(A, rcond) and matrix_rank(A, tol) ----------------------------------------------


def _matrix(lib):
    # singular values 10 and 0.01: rcond 1e-2 (relative) cuts the second, tol 1e-2 (absolute) keeps it
    return lib.tensor([[10.0, 0.0], [0.0, 0.01]], dtype=lib.float64)


_PINV_CALLS = {
    "positional": lambda lib, A: lib.linalg.pinv(A, 2e-3),
    "positional-keeps": lambda lib, A: lib.linalg.pinv(A, 5e-4),
    "keyword": lambda lib, A: lib.linalg.pinv(A, rcond=2e-3),
    "tensor": lambda lib, A: lib.linalg.pinv(A, lib.tensor(2e-3, dtype=lib.float64)),
    "hermitian-positional": lambda lib, A: lib.linalg.pinv(A, 2e-3, True),
    "pinverse": lambda lib, A: lib.pinverse(A, rcond=2e-3),
}


@pytest.mark.parametrize("call", sorted(_PINV_CALLS))
def test_pinv_takes_the_older_rcond_as_torch(torch, call):
    got = {lib: _PINV_CALLS[call](lib, _matrix(lib)).tolist() for lib in (torch, gg)}
    assert got[gg] == got[torch]


_RANK_CALLS = {
    "positional": lambda lib, A: lib.linalg.matrix_rank(A, 1e-2),
    "positional-cuts": lambda lib, A: lib.linalg.matrix_rank(A, 0.5),
    "keyword": lambda lib, A: lib.linalg.matrix_rank(A, tol=0.5),
    "tensor": lambda lib, A: lib.linalg.matrix_rank(A, lib.tensor(0.5, dtype=lib.float64)),
    "hermitian-positional": lambda lib, A: lib.linalg.matrix_rank(A, 1e-2, True),
    "rtol": lambda lib, A: lib.linalg.matrix_rank(A, rtol=2e-3),
}


@pytest.mark.parametrize("call", sorted(_RANK_CALLS))
def test_matrix_rank_takes_the_older_tol_as_torch(torch, call):
    got = {lib: _RANK_CALLS[call](lib, _matrix(lib)) for lib in (torch, gg)}
    assert got[gg].tolist() == got[torch].tolist() and str(got[gg].dtype).split(".")[-1] == "int64"


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, A: lib.linalg.pinv(A, 1e-3, atol=0.1),
        lambda lib, A: lib.linalg.pinv(A, rcond=1e-3, rtol=0.1),
        lambda lib, A: lib.linalg.matrix_rank(A, 1e-3, atol=0.1),
        lambda lib, A: lib.linalg.matrix_rank(A, tol=1e-3, rtol=0.1),
    ],
    ids=["pinv-atol", "pinv-rtol", "rank-atol", "rank-rtol"],
)
def test_the_older_tolerance_with_atol_or_rtol_is_a_type_error_as_torch(torch, call):
    for lib in (torch, gg):
        with pytest.raises(TypeError):
            call(lib, _matrix(lib))


# ---- softmax's dtype= is not ignored ------------------------------------------------------------

_SOFTMAXES = {
    "torch.softmax": lambda lib, x, **kw: lib.softmax(x, 1, **kw),
    "torch.log_softmax": lambda lib, x, **kw: lib.log_softmax(x, 0, **kw),
    "F.softmax": lambda lib, x, **kw: lib.nn.functional.softmax(x, dim=-1, **kw),
    "F.log_softmax": lambda lib, x, **kw: lib.nn.functional.log_softmax(x, dim=0, **kw),
    "Tensor.softmax": lambda lib, x, **kw: x.softmax(-1, **kw),
    "special.softmax": lambda lib, x, **kw: lib.special.softmax(x, 1, **kw),
}


@pytest.mark.parametrize("fn", sorted(_SOFTMAXES))
@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_softmax_refuses_a_dtype_that_is_not_floating_as_torch(torch, fn, dtype):
    for lib in (torch, gg):
        x = lib.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
        with pytest.raises(NotImplementedError, match="kernel_impl\" not implemented for '"):
            _SOFTMAXES[fn](lib, x, dtype=getattr(lib, dtype))


@pytest.mark.parametrize("fn", sorted(_SOFTMAXES))
def test_softmax_casts_to_a_floating_dtype_as_torch(torch, fn):
    got = {}
    for lib in (torch, gg):
        x = lib.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], dtype=lib.float32, requires_grad=True)
        y = _SOFTMAXES[fn](lib, x, dtype=lib.float64)
        (g,) = lib.autograd.grad(
            (y * lib.tensor([[1.0, -2.0, 0.5], [0.3, 0.7, -1.1]], dtype=lib.float64)).sum(), x
        )
        got[lib] = (str(y.dtype).split(".")[-1], y.detach().numpy(), str(g.dtype).split(".")[-1], g.numpy())
    assert got[gg][0] == got[torch][0] == "float64" and got[gg][2] == got[torch][2] == "float32"
    np.testing.assert_allclose(got[gg][1], got[torch][1], rtol=1e-14)
    np.testing.assert_allclose(got[gg][3], got[torch][3], rtol=1e-6)


def test_softmax_refusal_names_the_op_and_the_dtype():
    with pytest.raises(
        gg.errors.DTypeError, match=r"^log_softmax: \"log_softmax_kernel_impl\" not implemented for 'Long'$"
    ):
        gg.log_softmax(gg.ones(2, 3), 0, dtype=gg.int64)


# ---- cross_entropy of class probabilities with a negative ignore_index --------------------------


@pytest.mark.parametrize("ignore_index", [-1, -100, -7])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_probabilities_pass_a_negative_ignore_index_as_torch(torch, ignore_index, smoothing):
    # a config's ignore_index=-1 meeting mixup's soft targets: PyTorch computes, the index names no class
    rng = np.random.default_rng(5)
    logits, probs = rng.standard_normal((4, 3)), rng.dirichlet(np.ones(3), 4)
    got = {}
    for lib in (torch, gg):
        x = lib.tensor(logits, requires_grad=True)
        loss_fn = lib.nn.CrossEntropyLoss(ignore_index=ignore_index, label_smoothing=smoothing)
        loss = loss_fn(x, lib.tensor(probs))
        (g,) = lib.autograd.grad(loss, x)
        got[lib] = (loss.item(), g.numpy())
    np.testing.assert_allclose(got[gg][0], got[torch][0], rtol=1e-14)
    np.testing.assert_allclose(got[gg][1], got[torch][1], rtol=1e-13, atol=1e-16)


@pytest.mark.parametrize("ignore_index", [0, 2])
def test_cross_entropy_probabilities_refuse_a_class_to_ignore_as_torch(torch, ignore_index):
    for lib in (torch, gg):
        x, t = lib.zeros(2, 3), lib.full((2, 3), 1 / 3)
        with pytest.raises(RuntimeError):
            lib.nn.functional.cross_entropy(x, t, ignore_index=ignore_index)


# ---- F's torch-function helpers, frobenius_norm's int dim ---------------------------------------


@pytest.mark.parametrize("name", LIBS)
def test_functional_reexports_the_torch_function_helpers(torch, name):
    lib = _lib(name, torch)
    F = lib.nn.functional
    assert F.has_torch_function is lib.overrides.has_torch_function
    assert F.handle_torch_function is lib.overrides.handle_torch_function

    def scaled(x, factor=2.0):  # a functional written as PyTorch's own: dispatch first
        if F.has_torch_function_unary(x):
            return F.handle_torch_function(scaled, (x,), x, factor=factor)
        return x * factor

    seen = []

    class Logged(lib.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            seen.append(getattr(func, "__name__", "?"))
            return super().__torch_function__(func, types, args, kwargs or {})

    plain = lib.tensor([1.0, 3.0])
    assert not F.has_torch_function_unary(plain) and not F.has_torch_function_variadic(plain, plain)
    assert scaled(plain).tolist() == [2.0, 6.0]
    logged = plain.as_subclass(Logged)
    assert F.has_torch_function((logged, plain)) and F.has_torch_function_variadic(plain, logged)
    assert scaled(logged, factor=3.0).tolist() == [3.0, 9.0] and seen[0] == "scaled"


@pytest.mark.parametrize("dim", [0, 1, -1, (0, 1), [1]], ids=["0", "1", "-1", "both", "list"])
@pytest.mark.parametrize("keepdim", [False, True])
def test_frobenius_norm_takes_an_int_dim_as_torch(torch, dim, keepdim):
    a = np.random.default_rng(2).standard_normal((2, 3))
    got = {}
    for lib in (torch, gg):
        x = lib.tensor(a, requires_grad=True)
        with warnings.catch_warnings():  # both warn that the function is deprecated
            warnings.simplefilter("ignore")
            y = lib.frobenius_norm(x, dim, keepdim)
        (g,) = lib.autograd.grad(y.sum(), x)
        got[lib] = (y.detach().numpy(), g.numpy())
    for want, have in zip(got[torch], got[gg]):
        assert want.shape == have.shape
        np.testing.assert_allclose(have, want, rtol=1e-14)


# ---- as_tensor's cast of a tensor is recorded ---------------------------------------------------


@pytest.mark.parametrize(
    ("src", "to"), [("float32", "float64"), ("float64", "float32"), ("float64", "float64")]
)
def test_as_tensor_casts_a_tensor_in_the_graph_as_torch(torch, src, to):
    # a loss that makes sure of its dtype: torch.as_tensor(pred, dtype=...) keeps pred's gradient
    w = np.array([0.5, -1.25, 2.0])
    got = {}
    for lib in (torch, gg):
        x = lib.tensor([1.5, -0.25, 3.0], dtype=getattr(lib, src), requires_grad=True)
        y = lib.as_tensor(x * 2, dtype=getattr(lib, to))
        assert y.requires_grad and str(y.dtype).split(".")[-1] == to
        (y * lib.tensor(w, dtype=y.dtype)).sum().backward()
        got[lib] = (x.grad.tolist(), str(x.grad.dtype).split(".")[-1])
        with lib.no_grad():
            assert not lib.as_tensor(x, dtype=getattr(lib, to)).requires_grad or src == to
        assert not lib.as_tensor(x, dtype=lib.int64).requires_grad
    assert got[gg] == got[torch]
