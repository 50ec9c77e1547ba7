"""Round 59's hunt for raw internal errors: bad arguments get PyTorch's error class (or its value),
with a message naming the op, never a bare NumPy/Python error from inside or a silent answer."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

X = np.arange(12.0).reshape(3, 4)


def _outcome(fn):
    """("ok", value) or ("err", the exception)."""
    try:
        return "ok", fn()
    except Exception as e:  # (the class is what is compared)
        return "err", e


def _same_raise(torch, call, op):
    """``call(lib, x)`` raises in both libraries or in neither; glassgrad's error is an instance of
    PyTorch's class and names ``op``. Returns both values when neither raised."""
    st, rt = _outcome(lambda: call(torch, torch.from_numpy(X.copy())))
    sg, rg = _outcome(lambda: call(gg, gg.tensor(X.copy())))
    assert st == sg, (rt, rg)
    if st == "err":
        assert isinstance(rg, type(rt)), (rt, rg)
        assert op in str(rg), rg
        return None
    return rt, rg


BAD_DIMS = [None, "a", 1.5, [1], True]
DIM_OPS = {
    "transpose": lambda lib, x, d: x.transpose(d, 1),
    "flatten": lambda lib, x, d: lib.flatten(x, d),
    "unsqueeze": lambda lib, x, d: x.unsqueeze(d),
    "gather": lambda lib, x, d: lib.gather(x, d, lib.zeros(3, 4, dtype=lib.int64)),
    "select": lambda lib, x, d: x.select(d, 0),
    "narrow": lambda lib, x, d: x.narrow(d, 0, 1),
    "index_select": lambda lib, x, d: x.index_select(d, lib.zeros(1, dtype=lib.int64)),
    "swapaxes": lambda lib, x, d: x.swapaxes(0, d),
    "unbind": lambda lib, x, d: x.unbind(d),
}


@pytest.mark.parametrize("dim", BAD_DIMS, ids=repr)
@pytest.mark.parametrize("op", sorted(DIM_OPS))
def test_non_integer_dim_is_a_type_error_naming_the_op(torch, op, dim):
    """A dim of None, a str, a float, a list, a bool: PyTorch's parser TypeError, where
    operator.index's bare "'str' object cannot be interpreted as an integer" came from inside."""
    _same_raise(torch, lambda lib, x: DIM_OPS[op](lib, x, dim), "transpose" if op == "swapaxes" else op)


def test_integer_dims_still_taken(torch):
    """NumPy integers and one-element integer tensors are dims, as PyTorch's parser takes them."""
    for d in (np.int64(1), -1):
        assert tuple(gg.tensor(X).transpose(d, 0).shape) == tuple(torch.from_numpy(X).transpose(d, 0).shape)
    assert tuple(gg.tensor(X).transpose(gg.tensor(1), 0).shape) == (4, 3)


@pytest.mark.parametrize("dim", [10, -10, 2, -3, 1, -1, 0])
@pytest.mark.parametrize("op", ["slice_copy", "slice_scatter"])
def test_slice_dim_out_of_range_is_refused(torch, op, dim):
    """``dim % ndim`` sliced dim 0 for dim 10 of a 2-D tensor (a silent wrong answer); PyTorch
    raises IndexError. In range: PyTorch's values."""

    def call(lib, x):
        if op == "slice_copy":
            return lib.slice_copy(x, dim, 1, 3)
        src = x[1:3] if dim in (0, -2) else x[:, 1:3]
        return lib.slice_scatter(x, src, dim, 1, 3)

    got = _same_raise(torch, call, op)
    if got is not None:
        np.testing.assert_array_equal(got[1].numpy(), got[0].numpy())


@pytest.mark.parametrize("op", ["slice_copy", "slice_scatter"])
def test_slice_of_a_0d_tensor_is_an_index_error(torch, op):
    args = {"slice_copy": lambda lib, x: (x,), "slice_scatter": lambda lib, x: (x, x)}[op]
    for lib in (torch, gg):
        x = lib.tensor(1.0)
        with pytest.raises(IndexError, match="0-dim" if lib is gg else None) as e:
            getattr(lib, op)(*args(lib, x), 0)
    assert op in str(e.value)


@pytest.mark.parametrize("dims", [[1], [-2], [0, -1], [0, 0], [0], [-1], []], ids=str)
def test_flip_of_a_0d_tensor_checks_its_dims(torch, dims):
    """A 0-d tensor takes dims 0 and -1 (once); flip skipped the check and returned the tensor."""
    st, rt = _outcome(lambda: torch.flip(torch.tensor(2.0), dims))
    sg, rg = _outcome(lambda: gg.flip(gg.tensor(2.0), dims))
    assert st == sg, (rt, rg)
    if st == "err":
        assert isinstance(rg, type(rt)) and "flip" in str(rg), (rt, rg)
    else:
        assert rg.item() == rt.item() and rg.shape == ()


@pytest.mark.parametrize("dim", [None, 0, -1, 1, (0, 1), (), 10, -3, (0, 0), (1, -1), "a"], ids=repr)
def test_count_nonzero_dims_as_pytorch(torch, dim):
    """Out-of-range and repeated dims were NumPy's AxisError / "duplicate value in 'axis'"."""
    x = X.copy()
    x[0, :2] = 0
    st, rt = _outcome(lambda: torch.count_nonzero(torch.from_numpy(x), dim))
    sg, rg = _outcome(lambda: gg.count_nonzero(gg.tensor(x), dim))
    assert st == sg, (rt, rg)
    if st == "err":
        assert isinstance(rg, type(rt)) and "count_nonzero" in str(rg), (rt, rg)
    else:
        np.testing.assert_array_equal(rg.numpy(), rt.numpy())
        assert str(rg.dtype) == str(rt.dtype).replace("torch", "glassgrad")


