"""Porting round 43, group spike: spiking neural networks (snntorch, spikingjelly's
``activation_based`` with the torch backend, norse) run on glassgrad with only their imports changed.

- spikingjelly registers ``torch.library.custom_op``s annotated ``List[torch.Tensor]``:
  ``infer_schema`` knew ``list[X]`` and ``Sequence[X]`` but not ``typing.List[X]`` (a dict key apart
  from ``list[X]``), so ``import spikingjelly.activation_based.neuron`` failed.
- norse imports ``torch.utils._pytree._namedtuple_flatten``/``_namedtuple_unflatten`` (it registers
  its state tuples with them), norse and spikingjelly ``torch.nn.common_types``, snntorch's losses
  ``torch._C.Value``: each import failed.
- snntorch's ``StateLeaky`` registers a buffer ``beta`` while its class has a property ``beta`` that
  raises AttributeError until ``tau`` exists: PyTorch asks ``hasattr(self, name)`` (False then),
  glassgrad asked the class, and refused with ``KeyError: attribute 'beta' already exists``.
- norse's ``LIFRecurrent`` unsqueezes sparse COO spikes: ``unsqueeze`` was refused on them.
- spikingjelly's tdBN subclasses ``_BatchNorm`` and defines PyTorch's hook ``_check_input_dim`` to
  take a flattened ``(T * N, C)``: glassgrad's batch norm never called the hook and refused the input.
- snntorch's tests ask ``torch._dynamo.explain(neuron)(x).graph_break_count == 0``.
- spikingjelly's ``GCContainer.__getstate__`` pops an entry from ``super().__getstate__()``: that was
  the module's own ``__dict__`` (Python's default), so ``copy.deepcopy`` removed the attribute from
  the module and a later ``pickle.dumps`` failed; PyTorch's ``Module.__getstate__`` returns a copy.
"""

# no ``from __future__ import annotations``: infer_schema reads the annotations of local functions
import collections
import typing
import warnings

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradcheck


# ----------------------------------------------------------------------------- infer_schema
def _annotated(lib):
    from typing import List, Optional, Sequence

    def f(
        h: int,
        a: List[lib.Tensor],  # noqa: UP006
        b: Optional[List[int]],  # noqa: UP006, UP045
        c: Sequence[float],
        d: List[Optional[lib.Tensor]],  # noqa: UP006, UP045
        e: list[bool],
    ) -> List[lib.Tensor]:  # noqa: UP006
        raise NotImplementedError

    return f


def test_infer_schema_reads_typing_list_as_pytorch(torch):
    ours = gg.library.infer_schema(_annotated(gg), mutates_args=())
    theirs = torch.library.infer_schema(_annotated(torch), mutates_args=())
    assert (
        ours == theirs == "(SymInt h, Tensor[] a, SymInt[]? b, float[] c, Tensor?[] d, bool[] e) -> Tensor[]"
    )


def test_custom_op_with_a_typing_list_of_tensors_runs():
    from typing import List

    @gg.library.custom_op("round43::scale_all", mutates_args=())
    def scale_all(k: int, xs: List[gg.Tensor]) -> List[gg.Tensor]:  # noqa: UP006
        return [x * k for x in xs]

    out = scale_all(3, [gg.ones(2), gg.arange(3.0)])
    assert [o.tolist() for o in out] == [[3.0, 3.0], [0.0, 3.0, 6.0]]


# ----------------------------------------------------------------------------- import paths
def test_namedtuple_pytree_helpers_match_pytorch(torch):
    from torch.utils import _pytree as tp

    from glassgrad.utils import _pytree as gp

    State = collections.namedtuple("State", "v i")
    s = State(1.0, 2.0)
    assert gp._namedtuple_flatten(s) == tp._namedtuple_flatten(s) == ([1.0, 2.0], State)
    assert gp._namedtuple_unflatten([3.0, 4.0], State) == tp._namedtuple_unflatten([3.0, 4.0], State)

    class Norse(typing.NamedTuple):  # norse registers its own state tuples with the helpers
        v: typing.Any
        i: typing.Any

    gp.register_pytree_node(Norse, gp._namedtuple_flatten, gp._namedtuple_unflatten)
    leaves, spec = gp.tree_flatten(Norse(gg.ones(2), [gg.zeros(1), 5]))
    assert len(leaves) == 3
    back = gp.tree_unflatten([x * 2 if isinstance(x, gg.Tensor) else x for x in leaves], spec)
    assert isinstance(back, Norse) and back.v.tolist() == [2.0, 2.0] and back.i[1] == 5


def test_common_types_are_pytorch_aliases(torch):
    import torch.nn.common_types as tc

    import glassgrad.nn.common_types as gc

    names = sorted(n for n in vars(tc) if n.startswith("_") and n.endswith("_t"))
    assert names == sorted(n for n in vars(gc) if n.startswith("_") and n.endswith("_t"))
    for n in names:
        if "tensor" in n or "indices" in n:  # the same shapes of Tensor of each library
            assert len(typing.get_args(getattr(gc, n))) == len(typing.get_args(getattr(tc, n)))
        else:
            assert repr(getattr(gc, n)) == repr(getattr(tc, n)), n  # each module has its own T


