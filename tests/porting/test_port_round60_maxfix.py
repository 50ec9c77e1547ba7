"""Round 60, maxfix: ``x.max(dim=t)`` / ``torch.min(x, dim=t)`` with a 0-d integer tensor ``t`` is
PyTorch's dim form, ``(values, indices)`` along ``int(t)``; glassgrad gave the elementwise maximum
with ``t``, silently. PyTorch's parser picks among ``max()``, ``max(Tensor other)`` and
``max(int dim, bool keepdim=False)``: a lone positional tensor is ``other``, one given as ``dim=``
or beside a keepdim is a dim."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import glassgrad as gg

A = np.random.default_rng(60).normal(size=(3, 4))


def _outcome(fn):
    try:
        return "ok", fn()
    except Exception as e:  # (the class is what is compared)
        return "err", e


FORMS = {
    "method_dim_kw": lambda lib, x, t, op: getattr(x, op)(dim=t),
    "function_dim_kw": lambda lib, x, t, op: getattr(lib, op)(x, dim=t),
    "input_kw_dim_kw": lambda lib, x, t, op: getattr(lib, op)(input=x, dim=t),
    "axis_kw": lambda lib, x, t, op: getattr(x, op)(axis=t),
    "dim_kw_keepdim": lambda lib, x, t, op: getattr(x, op)(dim=t, keepdim=True),
    "positional_keepdim": lambda lib, x, t, op: getattr(x, op)(t, True),
    "positional_keepdim_kw": lambda lib, x, t, op: getattr(x, op)(t, keepdim=False),
    "function_positional_keepdim": lambda lib, x, t, op: getattr(lib, op)(x, t, True),
    "positional_other": lambda lib, x, t, op: getattr(x, op)(t),
    "function_positional_other": lambda lib, x, t, op: getattr(lib, op)(x, t),
    "method_other_kw": lambda lib, x, t, op: getattr(x, op)(other=t),
    "function_other_kw": lambda lib, x, t, op: getattr(lib, op)(x, other=t),
    "int_dim": lambda lib, x, t, op: getattr(x, op)(1),
    "int_dim_keepdim_kw": lambda lib, x, t, op: getattr(x, op)(-1, keepdim=True),
    "numpy_dim_kw": lambda lib, x, t, op: getattr(x, op)(dim=np.int64(1)),
    "numpy_dim": lambda lib, x, t, op: getattr(lib, op)(x, np.int32(0)),
    "everything": lambda lib, x, t, op: getattr(x, op)(),
}


@pytest.mark.parametrize("op", ["max", "min"])
@pytest.mark.parametrize("form", sorted(FORMS))
def test_max_min_forms_as_pytorch(torch, form, op):
    """Which overload runs, its values, indices and the input's gradient (float64), against PyTorch."""
    got = []
    for lib in (torch, gg):
        x = lib.tensor(A, requires_grad=True)
        r = FORMS[form](lib, x, lib.tensor(1), op)
        values = r[0] if isinstance(r, tuple) else r
        (values * lib.tensor(np.arange(1.0, values.numel() + 1).reshape(values.shape))).sum().backward()
        indices = r[1].numpy() if isinstance(r, tuple) else None
        got.append((isinstance(r, tuple), values.detach().numpy(), indices, x.grad.numpy()))
    (tt, tv, ti, tg), (gt, gv, gi, g_grad) = got
    assert gt == tt
    assert gv.shape == tv.shape
    np.testing.assert_allclose(gv, tv, rtol=1e-12, atol=0)
    np.testing.assert_allclose(g_grad, tg, rtol=1e-12, atol=0)
    if tt:
        np.testing.assert_array_equal(gi, ti)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_max_dim_tensor_keyword_in_a_loss_as_pytorch(torch, dtype):
    """The pattern that went wrong: the class dim held as a tensor, ``logits.max(dim=d)``."""
    logits = np.random.default_rng(1).normal(size=(5, 3)).astype(dtype)
    got = []
    for lib in (torch, gg):
        x = lib.tensor(logits, requires_grad=True)
        d = lib.tensor(1)
        best, idx = x.max(dim=d)
        worst = lib.min(x, dim=d).values
        (best - worst).pow(2).mean().backward()
        got.append((best.detach().numpy(), idx.numpy(), x.grad.numpy(), str(best.dtype)))
    np.testing.assert_allclose(got[1][0], got[0][0], rtol=0, atol=0)
    np.testing.assert_array_equal(got[1][1], got[0][1])
    np.testing.assert_allclose(got[1][2], got[0][2], rtol=1e-6 if dtype == "float32" else 1e-13)
    assert got[1][3].split(".")[-1] == got[0][3].split(".")[-1]