@pytest.mark.parametrize("op", ["isclose", "allclose"])
@pytest.mark.parametrize(
    "shapes", [((3,), (3, 4)), ((2, 3), (3, 2)), ((4,), (3, 4)), ((1, 4), (3, 1))], ids=str
)
def test_close_of_shapes_that_do_not_broadcast(torch, op, shapes):
    """NumPy's "operands could not be broadcast" ValueError came from inside; PyTorch raises a
    RuntimeError with its size sentence. Shapes that broadcast: PyTorch's answer."""
    a, b = (np.ones(s) for s in shapes)
    st, rt = _outcome(lambda: getattr(torch, op)(torch.from_numpy(a), torch.from_numpy(b)))
    sg, rg = _outcome(lambda: getattr(gg, op)(gg.tensor(a), gg.tensor(b)))
    assert st == sg, (rt, rg)
    if st == "err":
        assert isinstance(rg, RuntimeError) and op in str(rg) and str(rt) in str(rg), (rt, rg)
    elif op == "allclose":
        assert rg is rt
    else:
        np.testing.assert_array_equal(rg.numpy(), rt.numpy())


@pytest.mark.parametrize("name", ["sin_", "zero_", "relu_", "fill_", "exp_", "clamp_min_"])
def test_inplace_function_of_none_is_a_type_error(torch, name):
    """``torch.sin_(None)``: an AttributeError ('NoneType' object has no attribute 'sin_') before."""
    args = {"fill_": (1.0,), "clamp_min_": (0.0,)}.get(name, ())
    with pytest.raises(TypeError):
        getattr(torch, name)(None, *args)
    with pytest.raises(TypeError, match=rf"{name}\(\).*'input'.*NoneType"):
        getattr(gg, name)(None, *args)
    t, g = torch.from_numpy(X.copy()), gg.tensor(X.copy())
    np.testing.assert_array_equal(getattr(gg, name)(g, *args).numpy(), getattr(torch, name)(t, *args).numpy())


@pytest.mark.parametrize("other", [None, "array", "list"])
@pytest.mark.parametrize("method", ["view_as", "reshape_as", "expand_as", "type_as"])
def test_as_methods_refuse_what_is_not_a_tensor(torch, method, other):
    """``x.view_as(None)`` read ``None.shape`` inside; a NumPy array's shape or dtype was taken
    where PyTorch raises TypeError."""
    value = {"None": None, "array": np.ones((3, 4)), "list": [3, 4]}[str(other)]
    with pytest.raises(TypeError):
        getattr(torch.from_numpy(X.copy()), method)(value)
    with pytest.raises(TypeError, match=rf"{method}\(\): argument 'other'.* must be Tensor"):
        getattr(gg.tensor(X.copy()), method)(value)


@pytest.mark.parametrize("method", ["view_as", "reshape_as", "expand_as", "type_as"])
def test_as_methods_of_tensors_unchanged(torch, method):
    other = np.ones((3, 4), dtype=np.float32)
    rt = getattr(torch.from_numpy(X.copy()), method)(torch.from_numpy(other))
    rg = getattr(gg.tensor(X.copy()), method)(gg.nn.Parameter(gg.tensor(other)))
    assert tuple(rg.shape) == tuple(rt.shape) and str(rg.dtype).split(".")[1] == str(rt.dtype).split(".")[1]
    np.testing.assert_array_equal(rg.detach().numpy(), rt.detach().numpy())


@pytest.mark.filterwarnings("ignore:Mismatch dtype between input and weight")
@pytest.mark.parametrize("dtype", ["int64", "bool", "int32"])
def test_rms_norm_of_integers_is_not_implemented(torch, dtype):
    """NumPy's finfo ValueError ("data type <class 'numpy.int64'> not inexact") came from inside."""
    x = np.ones((2, 4), dtype=dtype)
    with pytest.raises(NotImplementedError) as et:
        torch.nn.RMSNorm(4)(torch.from_numpy(x))
    with pytest.raises(NotImplementedError) as eg:
        gg.nn.RMSNorm(4)(gg.tensor(x))
    assert "rms_norm" in str(eg.value) and str(et.value).split(" not")[0] in str(eg.value)
    with pytest.raises(NotImplementedError, match="rms_norm"):
        gg.nn.functional.rms_norm(gg.tensor(x), (4,), eps=1e-5)


INT_ARGS = {
    "diff(n)": lambda lib, x, v: lib.diff(x, n=v),
    "unfold(size)": lambda lib, x, v: x.unfold(0, v, 1),
    "unfold(step)": lambda lib, x, v: x.unfold(0, 2, v),
    "rot90(k)": lambda lib, x, v: lib.rot90(x, v),
    "diag_embed(offset)": lambda lib, x, v: lib.diag_embed(x, v),
}


@pytest.mark.parametrize("value", [None, "a", 1.5, True, [1], 1, np.int64(1)], ids=repr)
@pytest.mark.parametrize("arg", sorted(INT_ARGS))
def test_int_arguments_as_pytorch_parser(torch, arg, value):
    """operator.index gave "'NoneType' object cannot be interpreted as an integer" and took a bool
    as 0 or 1 (``diff(x, n=True)`` was the first difference); PyTorch refuses both."""
    got = _same_raise(torch, lambda lib, x: INT_ARGS[arg](lib, x, value), arg.split("(")[0])
    if got is not None:
        np.testing.assert_array_equal(got[1].numpy(), got[0].numpy())
