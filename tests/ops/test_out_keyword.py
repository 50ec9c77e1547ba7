"""PyTorch's ``out=`` on the top-level functions (glassgrad/out_keyword.py), checked against PyTorch
on the calls of ``cases_out_keyword.py``: the values written into ``out`` and ``out`` returned, a
wrongly shaped ``out`` resized (with PyTorch's warning when it held elements), tuples of outs for
functions of several results, the refusal when an input requires grad, and the dtypes ``out`` may
have."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import DTypeError, GraphError
from glassgrad.out_keyword import RULES
from tests.ops.cases_out_keyword import CASES, A, B, U

# PyTorch's Python binding of these takes no out= (its docs say it does); its aten out variant
# (torch.ops.aten.<name>.correction_out) is the reference for them.
ATEN_OUT = {"std_mean", "var_mean"}
# PyTorch's diag, conj_physical and aten std_mean/var_mean write into out= without refusing an
# input that requires grad (their out forms detach); glassgrad refuses there too, rather than
# write values that have lost their graph.
REFUSES_WHERE_PYTORCH_DETACHES = {
    "diag", "diag_of_matrix", "conj_physical", "std_mean", "var_mean", "softmax", "log_softmax"
}  # fmt: skip
DTYPES = ["float64", "int64", "bool", "complex64"]


def _make(lib, cid):
    name, make = CASES[cid]
    args, kwargs = make(lib)
    return name, args, kwargs


def _tuple(r):
    return tuple(r) if isinstance(r, tuple) else (r,)


def _torch_with_out(torch, cid, outs, args=None):
    """PyTorch's call of case ``cid`` with ``out=outs`` (a tuple: one tensor per result)."""
    name, made, kwargs = _make(torch, cid)
    args = made if args is None else args
    torch.manual_seed(0)
    if name in ATEN_OUT:
        dim = [args[1]] if len(args) > 1 else None
        return getattr(torch.ops.aten, name).correction_out(args[0], dim, out0=outs[0], out1=outs[1])
    return getattr(torch, name)(*args, **kwargs, out=outs if len(outs) > 1 else outs[0])


def _empty(lib, shape, dtype, fill=0):
    return lib.full(tuple(shape), fill, dtype=dtype)


def _gg_dtype(torch_dtype):
    return getattr(gg, str(torch_dtype).removeprefix("torch."))


def _expected(torch, cid):
    name, args, kwargs = _make(torch, cid)
    torch.manual_seed(0)
    return _tuple(getattr(torch, name)(*args, **kwargs))


def _same(got, want):
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(got.numpy(), want.detach().numpy(), rtol=1e-6, atol=1e-6, equal_nan=True)


def _resize_warnings(caught):
    return [w for w in caught if "resized" in str(w.message)]


@pytest.mark.parametrize("cid", sorted(CASES))
def test_the_result_is_written_into_out_and_out_returned(torch, cid):
    expected = _expected(torch, cid)
    t_outs = tuple(_empty(torch, e.shape, e.dtype) for e in expected)
    t_got = _torch_with_out(torch, cid, t_outs)
    name, args, kwargs = _make(gg, cid)
    outs = tuple(_empty(gg, e.shape, _gg_dtype(e.dtype)) for e in expected)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the right shape: nothing to resize, nothing to warn
        warnings.filterwarnings("ignore", "torch.qr is deprecated")  # (its own, once a process)
        got = getattr(gg, name)(*args, **kwargs, out=outs if len(outs) > 1 else outs[0])
    for g, o, t in zip(_tuple(got), outs, t_outs, strict=True):
        assert g is o
        _same(o, t)
    if isinstance(t_got, tuple) and hasattr(got, "values"):
        assert got.values is outs[0] and got.indices is outs[1]  # the named tuple holds the outs


@pytest.mark.parametrize("empty", [False, True], ids=["holding-elements", "empty"])
@pytest.mark.parametrize("cid", sorted(CASES))
def test_a_wrongly_shaped_out_is_resized_as_pytorch(torch, cid, empty):
    expected = _expected(torch, cid)
    shape = (0,) if empty else (7,)
    t_outs = tuple(_empty(torch, shape, e.dtype, 5) for e in expected)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _torch_with_out(torch, cid, t_outs)
    # the aten form warns in C++ only; PyTorch's rule is the same: warn when elements are dropped
    torch_warned = bool(_resize_warnings(caught)) if CASES[cid][0] not in ATEN_OUT else not empty
    name, args, kwargs = _make(gg, cid)
    outs = tuple(_empty(gg, shape, _gg_dtype(e.dtype), 5) for e in expected)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = getattr(gg, name)(*args, **kwargs, out=outs if len(outs) > 1 else outs[0])
    ours = _resize_warnings(caught)
    assert bool(ours) == torch_warned
    # PyTorch's words from the start (round 67: a program's filterwarnings(message=...) matches them), the op last
    pytorch_words = "An output with one or more elements was resized since it had shape"
    assert all(
        w.category is UserWarning
        and str(w.message).startswith(pytorch_words)
        and f"({name})" in str(w.message)
        for w in ours
    )
    for g, o, t in zip(_tuple(got), outs, t_outs, strict=True):
        assert g is o
        _same(o, t)


