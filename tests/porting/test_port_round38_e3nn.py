"""Round 38, group e3nn: equivariant networks whose tensor products are fx graphs.

e3nn builds each tensor product as an ``fx.Graph``, traces ``torch.einsum`` calls (some in the old
list form, ``einsum(eq, [a, b])``), and hands the graph to opt_einsum_fx, whose shape propagation
reads every einsum node as ``(equation, *operands)``. It then checks equivariance under autograd's
anomaly mode and compiles modules with ``torch.jit`` while naming ``torch.jit.Error`` and
``torch._dynamo.OptimizedModule``. Each test compares with PyTorch where PyTorch decides.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pytest

import glassgrad as gg
import glassgrad._dynamo
import glassgrad.fx
import glassgrad.jit
from glassgrad.autograd import gradcheck


class _Recorder:
    """A non-Tensor type with ``__torch_function__``: records what each public function hands over."""

    seen: ClassVar[list] = []

    def __init__(self, value):
        self.value = value

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        cls.seen.append((func.__name__, args, kwargs))
        return "recorded"


def _shape_args(lib, rec_type, call):
    """What ``rec_type.__torch_function__`` receives for ``call(lib, a, b)``, Recorders as 'R'."""
    rec_type.seen.clear()
    a, b = rec_type(1), rec_type(2)
    call(lib, a, b)
    name, args, kwargs = rec_type.seen[-1]

    def show(x):
        if isinstance(x, rec_type):
            return f"R{x.value}"
        if isinstance(x, list | tuple):
            return type(x)(show(v) for v in x)
        return x

    return name, show(args), {k: show(v) for k, v in kwargs.items()}


def _torch_recorder(torch):
    class TorchRecorder:
        seen: ClassVar[list] = []

        def __init__(self, value):
            self.value = value

        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            cls.seen.append((func.__name__, args, kwargs or {}))
            return "recorded"

    return TorchRecorder


CALLS = {
    "einsum_varargs": lambda lib, a, b: lib.einsum("ij,jk->ik", a, b),
    "einsum_list": lambda lib, a, b: lib.einsum("ij,jk->ik", [a, b]),
    "einsum_tuple": lambda lib, a, b: lib.einsum("ij,jk", (a, b)),
    "tensordot_positional": lambda lib, a, b: lib.tensordot(a, b, 1),
    "tensordot_default": lambda lib, a, b: lib.tensordot(a, b),
    "tensordot_keyword": lambda lib, a, b: lib.tensordot(a, b, dims=([1], [0])),
}


@pytest.mark.parametrize("case", sorted(CALLS))
def test_torch_functional_spells_arguments_as_pytorch(torch, case):
    # was: einsum(eq, [a, b]) handed over ('ij,jk->ik', [a, b]) and tensordot(a, b, 1) handed
    # dims by position; PyTorch's Python functions normalise before handle_torch_function
    gg.overrides.has_torch_function(())  # the protocol on, as a Tensor subclass or fx would
    want = _shape_args(torch, _torch_recorder(torch), CALLS[case])
    got = _shape_args(gg, _Recorder, CALLS[case])
    assert got == want


def test_einsum_sublist_form_hands_over_pytorchs_equation(torch):
    # PyTorch names sublist indices 0-25 'A'-'Z' and 26-51 'a'-'z' in the equation it hands over
    seen = {}

    def run(lib, key):
        class Sub(lib.Tensor):
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                if getattr(func, "__name__", "") == "einsum":
                    seen[key] = (args[0], len(args))
                return super().__torch_function__(func, types, args, kwargs or {})

        a = lib.ones(2, 3).as_subclass(Sub)
        b = lib.ones(3, 4).as_subclass(Sub)
        out = lib.einsum(a, [0, 27], b, [27, 2], [0, 2])
        return np.asarray(out.as_subclass(lib.Tensor).detach().numpy())

    np.testing.assert_array_equal(run(gg, "gg"), run(torch, "torch"))
    assert seen["gg"] == seen["torch"] == ("Ab,bC->AC", 3)


class _ListEinsum:
    """e3nn's tensor-product code: einsum with the operands in one list, then a tensordot."""

    def __init__(self, lib):
        class M(lib.nn.Module):
            def forward(self, x, y, w):
                z = lib.einsum("zi,zj->zij", [x, y])
                return lib.tensordot(z, w, dims=([1, 2], [0, 1]))

        self.module = M()


def test_fx_traces_list_einsum_as_pytorch(torch):
    gm_t = torch.fx.symbolic_trace(_ListEinsum(torch).module)
    gm_g = gg.fx.symbolic_trace(_ListEinsum(gg).module)

    def nodes(gm):
        return [(n.op, n.name, str(n.args), str(n.kwargs)) for n in gm.graph.nodes]

    assert nodes(gm_g) == nodes(gm_t)
    # the generated code passes the operands one by one too (PyTorch spells the functions
    # torch.functional.einsum / tensordot; glassgrad's public path is torch.<name>)
    assert gm_g.code.replace("torch.", "") == gm_t.code.replace("torch.functional.", "")


