"""The variant forms of PyTorch's OpInfo entries against PyTorch, from round 66's differential hunt
(method, in-place, operator, alias, ``out=`` and non-contiguous forms of ``op_db``'s samples):
the copying forms of the views, ``slice_scatter``, ``isin``, ``index_reduce`` and ``ormqr`` want an
``out`` of the result's own dtype; a factory's ``dtype=`` must be its ``out``'s; ``arange`` warns as
PyTorch's when it resizes an ``out`` holding another count of elements; the casting methods take
``memory_format=``."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg

RNG = np.random.default_rng(66)
X = RNG.normal(size=(3, 4))

# each: lib, a float64 input of X's values, out -> the call
EXACT_CALLS = {
    "alias_copy": lambda lib, a, o: lib.alias_copy(a, out=o),
    "detach_copy": lambda lib, a, o: lib.detach_copy(a, out=o),
    "t_copy": lambda lib, a, o: lib.t_copy(a, out=o),
    "transpose_copy": lambda lib, a, o: lib.transpose_copy(a, 0, 1, out=o),
    "permute_copy": lambda lib, a, o: lib.permute_copy(a, (1, 0), out=o),
    "select_copy": lambda lib, a, o: lib.select_copy(a, 0, 1, out=o),
    "slice_copy": lambda lib, a, o: lib.slice_copy(a, 0, 0, 2, out=o),
    "diagonal_copy": lambda lib, a, o: lib.diagonal_copy(a, out=o),
    "expand_copy": lambda lib, a, o: lib.expand_copy(a[:1], (3, 4), out=o),
    "squeeze_copy": lambda lib, a, o: lib.squeeze_copy(a[:1], out=o),
    "unsqueeze_copy": lambda lib, a, o: lib.unsqueeze_copy(a, 0, out=o),
    "unfold_copy": lambda lib, a, o: lib.unfold_copy(a, 1, 2, 1, out=o),
    "view_copy": lambda lib, a, o: lib.view_copy(a, [12], out=o),
    "as_strided_copy": lambda lib, a, o: lib.as_strided_copy(a, (2, 2), (1, 2), out=o),
    "slice_scatter": lambda lib, a, o: lib.slice_scatter(a, a[:1], 0, 0, 1, out=o),
    "index_reduce": lambda lib, a, o: lib.index_reduce(a, 0, lib.tensor([0, 1]), a[:2], "prod", out=o),
    "isin": lambda lib, a, o: lib.isin(a, a[0], out=o),
}


def _input(lib, dtype_name):
    return lib.tensor(X, dtype=lib.float64).to(getattr(lib, dtype_name))


@pytest.mark.parametrize("name", sorted(EXACT_CALLS))
@pytest.mark.parametrize("in_dtype", ["float64", "int64"])
@pytest.mark.parametrize("out_dtype", ["float32", "float64", "int64", "bool"])
def test_out_of_another_dtype_is_refused_as_pytorch(torch, name, in_dtype, out_dtype):
    """PyTorch's "Expected out tensor to have dtype double, but got float instead": glassgrad cast the
    result into out (isin's bools into a float out) without a word."""
    call = EXACT_CALLS[name]
    expected = call(torch, _input(torch, in_dtype), None)
    t_out = torch.empty(0, dtype=getattr(torch, out_dtype))
    g_out = gg.empty(0, dtype=getattr(gg, out_dtype))
    try:
        call(torch, _input(torch, in_dtype), t_out)
    except RuntimeError:
        with pytest.raises(RuntimeError):
            call(gg, _input(gg, in_dtype), g_out)
        return
    assert str(expected.dtype).split(".")[1] == out_dtype  # PyTorch took only the result's own dtype
    result = call(gg, _input(gg, in_dtype), g_out)
    assert result is g_out
    np.testing.assert_array_equal(g_out.numpy(), t_out.numpy())


FACTORY_CALLS = {
    "zeros": lambda lib, dt, o: lib.zeros(3, dtype=dt, out=o),
    "ones": lambda lib, dt, o: lib.ones(3, dtype=dt, out=o),
    "empty": lambda lib, dt, o: lib.empty(3, dtype=dt, out=o).zero_(),
    "full": lambda lib, dt, o: lib.full((3,), 1, dtype=dt, out=o),
    "arange": lambda lib, dt, o: lib.arange(3, dtype=dt, out=o),
    "linspace": lambda lib, dt, o: lib.linspace(0, 2, 3, dtype=dt, out=o),
    "logspace": lambda lib, dt, o: lib.logspace(0, 2, 3, dtype=dt, out=o),
    "eye": lambda lib, dt, o: lib.eye(3, dtype=dt, out=o),
    "rand": lambda lib, dt, o: lib.rand(3, dtype=dt, out=o).zero_(),
    "randn": lambda lib, dt, o: lib.randn(3, dtype=dt, out=o).zero_(),
    "randint": lambda lib, dt, o: lib.randint(3, (3,), dtype=dt, out=o).zero_(),
    "randperm": lambda lib, dt, o: lib.randperm(3, dtype=dt, out=o),
}


@pytest.mark.parametrize("name", sorted(FACTORY_CALLS))
@pytest.mark.parametrize("dtype_name", ["float64", "int64"])
@pytest.mark.parametrize("out_dtype", ["float32", "float64", "int64"])
def test_a_factory_dtype_must_be_its_outs(torch, name, dtype_name, out_dtype):
    """PyTorch's "dtype Double does not match dtype of out parameter (Long)": glassgrad made the
    tensor in ``dtype`` and cast it into out."""
    call = FACTORY_CALLS[name]
    t_out = torch.empty(0, dtype=getattr(torch, out_dtype))
    g_out = gg.empty(0, dtype=getattr(gg, out_dtype))
    try:
        call(torch, getattr(torch, dtype_name), t_out)
    except RuntimeError:  # (rand of an integer dtype is refused whatever the out)
        with pytest.raises(
            RuntimeError, match="does not match dtype of out" if dtype_name != out_dtype else ""
        ):
            call(gg, getattr(gg, dtype_name), g_out)
        return
    assert dtype_name == out_dtype
    assert call(gg, getattr(gg, dtype_name), g_out) is g_out
    np.testing.assert_array_equal(np.sort(g_out.numpy()), np.sort(t_out.numpy()))  # (randperm's order)


@pytest.mark.parametrize("out_shape", [(7,), (2, 2), (0,), (3,)])
def test_arange_warns_as_pytorch_when_out_holds_another_count(torch, out_shape):
    """PyTorch's arange warns when a non-empty out holds another number of elements than the range
    (an out of the same count keeps its shape); glassgrad resized without a word."""
    results = {}
    for lib in (torch, gg):
        out = lib.zeros(*out_shape, dtype=lib.int64)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lib.arange(4 if out_shape == (2, 2) else 3, out=out)
        said = [str(w.message) for w in caught if "number of elements in the out tensor" in str(w.message)]
        results[lib.__name__] = (len(said), tuple(out.shape), out.tolist())
    assert results["glassgrad"] == results["torch"]


CASTS = ["float", "double", "half", "long", "int", "short", "char", "byte", "bool", "cfloat", "cdouble"]


@pytest.mark.parametrize("method", CASTS)
@pytest.mark.parametrize("fmt", ["channels_last", "preserve_format", "contiguous_format"])
def test_casting_methods_take_memory_format(torch, method, fmt):
    """``x.half(memory_format=torch.channels_last)`` ran in PyTorch and raised a TypeError here."""
    values = RNG.normal(size=(2, 3, 4, 5))
    t = getattr(torch.tensor(values), method)(memory_format=getattr(torch, fmt))
    g = getattr(gg.tensor(values), method)(memory_format=getattr(gg, fmt))
    assert str(g.dtype).split(".")[1] == str(t.dtype).split(".")[1]
    assert g.stride() == t.stride()
    np.testing.assert_array_equal(g.numpy(), t.numpy())


def test_a_cast_to_its_own_dtype_with_preserve_format_is_self(torch):
    t = torch.zeros(2, 3)
    g = gg.zeros(2, 3)
    assert (t.float(memory_format=torch.preserve_format) is t) == (
        g.float(memory_format=gg.preserve_format) is g
    )


@pytest.mark.parametrize("weight", ["number", "0-d", "tensor"])
@pytest.mark.parametrize("out_dtype", ["float32", "float64", "int64", "complex128"])
def test_lerp_out_dtype_with_a_weight_tensor(torch, weight, out_dtype):
    """With a weight tensor of dimensions PyTorch's lerp writes out in input's dtype only ("Found dtype
    Float but expected Double"); glassgrad cast the result into a float32 out."""
    a, b, w = RNG.normal(size=3), RNG.normal(size=3), RNG.uniform(size=3)

    def call(lib):
        wt = {"number": 0.25, "0-d": lib.tensor(0.25, dtype=lib.float64), "tensor": lib.tensor(w)}[weight]
        out = lib.empty(0, dtype=getattr(lib, out_dtype))
        return lib.lerp(lib.tensor(a), lib.tensor(b), wt, out=out)

    try:
        expected = call(torch)
    except RuntimeError:
        with pytest.raises(RuntimeError):
            call(gg)
        return
    np.testing.assert_allclose(call(gg).numpy(), expected.numpy(), rtol=1e-15, atol=0)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x, o: lib.quantile(x, 0.5, out=o),
        lambda lib, x, o: lib.linalg.norm(x, out=o),
        lambda lib, x, o: lib.special.ndtr(x, out=o),
        lambda lib, x, o: lib.softmax(x, 0, out=o),
    ],
)
def test_out_refuses_an_input_requiring_grad_deliberately(torch, call):
    """design.md: glassgrad refuses at the call where PyTorch keeps a CopyBackwards graph through
    out (its composites) or a node that raises at backward (its kernels)."""
    t_x = torch.tensor(X, requires_grad=True)
    assert call(torch, t_x, torch.empty(0, dtype=torch.float64)).requires_grad  # PyTorch runs
    with pytest.raises(RuntimeError, match="out= does not support automatic differentiation"):
        call(gg, gg.tensor(X, requires_grad=True), gg.empty(0, dtype=gg.float64))


def test_out_of_matrix_power_and_inner_wants_the_results_dtype_always(torch):
    """design.md: PyTorch casts into out for n = 0 and a 0-d operand of inner, unlike its other forms."""
    a = torch.tensor(X[:3, :3])
    with pytest.raises(RuntimeError):
        torch.linalg.matrix_power(a, 2, out=torch.empty(0))
    torch.linalg.matrix_power(a, 0, out=torch.empty(0))  # PyTorch: runs
    for n in (0, 2):
        with pytest.raises(RuntimeError):
            gg.linalg.matrix_power(gg.tensor(X[:3, :3]), n, out=gg.empty(0))
    with pytest.raises(RuntimeError):
        gg.inner(gg.tensor(2.0, dtype=gg.float64), gg.tensor(X), out=gg.empty(0))