def _float_input(args):
    """The first floating tensor among ``args`` (or in a list among them), or None."""
    for a in args:
        for t in a if isinstance(a, list) else [a]:
            if hasattr(t, "dtype") and str(t.dtype).split(".")[-1].startswith(("float", "complex")):
                return t
    return None


GRAD_CASES = sorted(c for c in CASES if _float_input(_make(gg, c)[1]) is not None)


@pytest.mark.parametrize("cid", GRAD_CASES)
def test_out_refuses_an_input_that_requires_grad_as_pytorch(torch, cid):
    expected = _expected(torch, cid)
    name, t_args, _ = _make(torch, cid)
    _float_input(t_args).requires_grad_(True)
    t_outs = tuple(_empty(torch, e.shape, e.dtype) for e in expected)
    try:
        _torch_with_out(torch, cid, t_outs, t_args)
        torch_refused = False
    except RuntimeError as e:
        assert "don't support automatic differentiation" in str(e)
        torch_refused = True
    _, args, kwargs = _make(gg, cid)
    _float_input(args).requires_grad_(True)
    outs = tuple(_empty(gg, e.shape, _gg_dtype(e.dtype)) for e in expected)
    call = lambda: getattr(gg, name)(*args, **kwargs, out=outs if len(outs) > 1 else outs[0])  # noqa: E731
    if torch_refused or cid in REFUSES_WHERE_PYTORCH_DETACHES:
        assert torch_refused != (cid in REFUSES_WHERE_PYTORCH_DETACHES)
        with pytest.raises(GraphError, match=f"{name}: out= does not support automatic differentiation"):
            call()
        with gg.no_grad():  # where no graph is recorded, out= is allowed, as PyTorch's
            assert _tuple(call())[0] is outs[0]
    else:  # comparisons, masks, samples: no gradient to lose
        for g, o, t in zip(_tuple(call()), outs, t_outs, strict=True):
            assert g is o and not o.requires_grad
            _same(o, t)


def test_a_scan_into_an_integer_out_still_refuses_an_input_that_requires_grad(torch):
    # cumsum computes in out's dtype: an int64 result records no graph, yet PyTorch refuses
    for lib, error in ((torch, RuntimeError), (gg, GraphError)):
        x = lib.tensor(A, requires_grad=True)
        with pytest.raises(error, match="support automatic differentiation"):
            lib.cumsum(x, 1, out=lib.empty(0, dtype=lib.int64))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cid", sorted(CASES))
def test_the_dtypes_out_may_have_are_pytorchs(torch, cid, dtype):
    expected = _expected(torch, cid)
    t_outs = (_empty(torch, expected[0].shape, getattr(torch, dtype)),)
    t_outs += tuple(_empty(torch, e.shape, e.dtype) for e in expected[1:])
    try:
        _torch_with_out(torch, cid, t_outs)
        torch_refused = False
    except (RuntimeError, TypeError, NotImplementedError):
        torch_refused = True
    name, args, kwargs = _make(gg, cid)
    outs = (_empty(gg, expected[0].shape, getattr(gg, dtype)),)
    outs += tuple(_empty(gg, e.shape, _gg_dtype(e.dtype)) for e in expected[1:])
    call = lambda: getattr(gg, name)(*args, **kwargs, out=outs if len(outs) > 1 else outs[0])  # noqa: E731
    if torch_refused:
        before = [o.tolist() for o in outs]
        # (a scan into a bool out meets PyTorch's missing bool kernel first, as there: round 67)
        refusal = f'out= has dtype glassgrad.{dtype}, which can\'t hold|"{name}_out_cpu" not implemented'
        with pytest.raises(DTypeError, match=f"{name}: ({refusal})"):
            call()
        assert [o.tolist() for o in outs] == before  # refused before anything is written
    else:
        got = call()
        for g, o, t in zip(_tuple(got), outs, t_outs, strict=True):
            assert g is o
            _same(o, t)


def test_functions_of_several_results_take_a_tuple_of_outs(torch):
    x = [[1.0, 5.0], [7.0, 2.0]]
    with pytest.raises(TypeError):
        torch.max(torch.tensor(x), 1, out=torch.empty(2))
    with pytest.raises(TypeError, match="max: expected out= to be a tuple of 2 tensors"):
        gg.max(gg.tensor(x), 1, out=gg.empty(2))
    values, indices = gg.empty(0), gg.empty(0, dtype=gg.int64)
    got = gg.min(gg.tensor(x), dim=0, keepdim=True, out=[values, indices])  # a list, as PyTorch takes
    want = torch.min(torch.tensor(x), dim=0, keepdim=True)
    assert got.values is values and got.indices is indices
    assert values.tolist() == want.values.tolist() and indices.tolist() == want.indices.tolist()


