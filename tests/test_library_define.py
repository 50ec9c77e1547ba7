"""torch.library's lower-level API (glassgrad/library_define.py): Library, define, impl, the
dispatch order of their kernels, and the undoing of a library's registrations. Each test uses its
own namespace (the registry is global, in both libraries)."""

from __future__ import annotations

import gc
import itertools
import re
import warnings

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import ArgumentError

_count = itertools.count()


@pytest.fixture
def ns():
    return f"gg_libdef_{next(_count)}"


def _cube_library(lib_mod, ns):
    """The same operator in either library: cube(x, k) = k x^3, an out= overload, and its formula."""
    lib = lib_mod.library.Library(ns, "DEF")
    lib.define("cube(Tensor x, float k=1.0) -> Tensor")
    lib.define("cube.out(Tensor x, *, Tensor(a!) out) -> Tensor(a!)")
    lib.impl("cube", lambda x, k=1.0: x**3 * k, "CPU")

    def cube_out(x, *, out):
        out.copy_(x**3)
        return out

    lib.impl("cube.out", cube_out, "CPU")

    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])
        ctx.k = inputs[1]

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x**2 * ctx.k, None

    lib_mod.library.register_autograd(f"{ns}::cube", backward, setup_context=setup_context)
    return lib


def test_defined_operator_matches_pytorch(torch, ns):
    libs = {"gg": _cube_library(gg, ns), "torch": _cube_library(torch, ns)}
    results = {}
    for name, mod in (("gg", gg), ("torch", torch)):
        op = getattr(mod.ops, ns).cube
        x = mod.tensor([1.0, -2.0, 0.5], dtype=mod.float64, requires_grad=True)
        y = op(x, 2.0)
        y.backward(mod.tensor([1.0, 2.0, 3.0], dtype=mod.float64))
        out = mod.empty(3, dtype=mod.float64)
        op.out(mod.tensor([2.0, 3.0, 4.0], dtype=mod.float64), out=out)
        by_packet = op(mod.tensor([2.0, 3.0, 4.0], dtype=mod.float64), out=mod.empty(3, dtype=mod.float64))
        results[name] = [y.detach().numpy(), x.grad.numpy(), out.numpy(), by_packet.numpy()]
        assert type(y.grad_fn).__name__ == f"GeneratedBackwardFor_{ns}_cube_defaultBackward"
        assert sorted(op.overloads()) == ["default", "out"]
        assert op.default.name() == f"{ns}::cube"
    for a, b in zip(results["gg"], results["torch"]):
        np.testing.assert_allclose(a, b, rtol=1e-15)
    del libs


def test_kernels_see_the_arguments_as_given(ns):
    """As PyTorch, the schema's defaults are not filled in: the kernel's own defaults apply."""
    seen = []
    lib = gg.library.Library(ns, "DEF")
    lib.define("f(Tensor x, float scale=2.0, *, bool neg=False) -> Tensor")
    lib.impl("f", lambda *a, **k: seen.append((len(a), sorted(k))) or a[0], "CPU")
    op = getattr(gg.ops, ns).f
    x = gg.tensor([1.0])
    op(x)
    op(x, 3.0, neg=True)
    op(x, scale=3.0)
    assert seen == [(1, []), (2, ["neg"]), (1, ["scale"])]
    with pytest.raises(
        ArgumentError, match=rf"{ns}::f\(\): too many positional arguments. Declaration: {ns}::f\("
    ):
        op(x, 1.0, True)
    with pytest.raises(RuntimeError, match="unexpected keyword argument 'bad'"):
        op(x, bad=1)


def test_dispatch_order(ns):
    """Autograd kernel when grad is wanted (not below autograd), then CPU, CompositeExplicitAutograd,
    CompositeImplicitAutograd; a CompositeImplicitAutograd kernel is recorded as any code."""
    lib = gg.library.Library(ns, "DEF")
    lib.define("g(Tensor x) -> Tensor")
    op = getattr(gg.ops, ns).g
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    lib.impl("g", lambda x: x * x, "CompositeImplicitAutograd")
    op(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])
    lib.impl("g", lambda x: x + 100, "CompositeExplicitAutograd")
    assert op(x.detach()).tolist() == [101.0, 102.0]
    lib.impl("g", lambda x: x + 200, "CPU")
    assert op(x.detach()).tolist() == [201.0, 202.0]
    lib.impl("g", gg.library.fallthrough_kernel, "Autograd")  # registers nothing

    class Tenfold(gg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            with gg._C._AutoDispatchBelowAutograd():
                return op(x)

        @staticmethod
        def backward(ctx, g):
            return g * 10

    lib.impl("g", Tenfold.apply, "Autograd")
    x.grad = None
    y = op(x)
    assert y.tolist() == [201.0, 202.0]
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [10.0, 10.0])