def test_max_dim_tensor_keyword_with_out_as_pytorch(torch):
    outs = []
    for lib in (torch, gg):
        buf = (lib.empty(0, dtype=lib.float64), lib.empty(0, dtype=lib.int64))
        r = lib.max(lib.tensor(A), dim=lib.tensor(0), out=buf)
        assert r[0] is buf[0] and r[1] is buf[1]
        outs.append((buf[0].numpy(), buf[1].numpy()))
    np.testing.assert_array_equal(outs[1][0], outs[0][0])
    np.testing.assert_array_equal(outs[1][1], outs[0][1])


REFUSED = {
    "float_tensor_dim_kw": lambda lib, x: x.max(dim=lib.tensor(0.5)),
    "one_element_dim_kw": lambda lib, x: x.max(dim=lib.tensor([1])),
    "float_tensor_keepdim": lambda lib, x: x.max(lib.tensor(0.5), keepdim=True),
    "dim_twice": lambda lib, x: x.max(1, dim=0),
    "keepdim_twice": lambda lib, x: x.max(1, True, keepdim=True),
    "three_positional": lambda lib, x: x.max(1, True, False),
    "other_and_dim": lambda lib, x: x.max(other=lib.tensor(1.0), dim=1),
    "positional_and_other": lambda lib, x: x.min(lib.tensor(1.0), other=lib.tensor(1.0)),
    "other_and_keepdim": lambda lib, x: lib.min(x, other=lib.tensor(1.0), keepdim=True),
    "keepdim_alone": lambda lib, x: x.max(keepdim=True),
    "keepdim_not_bool": lambda lib, x: x.max(1, keepdim=1),
    "bool_dim": lambda lib, x: x.min(True),
    "bool_dim_kw": lambda lib, x: lib.max(x, dim=False),
    "number_other": lambda lib, x: lib.max(x, other=1),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_max_min_refusals_as_pytorch(torch, case):
    st, rt = _outcome(lambda: REFUSED[case](torch, torch.tensor(A)))
    sg, rg = _outcome(lambda: REFUSED[case](gg, gg.tensor(A)))
    assert (st, sg) == ("err", "err"), (rt, rg)
    assert isinstance(rg, type(rt)), (rt, rg)


def test_max_min_show_pytorchs_parameters():
    for fn in (gg.max, gg.min):
        assert list(inspect.signature(fn).parameters) == ["input", "dim", "keepdim", "out"]
    for fn in (gg.Tensor.max, gg.Tensor.min):
        assert list(inspect.signature(fn).parameters) == ["self", "dim", "keepdim"]


def test_generic_numpy_names_wrapper_is_generated_code():
    """The wrapper of a ``*args`` function (max/min, the in-place methods) is generated as the
    exact one is: a traceback shows its lines and its code names no function of numpy_names.py
    (the ``__torch_function__`` protocol's wrappers unwrap to it, and tests look through it)."""
    for fn in (gg.Tensor.max, gg.Tensor.min, gg.Tensor.squeeze_):
        code = fn.__code__
        assert code.co_filename.startswith("<numpy names of ")
        assert code.co_name == fn.__name__
        assert "return _fn(*args, **kwargs)" in "".join(inspect.getsourcelines(code)[0])