def test_out_partly_overlapping_an_input_is_refused_as_pytorch(torch):
    for lib in (torch, gg):
        x = lib.arange(5.0)
        with pytest.raises(RuntimeError):
            lib.where(x[:-1] > 1, x[:-1], x[1:] * 0, out=x[1:])
    x = gg.arange(4.0)
    assert gg.clamp(x, 1.0, 2.0, out=x) is x and x.tolist() == [1.0, 1.0, 2.0, 2.0]  # the same memory is fine


def test_signatures_show_the_functions_parameters_and_keyword_only_out():
    from glassgrad.out_keyword import _OUT_AFTER

    for name in RULES:
        fn = getattr(gg, name)
        params = list(inspect.signature(fn).parameters.values())
        own = list(inspect.signature(inspect.unwrap(fn)).parameters.values())
        if name in _OUT_AFTER:  # torch.norm: out positional after keepdim, dtype behind it
            at = [p.name for p in own].index(_OUT_AFTER[name]) + 1
            assert params[at].name == "out" and params[at].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
            assert [p.name for p in params[:at] + params[at + 1 :]] == [p.name for p in own], name
            continue
        assert params[:-1] == own, name
        assert params[-1].name == "out" and params[-1].kind is inspect.Parameter.KEYWORD_ONLY, name
        assert params[-1].default is None, name
        assert fn.__doc__ == inspect.unwrap(fn).__doc__, name


def test_out_is_keyword_only():
    a, b = gg.tensor(A), gg.tensor(B)
    with pytest.raises(TypeError):
        gg.maximum(a, b, gg.empty(2, 3))  # as PyTorch's: out only by keyword


ALIASES = {  # PyTorch's aliases take out= too; glassgrad binds them to the same functions
    "greater": lambda m: (m.tensor(A), m.tensor(B)),
    "not_equal": lambda m: (m.tensor(A), m.tensor(B)),
    "clip": lambda m: (m.tensor(A), -1.0, 1.0),
    "arccos": lambda m: (m.tensor(U),),
    "arctan2": lambda m: (m.tensor(A), m.tensor(B)),
    "negative": lambda m: (m.tensor(A),),
}


@pytest.mark.parametrize("alias", sorted(ALIASES))
def test_aliases_take_out(torch, alias):
    want = getattr(torch, alias)(*ALIASES[alias](torch))
    out = gg.empty(0, dtype=_gg_dtype(want.dtype))
    assert getattr(gg, alias)(*ALIASES[alias](gg), out=out) is out
    _same(out, want)


OVERLAPPING_OUTS = {  # an out= partly overlapping the input (s, d the same tensor): PyTorch allows these
    "amax": lambda m, s, d: m.amax(s[:6].view(2, 3), 1, out=d[1:3]),
    "mean": lambda m, s, d: m.mean(s[:6].view(2, 3), 1, out=d[1:3]),
    "std": lambda m, s, d: m.std(s[:6].view(2, 3), 1, out=d[1:3]),
    "logsumexp": lambda m, s, d: m.logsumexp(s[:6], 0, out=d[2]),
    "norm": lambda m, s, d: m.norm(s[:6].view(2, 3), dim=1, out=d[1:3]),
    "max of all": lambda m, s, d: m.max(s[:6], out=d[1:2].view(())),
    "cummax": lambda m, s, d: m.cummax(s[:6], 0, out=(d[1:7], m.empty(6, dtype=m.int64))),
    "tril": lambda m, s, d: m.tril(s[:9].view(3, 3), out=d[1:10].view(3, 3)),
    "diag": lambda m, s, d: m.diag(s[:3], out=d[1:10].view(3, 3)),
    "diff prepend": lambda m, s, d: m.diff(s[:6], prepend=s[:1], out=d[1:7]),
}


@pytest.mark.parametrize("name", sorted(OVERLAPPING_OUTS))
def test_out_overlapping_the_input_where_pytorch_allows_it(torch, name):
    b = torch.arange(1.0, 21.0)
    OVERLAPPING_OUTS[name](torch, b, b)  # runs in PyTorch (its values depend on its kernel's order)
    want = torch.arange(1.0, 21.0)
    OVERLAPPING_OUTS[name](torch, want.clone(), want)  # glassgrad reads the input before writing
    got = gg.arange(1.0, 21.0)
    OVERLAPPING_OUTS[name](gg, got, got)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