def test_a_cpu_kernel_without_a_formula_is_recorded_with_a_warning(torch, ns):
    grads = {}
    keep = []
    for name, mod in (("gg", gg), ("torch", torch)):
        lib = mod.library.Library(ns, "DEF")
        keep.append(lib)
        lib.define("s(Tensor x) -> Tensor")
        lib.impl("s", lambda x: x.sin() * 2, "CPU")
        x = mod.tensor([1.0, 0.5], dtype=mod.float64, requires_grad=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            getattr(mod.ops, ns).s(x).sum().backward()
        assert any("autograd kernel was not registered" in str(w.message) for w in caught)
        grads[name] = x.grad.numpy()
    np.testing.assert_allclose(grads["gg"], grads["torch"], rtol=1e-15)


def test_refusals(ns):
    lib = gg.library.Library(ns, "DEF")
    with pytest.raises(
        RuntimeError, match=f"Only a single TORCH_LIBRARY can be used to register the namespace {ns}"
    ):
        gg.library.Library(ns, "DEF")
    with pytest.raises(ValueError, match="Unsupported kind: BAD"):
        gg.library.Library(ns, "BAD")
    lib.define("h(Tensor x) -> Tensor")
    with pytest.raises(RuntimeError, match="same name and overload name multiple times"):
        lib.define("h(Tensor x, int k) -> Tensor")
    with pytest.raises(RuntimeError, match="Cannot define an operator inside of a TORCH_LIBRARY_IMPL block"):
        gg.library.Library(ns, "IMPL").define("h2(Tensor x) -> Tensor")
    with pytest.raises(
        NotImplementedError, match=f"Could not run '{ns}::h' with arguments from the 'CPU' backend"
    ):
        getattr(gg.ops, ns).h(gg.tensor([1.0]))
    with pytest.raises(ValueError, match="expected a schema"):
        lib.define("no parentheses")
    with pytest.raises(TypeError, match="expected a function as the kernel"):
        lib.impl("h", 3, "CPU")


def test_a_collected_library_undoes_its_registrations(ns):
    lib = gg.library.Library(ns, "DEF")
    lib.define("gone(Tensor x) -> Tensor")
    lib.impl("gone", lambda x: x, "CPU")
    assert getattr(gg.ops, ns).gone(gg.tensor([1.0])).tolist() == [1.0]
    del lib
    gc.collect()
    assert not hasattr(getattr(gg.ops, ns), "gone")
    gg.library.Library(ns, "DEF")  # the namespace may be declared again


def test_function_forms(ns):
    gg.library.define(f"{ns}::k", "(Tensor x) -> Tensor")
    fakes = []
    gg.library.impl_abstract(f"{ns}::k")(lambda x: fakes.append(x))

    @gg.library.impl(f"{ns}::k", ["cpu", "cuda"])
    def k(x):
        return x + 10

    assert getattr(gg.ops, ns).k(gg.tensor([1.0])).tolist() == [11.0]
    assert fakes == []  # a fake implementation is stored, never called
    gg.library.impl(f"{ns}::k", "default", lambda x: x + 20)
    assert getattr(gg.ops, ns).k(gg.tensor([1.0])).tolist() == [11.0]  # CPU before default
    lib = gg.library.Library(ns, "FRAGMENT")

    @gg.library.define(lib, "older(Tensor x) -> Tensor")
    def older(x):
        return x * 7

    assert getattr(gg.ops, ns).older(gg.tensor([1.0])).tolist() == [7.0]
    impl_lib = gg.library.Library(ns, "IMPL", "CPU")
    gg.library.impl(impl_lib, "older")(lambda x: x * 8)
    assert getattr(gg.ops, ns).older(gg.tensor([1.0])).tolist() == [8.0]


def _annotated(lib):
    """Functions whose schemas PyTorch infers, annotated with library ``lib``'s types (set directly:
    this module's annotations are strings, which name no library)."""
    from collections.abc import Sequence

    t = lib.Tensor

    def typed(fn, **types):
        fn.__annotations__ = types
        return fn

    def a(x, n=2, scale=1.0, flag=False, mode="a"): ...
    def b(x, w=None, xs=None): ...
    def c(x, out): ...
    def d(x, sizes, dt=lib.float32, dev=None): ...
    def e(x, *, k=3, o=None, f=1.5): ...
    def bare(x, y): ...
    def tuple_default(x, b=(True,)): ...

    a = typed(a, x=t, n=int, scale=float, flag=bool, mode=str, **{"return": t})
    b = typed(b, x=t, w=t | None, xs=list[t] | None, **{"return": tuple[t, t]})
    c = typed(c, x=t, out=t, **{"return": None})
    d = typed(d, x=t, sizes=Sequence[int], dt=lib.dtype, dev=lib.device | None, **{"return": list[t]})
    e = typed(e, x=t, k=int, o=int | None, f=float | None, **{"return": int})
    bare = typed(bare, y=t, **{"return": t})
    mapping = typed(lambda x: x, x=dict, **{"return": t})
    tuple_default = typed(tuple_default, x=t, b=Sequence[bool], **{"return": bool})
    return [(a, ()), (b, ()), (c, ("out",)), (d, ()), (e, ()), (a, "unknown"), (c, ("zz",)), (bare, ()),
            (mapping, ()), (tuple_default, ())]  # fmt: skip


def test_infer_schema_matches_pytorch(torch):
    for (f, mutates), (tf, _) in zip(_annotated(gg), _annotated(torch)):
        try:
            want = torch.library.infer_schema(tf, mutates_args=mutates)
        except ValueError as e:
            with pytest.raises(ValueError, match=re.escape(str(e).split(" type")[0].split(". ")[0])):
                gg.library.infer_schema(f, mutates_args=mutates)
            continue
        assert gg.library.infer_schema(f, mutates_args=mutates) == want
    a = _annotated(gg)[0][0]
    assert gg.library.infer_schema(a, op_name="myop", mutates_args=()).startswith("myop(Tensor x, SymInt n=2")