def test_shape_propagation_reads_einsum_operands(torch):
    # opt_einsum_fx's EfficientShapeProp: `equation, *operands = args; [op.shape for op in operands]`
    # failed with "'tuple' object has no attribute 'shape'" on e3nn's list-form einsum
    rng = np.random.default_rng(0)
    x, y, w = rng.standard_normal((5, 3)), rng.standard_normal((5, 4)), rng.standard_normal((3, 4))

    def shapes(lib):
        gm = lib.fx.symbolic_trace(_ListEinsum(lib).module)
        found = []

        class Prop(lib.fx.Interpreter):
            def run_node(self, n):
                if n.op == "call_function" and n.target == lib.einsum:
                    args, _ = self.fetch_args_kwargs_from_env(n)
                    equation, *operands = args
                    found.append((equation, [tuple(op.shape) for op in operands]))
                return super().run_node(n)

        out = Prop(gm).run(*(lib.tensor(a) for a in (x, y, w)))
        return found, out.detach().numpy()

    (found_g, out_g), (found_t, out_t) = shapes(gg), shapes(torch)
    assert found_g == found_t == [("zi,zj->zij", [(5, 3), (5, 4)])]
    np.testing.assert_allclose(out_g, out_t, rtol=1e-12, atol=1e-12)


def test_einsum_and_tensordot_gradcheck_through_the_protocol():
    # the spelled-out arguments reach the same op: gradients unchanged with the protocol on
    gg.overrides.has_torch_function(())
    rng = np.random.default_rng(1)
    a = gg.tensor(rng.standard_normal((1, 2, 3)), requires_grad=True)  # b broadcasts 1 -> 4
    b = gg.tensor(rng.standard_normal((4, 3, 5)), requires_grad=True)
    assert gradcheck(lambda a, b: gg.einsum("bij,bjk->bik", [a, b]), (a, b))
    assert gradcheck(lambda a, b: gg.einsum(a, [0, 1, 2], b, [0, 2, 3], [0, 1, 3]), (a, b))
    c = gg.tensor(rng.standard_normal((3, 5)), requires_grad=True)
    assert gradcheck(lambda b, c: gg.tensordot(b, c, dims=([1, 2], [0, 1])), (b, c))


def test_anomaly_mode_allows_a_masked_infinite_gradient(torch):
    # e3nn's Norm: out.relu().sqrt() at zero; SqrtBackward0 gives Inf, ReluBackward0 zeroes it.
    # was: AnomalyError "sqrt: backward returned Inf"; PyTorch checks gradients for NaN only
    def grads(lib):
        x = lib.zeros(5, dtype=lib.float64, requires_grad=True)
        with lib.autograd.set_detect_anomaly(True):
            (g,) = lib.autograd.grad(x.relu().sqrt().sum(), x)
        y = lib.zeros(2, dtype=lib.float64, requires_grad=True)
        with lib.autograd.detect_anomaly():
            (h,) = lib.autograd.grad(y.sqrt().sum(), y)  # an Inf gradient itself is returned
        return g.numpy(), h.numpy()

    for got, want in zip(grads(gg), grads(torch)):
        np.testing.assert_array_equal(got, want)
    assert np.isinf(grads(gg)[1]).all()


def test_anomaly_mode_still_stops_at_a_nan_gradient(torch):
    x = gg.tensor([0.0, 1.0], requires_grad=True)
    with gg.autograd.set_detect_anomaly(True), np.errstate(all="ignore"):
        y = (x.sqrt() * 0.0).sum()
        with pytest.raises(gg.autograd.anomaly.AnomalyError, match="SqrtBackward0' returned nan"):
            y.backward()
    xt = torch.tensor([0.0, 1.0], requires_grad=True)
    with torch.autograd.set_detect_anomaly(True), pytest.warns(UserWarning):
        yt = (xt.sqrt() * 0.0).sum()
        with pytest.raises(RuntimeError, match="SqrtBackward0' returned nan"):
            yt.backward()


def test_jit_error_is_pytorchs_exception_class(torch):
    # was: AttributeError evaluating e3nn's `except (torch.jit.Error, RuntimeError)`
    assert issubclass(glassgrad.jit.Error, Exception)
    assert issubclass(torch.jit.Error, RuntimeError) is issubclass(glassgrad.jit.Error, RuntimeError)
    assert "Error" in glassgrad.jit.__all__ and "Error" in torch.jit.__all__
    try:
        gg.zeros(1, 253).narrow(-1, 0, 256)  # what a traced e3nn module meets on a bad shape
    except (glassgrad.jit.Error, RuntimeError) as e:
        caught = e
    assert isinstance(caught, RuntimeError)


def test_dynamo_optimized_module_names_pytorchs_class(torch):
    # was: AttributeError on e3nn's isinstance(m, (fx.GraphModule, torch._dynamo.OptimizedModule))
    lin = gg.nn.Linear(2, 3)
    compiled = gg.compile(lin)
    assert isinstance(compiled, glassgrad._dynamo.OptimizedModule) and compiled._orig_mod is lin
    assert not isinstance(torch.nn.Linear(2, 3), torch._dynamo.OptimizedModule)
    assert issubclass(glassgrad._dynamo.OptimizedModule, gg.nn.Module)
    assert issubclass(torch._dynamo.OptimizedModule, torch.nn.Module)
    assert "OptimizedModule" in glassgrad._dynamo.__all__ and "OptimizedModule" in torch._dynamo.__all__
    gm = gg.fx.symbolic_trace(gg.nn.Sequential(lin))
    assert isinstance(gm, gg.fx.GraphModule | glassgrad._dynamo.OptimizedModule)
    assert isinstance(torch.compile(torch.nn.Linear(2, 3)), torch._dynamo.OptimizedModule)
