"""Every forward-mode (JVP) rule against float64 central differences, on the per-op gradcheck
cases of tests/ops/cases_*.py (random shapes, broadcasting pairs, size-1 dims), and the list of
ops with and without a rule, drawn from the registry so that coverage is visible."""

from __future__ import annotations

import importlib
import pathlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import glassgrad as gg
import glassgrad.autograd.forward_ad as fwAD
from glassgrad.autograd import REGISTRY, gradcheck
from glassgrad.autograd.function import Primitive
from glassgrad.autograd.gradcheck import GradcheckError
from glassgrad.autograd.jvp_rules import RULES
from tests.ops.harness import CASES, to_inputs

for _path in sorted((pathlib.Path(__file__).parents[1] / "ops").glob("cases_*.py")):
    importlib.import_module(f"tests.ops.{_path.stem}")


def test_rules_name_registered_ops():
    # the registry's names, and the unregistered internal primitives (``unlinked``: a recorded
    # gradient's node, which forward-over-reverse runs through)
    names, todo = set(REGISTRY), [Primitive]
    while todo:
        cls = todo.pop()
        names.add(cls.name)
        todo += cls.__subclasses__()
    unknown = sorted(set(RULES) - names)
    assert not unknown, f"JVP rules for ops that are not registered: {unknown}"


def test_coverage_is_listed():
    """Prints which registered ops have a JVP rule (run with -s to read it)."""
    have = sorted(set(REGISTRY) & set(RULES))
    missing = sorted(set(REGISTRY) - set(RULES))
    print(f"\nforward-mode rules: {len(have)} of {len(REGISTRY)} ops\nwithout: {' '.join(missing)}")
    # the ops a course uses in forward mode must all be here
    # fmt: off
    core = (
        "add", "sub", "mul", "div", "pow", "neg", "exp", "log", "sqrt", "abs",
        "sin", "cos", "tanh", "sigmoid", "relu", "where", "clamp", "maximum", "minimum", "matmul",
        "linear", "sum", "mean", "amax", "amin", "softmax", "log_softmax", "reshape", "permute", "expand",
        "getitem", "cat", "stack", "piece", "split", "cross_entropy", "layer_norm", "batch_norm", "conv2d", "max_pool2d",
        "avg_pool2d", "cast", "clone", "gelu", "silu", "leaky_relu",
    )
    # fmt: on
    assert not [op for op in core if op not in RULES]


#: Rules that cover some variants of their op and raise for the others (named in the error).
PARTIAL = {
    "scatter_reduce": "reduce='prod' with two zeros from src in one place (the recorded VJP's delayed error)",
    "embedding_bag": "mode='max'",
}


def test_partial_rules_raise_clearly():
    x = gg.tensor([1.0, 2.0, 3.0])
    with fwAD.dual_level():
        d = fwAD.make_dual(x, gg.ones(3))
        idx = gg.tensor([0, 0, 1])
        # one zero per place (x's own included) has a rule (PyTorch's backward formula)
        gg.zeros(2).scatter_reduce(0, idx, d, reduce="prod")
        d = fwAD.make_dual(gg.tensor([0.0, 0.0, 3.0]), gg.ones(3))
        with pytest.raises(NotImplementedError, match="'scatter_reduce' with these inputs"):
            gg.ones(2).scatter_reduce(0, idx, d, reduce="prod")


def _no_rule_inside(err: NotImplementedError, name: str) -> bool:
    """A case composed of several ops may call one without a rule: that case says nothing about
    ``name``'s own rule (it is skipped), unless it is ``name`` that lacks one (a variant that a
    partial rule refuses is skipped too)."""
    msg = str(err)
    if "no forward-mode rule" not in msg:
        return False
    return f"'{name}'" not in msg or (name in PARTIAL and f"'{name}' with" in msg)


#: Ops whose path for inputs that do not require grad (where gradcheck's forward check runs)
#: skips Primitive.apply and drops the tangent: the fix belongs in glassgrad/ops.


def _rule_params():
    for name in sorted(set(CASES) & set(RULES)):
        yield pytest.param(name)


@pytest.mark.parametrize("name", list(_rule_params()))
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_jvp_matches_finite_differences(name, data):
    for strategy in CASES[name]:
        fn, raw = data.draw(strategy)
        if name == "clamp_bounds" and not all(isinstance(r, np.ndarray) for r in raw):
            continue  # a 0-d bound beside a number is read as a number, its tangent dropped (as PyTorch)
        inputs = to_inputs(raw)
        try:
            assert gradcheck(fn, inputs, check_forward_ad=True, check_backward_ad=False), name
        except NotImplementedError as err:
            if not _no_rule_inside(err, name):
                raise
        except GradcheckError:
            # a draw within eps of a kink (max of two values 1e-6 apart) fools finite differences;
            # forward mode must agree wherever reverse mode does
            if gradcheck(fn, to_inputs(raw), raise_exception=False):
                raise


@pytest.mark.parametrize("name", sorted(set(REGISTRY) - set(RULES)))
@settings(max_examples=1, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_op_without_rule_raises_naming_it(name, data):
    """No op drops a tangent silently: every op without a rule that gets a dual input raises."""
    cases = CASES.get(name)
    if not cases:
        pytest.skip(f"no gradcheck case describes {name}'s inputs")
    fn, raw = data.draw(cases[0])
    inputs = to_inputs(raw)
    with fwAD.dual_level():
        duals = [
            fwAD.make_dual(x, gg.Tensor(np.ones_like(x._data), _wrap=True))
            if isinstance(x, gg.Tensor) and x.requires_grad
            else x
            for x in inputs
        ]
        try:
            fn(*duals)
        except NotImplementedError as err:
            assert "no forward-mode rule" in str(err)
            return
    pytest.fail(f"{name}: a dual input passed without a rule and without an error")


@pytest.mark.parametrize("reduce", ["sum", "mean"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_linear_variants(reduce, include_self):
    """The gradcheck cases of scatter_reduce draw the variants without a rule; its linear ones here."""
    a = gg.randn(3, 4, dtype=gg.float64, requires_grad=True)
    src = gg.randn(2, 4, dtype=gg.float64, requires_grad=True)
    idx = gg.tensor([[0, 2, 2, 1], [2, 0, 1, 1]])

    def fn(x, s):
        return x.scatter_reduce(0, idx, s, reduce=reduce, include_self=include_self)

    assert gradcheck(fn, (a, src), check_forward_ad=True, check_backward_ad=False)
