"""Round 61, kwoperands: a differential battery of tensor operands given by keyword.

Every OpInfo sample of PyTorch's op database (function, method and in-place forms), every torch /
Tensor / linalg / special / fft / F callable with a schema (generic operands), and the nn layers'
forward were called with each tensor operand by position and by keyword, each operand alone
requiring grad, against PyTorch (values, dtypes, requires_grad, grad_fn, every .grad, version
counters), also with the operands a ``__torch_function__`` subclass. After ffea5d3 (in-place
methods) the keyword forms agreed wherever the positional ones did. The differences it found:
``frexp``'s mantissa recorded no graph (its gradient was lost silently), and the torch.linalg /
torch.special functions refused PyTorch's own keywords (``linalg.cholesky(input=A)``,
``linalg.lstsq(input=A, b=B)``, ``special.airy_ai(x=t)``). These tests pin both, written fresh.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

RNG = np.random.default_rng(61)
SPD = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]])
RHS = np.array([[1.0, 0.3], [-0.5, 2.0], [0.7, 0.1]])


def _pair(torch, a, requires_grad=False, dtype="float64"):
    t = torch.tensor(np.array(a, dtype=dtype), requires_grad=requires_grad)
    g = gg.tensor(np.array(a, dtype=dtype), requires_grad=requires_grad)
    return t, g


def _close(a, b, rtol=1e-12):
    np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=rtol, atol=0)


# ---- frexp: the mantissa's gradient (PyTorch's FrexpBackward0) ------------------------------------

EDGES = [1e40, 3.0, -2.5, 0.7, 1e-310, 1e-42, 0.0, -1e-5]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("form", ["function", "method"])
def test_frexp_mantissa_has_pytorchs_gradient(torch, dtype, form):
    values = [v for v in EDGES if dtype == "float64" or abs(v) < 1e38]
    w = RNG.standard_normal(len(values))
    grads = []
    for lib in (torch, gg):
        x = lib.tensor(np.array(values, dtype=dtype), requires_grad=True)
        mantissa, exponent = lib.frexp(x) if form == "function" else x.frexp()
        assert mantissa.requires_grad and not exponent.requires_grad
        assert type(mantissa.grad_fn).__name__ == "FrexpBackward0"
        (mantissa * lib.tensor(w.astype(dtype))).sum().backward()
        grads.append((mantissa.detach().numpy(), exponent.numpy(), x.grad.numpy()))
    (tm, te, tg), (gm, ge, gg_) = grads
    np.testing.assert_array_equal(gm, tm)
    np.testing.assert_array_equal(ge, te)
    assert gg_.dtype == tg.dtype
    _close(tg, gg_)  # 2^-e in the default dtype: 0 past 2^128, inf below 2^-149, as PyTorch


def test_frexp_gradient_follows_the_default_dtype(torch):
    values = [1e40, 3.0, 1e-310, 1e-42]
    grads = []
    for lib in (torch, gg):
        before = lib.get_default_dtype()
        lib.set_default_dtype(lib.float64)
        try:
            x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
            lib.frexp(x).mantissa.sum().backward()
        finally:
            lib.set_default_dtype(before)
        grads.append(x.grad.numpy())
    _close(grads[0], grads[1])


def test_frexp_second_order_and_a_mix_with_other_operands(torch):
    out = []
    for lib in (torch, gg):
        x = lib.tensor([3.0, -7.0, 0.3], dtype=lib.float64, requires_grad=True)
        y = lib.tensor([0.5, 2.0, -1.0], dtype=lib.float64, requires_grad=True)
        (g,) = lib.autograd.grad((x.frexp()[0] * x * y).sum(), x, create_graph=True)
        g.sum().backward()
        out.append((g.detach().numpy(), x.grad.numpy(), y.grad.numpy()))
    for a, b in zip(*out):
        _close(a, b)


def test_frexp_out_refuses_an_input_that_requires_grad_and_fills_without():
    x = gg.tensor([3.0, -0.2], dtype=gg.float64, requires_grad=True)
    outs = (gg.empty(2, dtype=gg.float64), gg.empty(2, dtype=gg.int32))
    with pytest.raises(RuntimeError, match="frexp: out="):
        gg.frexp(x, out=outs)
    got = gg.frexp(x.detach(), out=outs)
    assert got.mantissa is outs[0] and got.exponent is outs[1]
    np.testing.assert_array_equal(outs[0].numpy(), [0.75, -0.8])
    np.testing.assert_array_equal(outs[1].numpy(), [2, -2])


# ---- torch.linalg / torch.special: PyTorch's keywords for the operands ---------------------------


def _lower(a):
    return np.tril(a) + np.eye(3)


# (name, PyTorch's keywords -> arrays, other keywords); each operand by keyword, the first alone
# requiring grad where differentiable, compared with PyTorch's values and gradients
LINALG_CASES = [
    ("cholesky", {"input": SPD}, {}),
    ("cholesky_ex", {"input": SPD}, {}),
    ("cond", {"input": SPD}, {}),
    ("eigvalsh", {"input": SPD}, {}),
    ("eigh", {"input": SPD}, {}),
    ("matrix_exp", {"input": SPD / 4}, {}),
    ("matrix_norm", {"input": SPD}, {}),
    ("norm", {"input": SPD}, {}),
    ("vector_norm", {"input": SPD}, {}),
    ("matrix_power", {"input": SPD}, {"n": 3}),
    ("pinv", {"input": SPD}, {}),
    ("tensorinv", {"input": SPD}, {"ind": 1}),
    ("householder_product", {"input": _lower(SPD), "tau": np.array([0.3, 0.7])}, {}),
    ("lstsq", {"input": SPD, "b": RHS}, {}),
    ("solve_triangular", {"input": np.triu(SPD), "B": RHS}, {"upper": True}),
    ("tensorsolve", {"input": SPD, "other": SPD[0]}, {}),
]


@pytest.mark.parametrize("name,operands,rest", LINALG_CASES, ids=[c[0] for c in LINALG_CASES])
@pytest.mark.parametrize("wanting", ["first", "last"])
def test_linalg_takes_pytorchs_operand_keywords(torch, name, operands, rest, wanting):
    key = list(operands)[0 if wanting == "first" else -1]
    results = []
    for lib in (torch, gg):
        kwargs = {k: lib.tensor(v, requires_grad=(k == key)) for k, v in operands.items()}
        out = getattr(lib.linalg, name)(**kwargs, **rest)
        outs = [o for o in (out if isinstance(out, tuple) else (out,)) if o.dtype == lib.float64]
        loss = sum((o * lib.tensor(np.linspace(0.5, 1.5, o.numel()).reshape(o.shape))).sum() for o in outs)
        loss.backward()
        results.append(([o.detach().numpy() for o in outs], kwargs[key].grad.numpy()))
    (t_outs, t_grad), (g_outs, g_grad) = results
    for a, b in zip(t_outs, g_outs, strict=True):
        _close(a, b, rtol=1e-10)
    _close(t_grad, g_grad, rtol=1e-9)


def test_linalg_missing_operand_is_named_as_pytorch_names_it(torch):
    with pytest.raises(TypeError, match='"b"'):
        torch.linalg.lstsq(input=torch.eye(2, dtype=torch.float64))
    with pytest.raises(TypeError, match="lstsq.*'b'"):
        gg.linalg.lstsq(input=gg.eye(2, dtype=gg.float64))
    with pytest.raises(TypeError, match="multiple values"):
        gg.linalg.cholesky(gg.eye(2), input=gg.eye(2))


def test_linalg_keywords_where_pytorch_names_the_matrix_A_stay(torch):
    a_t, a_g = _pair(torch, SPD)
    _close(torch.linalg.inv(A=a_t).numpy(), gg.linalg.inv(A=a_g).numpy())
    _close(torch.linalg.solve(A=a_t, B=a_t[:, :1]).numpy(), gg.linalg.solve(A=a_g, B=a_g[:, :1]).numpy())


@pytest.mark.parametrize(
    "name", ["airy_ai", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "spherical_bessel_j0"]
)
def test_special_functions_take_x_as_pytorch(torch, name):
    values = np.array([0.3, 1.2, 2.5])
    t = getattr(torch.special, name)(x=torch.tensor(values)).numpy()
    g = getattr(gg.special, name)(x=gg.tensor(values)).numpy()
    _close(t, g, rtol=1e-9)


# ---- the keyword forms the battery pinned: subclasses are asked, in-place versions move ----------


class _Marked(gg.Tensor):
    pass


def test_a_subclass_given_by_keyword_is_asked_as_pytorch(torch):
    class Marked(torch.Tensor):
        pass

    names = []
    for lib, cls in ((torch, Marked), (gg, _Marked)):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64)
        y = lib.tensor([3.0, 4.0], dtype=lib.float64).as_subclass(cls)
        w = lib.tensor([[1.0, 0.5], [0.25, 2.0]], dtype=lib.float64).as_subclass(cls)
        names.append(
            [
                type(lib.add(x, other=y)).__name__,
                type(x.mul(other=y)).__name__,
                type(lib.lerp(x, end=y, weight=0.5)).__name__,
                type(lib.addmv(x, mat=w, vec=x)).__name__,
            ]
        )
    assert names[0] == ["Marked"] * 4
    assert names[1] == ["_Marked"] * 4


def test_in_place_keyword_operands_record_and_bump_the_version(torch):
    out = []
    for lib in (torch, gg):
        buf = lib.zeros(2, 2, dtype=lib.float64)
        w = lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64, requires_grad=True)
        v = lib.tensor([[0.5, -1.0], [2.0, 0.25]], dtype=lib.float64, requires_grad=True)
        before = buf._version
        buf.addmm_(mat1=w, mat2=v, beta=0.5, alpha=2.0).lerp_(end=w, weight=0.25)
        assert buf._version - before == 2 and buf.requires_grad
        (buf * buf).sum().backward()
        out.append((buf.detach().numpy(), w.grad.numpy(), v.grad.numpy()))
    for a, b in zip(*out):
        _close(a, b)


def test_diff_of_order_zero_returns_a_new_tensor_and_an_empty_dim_the_input(torch):
    for lib in (torch, gg):
        x = lib.ones(3, dtype=lib.float64, requires_grad=True)
        y = lib.diff(x, n=0)
        assert y is not x and y.grad_fn is not None
        y.detach().add_(1)  # its memory is its own
        assert (x.detach() == 1).all()
        (y * lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64)).sum().backward()
        assert x.grad.tolist() == [1.0, 2.0, 3.0]
        e = lib.ones(2, 0, dtype=lib.float64, requires_grad=True)
        assert lib.diff(e, dim=1) is e  # (PyTorch's own shortcut)