def test_c_value_has_no_constructor_as_pytorch(torch):
    with pytest.raises(TypeError, match="No constructor defined") as theirs:
        torch._C.Value()
    with pytest.raises(TypeError, match="No constructor defined") as ours:
        gg._C.Value()
    assert str(ours.value) == str(theirs.value)
    assert not isinstance(gg.ones(1), gg._C.Value)


# ----------------------------------------------------------------------------- registration
def _lazy_property_module(lib):
    class StateLike(lib.nn.Module):
        """snntorch's StateLeaky: a property over state that __init__ sets after a buffer of its name."""

        def __init__(self):
            super().__init__()
            self.register_buffer("beta", lib.tensor(0.9))
            self.register_buffer("tau", 1 / (1 - self._buffers["beta"]))

        @property
        def beta(self):
            return (self.tau - 1) / self.tau

    return StateLike


def _valued_property_module(lib):
    class Valued(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("gamma", lib.tensor(1.0))

        @property
        def gamma(self):
            return 2.0

    return Valued


def test_a_property_raising_attribute_error_leaves_its_name_free(torch):
    ours, theirs = _lazy_property_module(gg)(), _lazy_property_module(torch)()
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["beta", "tau"]
    assert abs(float(ours.beta) - float(theirs.beta)) < 1e-7
    for lib in (gg, torch):
        with pytest.raises(KeyError, match="attribute 'gamma' already exists"):
            _valued_property_module(lib)()


# ----------------------------------------------------------------------------- sparse unsqueeze
@pytest.mark.parametrize("dim", [0, 1, 2, -1, -3])
def test_sparse_unsqueeze_matches_pytorch(torch, dim):
    a = np.array([[0.0, 1.5, 0.0], [2.0, 0.0, -3.0]])
    ours, theirs = gg.tensor(a).to_sparse().unsqueeze(dim), torch.tensor(a).to_sparse().unsqueeze(dim)
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert (ours.sparse_dim(), ours.dense_dim()) == (theirs.sparse_dim(), theirs.dense_dim())
    assert ours.is_coalesced() == theirs.is_coalesced()
    np.testing.assert_array_equal(ours._indices().numpy(), theirs._indices().numpy())
    np.testing.assert_array_equal(ours.to_dense().numpy(), theirs.to_dense().numpy())
    np.testing.assert_array_equal(
        gg.unsqueeze(gg.tensor(a).to_sparse(), dim).to_dense().numpy(), np.expand_dims(a, dim)
    )


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_sparse_unsqueeze_of_a_hybrid_tensor_matches_pytorch(torch, dim):
    ix, vals = [[0, 2]], np.arange(4.0).reshape(2, 2)
    ours = gg.sparse_coo_tensor(gg.tensor(ix), gg.tensor(vals), (3, 2)).unsqueeze(dim)
    theirs = torch.sparse_coo_tensor(torch.tensor(ix), torch.tensor(vals), (3, 2)).unsqueeze(dim)
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert (ours.sparse_dim(), ours.dense_dim()) == (theirs.sparse_dim(), theirs.dense_dim())
    assert tuple(ours._values().shape) == tuple(theirs._values().shape)
    np.testing.assert_array_equal(ours.to_dense().numpy(), theirs.to_dense().numpy())


def test_sparse_unsqueeze_refuses_a_dim_out_of_range(torch):
    for lib in (gg, torch):
        with pytest.raises(IndexError, match="out of range|expected dim in"):
            lib.tensor([[0.0, 1.0]]).to_sparse().unsqueeze(3)
    assert gg.tensor([0.0, 1.0]).to_sparse().unsqueeze(0).is_coalesced()  # one entry: coalesced


@pytest.mark.parametrize("dim", [0, 1, 2, 3])
def test_sparse_unsqueeze_gradcheck(dim):
    rng = np.random.default_rng(dim)
    ix = gg.tensor([[0, 1, 1], [2, 0, 1]])
    vals = gg.tensor(rng.standard_normal((3, 2)), requires_grad=True)  # a hybrid (2, 3, 2) tensor
    w = gg.tensor(rng.standard_normal(np.expand_dims(np.zeros((2, 3, 2)), dim).shape))

    def f(v):
        return gg.sparse_coo_tensor(ix, v, (2, 3, 2)).unsqueeze(dim).to_dense() * w

    assert gradcheck(f, (vals,))


def test_norse_sparse_spikes_through_a_recurrent_step():
    # LIFRecurrent's pattern: spikes (T, N, C) as a sparse tensor, a time dim added, rows taken per step
    z = gg.tensor([[1.0, 0.0]]).to_sparse().unsqueeze(1)
    w = gg.tensor([[0.5, 2.0], [1.0, -1.0]])
    step = gg.sparse.mm(z[0], w.t())
    assert step.tolist() == [[0.5, 1.0]]


# ----------------------------------------------------------------------------- _check_input_dim
def _flat_bn(lib, calls):
    class FlatBN(lib.nn.modules.batchnorm._BatchNorm):
        """spikingjelly's tdBN: a 1-d batch norm that takes (T * N, C) and defines only the rank hook."""

        def _check_input_dim(self, input):
            calls.append(input.dim())
            if input.dim() not in (2, 3):
                raise ValueError(f"expected 2D or 3D input (got {input.dim()}D input)")

    return FlatBN


def test_a_batch_norm_subclass_checks_the_input_by_its_own_hook(torch):
    x = np.random.default_rng(0).standard_normal((6, 4))
    ours_calls, theirs_calls = [], []
    ours, theirs = _flat_bn(gg, ours_calls)(4).double(), _flat_bn(torch, theirs_calls)(4).double()
    gx, tx = gg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    go, to = ours(gx), theirs(tx)
    (go**3).sum().backward()
    (to**3).sum().backward()
    np.testing.assert_allclose(go.detach().numpy(), to.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(ours.running_var.numpy(), theirs.running_var.numpy(), atol=1e-12)
    assert ours_calls == theirs_calls == [2]
    for m, lib in ((ours, gg), (theirs, torch)):
        with pytest.raises(ValueError, match="expected 2D or 3D input"):
            m(lib.zeros(2, 4, 3, 3, dtype=lib.float64))


def test_a_batch_norm_subclass_without_the_hook_cannot_run(torch):
    for lib in (gg, torch):

        class Bare(lib.nn.modules.batchnorm._BatchNorm):
            pass

        with pytest.raises(NotImplementedError):
            Bare(3)(lib.zeros(2, 3))


def test_the_layers_own_rank_checks_still_apply():
    with pytest.raises(gg.errors.ShapeError, match=r"expected input \(N, 3, H, W\), got \(2, 3\)"):
        gg.nn.BatchNorm2d(3)(gg.zeros(2, 3))
    with pytest.raises(gg.errors.ShapeError, match=r"expected input \(N, 3\) or \(N, 3, L\), got \(2, 4\)"):
        gg.nn.BatchNorm1d(3)(gg.zeros(2, 4))
    with pytest.raises(gg.errors.ShapeError, match="expected input of 4 dims"):
        gg.nn.InstanceNorm2d(3)(gg.zeros(2, 3))


def test_an_instance_norm_subclass_checks_the_input_by_its_own_hook(torch):
    x = np.random.default_rng(1).standard_normal((2, 3, 5))
    outs = []
    for lib in (gg, torch):
        seen = []

        class Checked(lib.nn.InstanceNorm1d):
            def _check_input_dim(self, input, seen=seen):
                seen.append(input.dim())

        m = Checked(3)
        outs.append(m(lib.tensor(x)).numpy())
        assert seen == [3]
    np.testing.assert_allclose(outs[0], outs[1], atol=1e-12)


# ----------------------------------------------------------------------------- _dynamo.explain
def test_dynamo_explain_runs_the_function_once_and_reports_no_breaks(torch):
    calls = []

    def f(x):
        calls.append(1)
        return x.sin() + 1

    out = gg._dynamo.explain(f)(gg.zeros(3))
    assert calls == [1]
    assert (out.graph_count, out.graph_break_count, out.op_count, out.break_reasons) == (0, 0, 0, [])
    assert str(out).startswith("Graph Count: 0\nGraph Break Count: 0\nOp Count: 0\n")
    assert type(torch._dynamo.explain(f)(torch.zeros(3))).__name__ == type(out).__name__ == "ExplainOutput"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        old = gg._dynamo.explain(f, gg.zeros(2))
    assert old.graph_break_count == 0 and caught[0].category is FutureWarning
    with pytest.raises(TypeError, match=r"_dynamo.explain: expected a function or module, got int"):
        gg._dynamo.explain(3)


# ----------------------------------------------------------------------------- __getstate__
class _Closured(gg.nn.Sequential):
    """spikingjelly's GCContainer: its __getstate__ drops a closure, its __setstate__ makes it again."""

    def __init__(self, *layers):
        super().__init__(*layers)
        self.f_forward = lambda: "made in __init__"

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("f_forward")
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        self.f_forward = lambda: "made again"


def test_module_getstate_is_a_copy_so_a_subclass_may_drop_entries(torch):
    import copy
    import pickle

    m = _Closured(gg.nn.Linear(2, 3))
    copied = copy.deepcopy(m)
    restored = pickle.loads(pickle.dumps(m))  # KeyError before: deepcopy had popped it from m itself
    assert m.f_forward() == "made in __init__"
    assert copied.f_forward() == restored.f_forward() == "made again"
    assert restored[0].weight.tolist() == m[0].weight.tolist()
    for lib in (gg, torch):
        lin = lib.nn.Linear(2, 2)
        state = lin.__getstate__()
        assert state is not lin.__dict__ and state["_parameters"] is lin.__dict__["_parameters"]
